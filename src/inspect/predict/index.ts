// Classify examples with a trained model: the examples prepared as training
// prepared its data, run through the model, and the top classes with their
// probabilities (a softmax over the outputs unless the model ends in one).
import type { Preprocessing } from '../../emit/metadata.js';
import { UserError } from '../../util/errors.js';
import { normalise, type Example } from './examples.js';
import type { Classifier } from './model.js';

export { idxExamples, imageExample, imageToInput, normalise, parseIndices, type Example } from './examples.js';
export { openClassifier, ModelError, type Classifier, type LoadTf } from './model.js';

export interface Ranked {
  index: number;
  class: string;
  probability: number;
}

export interface Prediction {
  example: Example;
  /** the classes in order of probability, `top` of them */
  top: Ranked[];
}

/** Where the normalisation came from, for the output (and a note when nothing was known). */
export interface ChosenNormalization {
  normalization: Preprocessing;
  from: 'recorded' | 'flags' | 'none';
  note?: string;
}

/** pixels scaled to [0, 1] and nothing else: what is fed when no normalisation is known */
const UNIT_SCALE: Preprocessing = { mean: [0], std: [1], scale: 1 / 255 };

/** --mean/--std win (with a note when they differ from the recorded ones); else the recorded; else [0, 1] pixels, with a note. */
export function chooseNormalization(c: Classifier, flags?: { mean: number[]; std: number[] }): ChosenNormalization {
  const channels = c.input.length === 3 ? c.input[0]! : 1;
  if (flags) {
    for (const [what, v] of [['--mean', flags.mean], ['--std', flags.std]] as const) {
      if (v.length !== 1 && v.length !== channels) throw new UserError(`${what} has ${v.length} values but the model takes ${channels}-channel input`, 2);
    }
    const normalization = { mean: flags.mean, std: flags.std, scale: 1 / 255 };
    const rec = c.normalization;
    const differs = rec && (JSON.stringify(rec.mean) !== JSON.stringify(normalization.mean) || JSON.stringify(rec.std) !== JSON.stringify(normalization.std));
    return { normalization, from: 'flags', ...(differs ? { note: `--mean/--std replace the normalisation ${c.path} records (mean [${rec.mean.join(', ')}], std [${rec.std.join(', ')}])` } : {}) };
  }
  if (c.normalization) return { normalization: c.normalization, from: 'recorded' };
  return {
    normalization: UNIT_SCALE,
    from: 'none',
    note: `${c.path} records no normalisation: pixels are fed scaled to [0, 1], nothing subtracted; give --mean/--std as the model was trained`,
  };
}

export function softmaxRows(z: Float32Array, k: number): Float32Array {
  const out = new Float32Array(z.length);
  for (let r = 0; r < z.length / k; r++) {
    let max = -Infinity;
    for (let j = 0; j < k; j++) max = Math.max(max, z[r * k + j]!);
    let sum = 0;
    for (let j = 0; j < k; j++) sum += out[r * k + j] = Math.exp(z[r * k + j]! - max);
    for (let j = 0; j < k; j++) out[r * k + j]! /= sum;
  }
  return out;
}

/** The `top` largest entries of a row, largest first (ties: the lower index first). */
export function topK(p: ArrayLike<number>, top: number, classes: readonly string[] | undefined): Ranked[] {
  const idx = Array.from({ length: p.length }, (_, i) => i).sort((a, b) => p[b]! - p[a]! || a - b);
  return idx.slice(0, Math.min(top, p.length)).map((index) => ({ index, class: classes?.[index] ?? String(index), probability: p[index]! }));
}

/** Run the examples through the model; the probabilities of each, [count × classes]. */
export async function probabilities(c: Classifier, examples: readonly Example[], norm: Preprocessing): Promise<{ p: Float32Array; classes: number }> {
  const channels = c.input.length === 3 ? c.input[0]! : 1;
  const size = c.input.reduce((a, b) => a * b, 1);
  const x = new Float32Array(examples.length * size);
  examples.forEach((e, i) => {
    if (e.raw.length !== size) throw new Error(`internal: example ${e.name} has ${e.raw.length} values, the model takes ${size}`);
    x.set(normalise(e.raw, channels, norm), i * size);
  });
  const y = await c.run(x, examples.length);
  const k = y.length / Math.max(examples.length, 1);
  return { p: c.outputs === 'probabilities' ? y : softmaxRows(y, k), classes: k };
}

export async function predict(c: Classifier, examples: readonly Example[], opts: { top: number; normalization: Preprocessing }): Promise<Prediction[]> {
  const { p, classes } = await probabilities(c, examples, opts.normalization);
  return examples.map((example, i) => ({ example, top: topK(p.subarray(i * classes, (i + 1) * classes), opts.top, c.classes) }));
}
