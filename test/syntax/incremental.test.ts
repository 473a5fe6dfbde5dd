// The language server's incremental parse (src/syntax/incremental.ts) must
// give exactly what a whole parse gives, after any edit: random edits on every
// shipped spec and on a generated file of several blocks and networks, each
// compared with `parse` of the same text. It must also re-parse only the
// top-level items an edit changed.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { commonPrefix, commonSuffix, IncrementalParser, movedStarts, pieceStarts } from '../../src/syntax/incremental.js';
import { parse } from '../../src/syntax/parse.js';
import { rng } from '../mulberry32.js';

const ROOT = path.resolve(__dirname, '../..');

// snippets that break the text as well as ones that keep it parsing: both paths are compared
const SNIPPETS = [' ', '\n', '(', ')', '{', '}', ',', '|', '#', '3', 'relu', 'conv(8, 3)', '\nblock', '\nnetwork N {\n', '\nblock b {\n  relu\n}\n', 'import "x.net"\n', '  dense(10)\n'];

function edit(text: string, r: () => number): string {
  // half the edits keep the text well formed: a digit changed, a space typed
  if (r() < 0.5) {
    const digits = [...text.matchAll(/\d/g)].map((m) => m.index!);
    if (digits.length) {
      const at = digits[Math.floor(r() * digits.length)]!;
      return text.slice(0, at) + String(1 + Math.floor(r() * 9)) + text.slice(at + 1);
    }
  }
  const start = Math.floor(r() * (text.length + 1));
  const del = r() < 0.5 ? Math.min(text.length - start, Math.floor(r() * 4)) : 0;
  const insert = r() < 0.3 ? '' : SNIPPETS[Math.floor(r() * SNIPPETS.length)]!;
  return text.slice(0, start) + insert + text.slice(start + del);
}

/** what `parse` gives, less the tokens (the formatter's, not kept by the incremental parse) */
function whole(text: string): unknown {
  const { tokens: _, ...rest } = parse(text);
  return rest;
}

function generated(): string {
  const out: string[] = ['import "lib.net"', '# a comment before the first declaration', ''];
  for (let b = 0; b < 4; b++) out.push(`block unit${b}(c) {`, `  conv(c, 3, pad 1, bias false) | batchnorm | relu`, '  repeat 2 {', '    relu', '  }', '}', '');
  for (let n = 0; n < 3; n++) {
    out.push(`network Net${n}(classes = 10) {`, '  input [16, 32, 32]');
    for (let i = 0; i < 20; i++) out.push(`  unit${i % 4}(16) | relu   : [16, 32, 32]   # line ${i}`);
    out.push('  residual {', '    relu', '  } shortcut {', '    relu', '  }', '  globalavgpool | flatten', '  dense(classes)', '}', '');
  }
  return out.join('\n');
}

describe('incremental parse', () => {
  const specs = fs.readdirSync(path.join(ROOT, 'specs')).filter((f) => f.endsWith('.net')).sort();
  const files: [string, string][] = [...specs.map((f): [string, string] => [f, fs.readFileSync(path.join(ROOT, 'specs', f), 'utf8')]), ['generated', generated()]];

  // every: 2 cuts each network into parts of two or three lines, so that the parts' path is taken on every spec
  const cases = files.flatMap(([name, text]) => [100, 2].map((every): [string, number, string] => [name, every, text]));
  it.each(cases)('%s, networks in parts of %i lines: after 40 random edits, each parse equals a whole parse (pieces put together, or the whole text where it has an error)', (name, every, text) => {
    const p = new IncrementalParser(every);
    const r = rng(name.length * 7919 + every);
    let t = text;
    expect(p.parse(t), `${name} at first`).toEqual(whole(t));
    for (let i = 0; i < 40; i++) {
      // an edit of the last text, or of the first one (so that clean texts, the pieces' path, come often)
      t = edit(r() < 0.4 ? text : t, r);
      expect(p.parse(t), `${name} after edit ${i + 1}`).toEqual(whole(t));
    }
    // both ways were taken: pieces put together, and whole parses of broken texts
    expect(p.fullParses).toBeGreaterThan(3);
    expect(41 - p.fullParses).toBeGreaterThan(8);
  });

  it('a long network is parsed in parts: an edit in its last line re-parses one part', () => {
    const lines = ['network Long {', '  input [8, 16, 16]'];
    for (let i = 0; i < 50; i++) lines.push(`  conv(8, 3, pad 1) | relu   : [8, 16, 16]   # line ${i}`);
    lines.push('  flatten | dense(10)', '}', '');
    const text = lines.join('\n');
    const p = new IncrementalParser(10);
    expect(p.parse(text)).toEqual(whole(text));
    const parts = p.pieceParses;
    expect(parts).toBeGreaterThanOrEqual(5);
    const at = text.lastIndexOf('dense(10)') + 'dense('.length;
    const edited = text.slice(0, at) + '2' + text.slice(at);
    expect(p.parse(edited)).toEqual(whole(edited));
    expect(p.pieceParses).toBe(parts + 1);
    expect(p.fullParses).toBe(0);
  });

  it('re-parses only the item an edit changed, and moves the others', () => {
    const text = generated();
    const p = new IncrementalParser();
    p.parse(text);
    const items = pieceStarts(text).length;
    expect(items).toBe(8); // the preamble, 4 blocks, 3 networks
    expect(p.pieceParses).toBe(items);
    // a space typed inside the first block: that block is parsed again; everything after it moves by one
    const at = text.indexOf('pad 1');
    const edited = text.slice(0, at) + ' ' + text.slice(at);
    const before = p.parse(edited);
    expect(p.pieceParses).toBe(items + 1);
    expect(p.fullParses).toBe(0);
    expect(before).toEqual(whole(edited));
    // and back: the first text's piece for that block is gone, so it is parsed once more
    expect(p.parse(text)).toEqual(whole(text));
    expect(p.pieceParses).toBe(items + 2);
  });

  it('a syntax error anywhere makes it parse the whole text, as before', () => {
    const text = generated();
    const p = new IncrementalParser();
    p.parse(text);
    const broken = text.replace('dense(classes)', 'dense(classes');
    expect(p.parse(broken)).toEqual(whole(broken));
    expect(p.fullParses).toBe(1);
    expect(whole(broken)).toMatchObject({ diagnostics: [expect.objectContaining({ code: 'E002' })] });
  });

  it('finds what two texts share at their start and end, and the item starts of the new one from the old ones and the lines around the change', () => {
    const naive = (a: string, b: string, fromEnd: boolean): number => {
      let n = 0;
      const max = Math.min(a.length, b.length);
      while (n < max && (fromEnd ? a[a.length - 1 - n] === b[b.length - 1 - n] : a[n] === b[n])) n++;
      return n;
    };
    for (const [name, text] of files) {
      const r = rng(name.length * 31);
      let t = text;
      for (let i = 0; i < 60; i++) {
        const next = edit(t, r);
        const max = Math.min(t.length, next.length);
        const P = commonPrefix(t, next, max);
        expect(P, `${name}: shared start after edit ${i + 1}`).toBe(naive(t, next, false));
        const S = commonSuffix(t, next, max - P);
        expect(S, `${name}: shared end after edit ${i + 1}`).toBe(Math.min(naive(t, next, true), max - P));
        expect(movedStarts(pieceStarts(t), next, P, next.length - S, next.length - t.length), `${name}: item starts after edit ${i + 1}`).toEqual(pieceStarts(next));
        t = next;
      }
    }
  });

  it('two equal blocks (a duplicate name) get a program each', () => {
    const b = 'block b {\n  relu\n}\n';
    const text = `${b}${b}network N {\n  input [4]\n  b\n}\n`;
    const p = new IncrementalParser();
    const r = p.parse(text);
    expect(r).toEqual(whole(text));
    expect(r.program.decls[0]).not.toBe(r.program.decls[1]);
    const moved = `# moved\n${text}`;
    expect(p.parse(moved)).toEqual(whole(moved));
  });
});
