// Structured pruning: whole filters (conv) and units (dense) with the
// smallest L2 norm go, the same fraction S in every layer that may shrink
// (channels.ts says which), so the network gets narrower rather than sparse
// and the result runs faster on any runtime. Every layer downstream loses the
// matching inputs: the next conv's input channels (within each group), the
// dense columns of a flattened channel's H·W features, batch norm's
// statistics, the offsets after a concat, a depthwise conv's groups. The conv
// that makes a gate's channels (squeeze-and-excitation) is not selected by its
// own norms: it keeps the outputs whose gated channels stay.
import { layers, type LayerNode, type Network } from '../check/ir.js';
import type { WeightSource } from '../emit/onnx/index.js';
import type { WeightSpec } from '../layers/types.js';
import { channelFlow, type ChannelFlow, type ChannelRef } from './channels.js';

export interface LayerWidth {
  path: string;
  layer: string;
  before: number;
  after: number;
  /** why it kept every output, when it had to */
  kept?: string;
  /** why its outputs follow other channels (a gate's conv), when they do */
  follows?: string;
}

export interface FilterSelection {
  flow: ChannelFlow;
  /** producer index → its kept outputs, ascending (every producer has an entry) */
  kept: Map<number, Int32Array>;
  widths: LayerWidth[];
}

/** L2 norm of each output (a conv filter [C/g, kh, kw], a dense row [in]). */
export function outputNorms(values: Float32Array, outputs: number): Float64Array {
  const per = values.length / outputs;
  const norms = new Float64Array(outputs);
  for (let o = 0; o < outputs; o++) {
    let s = 0;
    for (let i = o * per; i < (o + 1) * per; i++) s += values[i]! * values[i]!;
    norms[o] = Math.sqrt(s);
  }
  return norms;
}

/**
 * Keep round((1 − S) · n) outputs of every layer that may shrink (at least
 * one per chunk, the same number in each chunk), the ones with the largest
 * norms, in their original order. Ties go to the earlier output.
 */
export function selectFilters(network: Network, weights: WeightSource, sparsity: number): FilterSelection {
  const flow = channelFlow(network);
  const kept = new Map<number, Int32Array>();
  const widths: LayerWidth[] = [];
  flow.producers.forEach((p, id) => {
    if (p.follows) return;
    const all = Int32Array.from({ length: p.width }, (_, i) => i);
    if (p.kept !== undefined || sparsity === 0) {
      kept.set(id, all);
      return;
    }
    const spec = p.node.weights.find((w) => w.name === 'weight')!;
    const norms = outputNorms(weights.get(p.node.path, spec), p.width);
    const size = p.width / p.chunks;
    const keepPer = Math.max(1, Math.round((1 - sparsity) * size));
    const chosen: number[] = [];
    for (let c = 0; c < p.chunks; c++) {
      const idx = Array.from({ length: size }, (_, i) => c * size + i);
      idx.sort((a, b) => norms[b]! - norms[a]! || a - b);
      chosen.push(...idx.slice(0, keepPer));
    }
    chosen.sort((a, b) => a - b);
    kept.set(id, Int32Array.from(chosen));
  });
  // a gate's conv: output c stays when the channel it multiplies stays (those were all chosen above)
  const alive = aliveOutputs(kept, flow);
  flow.producers.forEach((p, id) => {
    if (p.follows) kept.set(id, keptInputs(alive, p.follows.refs));
  });
  flow.producers.forEach((p, id) => {
    const after = kept.get(id)!.length;
    widths.push({
      path: p.node.path,
      layer: p.node.layer.name,
      before: p.width,
      after,
      ...(p.kept !== undefined ? { kept: p.kept } : {}),
      ...(p.follows ? { follows: p.follows.why } : {}),
    });
  });
  return { flow, kept, widths };
}

/**
 * The new width of every conv/dense node of the old network, and of every
 * layer whose width arguments follow its input (a depthwise conv).
 */
export function newWidths(sel: FilterSelection): Map<LayerNode, number> {
  const widths = new Map(sel.flow.producers.map((p, id) => [p.node, sel.kept.get(id)!.length]));
  const alive = aliveOutputs(sel.kept, sel.flow);
  for (const [n, refs] of sel.flow.inputs) {
    const rule = n.layer.channels(n.args, n.inShape, n.outShape);
    if (rule.kind === 'each' && rule.width?.length) widths.set(n, keptInputs(alive, refs).length);
  }
  return widths;
}

/** Per producer, 1 for each output that stays (producers not yet chosen are left out). */
function aliveOutputs(kept: ReadonlyMap<number, Int32Array>, flow: ChannelFlow): Map<number, Uint8Array> {
  const alive = new Map<number, Uint8Array>();
  for (const [id, k] of kept) {
    const m = new Uint8Array(flow.producers[id]!.width);
    for (const c of k) m[c] = 1;
    alive.set(id, m);
  }
  return alive;
}

/** Which of a layer's input channels (features) survive. */
function keptInputs(alive: ReadonlyMap<number, Uint8Array>, refs: readonly ChannelRef[]): Int32Array {
  const out: number[] = [];
  refs.forEach((r, i) => {
    if (r.producer < 0 || alive.get(r.producer)![r.channel]) out.push(i);
  });
  return Int32Array.from(out);
}

/**
 * The weights of the narrower network, cut from the old ones: `next` must be
 * the old network with the new widths (same layers in the same order). Each
 * tensor is sliced when the writer asks for it.
 */
export function slicedWeights(old: Network, next: Network, sel: FilterSelection, weights: WeightSource): WeightSource {
  const oldLayers = [...layers(old.body)];
  const newLayers = [...layers(next.body)];
  if (oldLayers.length !== newLayers.length) throw new Error(`internal: the narrowed network has ${newLayers.length} layers, the original ${oldLayers.length}`);
  const alive = aliveOutputs(sel.kept, sel.flow);
  const byPath = new Map<string, { from: LayerNode; to: LayerNode }>();
  newLayers.forEach((to, i) => {
    const from = oldLayers[i]!;
    if (from.layer.name !== to.layer.name) throw new Error(`internal: layer ${i} is ${to.layer.name} in the narrowed network, ${from.layer.name} in the original`);
    byPath.set(to.path, { from, to });
  });
  return {
    get(path, spec) {
      const pair = byPath.get(path);
      if (!pair) throw new Error(`internal: no layer ${path} in the narrowed network`);
      const { from, to } = pair;
      const oldSpec = from.weights.find((w) => w.name === spec.name)!;
      const values = weights.get(from.path, oldSpec);
      const id = sel.flow.producerOf.get(from);
      const outKeep = id === undefined ? undefined : sel.kept.get(id)!;
      const inKeep = keptInputs(alive, sel.flow.inputs.get(from)!);
      const out = slice(from, to, oldSpec, spec, values, outKeep, inKeep);
      if (out.length !== spec.shape.reduce((a, b) => a * b, 1)) throw new Error(`internal: ${path}.${spec.name} sliced to ${out.length} values for [${spec.shape.join(', ')}]`);
      return out;
    },
  };
}

/** Rows `keep` of a tensor along its first axis. */
function rows(v: Float32Array, shape: readonly number[], keep: Int32Array): Float32Array {
  const per = shape.slice(1).reduce((a, b) => a * b, 1);
  const out = new Float32Array(keep.length * per);
  keep.forEach((r, i) => out.set(v.subarray(r * per, (r + 1) * per), i * per));
  return out;
}

/** A weight of the narrower network, by the layer's channel rule (LayerDef.channels). */
function slice(from: LayerNode, to: LayerNode, oldSpec: WeightSpec, spec: WeightSpec, v: Float32Array, outKeep: Int32Array | undefined, inKeep: Int32Array): Float32Array {
  const rule = from.layer.channels(from.args, from.inShape, from.outShape);
  switch (rule.kind) {
    case 'each':
      // every weight's first axis is the channel (batch norm's statistics, a depthwise kernel)
      return rows(v, oldSpec.shape, inKeep);
    case 'new': {
      if (!rule.inputs.includes(spec.name)) return rows(v, oldSpec.shape, outKeep!);
      // [outputs, inputs within the group, …]: per group, the kept input channels as offsets inside the group's chunk
      const [F, Cg] = oldSpec.shape as [number, number];
      const g = rule.groups;
      const [F2, Cg2] = spec.shape as [number, number];
      const plane = oldSpec.shape.slice(2).reduce((a, b) => a * b, 1);
      const local: number[][] = Array.from({ length: g }, () => []);
      for (const c of inKeep) local[Math.floor(c / Cg)]!.push(c % Cg);
      if (local.some((l) => l.length !== Cg2)) throw new Error(`internal: ${to.path}: the kept input channels are not the same number in every group`);
      const out = new Float32Array(F2 * Cg2 * plane);
      outKeep!.forEach((f, f2) => {
        const group = Math.floor(f / (F / g));
        local[group]!.forEach((ci, ci2) => out.set(v.subarray((f * Cg + ci) * plane, (f * Cg + ci + 1) * plane), (f2 * Cg2 + ci2) * plane));
      });
      return out;
    }
    case 'spread':
    case 'mixes':
      throw new Error(`structured pruning does not know how to cut the weights of \`${from.layer.name}\` (${from.path})`);
    default: {
      const never: never = rule;
      throw new Error(`unhandled channel rule ${(never as { kind: string }).kind}`);
    }
  }
}
