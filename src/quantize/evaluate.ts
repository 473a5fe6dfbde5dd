// Running an exported ONNX model in onnxruntime on a data split: the accuracy
// of a float, quantized or pruned model measured by a runtime nobody here
// wrote, on the images the training run held out, preprocessed the way the
// run normalised them.
import type { Normalization } from '../train/data/index.js';
import { batches, type Split } from '../train/data/index.js';

type Ort = typeof import('onnxruntime-node');
type InferenceSession = import('onnxruntime-node').InferenceSession;

let ortModule: Ort | undefined;
async function ort(): Promise<Ort> {
  return (ortModule ??= await import('onnxruntime-node'));
}

export interface SessionOptions {
  /** onnxruntime's intra-op threads (default: onnxruntime's own choice) */
  threads?: number;
  /** write the graph onnxruntime actually runs (after its fusions) here: shows whether the int8 kernels are used */
  optimizedModelFile?: string;
  /**
   * onnxruntime's `session.disable_quant_qdq`: no QDQ fusions, and constant
   * weights behind a DequantizeLinear are folded to float once at load — a
   * weight-only int8 model then runs exactly like the float one
   */
  foldDequantize?: boolean;
}

/** An onnxruntime session on a model with one input `input` (NCHW or NC) and the output `output`. */
export class OnnxModel {
  private constructor(
    private readonly ort: Ort,
    readonly session: InferenceSession,
  ) {}

  static async open(model: Uint8Array | string, opts: SessionOptions = {}): Promise<OnnxModel> {
    const o = await ort();
    const options: import('onnxruntime-node').InferenceSession.SessionOptions = {};
    if (opts.threads !== undefined) {
      options.intraOpNumThreads = opts.threads;
      options.interOpNumThreads = 1;
    }
    if (opts.foldDequantize) options.extra = { session: { disable_quant_qdq: '1' } };
    if (opts.optimizedModelFile !== undefined) {
      options.optimizedModelFilePath = opts.optimizedModelFile;
      // the QDQ fusions are 'extended' optimizations; 'all' would add layout changes specific to this CPU (and a warning)
      options.graphOptimizationLevel = 'extended';
    }
    const session = typeof model === 'string' ? await o.InferenceSession.create(model, options) : await o.InferenceSession.create(model, options);
    return new OnnxModel(o, session);
  }

  /** Run a batch; returns the requested outputs (default: `output`). */
  async run(x: Float32Array, dims: number[], outputs: readonly string[] = ['output']): Promise<Map<string, Float32Array>> {
    const feeds = { input: new this.ort.Tensor('float32', x, dims) };
    const result = await this.session.run(feeds, [...outputs]);
    return new Map(outputs.map((n) => [n, result[n]!.data as Float32Array]));
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

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
