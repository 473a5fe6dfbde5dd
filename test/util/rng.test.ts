import { describe, expect, it } from 'vitest';
import { createRng, initWeight } from '../../src/util/rng.js';

describe('seeded weight init', () => {
  const spec = { name: 'weight', shape: [64, 3, 3, 3], init: { kind: 'he_uniform', fanIn: 27 } as const, trainable: true };

  it('is a pure function of (seed, key): order and repetition do not matter', () => {
    const a = initWeight(spec, 5, 'conv1.weight');
    initWeight(spec, 5, 'conv2.weight');
    expect(initWeight(spec, 5, 'conv1.weight')).toEqual(a);
  });

  it('differs between keys and between seeds', () => {
    const a = initWeight(spec, 0, 'conv1.weight');
    expect(initWeight(spec, 0, 'conv2.weight')).not.toEqual(a);
    expect(initWeight(spec, 1, 'conv1.weight')).not.toEqual(a);
    // seeds above 2^32 are not truncated to their low half
    expect(initWeight(spec, 2 ** 32, 'conv1.weight')).not.toEqual(a);
  });

  it('is He-uniform: within ±sqrt(6/fanIn), mean ≈ 0, variance ≈ limit²/3', () => {
    const big = { ...spec, shape: [100_000], init: { kind: 'he_uniform', fanIn: 27 } as const };
    const v = initWeight(big, 0, 'w');
    const limit = Math.sqrt(6 / 27);
    let sum = 0;
    let sq = 0;
    let max = 0;
    for (const x of v) {
      max = Math.max(max, Math.abs(x));
      sum += x;
      sq += x * x;
    }
    expect(max).toBeLessThanOrEqual(limit);
    expect(max).toBeGreaterThan(0.99 * limit);
    const mean = sum / v.length;
    expect(Math.abs(mean)).toBeLessThan(0.01 * limit);
    expect(sq / v.length - mean * mean).toBeCloseTo((limit * limit) / 3, 2);
  });

  it('zeros and ones', () => {
    expect([...initWeight({ ...spec, shape: [3], init: { kind: 'zeros' } }, 0, 'b')]).toEqual([0, 0, 0]);
    expect([...initWeight({ ...spec, shape: [2], init: { kind: 'ones' } }, 0, 'g')]).toEqual([1, 1]);
  });

  it('is pinned: these exact values are part of the file format (changing them changes every file)', () => {
    const r = createRng(0, 'conv1.weight');
    const first = [r.nextU32(), r.nextU32(), r.nextU32()];
    expect(first).toMatchInlineSnapshot(`
      [
        1859696004,
        4090387013,
        3489984878,
      ]
    `);
  });

  it('rejects bad seeds', () => {
    expect(() => createRng(-1, 'x')).toThrow(RangeError);
    expect(() => createRng(1.5, 'x')).toThrow(RangeError);
  });
});
