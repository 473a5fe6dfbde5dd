// The fused layer norm and GELU kernels and their gradients against the
// compositions of stock tfjs ops they replace (run on the stock kernels), on
// odd sizes; and the tfjs layers calling them.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installFastKernels, uninstallFastKernels } from '../../src/kernels/index.js';
import { randomStream } from './random.js';

const { randT } = randomStream(17);

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-5): void {
  expect(got.length).toBe(want.length);
  let maxAbs = 0, maxErr = 0;
  for (let i = 0; i < want.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(want[i]!));
    maxErr = Math.max(maxErr, Math.abs(got[i]! - want[i]!));
  }
  expect(maxErr / Math.max(maxAbs, 1e-12)).toBeLessThanOrEqual(tol);
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  installFastKernels(tf);
});
afterAll(() => uninstallFastKernels(tf));

/** f's value and gradients with the fast kernels, then on the stock kernels. */
function both(f: () => tf.Tensor[]): [Float32Array[], Float32Array[]] {
  const fast = f().map((t) => t.dataSync() as Float32Array);
  uninstallFastKernels(tf);
  try {
    return [fast, f().map((t) => t.dataSync() as Float32Array)];
  } finally {
    installFastKernels(tf);
  }
}

describe.each([[[3, 7, 13]], [[2, 5, 64]], [[11, 6]], [[2, 3, 4, 9]], [[4, 25, 197]]])('layer norm over the last axis of %j', (shape) => {
  it('forward and the gradients of x, gamma and beta match the stock composition', () => {
    const D = shape[shape.length - 1]!;
    const x = randT(shape).mul(3).add(0.5), gamma = randT([D]), beta = randT([D]), dy = randT(shape);
    const eps = 1e-6;
    const fused = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      if (tf.getKernel('AlexnetcLayerNorm', 'cpu') !== undefined) {
        return (tf.engine().runKernel('AlexnetcLayerNorm', { x: a, gamma: g, beta: b } as never, { epsilon: eps } as never) as tf.Tensor[])[0]!;
      }
      const { mean, variance } = tf.moments(a, -1, true);
      return tf.add(tf.mul(tf.mul(tf.sub(a, mean), tf.rsqrt(tf.add(variance, eps))), g), b);
    };
    const [got, want] = both(() => {
      const y = fused(x, gamma, beta);
      const grads = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(fused(a, g, b), dy)))([x, gamma, beta]);
      return [y, ...grads];
    });
    expect(tf.getKernel('AlexnetcLayerNorm', 'cpu')).toBeDefined();
    for (let i = 0; i < 4; i++) expectClose(got[i]!, want[i]!, 1e-5);
  });
});

describe('GELU', () => {
  it('forward and gradient match the stock erf composition', () => {
    const x = randT([7, 333]).mul(4);
    const dy = randT([7, 333]);
    const gelu = (a: tf.Tensor) => (tf.getKernel('AlexnetcGelu', 'cpu') !== undefined
      ? tf.engine().runKernel('AlexnetcGelu', { x: a } as never) as tf.Tensor
      : tf.mul(tf.mul(a, 0.5), tf.add(tf.erf(tf.div(a, Math.SQRT2)), 1)));
    const [got, want] = both(() => [gelu(x), tf.grad((a: tf.Tensor) => tf.sum(tf.mul(gelu(a), dy)))(x)]);
    expectClose(got[0]!, want[0]!, 1e-6);
    expectClose(got[1]!, want[1]!, 1e-6);
  });
});
