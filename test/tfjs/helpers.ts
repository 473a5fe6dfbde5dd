// Conformance plumbing: one network, one set of seeded weights, run in tfjs
// (pure-JS cpu backend) and in onnxruntime-node; how far apart are they?
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { compile } from '../../src/compile.js';
import type { Network } from '../../src/check/ir.js';
import { toOnnxBytes, type WeightSource } from '../../src/emit/onnx/index.js';
import { toTfjs } from '../../src/emit/tfjs/index.js';
import type { LayersModel } from '../../src/emit/tfjs/tf.js';
import { createRng } from '../../src/util/rng.js';
import { randomInput, runOrt } from '../onnx/helpers.js';

export { tf };

let ready: Promise<boolean> | undefined;
/** Pure tfjs on its JS cpu backend, as the issue asks the conformance tests to use. */
export function cpu(): Promise<boolean> {
  ready ??= tf.setBackend('cpu');
  return ready;
}

const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/** NCHW → channels-last: [N, C, H, W] → [N, H, W, C]; vectors and tokens [N, T, D] are the same in both. */
export function toChannelsLast(x: tf.Tensor): tf.Tensor {
  const r = x.rank;
  return r !== 4 ? x : tf.transpose(x, [0, ...Array.from({ length: r - 2 }, (_, i) => i + 2), 1]);
}

export function toChannelsFirst(x: tf.Tensor): tf.Tensor {
  const r = x.rank;
  return r !== 4 ? x : tf.transpose(x, [0, r - 1, ...Array.from({ length: r - 2 }, (_, i) => i + 1)]);
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

/**
 * Random values for every weight, biases and batch-norm statistics included
 * (the default init leaves those at 0 and 1, which would hide a swapped mean
 * and variance). Deterministic per (seed, weight).
 */
export function randomWeights(seed = 5): WeightSource {
  return {
    get(path, spec) {
      const rng = createRng(seed, `${path}.${spec.name}`);
      const out = new Float32Array(size(spec.shape));
      const u = (): number => 2 * rng.next() - 1;
      const limit = spec.init.kind === 'he_uniform' ? Math.sqrt(6 / spec.init.fanIn) : 0;
      for (let i = 0; i < out.length; i++) {
        if (spec.name === 'running_var') out[i] = 0.5 + rng.next();
        else if (spec.init.kind === 'ones') out[i] = 1 + 0.3 * u();
        else if (spec.init.kind === 'zeros' || spec.init.kind === 'normal') out[i] = 0.2 * u();
        // PReLU's slopes, layer scale's factors: values of either sign, so each element is checked
        else if (spec.init.kind === 'constant') out[i] = u();
        else out[i] = limit * u();
      }
      return out;
    },
  };
}

/** Check one `.net` source; throws with the diagnostics if it does not check. */
export function net(source: string, network?: string): Network {
  const r = compile(source, { network });
  if (!r.network) throw new Error(`does not check:\n${r.diagnostics.map((d) => `${d.code} ${d.message}`).join('\n')}\n${source}`);
  return r.network;
}

/** A shipped spec by file and network name. */
export function spec(file: string, network: string): Network {
  return net(fs.readFileSync(path.join(SPECS, `${file}.net`), 'utf8'), network);
}

const SPECS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../specs');

/** The network without its final softmax, or undefined if it has none. */
export function logits(n: Network): Network | undefined {
  const last = n.body[n.body.length - 1];
  if (last?.kind !== 'layer' || last.layer.name !== 'softmax') return undefined;
  return { ...n, name: `${n.name}Logits`, body: n.body.slice(0, -1) };
}

/**
 * Conformance of one shipped network at its real input size, batch 1, random
 * weights; also its logits when it ends in softmax (a saturated softmax could
 * hide an error). Appends a result line; returns the worst relative difference.
 */
export async function checkShipped(file: string, name: string, results: string[]): Promise<number> {
  const n = spec(file, name);
  const t = Date.now();
  const r = await conform(n, { weights: randomWeights(1) });
  let line = `${name}: max rel diff ${r.rel.toExponential(2)} (output scale ${r.scale.toPrecision(3)})`;
  let worst = r.rel;
  const l = logits(n);
  if (l) {
    const rl = await conform(l, { weights: randomWeights(1) });
    line += `, logits ${rl.rel.toExponential(2)} (scale ${rl.scale.toPrecision(3)})`;
    worst = Math.max(worst, rl.rel);
  }
  results.push(`${line}, ${Date.now() - t} ms`);
  return worst;
}
