// Mini-batches as Float32Array tensors' worth of data, NCHW or NHWC, with
// normalisation and the AlexNet-style augmentations (random crop after
// zero-padding, horizontal flip) applied on the fly. Every random choice comes
// from (seed, epoch), so an epoch can be replayed exactly (resume, tests).
import type { Split } from './dataset.js';
import { exampleSize } from './dataset.js';
import type { Normalization } from './normalize.js';
import { deriveSeed, permutation, rng } from '../../util/rng.js';

export interface Augment {
  /** Random crop back to the original size after padding each side by this many pixels (0: off). */
  cropPadding?: number;
  /** Flip left-right with probability 1/2. */
  flip?: boolean;
}

export interface BatchOptions {
  batchSize: number;
  layout: 'NCHW' | 'NHWC';
  normalization?: Normalization;
  shuffle?: boolean;
  augment?: Augment;
  seed?: number;
  epoch?: number;
  /** Keep the last, smaller batch (default true). */
  keepPartial?: boolean;
}

export interface Batch {
  x: Float32Array;
  labels: Int32Array;
  count: number;
  /** The batch's shape in the chosen layout. */
  shape: [number, number, number, number];
}

export function batchCount(split: Split, opts: Pick<BatchOptions, 'batchSize' | 'keepPartial'>): number {
  return opts.keepPartial === false ? Math.floor(split.count / opts.batchSize) : Math.ceil(split.count / opts.batchSize);
}

export function* batches(split: Split, opts: BatchOptions): Generator<Batch> {
  if (!(opts.batchSize >= 1)) throw new RangeError(`batch size must be at least 1, got ${opts.batchSize}`);
  const seed = opts.seed ?? 0, epoch = opts.epoch ?? 0;
  const order = opts.shuffle === true ? permutation(split.count, rng(deriveSeed(seed, 'shuffle', epoch))) : null;
  const augRandom = rng(deriveSeed(seed, 'augment', epoch));
  const [c, h, w] = split.shape;
  const size = exampleSize(split.shape);
  const pad = opts.augment?.cropPadding ?? 0, flip = opts.augment?.flip === true;
  const norm = opts.normalization;
  const scale = norm?.scale ?? 1;
  const mean = norm?.mean ?? Array(c).fill(0), invStd = (norm?.std ?? Array(c).fill(1)).map((s) => 1 / s);
  const n = batchCount(split, opts);
  const example = new Float32Array(size);
  for (let b = 0; b < n; b++) {
    const start = b * opts.batchSize;
    const count = Math.min(opts.batchSize, split.count - start);
    const x = new Float32Array(count * size);
    const labels = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      const j = order === null ? start + i : order[start + i]!;
      labels[i] = split.labels[j]!;
      // Draw the random numbers in a fixed order per example, whatever is on.
      const dy = pad > 0 ? Math.floor(augRandom() * (2 * pad + 1)) - pad : 0;
      const dx = pad > 0 ? Math.floor(augRandom() * (2 * pad + 1)) - pad : 0;
      const mirror = flip ? augRandom() < 0.5 : false;
      const src = j * size;
      for (let ch = 0; ch < c; ch++) {
        const m = mean[ch]!, is = invStd[ch]!;
        for (let y = 0; y < h; y++) {
          const sy = y + dy;
          for (let xx = 0; xx < w; xx++) {
            const sx0 = xx + dx, sx = mirror ? w - 1 - sx0 : sx0;
            // Padding is black (0) in the raw image, as torchvision's RandomCrop pads.
            const raw = sy < 0 || sy >= h || sx0 < 0 || sx0 >= w ? 0 : split.images[src + (ch * h + sy) * w + sx]!;
            example[(ch * h + y) * w + xx] = (raw * scale - m) * is;
          }
        }
      }
      if (opts.layout === 'NCHW') {
        x.set(example, i * size);
      } else {
        const o = i * size;
        for (let ch = 0; ch < c; ch++) for (let p = 0; p < h * w; p++) x[o + p * c + ch] = example[ch * h * w + p]!;
      }
    }
    const shape: [number, number, number, number] = opts.layout === 'NCHW' ? [count, c, h, w] : [count, h, w, c];
    yield { x, labels, count, shape };
  }
}
