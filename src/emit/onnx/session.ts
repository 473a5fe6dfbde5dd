// Running ONNX files: the one place alexnetc loads onnxruntime-node (an
// optional install), and the one way it opens a session. predict, quantize,
// prune and the tests all come through here, so a missing package is the
// same clear install hint everywhere.
import type * as OrtModule from 'onnxruntime-node';
import { UserError } from '../../util/errors.js';

export type Ort = typeof OrtModule;
export type InferenceSession = OrtModule.InferenceSession;

// a variable specifier: loading it is decided at run time, and tests name a missing one
const ORT = 'onnxruntime-node';
const importOrt = (specifier: string): Promise<unknown> => import(specifier);
let loaded: Ort | undefined;

/** onnxruntime-node, or a clear error saying how to install it (exit 1). `specifier` is for tests. */
export async function loadOrt(specifier: string = ORT): Promise<Ort> {
  if (specifier === ORT && loaded) return loaded;
  let m: Ort & { default?: Ort };
  try {
    m = (await importOrt(specifier)) as Ort & { default?: Ort };
  } catch (e) {
    const why = (e instanceof Error ? e.message : String(e)).split('\n')[0];
    throw new UserError(`ONNX models run in onnxruntime-node, which could not be loaded (${why}); install it with: npm install onnxruntime-node`, 1);
  }
  const ort = m.InferenceSession ? m : m.default!;
  if (specifier === ORT) loaded = ort;
  return ort;
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

/** An onnxruntime session on a model (its bytes, or a file: a file's external data are found beside it). */
export async function openSession(model: Uint8Array | string, opts: SessionOptions = {}): Promise<{ ort: Ort; session: InferenceSession }> {
  const ort = await loadOrt();
  const options: OrtModule.InferenceSession.SessionOptions = {};
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
  const session = typeof model === 'string' ? await ort.InferenceSession.create(model, options) : await ort.InferenceSession.create(model, options);
  return { ort, session };
}

/** An onnxruntime session on a model with one input `input` (NCHW or NC) and the output `output`: alexnetc's own exports. */
export class OnnxModel {
  private constructor(
    private readonly ort: Ort,
    readonly session: InferenceSession,
  ) {}

  static async open(model: Uint8Array | string, opts: SessionOptions = {}): Promise<OnnxModel> {
    const { ort, session } = await openSession(model, opts);
    return new OnnxModel(ort, session);
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
