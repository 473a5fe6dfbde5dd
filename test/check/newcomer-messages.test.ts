// What a new user writes first (issue 22, items 8–12): Python-style
// `name=value`, a missing `}`, a construct that does not exist, a layer of
// another framework, repeats that multiply past the limit, a network not
// chosen. One error per mistake, pointing where it is, with a fix that is
// right (never another function). The goldens in test/fixtures/diagnostics
// show the rendering; these check what the goldens cannot.
import { TextDocument } from 'vscode-languageserver-textdocument';
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compile.js';
import type { Diagnostic } from '../../src/diagnostics/index.js';
import { diagnosticToJson, renderDiagnostic } from '../../src/diagnostics/render.js';
import { LineIndex } from '../../src/diagnostics/span.js';
import { analyze } from '../../src/lsp/analysis.js';
import * as F from '../../src/lsp/features.js';
import { FOREIGN_LAYERS } from '../../src/layers/foreign.js';
import { LAYERS } from '../../src/layers/registry.js';

const diags = (text: string, opts = {}): Diagnostic[] => compile(text, { all: true, ...opts }).diagnostics;
const codes = (text: string): string[] => diags(text).map((d) => d.code);

/** apply every fix of every diagnostic (their edits do not overlap here) */
function applyFixes(text: string, ds: Diagnostic[]): string {
  const edits = ds.flatMap((d) => d.fixes[0]?.edits ?? []).sort((a, b) => b.span.start - a.span.start);
  let out = text;
  for (const e of edits) out = out.slice(0, e.span.start) + e.newText + out.slice(e.span.end);
  return out;
}

describe('8. `name=value` in a call', () => {
  const text = 'network N {\n  input [3, 32, 32]\n  conv(32, k=3) | relu\n  conv(8, k = 3, stride=2) | relu\n}\n';

  it('one error per `=`, nothing else (no "unknown name", no "expected )")', () => {
    const ds = diags(text);
    expect(ds.map((d) => d.code)).toEqual(['E002', 'E002', 'E002']);
    expect(ds[0]!.message).toBe('arguments are named without `=`: `k 3`');
    expect(ds[2]!.message).toBe('arguments are named without `=`: `stride 2`');
  });

  it('the fix writes `k 3`, and the fixed file is clean', () => {
    const fixed = applyFixes(text, diags(text));
    expect(fixed).toContain('conv(32, k 3)');
    expect(fixed).toContain('conv(8, k 3, stride 2)');
    expect(codes(fixed)).toEqual([]);
  });

  it('the language server offers it as a quick fix', () => {
    const doc = TextDocument.create('file:///t/n.net', 'alexnet', 1, text);
    const a = analyze(text, 1);
    const ds = F.diagnostics(doc, a);
    const actions = F.codeActions(doc, a, ds[0]!.range);
    expect(actions[0]!.title).toBe('write `k 3`');
    expect(actions[0]!.kind).toBe('quickfix');
  });
});

describe('9. a missing `}` and an unknown construct', () => {
  it('a residual without its `}`: one error at its `{`, no E305 from the misread body', () => {
    const text = 'network N {\n  input [16, 8, 8]\n  residual {\n    conv(16, 3, pad 1) | relu\n\n  flatten | dense(10)\n}\n';
    const ds = diags(text);
    expect(ds.map((d) => d.code)).toEqual(['E002']);
    expect(ds[0]!.span.start).toBe(text.indexOf('residual {') + 'residual '.length);
    expect(ds[0]!.message).toContain('unclosed `{`');
  });

  it('the unclosed brace at the end of a file is found too', () => {
    const text = 'network N {\n  input [16]\n  residual { relu\n';
    const ds = diags(text);
    expect(ds.map((d) => d.code)).toEqual(['E002']);
    expect(ds[0]!.message).toContain('the `residual` body');
  });

  it('`mul { branch { … } }`: one error, no W501 for the parameter used inside', () => {
    const text = 'network N(w = 8) {\n  input [8, 8, 8]\n  mul {\n    branch { conv(w, 1) }\n    branch { relu }\n  }\n  relu\n}\n';
    expect(codes(text)).toEqual(['E002']);
  });

  it('`sum { … }` suggests `add` (the same operation); a misspelt `residul {` suggests `residual`', () => {
    const sum = 'network N {\n  input [8]\n  sum {\n    branch { relu }\n    branch { relu }\n  }\n}\n';
    expect(applyFixes(sum, diags(sum))).toContain('  add {');
    const typo = 'network N {\n  input [8]\n  residul { relu }\n}\n';
    const ds = diags(typo);
    expect(ds.map((d) => d.code)).toEqual(['E002']);
    expect(codes(applyFixes(typo, ds))).toEqual([]);
  });

  it('`repeat n {` and declarations are not taken for unknown constructs', () => {
    const text = 'block stage(c, n) { repeat n { conv(c, 3, pad 1) | relu } }\nnetwork N {\n  input [3, 8, 8]\n  stage(4, 2)\n  repeat\n    2 { relu }\n}\n';
    expect(codes(text)).toEqual([]);
  });
});

describe('10. layers of other frameworks', () => {
  it('a foreign name gets "not in alexnetc\'s catalogue" and no fix', () => {
    for (const name of ['mish', 'selu', 'lstm', 'conv3d']) {
      const ds = diags(`network N {\n  input [3, 8, 8]\n  ${name}\n}\n`);
      expect(ds.map((d) => d.code), name).toEqual(['E101']);
      expect(ds[0]!.message).toContain("not in alexnetc's catalogue");
      expect(ds[0]!.fixes).toEqual([]);
    }
  });

  it('a spelling suggestion never changes the function: no layer is suggested for a name that differs in its digits', () => {
    // relu7, conv4d are not typos of relu or conv; rleu is
    expect(diags('network N {\n  input [8]\n  relu7\n}\n')[0]!.fixes).toEqual([]);
    expect(diags('network N {\n  input [3, 8, 8]\n  conv4d(3, 3)\n}\n')[0]!.fixes).toEqual([]);
    expect(diags('network N {\n  input [8]\n  rleu\n}\n')[0]!.fixes[0]!.title).toBe('replace with `relu`');
  });

  it('a real layer always wins over the foreign list, and an alias gets its layer suggested', () => {
    // every real layer and alias, written where a foreign name would be: none is reported as foreign
    for (const l of LAYERS) {
      for (const name of [l.name, ...(l.aliases ?? [])]) {
        const ds = diags(`network N {\n  input [3, 8, 8]\n  ${name}\n}\n`);
        expect(ds.some((d) => d.message.includes("not in alexnetc's catalogue")), name).toBe(false);
      }
    }
    expect(Object.keys(FOREIGN_LAYERS).length).toBeGreaterThan(20);
  });
});

describe('11. repeats that multiply past the limit', () => {
  it('E401 is on the outer repeat, with the product', () => {
    const text = 'network N {\n  input [16]\n  repeat 1000 {\n    repeat 1000 { relu }\n  }\n}\n';
    const ds = diags(text);
    expect(ds.map((d) => d.code)).toEqual(['E401']);
    expect(ds[0]!.span.start).toBe(text.indexOf('repeat 1000 {'));
    expect(ds[0]!.message).toContain('`repeat 1000` of `repeat 1000` of 1 stage: at least 1,000,000 stages');
  });
});

describe('12. problems of the command line have no source frame', () => {
  it('E104 and E105 render without a line, column or code frame', () => {
    const text = '# a comment on the first line\nnetwork A {\n  input [4]\n  relu\n}\nnetwork B {\n  input [4]\n  relu\n}\n';
    for (const [opts, code] of [[{ network: 'C' }, 'E104'], [{ all: false }, 'E105']] as const) {
      const d = compile(text, { file: 'x.net', ...opts }).diagnostics.find((x) => x.code === code)!;
      const out = renderDiagnostic(d, 'x.net', text, { color: false });
      expect(out.split('\n')[0]).toMatch(new RegExp(`^x\\.net: error\\[${code}\\]`));
      expect(out).not.toContain('|');
      expect(out).not.toContain('a comment');
      // --json marks it too, for tools that would otherwise underline line 1
      expect(diagnosticToJson(d, 'x.net', new LineIndex(text))).toMatchObject({ code, unlocated: true });
    }
  });
});
