// No span of the AST, the comments or the diagnostics holds a NaN (or any
// number that is not a whole offset into the text). Tokens that Chevrotain's
// error recovery inserts have NaN offsets: a span built from one is wrong where
// it is shown, and once V8 has seen a NaN in a span's field it keeps every
// span's offsets, for the rest of the process, as heap numbers of their own.
// Both parsers are run: the AST parser on texts without syntax errors, the
// recovering parser and cst-to-ast.ts on all of them.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CstNode, IToken } from 'chevrotain';
import { describe, expect, it } from 'vitest';
import { parse } from '../../src/syntax/parse.js';
import { cstParser } from '../../src/syntax/parser.js';
import { lexer } from '../../src/syntax/tokens.js';
import { generate } from '../fuzz/generate.js';
import { mutate } from '../fuzz/mutate.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** the paths (`decls.0.body.2.span.start`) of every span offset in `value` that is not a whole number in [0, length] */
function badOffsets(value: unknown, length: number): string[] {
  const bad: string[] = [];
  const seen = new Set<object>();
  const walk = (v: unknown, at: string): void => {
    if (v === null || typeof v !== 'object' || seen.has(v)) return;
    seen.add(v);
    const o = v as Record<string, unknown>;
    if ('start' in o && 'end' in o && Object.keys(o).length === 2) {
      for (const k of ['start', 'end'] as const) {
        const n = o[k];
        if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > length) bad.push(`${at}.${k} = ${String(n)}`);
      }
      if (typeof o.start === 'number' && typeof o.end === 'number' && o.end < o.start) bad.push(`${at}: end before start`);
      return;
    }
    for (const [k, x] of Object.entries(o)) walk(x, at ? `${at}.${k}` : k);
  };
  walk(value, '');
  return bad;
}

/** how many tokens recovery inserted into the CST of `text` (NaN offsets) */
function inserted(text: string): number {
  const p = cstParser();
  p.input = lexer.tokenize(text).tokens;
  let n = 0;
  const walk = (node: CstNode): void => {
    for (const list of Object.values(node.children)) {
      for (const e of list ?? []) {
        if ('image' in e) n += (e as IToken).isInsertedInRecovery || Number.isNaN((e as IToken).startOffset) ? 1 : 0;
        else walk(e as CstNode);
      }
    }
  };
  try {
    walk(p.file());
  } catch {
    // too deep for the stack: parse.ts turns such a text away before parsing
  }
  p.input = [];
  return n;
}

const specs = fs.readdirSync(path.join(ROOT, 'specs')).filter((f) => f.endsWith('.net')).sort().map((f) => fs.readFileSync(path.join(ROOT, 'specs', f), 'utf8'));
const texts: string[] = [...specs];
for (let i = 0; i < 30; i++) texts.push(generate(20261208, i).source);
const base = [...texts];
for (let i = 0; i < 600; i++) texts.push(mutate(base[i % base.length]!, 20261209, i));
// the tokens recovery inserts most often: a missing `)`, `]`, `}`, an argument, an expression
texts.push('network N {\n  input [1, 8, 8\n  conv(4, 3\n}\n', 'network N {\n  input [1, 8, 8]\n  conv(4, ) | dense(\n', 'network N { input [1,] relu(', 'block B(x = ) { conv(x }', 'network N {\n  repeat { relu }\n  residual if { relu }\n');

describe('spans', () => {
  it('are whole offsets into the text: never NaN, whichever parser made them', () => {
    let recovered = 0;
    let withInserted = 0;
    for (const text of texts) {
      for (const recovering of [false, true]) {
        const r = parse(text, { recovering });
        const bad = badOffsets({ program: r.program, diagnostics: r.diagnostics }, text.length);
        expect(bad, `${recovering ? 'recovering parser' : 'parse'}:\n${text}`).toEqual([]);
        if (recovering && r.diagnostics.some((d) => d.code === 'E002')) recovered++;
      }
      if (inserted(text) > 0) withInserted++;
    }
    // the texts do make recovery insert tokens (whose offsets are NaN), and syntax errors to report
    expect(withInserted).toBeGreaterThan(50);
    expect(recovered).toBeGreaterThan(100);
  });

  it('badOffsets finds a NaN offset, however deep', () => {
    const program = { decls: [{ body: [{ args: [{ value: { span: { start: 3, end: NaN } } }] }] }] };
    expect(badOffsets(program, 10)).toEqual(['decls.0.body.0.args.0.value.span.end = NaN']);
    expect(badOffsets({ span: { start: 2, end: 1 } }, 10)).toEqual(['span: end before start']);
  });
});
