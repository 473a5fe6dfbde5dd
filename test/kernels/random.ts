// The kernel tests' inputs: a seeded linear congruential stream of floats in
// [-1, 1), one stream per test file, re-seeded where a test needs the same
// inputs again.
import * as tf from '@tensorflow/tfjs';

export interface RandomStream {
  /** n floats in [-1, 1) */
  rand(n: number): Float32Array;
  /** a float32 tensor of the shape, filled from the stream */
  randT(shape: number[]): tf.Tensor;
  /** start the stream again from `seed` */
  reseed(seed: number): void;
}

export function randomStream(seed: number): RandomStream {
  let s = seed;
  const rand = (n: number): Float32Array => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      s = (s * 1103515245 + 12345) >>> 0;
      a[i] = s / 2 ** 31 - 1;
    }
    return a;
  };
  return {
    rand,
    randT: (shape) => tf.tensor(rand(shape.reduce((p, d) => p * d, 1)), shape),
    reseed: (to) => { s = to; },
  };
}
