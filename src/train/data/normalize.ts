// Per-channel normalisation: x' = (x/255 − mean) / std for byte images, or
// (x − mean) / std for float images, with mean/std computed from the
// training split (never from validation or test data) or given.
import type { Split } from './dataset.js';

export interface Normalization {
  mean: number[];
  std: number[];
  /** Multiplier applied before mean/std: 1/255 for byte images. */
  scale: number;
}

export function scaleOf(split: Split): number {
  return split.images instanceof Uint8Array ? 1 / 255 : 1;
}

/** Mean and (population) standard deviation per channel over the split. */
export function channelStats(split: Split): Normalization {
  const [c, h, w] = split.shape;
  const plane = h * w, scale = scaleOf(split);
  const sum = new Float64Array(c), sq = new Float64Array(c);
  const img = split.images;
  for (let n = 0; n < split.count; n++) {
    for (let ch = 0; ch < c; ch++) {
      const base = (n * c + ch) * plane;
      let s = 0, s2 = 0;
      for (let i = 0; i < plane; i++) { const v = img[base + i]! * scale; s += v; s2 += v * v; }
      sum[ch] += s; sq[ch] += s2;
    }
  }
  const total = split.count * plane;
  const mean = Array.from(sum, (s) => s / total);
  // A constant channel would give std 0; 1 keeps the values finite.
  const std = Array.from(sq, (s, ch) => Math.sqrt(Math.max(0, s / total - mean[ch]! ** 2)) || 1);
  return { mean, std, scale };
}

export function givenNormalization(split: Split, mean: number[], std: number[]): Normalization {
  const c = split.shape[0];
  const fit = (v: number[], what: string): number[] => {
    if (v.length === 1) return Array(c).fill(v[0]);
    if (v.length !== c) throw new RangeError(`${what} has ${v.length} values but the images have ${c} channels`);
    return v;
  };
  const s = fit(std, 'std');
  if (s.some((x) => !(x > 0))) throw new RangeError('std values must be positive');
  return { mean: fit(mean, 'mean'), std: s, scale: scaleOf(split) };
}
