// Argument binding never silently rebinds: positionals come first (Python's
// rule), every collision names both arguments, and names other libraries use
// get a "did you mean" to the language's own.
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compile.js';

const net = (body: string, blocks = ''): string => `${blocks}network N {\n  input [3, 16, 16]\n  ${body}\n}\n`;
const codes = (text: string): string[] => compile(text, { all: true }).diagnostics.map((d) => d.code);
const first = (text: string) => compile(text, { all: true }).diagnostics[0]!;

describe('positional after named', () => {
  it('is E116 naming both arguments, not a misleading missing argument', () => {
    const text = net('conv(filters 64, 2)');
    expect(codes(text)).toEqual(['E116']);
    const d = first(text);
    expect(d.message).toContain('`2`');
    expect(d.message).toContain('`filters 64`');
    expect(text.slice(d.span.start, d.span.end)).toBe('2');
    expect(text.slice(d.notes[0]!.span!.start, d.notes[0]!.span!.end)).toBe('filters 64');
    // the fix names the first slot neither list filled
    expect(d.fixes[0]!.edits[0]!.newText).toBe('k ');
  });

  it('in a block call does not rebind the named slot', () => {
    const text = net('stage(c 8, 2)', 'block stage(c, convs = 1) {\n  repeat convs { conv(c, 3, pad 1) }\n}\n');
    expect(codes(text)).toEqual(['E116']);
    expect(first(text).fixes[0]!.edits[0]!.newText).toBe('convs ');
    // nothing was built from the rebinding
    expect(compile(text).network).toBeUndefined();
  });

  it('is reported once per call', () => {
    expect(codes(net('conv(filters 4, 3, 1, 0)'))).toEqual(['E116']);
  });

  it('leaves positional-then-named calls alone', () => {
    expect(codes(net('conv(4, 3, pad 1, stride 2) | relu'))).toEqual([]);
    expect(compile(net('conv(4, k 3, filters 2)')).diagnostics.map((d) => d.code)).toEqual(['E107']);
  });
});

describe('an argument given twice', () => {
  it('names both ways it was given', () => {
    const d = first(net('conv(16, 3, k 5)'));
    expect(d.code).toBe('E107');
    expect(d.message).toContain('`3` positionally and `k 5` by name');
    const n = first(net('conv(16, k 3, k 5)'));
    expect(n.message).toContain('`k 3` by name and `k 5` by name');
  });
});

describe('other libraries\' names', () => {
  const cases: [string, string, string][] = [
    ['conv(4, kernel_size 3)', 'kernel_size', 'k'],
    ['conv(4, 3, padding 1)', 'padding', 'pad'],
    ['conv(4, 3, strides 2)', 'strides', 'stride'],
    ['conv(4, 3, use_bias false)', 'use_bias', 'bias'],
    ['conv(units 4, k 3)', 'units', 'filters'],
    ['conv(out_channels 4, k 3)', 'out_channels', 'filters'],
    ['maxpool(pool_size 2)', 'pool_size', 'k'],
    ['maxpool(2, ceil_mode true)', 'ceil_mode', 'ceil'],
    ['flatten | dense(filters 10)', 'filters', 'units'],
    ['flatten | dense(out_features 10)', 'out_features', 'units'],
    ['batchnorm(epsilon 1e-3)', 'epsilon', 'eps'],
    ['dropout(p 0.2)', 'p', 'rate'],
    ['leakyrelu(negative_slope 0.2)', 'negative_slope', 'alpha'],
    ['lrn(local_size 5)', 'local_size', 'size'],
    ['lrn(k 2)', 'k', 'bias'],
  ];
  for (const [body, wrong, right] of cases) {
    it(`${wrong} → ${right}`, () => {
      const text = net(body);
      const d = first(text);
      expect(d.code).toBe('E103');
      expect(text.slice(d.span.start, d.span.end)).toBe(wrong);
      expect(d.message).toContain(`did you mean \`${right}\``);
      expect(d.fixes[0]!.edits[0]!.newText).toBe(right);
    });
  }

  const layers: [string, string][] = [
    ['Conv2d(4, 3)', 'conv'],
    ['flatten | Linear(10)', 'dense'],
    ['MaxPool2d(2)', 'maxpool'],
    ['BatchNorm2d', 'batchnorm'],
    ['AdaptiveAvgPool2d', 'globalavgpool'],
    ['LocalResponseNorm', 'lrn'],
    ['ReLU', 'relu'],
  ];
  for (const [body, right] of layers) {
    it(`${body} → ${right}`, () => {
      const d = first(net(body));
      expect(d.code).toBe('E101');
      expect(d.message).toContain(`did you mean \`${right}\``);
    });
  }
});
