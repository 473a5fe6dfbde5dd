// The formatter: idempotent, never changes what a file means, keeps every
// comment, and leaves files with syntax errors alone.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compile.js';
import { format } from '../../src/fmt/format.js';
import { parse } from '../../src/syntax/parse.js';

const root = path.resolve(__dirname, '../..');

function netFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...netFiles(p));
    else if (e.name.endsWith('.net')) out.push(p);
  }
  return out.sort();
}

/** the checked networks without source positions: shapes, params, paths, layer names, args */
function meaning(text: string): string {
  const r = compile(text, { all: true });
  return JSON.stringify(
    { networks: r.networks, codes: r.diagnostics.map((d) => `${d.code} ${d.message}`) },
    (k, v) => (k === 'span' ? undefined : k === 'layer' && v && typeof v === 'object' ? v.name : v),
  );
}

const files = [...netFiles(path.join(root, 'specs')), ...netFiles(path.join(root, 'test'))].filter(
  (f) => parse(fs.readFileSync(f, 'utf8')).diagnostics.length === 0,
);

describe('format: every shipped spec and fixture without syntax errors', () => {
  it('finds the shipped specs', () => {
    expect(files.filter((f) => f.includes(`${path.sep}specs${path.sep}`)).length).toBeGreaterThanOrEqual(5);
  });
  for (const f of files) {
    it(path.relative(root, f), () => {
      const text = fs.readFileSync(f, 'utf8');
      const once = format(text);
      expect(once, 'formatter refused a file without syntax errors').toBeDefined();
      expect(format(once!)).toBe(once);
      expect(meaning(once!)).toBe(meaning(text));
      expect(parse(once!).program.comments.map((c) => c.text.trimEnd())).toEqual(parse(text).program.comments.map((c) => c.text.trimEnd()));
    });
  }
});

const messy = `# top


block   b( c ,k=3 ) {   # trailing on header
      conv(c,k,pad  1,  # inside args
  bias false)|relu
   residual {conv(c,3,pad 1)} shortcut {
   identity


   # before close
   }  :  [c, 8, 8]
}
network N( classes=10 ){input[3,8,8]
  b(4)|
    b( 8 , k 3 )  :[8,8,8]   # after
  concat { branch { relu } branch{ identity } }
  add {
    branch { relu }   # b1
    branch {
      identity
    }
  } : [16, 8, 8]
  flatten|dense(classes*2 - -1)|dense((classes))
  train { lr 1e-3 batch 4 }
}
# end
`;

const canonical = `# top

block b(c, k = 3) {  # trailing on header
  # inside args
  conv(c, k, pad 1, bias false) | relu
  residual { conv(c, 3, pad 1) } shortcut {
    identity

    # before close
  } : [c, 8, 8]
}

network N(classes = 10) {
  input [3, 8, 8]
  b(4) | b(8, k 3)   : [16, 8, 8]  # after
  concat { branch { relu } branch { identity } }
  add {
    branch { relu }  # b1
    branch {
      identity
    }
  } : [16, 8, 8]
  flatten | dense(classes * 2 - -1) | dense((classes))
  train {
    lr 1e-3
    batch 4
  }
}
# end
`;

describe('format: layout', () => {
  it('lays out a messy file canonically', () => {
    const m = messy.replace(':[8,8,8]', ':[16,8,8]');
    expect(format(m)).toBe(canonical);
    expect(format(canonical)).toBe(canonical);
    expect(meaning(canonical)).toBe(meaning(m));
  });

  it('aligns assertions and trailing comments in a run of one-line chains', () => {
    const src = 'network N {\n  input [1, 8, 8]\n  conv(2, 3) : [2, 6, 6] # a\n  relu | identity | relu : [2, 6, 6]\n\n  flatten : [72]\n}\n';
    expect(format(src)).toBe(
      'network N {\n  input [1, 8, 8]\n  conv(2, 3)               : [2, 6, 6]  # a\n  relu | identity | relu   : [2, 6, 6]\n\n  flatten   : [72]\n}\n',
    );
  });

  it('keeps one blank line between declarations and collapses runs of blank lines', () => {
    const src = 'block a { relu }\nblock b { relu }\n\n\n\nnetwork N {\n  input [4]\n\n\n\n  a | b\n}';
    expect(format(src)).toBe('block a {\n  relu\n}\n\nblock b {\n  relu\n}\n\nnetwork N {\n  input [4]\n\n  a | b\n}\n');
  });

  it('keeps an assertion in the middle of a chain next to its stage', () => {
    expect(format('network N {\n input [4]\n relu:[4]|relu\n}\n')).toBe('network N {\n  input [4]\n  relu : [4] | relu\n}\n');
  });

  it('formats an empty file and a comment-only file', () => {
    expect(format('')).toBe('');
    expect(format('  # just a comment   \n\n')).toBe('# just a comment\n');
  });

  it('refuses files with syntax errors', () => {
    expect(format('network N {\n  input [3, 8, 8]\n  conv(4, 3\n}\n')).toBeUndefined();
    expect(format('network N { input [4] } }')).toBeUndefined();
    expect(format('network N {\n  input [4]\n  relu @\n}\n')).toBeUndefined();
  });

  it('tolerates checker errors (it formats what parses)', () => {
    const src = 'network N {\n  relu\n  input   [4]\n  nosuchlayer( 3 )\n}\n';
    const out = format(src);
    expect(out).toBe('network N {\n  relu\n  input [4]\n  nosuchlayer(3)\n}\n');
  });
});

describe('format: imports', () => {
  it('keeps imports first, one per line, then one blank line', () => {
    const src = '# header\nimport   "a.net"   # units\nimport "lib/b.net"\nnetwork N {\n input [4]\n dense(2)\n}\n';
    const out = '# header\nimport "a.net"  # units\nimport "lib/b.net"\n\nnetwork N {\n  input [4]\n  dense(2)\n}\n';
    expect(format(src)).toBe(out);
    expect(format(out)).toBe(out);
    expect(format('import "a.net"\n')).toBe('import "a.net"\n');
  });

  it('leaves a file with an import after a declaration alone (E114 says to move it)', () => {
    expect(format('network N {\n  input [4]\n}\nimport "a.net"\n')).toBeUndefined();
  });
});

describe('format: line endings', () => {
  it('keeps CRLF files CRLF', () => {
    const src = 'network N {\r\n  input [4]   # x\r\n\r\n\r\n  relu|relu\r\n}\r\n';
    expect(format(src)).toBe('network N {\r\n  input [4]  # x\r\n\r\n  relu | relu\r\n}\r\n');
    expect(format(format(src)!)).toBe(format(src));
  });
});
