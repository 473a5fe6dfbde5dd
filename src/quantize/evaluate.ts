// Running an exported ONNX model in onnxruntime on a data split: the accuracy
// of a float, quantized or pruned model measured by a runtime nobody here
// wrote, on the images the training run held out, preprocessed the way the
// run normalised them. The session itself comes from src/emit/onnx/session.ts.
import type { OnnxModel } from '../emit/onnx/session.js';
import type { Normalization } from '../train/data/index.js';
import { batches, type Split } from '../train/data/index.js';

/** The batches of a split as the ONNX model takes them: NCHW images, or [N, F] for a vector network. */
export function* onnxBatches(split: Split, norm: Normalization, opts: { flatten: boolean; batch: number; limit?: number }): Generator<{ x: Float32Array; dims: number[]; labels: Int32Array; count: number }> {
  for (const b of batches(split, { batchSize: opts.batch, layout: 'NCHW', normalization: norm })) {
    yield { x: b.x, labels: b.labels, count: b.count, dims: opts.flatten ? [b.count, b.x.length / b.count] : [...b.shape] };
  }
}

export interface OnnxEvaluation {
  accuracy: number;
  predicted: Int32Array;
  count: number;
}

/** Top-1 accuracy of the model on a split (the output may be probabilities or logits: argmax either way). */
export async function onnxAccuracy(model: OnnxModel, split: Split, norm: Normalization, opts: { flatten: boolean; batch?: number }): Promise<OnnxEvaluation> {
  const predicted = new Int32Array(split.count);
  let at = 0;
  let hits = 0;
  for (const b of onnxBatches(split, norm, { flatten: opts.flatten, batch: opts.batch ?? 256 })) {
    const out = (await model.run(b.x, b.dims)).get('output')!;
    const classes = out.length / b.count;
    for (let i = 0; i < b.count; i++) {
      let best = 0;
      for (let c = 1; c < classes; c++) if (out[i * classes + c]! > out[i * classes + best]!) best = c;
      predicted[at + i] = best;
      if (best === b.labels[i]) hits++;
    }
    at += b.count;
  }
  return { accuracy: hits / Math.max(1, split.count), predicted, count: split.count };
}
