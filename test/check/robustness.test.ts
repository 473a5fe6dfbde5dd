// Nothing a user types may crash the compiler: seeded random edits of every
// shipped spec must give diagnostics, never an exception or an internal error.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compile.js';
import { rng } from '../../src/util/rng.js';

const specs = path.join(import.meta.dirname, '../../specs');
const files = readdirSync(specs).filter((f) => f.endsWith('.net'));

const SNIPPETS = ['(', ')', '{', '}', '[', ']', '|', ':', ',', '=', '-', '/', '//', '0', '1e300', '-5', 'conv', 'repeat', 'residual', 'branch', 'concat {', 'input [', 'same', '\u0000', '"', 'é', '\n', 'block', 'network'];

function mutate(text: string, r: () => number): string {
  let t = text;
  const edits = 1 + Math.floor(r() * 4);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(r() * (t.length + 1));
    const kind = Math.floor(r() * 4);
    if (kind === 0) t = t.slice(0, at) + t.slice(at + 1 + Math.floor(r() * 8));
    else if (kind === 1) t = t.slice(0, at) + SNIPPETS[Math.floor(r() * SNIPPETS.length)] + t.slice(at);
    else if (kind === 2) t = t.slice(0, at);
    else {
      const lines = t.split('\n');
      const l = Math.floor(r() * lines.length);
      lines.splice(l, 0, lines[Math.floor(r() * lines.length)]!);
      t = lines.join('\n');
    }
  }
  return t;
}

describe('robustness', () => {
  for (const f of files) {
    it(`random edits of ${f} never crash`, () => {
      const text = readFileSync(path.join(specs, f), 'utf8');
      const r = rng(f.length * 7919);
      for (let i = 0; i < 150; i++) {
        const m = mutate(text, r);
        const res = compile(m, { all: true });
        const internal = res.diagnostics.filter((d) => d.code === 'E900');
        expect(internal, m).toEqual([]);
        for (const d of res.diagnostics) {
          expect(d.span.start, m).toBeGreaterThanOrEqual(0);
          expect(d.span.end, m).toBeLessThanOrEqual(m.length);
          expect(d.span.end, m).toBeGreaterThanOrEqual(d.span.start);
        }
      }
    });
  }

  it('handles huge numbers, deep nesting and long files', () => {
    const cases = [
      'network N {\n  input [3, 1e300, 1e300]\n  relu\n}',
      'network N {\n  input [4]\n  dense(1e300)\n}',
      'network N {\n  input [4]\n  repeat 1e9 { relu }\n}',
      `network N {\n  input [4]\n  dense(${'('.repeat(500)}4${')'.repeat(500)})\n}`,
      `network N {\n  input [4]\n${'  relu\n'.repeat(20000)}}`,
      'network N {\n  input [3, 8, 8]\n  conv(4, 3, stride [1e300, 1])\n}',
      'network N {\n  input [3, 8, 8]\n  conv(4, 3, pad -1)\n}',
      'network N {\n  input [3, 8, 8]\n  conv(4, 3, pad [1, 2, 3])\n}',
    ];
    for (const c of cases) {
      const res = compile(c);
      expect(res.diagnostics.filter((d) => d.code === 'E900'), c.slice(0, 80)).toEqual([]);
    }
    expect(compile(cases[2]!).diagnostics.map((d) => d.code)).toEqual(['E401']);
  });
});
