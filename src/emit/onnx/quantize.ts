// Int8 quantization of a lowered ONNX graph, in the two forms onnxruntime's
// own quantizer writes (onnxruntime/python/tools/quantization):
//
// - `int8` (weight-only): every conv and dense weight becomes an int8
//   initializer with one float scale per output channel (symmetric, zero
//   point 0), dequantized by a per-axis DequantizeLinear (opset 13+) in front
//   of its Conv/Gemm. Activations stay float, so no data are needed; the file
//   shrinks to about a quarter (biases and batch norm stay float).
//
// - `int8-static` (QDQ format): additionally, the input of every Conv/Gemm is
//   quantized to uint8 (asymmetric, per tensor) by a QuantizeLinear →
//   DequantizeLinear pair with a range calibrated on sample data, and so is
//   its output; the bias becomes int32 with scale input_scale · weight_scale.
//   These are the patterns onnxruntime's graph optimizer fuses into
//   QLinearConv / QGemm, so the int8 kernels run. As onnxruntime's quantizer
//   does, a Relu right after a Conv/Gemm is folded into the output's
//   quantization (a uint8 range that starts at 0 clips the negatives), and
//   MaxPool and Flatten pass their input's quantization on (they only move
//   values, so the same scale is exact), which lets onnxruntime run them on
//   uint8 too. Everything else (tanh, average pooling, LRN, batch norm,
//   residual adds, softmax) stays float between a DequantizeLinear and the
//   next QuantizeLinear.
//
// Weights stay lazy: an int8 tensor is computed from the float one only
// when the writer reaches it, so memory stays at one tensor.
import type { LazyBytes } from './protobuf.js';
import { DataType, type GraphSpec, type NodeSpec, type TensorSpec } from './schema.js';

export type QuantizeMode = 'int8' | 'int8-static';

export const QUANTIZE_MODES: readonly QuantizeMode[] = ['int8', 'int8-static'];

/** The observed range of one activation tensor. */
export interface Range {
  min: number;
  max: number;
}

/** Layers whose weights are quantized (conv and dense). */
const QUANT_OPS = new Set(['Conv', 'Gemm']);
/** Ops whose output carries its input's quantization unchanged: they select or move values, never compute new ones. */
const PASS_THROUGH = new Set(['MaxPool', 'Flatten']);

/** int8 weights use the symmetric range [-127, 127] (so that −w is representable), as PyTorch and TensorRT do. */
const QMAX = 127;

// ---------------------------------------------------------------- the arithmetic

/** Per-output-channel symmetric int8: scale[c] = max|w[c]| / 127, q = round(w / scale). An all-zero channel gets scale 1. */
export function quantizePerChannel(w: Float32Array, channels: number): { q: Int8Array; scale: Float32Array } {
  if (channels <= 0 || w.length % channels !== 0) throw new Error(`cannot split ${w.length} weights into ${channels} channels`);
  const per = w.length / channels;
  const q = new Int8Array(w.length);
  const scale = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    let m = 0;
    for (let i = c * per; i < (c + 1) * per; i++) m = Math.max(m, Math.abs(w[i]!));
    // DequantizeLinear multiplies by the float32 scale: round against exactly that value
    const s = m > 0 && Number.isFinite(m) ? Math.fround(m / QMAX) : 1;
    scale[c] = s;
    for (let i = c * per; i < (c + 1) * per; i++) q[i] = clamp(roundHalfAway(w[i]! / s), -QMAX, QMAX);
  }
  return { q, scale };
}

/** uint8 asymmetric parameters of an activation range, onnxruntime's way: the range always includes 0 (so that 0 is exact). */
export function activationParams(r: Range): { scale: number; zeroPoint: number } {
  const lo = Math.min(0, r.min);
  const hi = Math.max(0, r.max);
  if (!(hi > lo) || !Number.isFinite(hi - lo)) return { scale: 1, zeroPoint: 0 };
  const scale = Math.fround((hi - lo) / 255);
  return { scale, zeroPoint: clamp(Math.round(-lo / scale), 0, 255) + 0 }; // + 0: no −0
}

function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A float tensor's values (raw_data is little-endian float32). */
function floatsOf(t: TensorSpec): Float32Array {
  const bytes = t.data instanceof Uint8Array ? t.data : t.data.produce();
  if (bytes.length !== t.data.length) throw new Error(`weight ${t.name}: ${bytes.length} bytes produced, ${t.data.length} promised`);
  if (littleEndian && bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  return Float32Array.from({ length: bytes.length / 4 }, (_, i) => view.getFloat32(i * 4, true));
}

function leBytes(a: Float32Array | Int32Array): Uint8Array {
  if (littleEndian) return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const out = new Uint8Array(a.length * 4);
  const view = new DataView(out.buffer);
  a.forEach((v, i) => (a instanceof Float32Array ? view.setFloat32(i * 4, v, true) : view.setInt32(i * 4, v, true)));
  return out;
}

// ---------------------------------------------------------------- the rewrite

/** One quantized weight: the int8 values, computed when first asked for; the scales (small) are kept. */
class QuantizedWeight {
  private q: Int8Array | undefined;
  private s: Float32Array | undefined;
  constructor(
    readonly float: TensorSpec,
    readonly channels: number,
  ) {}
  private compute(): void {
    const r = quantizePerChannel(floatsOf(this.float), this.channels);
    this.q = r.q;
    this.s = r.scale;
  }
  scales(): Float32Array {
    if (!this.s) this.compute();
    return this.s!;
  }
  /** the int8 values; dropped once handed out (the writer asks once per write) */
  values(): Int8Array {
    if (!this.q) this.compute();
    const q = this.q!;
    this.q = undefined;
    return q;
  }
}

class Rewriter {
  readonly nodes: NodeSpec[] = [];
  readonly initializers: TensorSpec[];
  private readonly used = new Set<string>();
  private readonly init: Map<string, TensorSpec>;
  /** tensors that are the output of one of our DequantizeLinear nodes, with their uint8 parameters */
  private readonly quantized = new Map<string, { scale: number; zeroPoint: number }>();
  /** float tensor → its dequantized copy, made for the Conv/Gemm that read it */
  private readonly dequantizedCopy = new Map<string, string>();
  /** the weight scales of each quantized weight initializer, by its float name */
  private readonly weights = new Map<string, QuantizedWeight>();

  constructor(
    graph: GraphSpec,
    private readonly rangeOf: (tensor: string) => Range,
  ) {
    this.init = new Map(graph.initializers.map((t) => [t.name, t]));
    this.initializers = [...graph.initializers];
    for (const n of graph.nodes) {
      this.used.add(n.name);
      for (const v of [...n.inputs, ...n.outputs]) this.used.add(v);
    }
    for (const v of [...graph.inputs, ...graph.outputs, ...graph.valueInfo]) this.used.add(v.name);
    for (const t of graph.initializers) this.used.add(t.name);
  }

  /** the uint8 parameters of a tensor that one of our DequantizeLinear nodes produces */
  quantizedParams(tensor: string): { scale: number; zeroPoint: number } | undefined {
    return this.quantized.get(tensor);
  }

  fresh(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  private addInit(t: TensorSpec, after?: string): void {
    // keep a weight's pieces next to where its float tensor was, so the file reads in layer order
    const at = after === undefined ? -1 : this.initializers.findIndex((x) => x.name === after);
    if (at < 0) this.initializers.push(t);
    else this.initializers.splice(at + 1, 0, t);
  }

  private removeInit(name: string): void {
    const i = this.initializers.findIndex((t) => t.name === name);
    if (i >= 0) this.initializers.splice(i, 1);
  }

  private scalar(base: string, dataType: DataType, value: number): string {
    const name = this.fresh(base);
    let data: Uint8Array;
    if (dataType === DataType.FLOAT) data = leBytes(new Float32Array([value]));
    else if (dataType === DataType.UINT8) data = new Uint8Array([value]);
    else data = new Uint8Array(new Int8Array([value]).buffer);
    this.initializers.push({ name, dataType, dims: [], data });
    return name;
  }

  /** Conv/Gemm weight → int8 + per-output-channel scale + zero point, and the DequantizeLinear that restores it. */
  weight(name: string): string {
    const t = this.init.get(name);
    if (!t || t.dataType !== DataType.FLOAT) throw new Error(`internal: weight ${name} is not a float initializer`);
    const channels = t.dims[0]!;
    const count = t.dims.reduce((a, b) => a * b, 1);
    const qw = new QuantizedWeight(t, channels);
    this.weights.set(name, qw);
    const qName = this.fresh(`${name}_quantized`);
    const sName = this.fresh(`${name}_scale`);
    const zName = this.fresh(`${name}_zero_point`);
    const q: LazyBytes = { length: count, produce: () => new Uint8Array(qw.values().buffer) };
    const s: LazyBytes = { length: channels * 4, produce: () => leBytes(qw.scales()) };
    this.removeInit(name);
    this.addInit({ name: qName, dataType: DataType.INT8, dims: [...t.dims], data: q });
    this.addInit({ name: sName, dataType: DataType.FLOAT, dims: [channels], data: s }, qName);
    this.addInit({ name: zName, dataType: DataType.INT8, dims: [channels], data: new Uint8Array(channels) }, sName);
    return this.dq(name, qName, sName, zName, 0);
  }

  /** Bias → int32 with scale input_scale · weight_scale[c] (zero point 0), as QLinearConv/QGemm expect it. */
  bias(name: string, weight: string, inputScale: number): string {
    const t = this.init.get(name);
    const qw = this.weights.get(weight);
    if (!t || !qw) throw new Error(`internal: bias ${name} of ${weight} is not a float initializer`);
    const channels = t.dims[0]!;
    const scaleOf = (): Float32Array => {
      const ws = qw.scales();
      return Float32Array.from(ws, (s) => Math.fround(inputScale * s));
    };
    const qName = this.fresh(`${name}_quantized`);
    const sName = this.fresh(`${name}_scale`);
    const q: LazyBytes = {
      length: channels * 4,
      produce: () => {
        const b = floatsOf(t);
        const s = scaleOf();
        // a bias far beyond what int32 holds at this scale saturates (onnxruntime's quantizer does the same)
        return leBytes(Int32Array.from(b, (v, i) => clamp(roundHalfAway(v / s[i]!), -(2 ** 31), 2 ** 31 - 1)));
      },
    };
    const s: LazyBytes = { length: channels * 4, produce: () => leBytes(scaleOf()) };
    this.removeInit(name);
    this.addInit({ name: qName, dataType: DataType.INT32, dims: [channels], data: q });
    this.addInit({ name: sName, dataType: DataType.FLOAT, dims: [channels], data: s }, qName);
    return this.dq(name, qName, sName, undefined, 0);
  }

  private dq(base: string, input: string, scale: string, zeroPoint: string | undefined, axis?: number): string {
    const out = this.fresh(`${base}_dequantized`);
    this.nodes.push({
      name: this.fresh(`${base}/DequantizeLinear`),
      op: 'DequantizeLinear',
      inputs: zeroPoint === undefined ? [input, scale] : [input, scale, zeroPoint],
      outputs: [out],
      attrs: axis === undefined ? {} : { axis: { i: axis } },
    });
    return out;
  }

  /** QuantizeLinear → DequantizeLinear of a float tensor with uint8 parameters; `out` names the dequantized result. */
  private qdq(tensor: string, params: { scale: number; zeroPoint: number }, out: string): void {
    const s = this.scalar(`${tensor}_scale`, DataType.FLOAT, params.scale);
    const z = this.scalar(`${tensor}_zero_point`, DataType.UINT8, params.zeroPoint);
    const q = this.fresh(`${tensor}_quantized`);
    this.nodes.push({ name: this.fresh(`${tensor}/QuantizeLinear`), op: 'QuantizeLinear', inputs: [tensor, s, z], outputs: [q], attrs: {} });
    this.nodes.push({ name: this.fresh(`${tensor}/DequantizeLinear`), op: 'DequantizeLinear', inputs: [q, s, z], outputs: [out], attrs: {} });
    this.quantized.set(out, params);
  }

  /** The quantized form of a Conv/Gemm input: itself when it already is one, else a Q/DQ pair made once per tensor. */
  input(tensor: string): { name: string; scale: number } {
    const have = this.quantized.get(tensor);
    if (have) return { name: tensor, scale: have.scale };
    const copy = this.dequantizedCopy.get(tensor);
    if (copy) return { name: copy, scale: this.quantized.get(copy)!.scale };
    const params = activationParams(this.rangeOf(tensor));
    const out = this.fresh(`${tensor}_dequantized`);
    this.qdq(tensor, params, out);
    this.dequantizedCopy.set(tensor, out);
    return { name: out, scale: params.scale };
  }

  /**
   * Quantize a node's output where it is produced: the node writes a new
   * float tensor, and the Q/DQ pair gives the original name back, so every
   * consumer (and the value_info) stays as it was.
   */
  output(node: NodeSpec, range: Range | { scale: number; zeroPoint: number }, name = node.outputs[0]!): void {
    const params = 'min' in range ? activationParams(range) : range;
    const float = this.fresh(`${node.outputs[0]!}_float`);
    node.outputs = [float];
    this.qdq(float, params, name);
  }
}

/** Who reads each tensor. */
function consumers(graph: GraphSpec): Map<string, NodeSpec[]> {
  const m = new Map<string, NodeSpec[]>();
  for (const n of graph.nodes) for (const i of n.inputs) m.set(i, [...(m.get(i) ?? []), n]);
  return m;
}

/** A Transpose of a 2-D float initializer read only as the weight (second input) of MatMuls: alexnetc's dense on tokens. */
function isDenseWeightTranspose(graph: GraphSpec, node: NodeSpec, readers: Map<string, NodeSpec[]>): boolean {
  if (node.op !== 'Transpose') return false;
  const w = graph.initializers.find((t) => t.name === node.inputs[0]);
  if (!w || w.dataType !== DataType.FLOAT || w.dims.length !== 2) return false;
  const next = readers.get(node.outputs[0]!) ?? [];
  return next.length > 0 && next.every((n) => n.op === 'MatMul' && n.inputs[1] === node.outputs[0] && n.inputs[0] !== node.outputs[0]);
}

function isOutput(graph: GraphSpec, tensor: string): boolean {
  return graph.outputs.some((o) => o.name === tensor);
}

function rewrite(graph: GraphSpec, mode: QuantizeMode, rangeOf: (tensor: string) => Range): GraphSpec {
  const r = new Rewriter(graph, rangeOf);
  const readers = consumers(graph);
  const folded = new Set<NodeSpec>();
  for (const original of graph.nodes) {
    if (folded.has(original)) continue;
    const node: NodeSpec = { ...original, inputs: [...original.inputs], outputs: [...original.outputs] };
    // dense on tokens and attention's projections: MatMul by a Transpose of the [units, in] weight
    if (mode === 'int8' && isDenseWeightTranspose(graph, node, readers)) {
      node.inputs[0] = r.weight(node.inputs[0]!);
      r.nodes.push(node);
      continue;
    }
    if (QUANT_OPS.has(node.op)) {
      if (mode === 'int8') {
        node.inputs[1] = r.weight(node.inputs[1]!);
        r.nodes.push(node);
        continue;
      }
      const x = r.input(node.inputs[0]!);
      const weight = node.inputs[1]!;
      node.inputs[0] = x.name;
      node.inputs[1] = r.weight(weight);
      if (node.inputs[2] !== undefined) node.inputs[2] = r.bias(node.inputs[2], weight, x.scale);
      r.nodes.push(node);
      // a Relu that alone reads the result is folded into the output's quantization
      const next = readers.get(original.outputs[0]!) ?? [];
      const relu = next.length === 1 && next[0]!.op === 'Relu' && !isOutput(graph, original.outputs[0]!) ? next[0]! : undefined;
      if (relu) {
        folded.add(relu);
        r.output(node, rangeOf(relu.outputs[0]!), relu.outputs[0]!);
      } else {
        r.output(node, rangeOf(original.outputs[0]!));
      }
      continue;
    }
    r.nodes.push(node);
    if (mode === 'int8-static' && PASS_THROUGH.has(node.op)) {
      const q = r.quantizedParams(node.inputs[0]!);
      if (q) r.output(node, q);
    }
  }
  return { ...graph, nodes: r.nodes, initializers: r.initializers };
}

/** The graph with int8 weights (and, for int8-static, quantized activations with the given ranges). */
export function quantizeGraph(graph: GraphSpec, mode: QuantizeMode, ranges?: ReadonlyMap<string, Range>): GraphSpec {
  if (!graph.nodes.some((n) => QUANT_OPS.has(n.op))) throw new NothingToQuantizeError(graph.name);
  return rewrite(graph, mode, (t) => {
    const range = ranges?.get(t);
    if (!range) throw new Error(`internal: no calibration range for ${t}`);
    return range;
  });
}

/** The activation tensors int8-static needs a calibrated range for (in graph order). */
export function calibrationTensors(graph: GraphSpec): string[] {
  const wanted: string[] = [];
  rewrite(graph, 'int8-static', (t) => {
    if (!wanted.includes(t)) wanted.push(t);
    return { min: 0, max: 1 };
  });
  return wanted;
}

/** The graph with extra outputs (for calibration runs): each named value is also returned, float, with its recorded shape. */
export function exposeValues(graph: GraphSpec, names: readonly string[]): GraphSpec {
  const info = new Map(graph.valueInfo.map((v) => [v.name, v]));
  const extra = names.filter((n) => !graph.outputs.some((o) => o.name === n) && !graph.inputs.some((i) => i.name === n));
  for (const n of extra) if (!info.has(n)) throw new Error(`internal: no recorded shape for ${n}`);
  return {
    ...graph,
    outputs: [...graph.outputs, ...extra.map((n) => info.get(n)!)],
    valueInfo: graph.valueInfo.filter((v) => !extra.includes(v.name)),
  };
}

/** A network without conv or dense layers has no weights to quantize. */
export class NothingToQuantizeError extends Error {
  constructor(network: string) {
    super(`${network} has no conv or dense layer: there is nothing to quantize`);
    this.name = 'NothingToQuantizeError';
  }
}
