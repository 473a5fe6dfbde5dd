// Calibration for int8-static: run the float model in onnxruntime on N
// images of a data set and record the range of every activation the
// quantized graph quantizes (the tensors calibrationTensors names), as
// onnxruntime's static quantizer does with its calibration data reader.
//
// - minmax: the smallest and largest value seen (onnxruntime's MinMax).
// - percentile: the range that keeps all but (100 − p)% of the values,
//   (100 − p)/2 % cut from each end (p = 99.999 by default, onnxruntime's
//   default); outliers then no longer stretch the scale for everything else.
//   Two passes: the first finds each tensor's extent, the second fills a
//   2048-bin histogram over it (onnxruntime's bin count), so memory does not
//   grow with N.
import type { Network } from '../check/ir.js';
import { calibrationTensors, exposeValues, toOnnxBytes, type Range, type WeightSource } from '../emit/onnx/index.js';
import { channelStats, deriveSeed, permutation, rng, subset, type Normalization, type Split } from '../train/data/index.js';
import { loadData } from '../train/prepare.js';
import { OnnxModel } from '../emit/onnx/session.js';
import { onnxBatches } from './evaluate.js';

export type CalibrationMethod = 'minmax' | 'percentile';
export const CALIBRATION_METHODS: readonly CalibrationMethod[] = ['minmax', 'percentile'];

export interface CalibrationOptions {
  /** an IDX directory or image folder, checked against the network like training data */
  data: string;
  /** how many images (a seeded sample of the training split) */
  count: number;
  method: CalibrationMethod;
  /** for `percentile` (default 99.999) */
  percentile?: number;
  /** how the model's inputs are normalised (the training run's); default: measured on the sample, with a notice */
  normalization?: Normalization;
  seed?: number;
  say?: (line: string) => void;
}

export interface Calibration {
  ranges: Map<string, Range>;
  images: number;
  normalization: Normalization;
}

const BINS = 2048;
const BATCH = 32;

/** N images of the training split, picked with a seeded permutation (never the test images the model is judged on). */
export function calibrationSample(train: Split, count: number, seed: number): Split {
  if (count >= train.count) return train;
  const pick = Array.from(permutation(train.count, rng(deriveSeed(seed, 'calibration'))).subarray(0, count)).sort((a, b) => a - b);
  return subset(train, pick);
}

export async function calibrate(network: Network, weights: WeightSource, o: CalibrationOptions): Promise<Calibration> {
  const say = o.say ?? (() => {});
  const { dataset, flatten } = loadData(o.data, network);
  const sample = calibrationSample(dataset.train, o.count, o.seed ?? 0);
  if (sample.count < o.count) say(`calibration: ${o.data} has only ${sample.count} training images; using all of them`);
  let normalization = o.normalization;
  if (!normalization) {
    normalization = channelStats(sample);
    say('calibration: the weights do not say how inputs were normalised; using the mean and std of the calibration images');
  }

  let tensors: string[] = [];
  const bytes = toOnnxBytes(network, {
    weights,
    transform: (g) => {
      tensors = calibrationTensors(g);
      return exposeValues(g, tensors);
    },
  });
  const model = await OnnxModel.open(bytes);
  const stats = new Map(tensors.map((t) => [t, { min: Infinity, max: -Infinity, hist: undefined as Float64Array | undefined }]));
  const outputs = tensors.filter((t) => t !== 'input');
  const pass = async (visit: (tensor: string, values: Float32Array) => void): Promise<void> => {
    for (const b of onnxBatches(sample, normalization!, { flatten, batch: BATCH })) {
      const got = await model.run(b.x, b.dims, outputs);
      if (stats.has('input')) visit('input', b.x);
      for (const [t, v] of got) visit(t, v);
    }
  };
  try {
    await pass((t, v) => {
      const s = stats.get(t)!;
      for (let i = 0; i < v.length; i++) {
        const x = v[i]!;
        if (x < s.min) s.min = x;
        if (x > s.max) s.max = x;
      }
    });
    if (o.method === 'percentile') {
      for (const s of stats.values()) s.hist = new Float64Array(BINS);
      await pass((t, v) => {
        const s = stats.get(t)!;
        const width = (s.max - s.min) / BINS;
        if (!(width > 0)) return;
        for (let i = 0; i < v.length; i++) s.hist![Math.min(BINS - 1, Math.floor((v[i]! - s.min) / width))]++;
      });
    }
  } finally {
    await model.release();
  }

  const ranges = new Map<string, Range>();
  for (const [t, s] of stats) {
    if (!Number.isFinite(s.min) || !Number.isFinite(s.max)) throw new Error(`calibration: ${t} produced no finite values (do the weights hold NaN?)`);
    ranges.set(t, o.method === 'percentile' && s.hist ? percentileRange(s.hist, s.min, s.max, o.percentile ?? 99.999) : { min: s.min, max: s.max });
  }
  return { ranges, images: sample.count, normalization };
}

/** The range holding all but (100 − p)% of a histogram's mass, half of it cut at each end. */
export function percentileRange(hist: Float64Array, min: number, max: number, p: number): Range {
  const total = hist.reduce((a, b) => a + b, 0);
  if (total === 0 || !(max > min)) return { min, max };
  const cut = (total * (100 - p)) / 200;
  const width = (max - min) / hist.length;
  let lo = 0;
  for (let acc = 0; lo < hist.length - 1 && acc + hist[lo]! <= cut; lo++) acc += hist[lo]!;
  let hi = hist.length - 1;
  for (let acc = 0; hi > lo && acc + hist[hi]! <= cut; hi--) acc += hist[hi]!;
  return { min: min + lo * width, max: min + (hi + 1) * width };
}
