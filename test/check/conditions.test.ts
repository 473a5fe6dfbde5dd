// `if cond { … } else { … }`, `residual if cond { … }` and the comparisons and
// logic of conditions: the chosen body's stages in the enclosing scope,
// located errors for conditions that are not true or false.
import { describe, expect, it } from 'vitest';
import { layers } from '../../src/check/ir.js';
import { compile } from '../../src/compile.js';

const check = (body: string, params = '') => compile(`block b(${params || 'x = 1'}) { ${body} }\nnetwork T { input [8, 6, 6]\n b }`);
const kinds = (src: string) => {
  const r = compile(src);
  if (!r.network) throw new Error(r.diagnostics.map((d) => d.message).join('; '));
  return { top: r.network.body.map((n) => n.kind), layers: [...layers(r.network.body)].map((l) => l.path) };
};

describe('conditions', () => {
  it('if picks its body, else the other; the stages keep the enclosing scope', () => {
    const net = (s: number) => kinds(`network T(s = ${s}) { input [8, 6, 6]\n if s == 1 { relu } else { sigmoid | tanh }\n conv(8, 1) }`);
    expect(net(1).layers).toEqual(['relu1', 'conv1']);
    expect(net(2).layers).toEqual(['sigmoid1', 'tanh1', 'conv1']);
  });

  it('residual if: a residual when the condition holds, else the body alone', () => {
    const src = (s: number, c: number) => `block inv(cin, c, s) { residual if s == 1 and cin == c { conv(c, 3, stride s, pad 1) } }
network T { input [8, 6, 6]\n inv(8, ${c}, ${s}) }`;
    expect(kinds(src(1, 8)).top).toEqual(['residual']);
    expect(kinds(src(2, 8)).layers).toEqual(['inv1/conv1']);
    expect(kinds(src(1, 16)).layers).toEqual(['inv1/conv1']);
  });

  it.each([
    ['not (2 > 3) and 4 >= 4', true],
    ['1 < 2 and 2 <= 1 or true', true],
    ['not true or false', false],
    ['2 * 3 == 6 and 7 != 7', false],
  ])('%s is %s', (cond, value) => {
    expect(kinds(`network T { input [4]\n if ${cond} { relu } else { tanh } }`).layers).toEqual([value ? 'relu1' : 'tanh1']);
  });

  it('a condition that is not true or false is E201 at the condition', () => {
    const r = check('if x + 1 { relu }');
    expect(r.diagnostics.map((d) => [d.code, d.message])).toEqual([['E201', 'expected `true` or `false` (a comparison such as `stride == 1`), got 2']]);
    const text = 'block b(x = 1) { if x + 1 { relu } }';
    expect(text.slice(r.diagnostics[0]!.span.start - 0, r.diagnostics[0]!.span.end)).toBeDefined();
  });

  it('an unknown name in a condition gets did-you-mean', () => {
    const r = check('if strid == 1 { relu }', 'stride = 1');
    expect(r.diagnostics.map((d) => d.message)).toContain('unknown name `strid`; did you mean `stride`?');
  });
});

describe('expression functions', () => {
  const value = (e: string): number => {
    const r = compile(`network T { input [${e}] }`);
    if (!r.network) throw new Error(r.diagnostics.map((d) => d.message).join('; '));
    return r.network.input[0]!;
  };

  it.each([
    ['round(2.5)', 2], // Python's round: halves to even
    ['round(3.5)', 4],
    ['round(2.4)', 2],
    ['floor(7 / 2)', 3],
    ['ceil(7 / 2)', 4],
    ['min(4, 2, 9)', 2],
    ['max(4, 2, 9)', 9],
    // torchvision's _make_divisible: MobileNet's width multipliers
    ['make_divisible(32 * 0.75, 8)', 24],
    ['make_divisible(16 * 0.35, 8)', 8],
    ['make_divisible(18, 8)', 24], // 16 would be more than 10% below 18
    ['make_divisible(96 * 1.4, 8)', 136],
  ])('%s = %d', (e, v) => {
    expect(value(e)).toBe(v);
  });

  it('--set width=0.75 with make_divisible gives whole channels', () => {
    const r = compile('network T(width = 1.0) { input [3, 8, 8]\n conv(make_divisible(32 * width, 8), 3) }', { set: { width: '0.75' } });
    expect(r.network?.output).toEqual([24, 6, 6]);
  });

  it('an unknown function gets did-you-mean; a wrong count of arguments is E201', () => {
    const r1 = compile('network T { input [maxx(1, 2)] }');
    expect(r1.diagnostics.map((d) => d.message)).toEqual(['unknown function `maxx`; did you mean `max`?']);
    const r2 = compile('network T { input [round(1, 2)] }');
    expect(r2.diagnostics.map((d) => [d.code, d.message])).toEqual([['E201', '`round` takes 1 argument, got 2']]);
  });
});
