// Matching stored tensors to a network's weights by name and shape. One
// report per network weight — loaded, shape-differs or missing — rather than
// an exception at the first problem: `compile --weights` refuses any
// mismatch (naming the first layer at fault and both shapes), while
// fine-tuning (`train --init`) loads what fits and reports the rest.
import { layers, type Network } from '../check/ir.js';
import type { WeightSpec } from '../layers/types.js';
import type { WeightSource } from '../emit/onnx/index.js';
import { WeightsError } from './index.js';

/** One tensor a weights file holds. */
export interface StoredTensor {
  name: string;
  shape: number[];
  /** float32, float16, float64 (read as float32), int64, … */
  dtype: string;
}

/** A weights file opened for reading: what it holds, and each tensor's values on demand. */
export interface NamedTensors {
  /** for messages: `the ONNX file model.onnx` */
  where: string;
  tensors: StoredTensor[];
  /** the values of a float tensor as float32, in its stored layout */
  read(name: string): Float32Array;
}

export type WeightStatus = 'loaded' | 'shape-differs' | 'missing';

export interface WeightMatch {
  /** the layer's stage path, e.g. `stage2/conv1` */
  path: string;
  /** the weight's local name (`weight`, `running_mean`) */
  weight: string;
  /** the stored name looked for: `stage2/conv1.weight` */
  key: string;
  expected: number[];
  status: WeightStatus;
  /** the stored tensor's shape, when there is one under that name */
  actual?: number[];
  /** the stored tensor's element type, when there is one under that name */
  dtype?: string;
}

export interface MatchReport {
  /** per network weight, in the network's order */
  entries: WeightMatch[];
  /** stored float tensors that no network weight uses */
  extra: StoredTensor[];
}

const FLOATS = new Set(['float32', 'float16', 'float64']);
export const formatDims = (s: readonly number[]): string => `[${s.join(', ')}]`;

/** The network's weights in order, with their stored names (`PATH.NAME`). */
export function networkWeights(network: Network): { path: string; spec: WeightSpec; key: string }[] {
  const out: { path: string; spec: WeightSpec; key: string }[] = [];
  for (const n of layers(network.body)) for (const spec of n.weights) out.push({ path: n.path, spec, key: `${n.path}.${spec.name}` });
  return out;
}

/** Match every weight of `network` against the stored tensors, by name, then shape and type. Never throws. */
export function matchWeights(source: Pick<NamedTensors, 'tensors'>, network: Network): MatchReport {
  const byName = new Map(source.tensors.map((t) => [t.name, t]));
  const used = new Set<string>();
  const entries = networkWeights(network).map(({ path, spec, key }): WeightMatch => {
    const base = { path, weight: spec.name, key, expected: [...spec.shape] };
    const t = byName.get(key);
    if (!t) return { ...base, status: 'missing' };
    used.add(key);
    const same = t.shape.length === spec.shape.length && t.shape.every((d, i) => d === spec.shape[i]);
    return { ...base, status: same && FLOATS.has(t.dtype) ? 'loaded' : 'shape-differs', actual: [...t.shape], dtype: t.dtype };
  });
  const extra = source.tensors.filter((t) => !used.has(t.name) && FLOATS.has(t.dtype));
  return { entries, extra };
}

/** Why `report` is not a perfect fit, naming the first layer at fault and both shapes; undefined when it fits. */
export function describeMismatch(report: MatchReport, where: string, stored: readonly StoredTensor[]): string | undefined {
  const bad = report.entries.findIndex((e) => e.status !== 'loaded');
  if (bad >= 0) {
    const e = report.entries[bad]!;
    const head = `layer ${e.path}: the network expects ${e.key} with shape ${formatDims(e.expected)}, ${where}`;
    if (e.status === 'shape-differs') {
      return FLOATS.has(e.dtype ?? '') ? `${head} has shape ${formatDims(e.actual!)}` : `${head} stores it as ${e.dtype}, expected float32`;
    }
    // another architecture or naming: show what the file has in this weight's place
    const floats = stored.filter((t) => FLOATS.has(t.dtype));
    const other = floats[bad];
    return `${head} has no such weight (${other ? `in its place: ${other.name} with shape ${formatDims(other.shape)}` : `it has only ${floats.length} weights, the network ${report.entries.length}`})`;
  }
  if (report.extra.length > 0) {
    const x = report.extra[0]!;
    return `${where} has more weights than the network (${report.entries.length + report.extra.length} vs ${report.entries.length}): the first extra one is ${x.name} with shape ${formatDims(x.shape)}`;
  }
  return undefined;
}

/** The first value that is NaN or ±Inf, as a message; undefined when all are finite. */
export function nonFinite(values: Float32Array, name: string, where: string): string | undefined {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) return `${where}: ${name} holds ${v} at index ${i}; refusing weights that are not finite numbers`;
  }
  return undefined;
}

/**
 * The stored tensors as the weights of `network`, refusing any mismatch
 * (WeightsError naming the first layer at fault and both shapes) before a
 * value is read; values that are NaN or infinite are refused when read.
 */
export function strictWeights(source: NamedTensors, network: Network): WeightSource {
  const report = matchWeights(source, network);
  const why = describeMismatch(report, source.where, source.tensors);
  if (why) throw new WeightsError(why);
  return {
    get(p, spec) {
      const key = `${p}.${spec.name}`;
      const values = source.read(key);
      const bad = nonFinite(values, key, source.where);
      if (bad) throw new WeightsError(bad);
      return values;
    },
  };
}
