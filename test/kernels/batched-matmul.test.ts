// BatchMatMul of many small products (attention's Q·Kᵀ, weights·V and their
// gradients: every combination of transposes) against the stock kernel, on
// odd sizes; within 1e-5 of the largest magnitude.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installFastKernels, stockKernel, uninstallFastKernels } from '../../src/kernels/index.js';
import { isSmallBatch } from '../../src/kernels/batched-matmul.js';
import { randomStream } from './random.js';

const { randT } = randomStream(31);

beforeAll(async () => {
  await tf.setBackend('cpu');
  installFastKernels(tf);
});
afterAll(() => uninstallFastKernels(tf));

describe('BatchMatMul of small products', () => {
  const cases: Array<{ lead: number[]; M: number; N: number; K: number }> = [
    { lead: [2, 4], M: 50, N: 50, K: 16 }, // Q·Kᵀ of a small ViT
    { lead: [2, 4], M: 50, N: 16, K: 50 }, // weights·V
    { lead: [9], M: 13, N: 7, K: 5 }, // a ragged row of C
    { lead: [3, 3], M: 3, N: 2, K: 11 },
    { lead: [8], M: 1, N: 9, K: 1 },
  ];
  describe.each(cases)('$lead × [$M, $K]·[$K, $N]', ({ lead, M, N, K }) => {
    it('is a small batch', () => expect(isSmallBatch(lead.reduce((p, d) => p * d, 1), M, N, K)).toBe(true));
    it.each([[false, false], [false, true], [true, false], [true, true]])('transposeA %s transposeB %s matches stock', (ta, tb) => {
      const a = randT([...lead, ...(ta ? [K, M] : [M, K])]), b = randT([...lead, ...(tb ? [N, K] : [K, N])]);
      const attrs = { transposeA: ta, transposeB: tb };
      const fast = tf.engine().runKernel('BatchMatMul', { a, b }, attrs as never) as tf.Tensor;
      const info = stockKernel(tf, 'BatchMatMul')!({ inputs: { a, b }, attrs: attrs as never, backend: tf.backend() }) as tf.TensorInfo;
      expect(fast.shape).toEqual(info.shape);
      const got = fast.dataSync(), want = tf.backend().readSync(info.dataId) as Float32Array;
      let maxAbs = 0, maxErr = 0;
      for (let i = 0; i < want.length; i++) { maxAbs = Math.max(maxAbs, Math.abs(want[i]!)); maxErr = Math.max(maxErr, Math.abs(got[i]! - want[i]!)); }
      expect(maxErr / Math.max(maxAbs, 1e-12)).toBeLessThanOrEqual(1e-5);
    });
  });
  it('leaves large products and small batches to the GEMM', () => {
    expect(isSmallBatch(2, 50, 50, 16)).toBe(false);
    expect(isSmallBatch(64, 196, 384, 96)).toBe(false);
  });
});
