// A seeded train/validation split, the examples picked at random so a data set
// stored sorted by class still gives a representative validation set.
import type { Split } from './dataset.js';
import { subset } from './dataset.js';
import { DataError } from './errors.js';
import { deriveSeed, permutation, rng } from '../../util/rng.js';

export function validationSplit(split: Split, fraction: number, seed: number, source = 'training data'): { train: Split; val: Split } {
  if (!(fraction > 0 && fraction < 1)) throw new RangeError(`validation fraction must be in (0, 1), got ${fraction}`);
  const nVal = Math.round(split.count * fraction);
  if (nVal === 0 || nVal === split.count) {
    throw new DataError(source, `a ${fraction} validation split of ${split.count} examples leaves an empty side`);
  }
  const p = permutation(split.count, rng(deriveSeed(seed, 'val-split')));
  // Keep each side in original order: only membership is random.
  const val = Array.from(p.subarray(0, nVal)).sort((a, b) => a - b);
  const train = Array.from(p.subarray(nVal)).sort((a, b) => a - b);
  return { train: subset(split, train), val: subset(split, val) };
}
