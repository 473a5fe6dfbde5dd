// Conformance plumbing: one network, one set of seeded weights, run in tfjs
// (pure-JS cpu backend) and in onnxruntime-node; how far apart are they?
import * as tf from '@tensorflow/tfjs';
import type { Network } from '../../src/check/ir.js';
import { toOnnxBytes, type WeightSource } from '../../src/emit/onnx/index.js';
import { toTfjs } from '../../src/emit/tfjs/index.js';
import type { LayersModel } from '../../src/emit/tfjs/tf.js';
import { randomInput, runOrt } from '../onnx/helpers.js';

export { tf };

let ready: Promise<boolean> | undefined;
/** Pure tfjs on its JS cpu backend, as the issue asks the conformance tests to use. */
export function cpu(): Promise<boolean> {
  ready ??= tf.setBackend('cpu');
  return ready;
}

const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/** NCHW (or any channels-first) → channels-last: [N, C, ...] → [N, ..., C]. */
export function toChannelsLast(x: tf.Tensor): tf.Tensor {
  const r = x.rank;
  return r <= 2 ? x : tf.transpose(x, [0, ...Array.from({ length: r - 2 }, (_, i) => i + 2), 1]);
}

export function toChannelsFirst(x: tf.Tensor): tf.Tensor {
  const r = x.rank;
  return r <= 2 ? x : tf.transpose(x, [0, r - 1, ...Array.from({ length: r - 2 }, (_, i) => i + 1)]);
}

/** Run a tfjs model on a channels-first input; returns channels-first values. */
export function runTfjs(model: LayersModel, input: Float32Array, dims: number[]): Float32Array {
  return tf.tidy(() => {
    const x = toChannelsLast(tf.tensor(input, dims));
    const y = model.predict(x) as tf.Tensor;
    return toChannelsFirst(y).dataSync() as Float32Array;
  });
}

/** max |a − b| / max |b|: the error relative to the output's scale (elementwise ratios explode near zero). */
export function relDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  if (Number.isNaN(diff)) return Number.NaN;
  return scale === 0 ? diff : diff / scale;
}

export interface Conformance {
  rel: number;
  scale: number;
  tfjs: Float32Array;
  onnx: Float32Array;
}

/** Build both models from one set of weights (seeded unless given), run both on one random input, compare. */
export async function conform(net: Network, opts: { seed?: number; weights?: WeightSource; model?: LayersModel; batch?: number } = {}): Promise<Conformance> {
  await cpu();
  const seed = opts.seed ?? 7;
  const dims = [opts.batch ?? 1, ...net.input];
  const input = randomInput(size(dims), seed + 11);
  const onnx = (await runOrt(toOnnxBytes(net, { seed, weights: opts.weights }), input, dims)).data;
  const model = opts.model ?? toTfjs(tf, net, { seed, weights: opts.weights });
  try {
    const out = runTfjs(model, input, dims);
    let scale = 0;
    for (const v of onnx) scale = Math.max(scale, Math.abs(v));
    return { rel: relDiff(out, onnx), scale, tfjs: out, onnx };
  } finally {
    if (!opts.model) model.dispose();
  }
}
