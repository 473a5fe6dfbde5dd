// Transpose for every permutation (attention's head splits and joins,
// permutations that move the last axis, size-1 axes), against the stock
// kernel: copies, so bit-identical.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installFastKernels, stockKernel, uninstallFastKernels } from '../../src/kernels/index.js';
import { simplify } from '../../src/kernels/permute.js';
import { randomStream } from './random.js';

const { randT } = randomStream(21);

beforeAll(async () => {
  await tf.setBackend('cpu');
  installFastKernels(tf);
});
afterAll(() => uninstallFastKernels(tf));

describe('simplify', () => {
  it('drops size-1 axes and merges runs that stay adjacent', () => {
    expect(simplify([5, 7, 3, 4, 16], [2, 0, 3, 1, 4])).toEqual({ shape: [5, 7, 3, 4, 16], perm: [2, 0, 3, 1, 4] });
    expect(simplify([4, 5, 6, 7], [2, 3, 0, 1])).toEqual({ shape: [20, 42], perm: [1, 0] });
    expect(simplify([2, 1, 3, 4], [0, 2, 1, 3])).toEqual({ shape: [24], perm: [0] });
    expect(simplify([2, 3, 4], [2, 1, 0])).toEqual({ shape: [2, 3, 4], perm: [2, 1, 0] });
  });
});

describe('Transpose', () => {
  const cases: Array<[number[], number[]]> = [
    [[3, 5, 3, 2, 7], [2, 0, 3, 1, 4]], // attention's q, k, v split
    [[3, 2, 5, 7], [0, 2, 1, 3]], // heads joined again
    [[2, 3, 5, 7], [3, 1, 0, 2]], // the last axis moves: strided runs
    [[4, 1, 3, 5], [2, 0, 3, 1]],
    [[2, 3, 1, 2, 3, 5], [4, 2, 0, 5, 3, 1]],
    [[5, 6, 7], [1, 0, 2]],
    [[3, 4], [1, 0]], // a 2-D transpose: the wasm kernel
    [[2, 3, 4], [0, 2, 1]],
    [[37, 13], [0, 1]], // the identity (tfjs-layers' Dense on a kernel): a copy
    [[3, 1, 5], [1, 0, 2]], // the identity once size-1 axes are dropped
  ];
  it.each(cases)('of %j by %j is bit-identical to stock', (shape, perm) => {
    const x = randT(shape);
    const fast = tf.engine().runKernel('Transpose', { x }, { perm } as never) as tf.Tensor;
    const info = stockKernel(tf, 'Transpose')!({ inputs: { x }, attrs: { perm } as never, backend: tf.backend() }) as tf.TensorInfo;
    expect(fast.shape).toEqual(info.shape);
    expect(Array.from(fast.dataSync())).toEqual(Array.from(tf.backend().readSync(info.dataId) as Float32Array));
  });
});
