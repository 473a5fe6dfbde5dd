// The fast softmax over the last axis and its gradient against tfjs's stock
// kernels (softmax as max/sub/exp/sum/div, its gradient as mul/sum/mul/sub):
// within 1e-6 relative to the largest magnitude, on attention-shaped tensors.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installFastKernels, uninstallFastKernels } from '../../src/kernels/index.js';
import { runtime } from '../../src/kernels/runtime/index.js';
import { randomStream } from './random.js';
import { skipping } from '../skip.js';

const { randT } = randomStream(777);

function softmaxAndGrad(x: tf.Tensor, dy: tf.Tensor): [Float32Array, Float32Array] {
  const f = (t: tf.Tensor): tf.Tensor => tf.softmax(t);
  const y = f(x).dataSync() as Float32Array;
  const dx = tf.grad(f)(x, dy).dataSync() as Float32Array;
  return [y, dx];
}

function rel(got: Float32Array, want: Float32Array): number {
  let maxAbs = 0, maxErr = 0;
  for (let i = 0; i < want.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(want[i]!));
    maxErr = Math.max(maxErr, Math.abs(got[i]! - want[i]!));
  }
  return maxErr / Math.max(maxAbs, 1e-12);
}

describe.skipIf(skipping('softmax fast = stock', runtime() === null && 'the WebAssembly kernels could not start in this process'))('softmax over the last axis: fast = stock', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  afterAll(() => uninstallFastKernels(tf as never));

  // rows of 50 (attention), 7 and 5 (a partial last vector), 4 (one vector), 1 and 3 (the JS loop), 129
  for (const shape of [[2, 4, 50, 50], [3, 7], [5, 1], [2, 3, 129], [6, 4], [4, 5], [2, 3]]) {
    it(`[${shape.join(', ')}]`, async () => {
      const x = tf.mul(randT(shape), 6);
      const dy = randT(shape);
      uninstallFastKernels(tf as never);
      const [ys, gs] = softmaxAndGrad(x, dy);
      installFastKernels(tf as never);
      expect(tf.getKernel('Softmax', 'cpu')).toBeDefined();
      const [yf, gf] = softmaxAndGrad(x, dy);
      expect(rel(yf, ys)).toBeLessThanOrEqual(1e-6);
      expect(rel(gf, gs)).toBeLessThanOrEqual(1e-6);
      // the fast gradient ran: one kernel of alexnetc's, not stock mul/sum/sub
      const info = await tf.profile(() => tf.grad((t: tf.Tensor) => tf.softmax(t))(x, dy));
      expect(info.kernelNames).toContain('AlexnetcSoftmaxGrad');
    });
  }
});
