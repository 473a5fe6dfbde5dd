// `--set name=value` values are read like the language's own values: one
// clear error each, never NaN or Infinity flowing into the shapes.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compile.js';

const lenet = readFileSync(path.join(import.meta.dirname, '../../specs/lenet5.net'), 'utf8');
const set = (v: string, text = lenet, name = 'classes') => compile(text, { set: { [name]: v } });

describe('--set values', () => {
  const bad: [string, RegExp][] = [
    ['abc', /`abc` is not a value/],
    ['1e400', /`1e400` is too large/],
    ['1e300*1e300', /overflows/],
    ['', /it is empty/],
    ['1 2', /unexpected '2' after the value/],
    ['(3', /not a value/],
    ['true', /takes a number \(its default is 10\), got true/],
    ['[3, 3]', /takes a number/],
    ['"x"', /not a value/],
  ];
  for (const [v, message] of bad) {
    it(`classes=${v} is one E111 at the parameter`, () => {
      const r = set(v);
      expect(r.diagnostics.map((d) => d.code)).toEqual(['E111']);
      expect(r.diagnostics[0]!.message).toMatch(message);
      expect(r.diagnostics[0]!.message).toContain(`--set classes=${v}`);
      expect(lenet.slice(r.diagnostics[0]!.span.start, r.diagnostics[0]!.span.end)).toMatch(/^classes/);
      expect(r.network).toBeUndefined();
    });
  }

  it('range-checks where the value is used, once', () => {
    for (const v of ['0', '-3', '1.5']) {
      const r = set(v);
      expect(r.diagnostics.map((d) => d.code), v).toHaveLength(1);
      expect(r.diagnostics[0]!.message, v).toMatch(/`dense` argument `units`/);
    }
  });

  it('accepts numbers, arithmetic and the earlier parameters', () => {
    expect(set('10').network?.output).toEqual([10]);
    expect(set('2 * 16').network?.output).toEqual([32]);
    const text = 'network N(c = 4, d = 8) {\n  input [c]\n  dense(d)\n}\n';
    expect(set('c * 3', text, 'd').network?.output).toEqual([12]);
    expect(set('[2, 3]', 'network N(k = [3, 3]) {\n  input [1, 8, 8]\n  conv(1, k)\n}\n', 'k').network?.output).toEqual([1, 7, 6]);
    expect(set('false', 'network N(b = true) {\n  input [4]\n  dense(2, bias b)\n}\n', 'b').network?.totalParams).toBe(8);
  });
});

describe('numbers beyond a double', () => {
  it('are E205, in literals and in arithmetic', () => {
    const r = compile('network N {\n  input [4]\n  dense(1e400)\n}\n', { all: true });
    expect(r.diagnostics.map((d) => d.code)).toEqual(['E205']);
    const r2 = compile('network N {\n  input [4]\n  dense(1e300 * 1e300)\n}\n', { all: true });
    expect(r2.diagnostics.map((d) => d.code)).toEqual(['E205']);
  });
});

describe('--set with several networks', () => {
  it('is an error without --network, never silently dropped', () => {
    const text = 'network A(c = 2) {\n  input [4]\n  dense(c)\n}\n\nnetwork B(c = 3) {\n  input [4]\n  dense(c)\n}\n';
    const r = compile(text, { all: true, set: { c: '5' } });
    expect(r.diagnostics.map((d) => d.code)).toEqual(['E111']);
    expect(r.diagnostics[0]!.message).toMatch(/choose the one to set with --network/);
    const b = compile(text, { all: true, network: 'B', set: { c: '5' } });
    expect(b.diagnostics).toEqual([]);
    expect(b.networks.find((n) => n.name === 'B')!.output).toEqual([5]);
    expect(b.networks.find((n) => n.name === 'A')!.output).toEqual([2]);
  });
});
