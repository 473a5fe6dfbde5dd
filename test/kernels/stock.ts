// What the kernel conformance tests compare against: tfjs's stock kernel run
// directly (with the fast kernels installed over it), and closeness relative
// to the largest magnitude (near-zero entries are sums that cancel).
import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import { stockKernel } from '../../src/kernels/index.js';

/** `got` equals `want` within 1e-5 of the largest |want|. */
export function expectClose(got: Float32Array, want: Float32Array): void {
  expect(got.length).toBe(want.length);
  let maxAbs = 0, maxErr = 0;
  for (let i = 0; i < want.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(want[i]!));
    maxErr = Math.max(maxErr, Math.abs(got[i]! - want[i]!));
  }
  expect(maxErr / Math.max(maxAbs, 1e-12)).toBeLessThanOrEqual(1e-5);
}

/** tfjs's stock kernel `name` on these inputs and attributes: its output's values. */
export const stock = (name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown>): Float32Array => {
  const info = stockKernel(tf, name)!({ inputs, attrs: attrs as tf.NamedAttrMap, backend: tf.backend() }) as tf.TensorInfo;
  return tf.backend().readSync(info.dataId) as Float32Array;
};
