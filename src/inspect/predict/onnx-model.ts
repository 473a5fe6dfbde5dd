// ONNX files as classifiers, run in onnxruntime-node (src/emit/onnx/session.ts;
// the file's metadata read by src/weights/onnx-read.ts). alexnetc's own exports
// say how to feed them (metadata_props: alexnetc.classes,
// alexnetc.normalization, alexnetc.input_shape, alexnetc.input_layout; see
// src/emit/metadata.ts); a file without them is fed by the graph's input
// shape, with class indices for names and no normalisation unless --mean/--std
// say otherwise (the command adds that note).
import { formatShape } from '../../diagnostics/index.js';
import type { Preprocessing } from '../../emit/metadata.js';
import { openSession, type Ort } from '../../emit/onnx/session.js';
import { UserError } from '../../util/errors.js';
import { OnnxReadError, readOnnxFile, type OnnxModelFile } from '../../weights/onnx-read.js';
import { checkClasses, checkNormalization, ModelError, type Classifier } from './model.js';

interface ValueMetadata {
  name: string;
  isTensor: boolean;
  shape?: ReadonlyArray<number | string>;
}
/** The bits of an onnxruntime session used here (the typings of onnxruntime-node 1.30 leave inputMetadata out). */
interface OrtTensor {
  readonly data: unknown;
  readonly dims: readonly number[];
}
interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: ReadonlyArray<ValueMetadata>;
  readonly outputMetadata: ReadonlyArray<ValueMetadata>;
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}

function parseJson<T>(text: string | undefined, key: string, file: string): T | undefined {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ModelError(`${file}: metadata ${key} is not valid JSON`);
  }
}

export async function openOnnx(file: string): Promise<Classifier> {
  let model: OnnxModelFile;
  try {
    model = readOnnxFile(file);
  } catch (e) {
    if (e instanceof OnnxReadError) throw new ModelError(`${e.message}; predict takes a run directory, a tfjs model directory or an ONNX file`);
    throw e;
  }
  // the op of the node that produces the graph's first output: a final Softmax means probabilities
  const outputName = model.outputs[0]?.name;
  const lastOp = model.nodes.find((n) => n.outputs.includes(outputName ?? ''))?.op;
  let opened;
  try {
    opened = await openSession(file);
  } catch (e) {
    if (e instanceof UserError) throw e; // onnxruntime-node is missing
    throw new ModelError(`${file}: onnxruntime cannot load it (${(e as Error).message.split('\n')[0]})`);
  }
  const session = opened.session as unknown as OrtSession;
  try {
    return describe(opened.ort, session, file, model.metadata, lastOp);
  } catch (e) {
    await session.release();
    throw e;
  }
}

function describe(ort: Ort, session: OrtSession, file: string, meta: Record<string, string>, lastOp: string | undefined): Classifier {
  const notes: string[] = [];
  if (session.inputNames.length !== 1) throw new ModelError(`${file}: the graph has ${session.inputNames.length} inputs; a classifier has one`);
  const inputName = session.inputNames[0]!;
  const outputName = session.outputNames[0]!;
  const graphShape = session.inputMetadata[0]?.shape ?? [];
  const batch = graphShape[0];
  // per example: the recorded shape, else the graph's without its batch dimension
  const recordedShape = parseJson<number[]>(meta['alexnetc.input_shape'], 'alexnetc.input_shape', file);
  const graphExample = graphShape.slice(1);
  if (graphExample.some((d) => typeof d !== 'number' || !(d > 0)) && !recordedShape) {
    throw new ModelError(`${file}: the graph's input ${inputName} has shape [${graphShape.join(', ')}]; predict needs fixed sizes after the batch dimension`);
  }
  let layout = meta['alexnetc.input_layout'];
  let input = recordedShape ?? (graphExample as number[]);
  if (layout === undefined && input.length === 3) {
    // ONNX is channels first by convention; a [H, W, 1|3] input is a channels-last export (tf2onnx)
    const channelsLast = (input[2] === 1 || input[2] === 3) && input[0] !== 1 && input[0] !== 3;
    layout = channelsLast ? 'NHWC' : 'NCHW';
    if (channelsLast) notes.push(`${file} records no layout; its input ${formatShape(input)} looks channels-last (NHWC)`);
  }
  if (layout === 'NHWC' && input.length === 3 && !recordedShape) input = [input[2]!, input[0]!, input[1]!];
  if (input.length !== 3 && input.length !== 1) throw new ModelError(`${file}: the model takes ${formatShape(input)} per example; predict feeds images [C, H, W] or flattened images [F]`);
  const classesJson = parseJson<unknown>(meta['alexnetc.classes'], 'alexnetc.classes', file);
  const normJson = parseJson<Preprocessing>(meta['alexnetc.normalization'], 'alexnetc.normalization', file);
  const normalization = normJson ? { mean: normJson.mean, std: normJson.std, scale: normJson.scale } : undefined;
  checkNormalization(normalization, input, `${file} (alexnetc.normalization)`);
  const size = input.reduce((a, b) => a * b, 1);
  // a graph with a fixed batch (of 1, as many exports from PyTorch have) takes that many examples per run
  const fixedBatch = typeof batch === 'number' && batch > 0 ? batch : undefined;
  const chunk = fixedBatch ?? 256;
  let classCount: number | undefined;
  const classifier: Classifier = {
    kind: 'onnx',
    path: file,
    describe: `the ONNX file ${file} (onnxruntime)`,
    ...(meta['alexnetc.network'] ? { network: meta['alexnetc.network'] } : {}),
    input,
    outputs: lastOp === 'Softmax' ? 'probabilities' : 'logits',
    notes,
    async run(x, count) {
      const parts: Float32Array[] = [];
      for (let start = 0; start < count; start += chunk) {
        const n = Math.min(chunk, count - start);
        // a fixed batch larger than what is left is filled up with zeros, whose outputs are dropped
        const rows = fixedBatch ?? n;
        let part: Float32Array<ArrayBuffer> = new Float32Array(rows * size);
        part.set(x.subarray(start * size, (start + n) * size));
        if (layout === 'NHWC' && input.length === 3) part = toNhwc(part, rows, input[0]!, input[1]! * input[2]!);
        const dims = input.length === 3 ? (layout === 'NHWC' ? [rows, input[1]!, input[2]!, input[0]!] : [rows, ...input]) : [rows, size];
        let result;
        try {
          result = await session.run({ [inputName]: new ort.Tensor('float32', part, dims) });
        } catch (e) {
          throw new ModelError(`${file}: onnxruntime failed to run it (${(e as Error).message.split('\n')[0]})`);
        }
        const y = result[outputName]!;
        if (y.dims.length !== 2 || y.dims[0] !== rows) throw new ModelError(`${file}: the output ${outputName} has shape [${y.dims.join(', ')}]; a classifier outputs [N, classes]`);
        parts.push(Float32Array.from((y.data as Float32Array).subarray(0, n * y.dims[1]!)));
        classCount = y.dims[1]!;
      }
      if (classifier.classes && classCount !== undefined) checkClasses(classifier.classes, classCount, `${file} (alexnetc.classes)`);
      return concat(parts);
    },
    async dispose() {
      await session.release();
    },
  };
  const outShape = session.outputMetadata[0]?.shape ?? [];
  const known = typeof outShape[1] === 'number' ? outShape[1] : undefined;
  const classes = checkClasses(classesJson, known, `${file} (alexnetc.classes)`);
  if (classes) classifier.classes = classes;
  if (normalization) classifier.normalization = normalization;
  return classifier;
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function toNhwc(x: Float32Array, n: number, c: number, plane: number): Float32Array<ArrayBuffer> {
  const out = new Float32Array(x.length);
  for (let i = 0; i < n; i++) for (let ch = 0; ch < c; ch++) for (let p = 0; p < plane; p++) out[(i * plane + p) * c + ch] = x[(i * c + ch) * plane + p]!;
  return out;
}
