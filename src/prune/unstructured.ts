// Unstructured pruning: global magnitude pruning (Han et al. 2015) of the
// conv and dense weights. All of them are ranked together by |w| and the
// smallest fraction S is set to zero, so layers with many redundant weights
// (the big dense layers) lose more than small sensitive ones. Biases and
// batch norm are kept. The result is a mask per weight (1 keep, 0 zero) that
// fine-tuning keeps fixed (EngineSetup.masks).
import { layers, type Network } from '../check/ir.js';
import type { WeightSource } from '../emit/onnx/index.js';

export interface LayerSparsity {
  weight: string;
  count: number;
  pruned: number;
}

export interface MagnitudeMasks {
  masks: Map<string, Uint8Array>;
  /** |w| at or below which weights were removed */
  threshold: number;
  layers: LayerSparsity[];
  total: number;
  pruned: number;
}

/** The conv and dense weight tensors, by key (`path.weight`). */
export function prunableWeights(network: Network): Array<{ key: string; path: string; spec: import('../layers/types.js').WeightSpec }> {
  const out = [];
  for (const n of layers(network.body)) {
    if (n.layer.kind !== 'conv' && n.layer.kind !== 'dense') continue;
    const spec = n.weights.find((w) => w.name === 'weight')!;
    out.push({ key: `${n.path}.weight`, path: n.path, spec });
  }
  return out;
}

/**
 * Masks that remove exactly round(S · total) of the conv/dense weights, the
 * smallest in magnitude (ties broken by position, so the result is
 * deterministic).
 */
export function magnitudeMasks(network: Network, weights: WeightSource, sparsity: number): MagnitudeMasks {
  const ws = prunableWeights(network);
  const values = ws.map((w) => weights.get(w.path, w.spec));
  const total = values.reduce((a, v) => a + v.length, 0);
  const target = Math.round(sparsity * total);
  // the threshold is the target-th smallest |w|: sort a copy of all magnitudes once
  const all = new Float32Array(total);
  let at = 0;
  for (const v of values) for (let i = 0; i < v.length; i++) all[at++] = Math.abs(v[i]!);
  all.sort();
  const threshold = target > 0 ? all[target - 1]! : -1;
  const below = target > 0 ? lowerBound(all, threshold) : 0; // how many are strictly smaller
  let tiesLeft = target - below; // of those equal to the threshold, this many go (in order)
  const masks = new Map<string, Uint8Array>();
  const report: LayerSparsity[] = [];
  ws.forEach((w, k) => {
    const v = values[k]!;
    const m = new Uint8Array(v.length);
    let pruned = 0;
    for (let i = 0; i < v.length; i++) {
      const a = Math.abs(v[i]!);
      const cut = a < threshold || (a === threshold && tiesLeft > 0 && tiesLeft-- > 0);
      m[i] = cut ? 0 : 1;
      if (cut) pruned++;
    }
    masks.set(w.key, m);
    report.push({ weight: w.key, count: v.length, pruned });
  });
  return { masks, threshold: Math.max(0, threshold), layers: report, total, pruned: report.reduce((a, l) => a + l.pruned, 0) };
}

function lowerBound(sorted: Float32Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The weights with the masks applied (masked elements exactly 0). */
export function maskedWeights(weights: WeightSource, masks: ReadonlyMap<string, Uint8Array>): WeightSource {
  return {
    get(path, spec) {
      const v = weights.get(path, spec);
      const m = masks.get(`${path}.${spec.name}`);
      if (!m) return v;
      const out = new Float32Array(v.length);
      for (let i = 0; i < v.length; i++) out[i] = m[i] ? v[i]! : 0;
      return out;
    },
  };
}
