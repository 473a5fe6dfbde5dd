// Middle-axis broadcasts (the SE gate's [N, 1, 1, C], stochastic depth's
// [N, 1, 1, 1], layer norm's [N, T, 1]) in Add, Sub, Multiply and RealDiv,
// and Sum over middle axes, against the stock kernels on odd sizes: the
// binary results bit-identical (one float32 operation per element), the sums
// within 1e-6 (doubles in another order).
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installFastKernels, stockKernel, uninstallFastKernels } from '../../src/kernels/index.js';
import { middleBroadcast } from '../../src/kernels/broadcast.js';
import { randomStream } from './random.js';

const { randT } = randomStream(5);

beforeAll(async () => {
  await tf.setBackend('cpu');
  installFastKernels(tf);
});
afterAll(() => uninstallFastKernels(tf));

const stock = (name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown> = {}) => {
  const info = stockKernel(tf, name)!({ inputs, attrs: attrs as tf.NamedAttrMap, backend: tf.backend() }) as tf.TensorInfo;
  return { shape: info.shape, values: tf.backend().readSync(info.dataId) as Float32Array };
};

describe('middleBroadcast', () => {
  it('finds [outer, mid, inner] or refuses', () => {
    expect(middleBroadcast([3, 1, 1, 8], [3, 5, 4, 8])).toEqual([3, 20, 8]);
    expect(middleBroadcast([2, 7, 1], [2, 7, 5])).toEqual([14, 5, 1]);
    expect(middleBroadcast([4, 1, 1, 1], [4, 3, 5, 7])).toEqual([4, 105, 1]);
    expect(middleBroadcast([1, 5, 1], [3, 5, 4])).toBeNull(); // two broadcast runs
    expect(middleBroadcast([3, 5, 4], [3, 5, 4])).toBeNull(); // no broadcast
  });
});

const pairs: Array<[number[], number[]]> = [
  [[3, 5, 4, 8], [3, 1, 1, 8]], // the gate, whole vectors
  [[3, 5, 4, 6], [3, 1, 1, 6]], // a width not a multiple of 4
  [[2, 7, 5], [2, 7, 1]], // row statistics, a ragged row
  [[2, 7, 9], [2, 7, 1]],
  [[4, 1, 1, 1], [4, 3, 5, 7]], // the small operand first
  [[2, 3, 1, 5], [2, 3, 4, 5]],
];
describe.each(['Add', 'Sub', 'Multiply', 'RealDiv'])('%s with a middle broadcast', (name) => {
  it.each(pairs)('is bit-identical to stock: %j with %j', (as, bs) => {
    const a = randT(as), b = randT(bs);
    const fast = tf.engine().runKernel(name, { a, b }) as tf.Tensor;
    const want = stock(name, { a, b });
    expect(fast.shape).toEqual(want.shape);
    expect(Array.from(fast.dataSync())).toEqual(Array.from(want.values));
  });
});

describe('Sum over middle axes', () => {
  const cases: Array<[number[], number[], boolean]> = [
    [[3, 5, 4, 8], [1, 2], false], // the gate's gradient
    [[3, 5, 4, 6], [1, 2], true],
    [[6, 9], [1], true], // row sums, an odd row
    [[2, 3, 5, 7], [1, 2, 3], false], // a per-example sum
    [[3, 4, 5], [1], false], // odd inner: the stock kernel
    [[4, 6, 10], [-1], true],
  ];
  it.each(cases)('matches stock: %j over %j keepDims %s', (shape, axis, keepDims) => {
    const x = randT(shape);
    const fast = tf.engine().runKernel('Sum', { x }, { axis, keepDims } as never) as tf.Tensor;
    const want = stock('Sum', { x }, { axis, keepDims });
    expect(fast.shape).toEqual(want.shape);
    const got = fast.dataSync();
    for (let i = 0; i < got.length; i++) expect(Math.abs(got[i]! - want.values[i]!)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(want.values[i]!)));
  });
  it('gives the gate its gradient (Multiply then Sum over H, W)', () => {
    const x = randT([2, 5, 3, 8]), s = randT([2, 1, 1, 8]), dy = randT([2, 5, 3, 8]);
    const f = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.mul(a, b), dy));
    const [gx, gs] = tf.grads(f)([x, s]).map((g) => g.dataSync());
    uninstallFastKernels(tf);
    const [wx, ws] = tf.grads(f)([x, s]).map((g) => g.dataSync());
    installFastKernels(tf);
    expect(Array.from(gx!)).toEqual(Array.from(wx!));
    for (let i = 0; i < ws!.length; i++) expect(Math.abs(gs![i]! - ws![i]!)).toBeLessThanOrEqual(1e-6);
  });
});
