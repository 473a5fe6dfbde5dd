// ONNX operators → catalogue layers, one converter per op, in a plain table
// like the layer registry. A converter reads its node's attributes and
// constant inputs, says which catalogue layer (if any) computes the same
// function, and checks its arguments with that layer's own `infer`, so the
// shapes the importer tracks are the checker's. What the catalogue cannot
// express is an ImportError naming the node — never an approximation.
import { findLayer } from '../layers/registry.js';
import type { ArgValue } from '../layers/types.js';
import type { OnnxNode } from '../weights/onnx-read.js';
import { nonFinite } from '../weights/match.js';
import { floatAttr, type ImportGraph, intAttr, intsAttr, stringAttr } from './graph.js';

export interface ImportWeight {
  /** the catalogue's weight name: weight, bias, running_mean, running_var */
  name: string;
  dims: number[];
  values: Float32Array;
}

/** One catalogue layer the importer will write. */
export interface ImportLayer {
  kind: 'layer';
  layer: string;
  /** arguments as the layer takes them (defaults left out or filled in; the printer omits defaults) */
  args: Record<string, ArgValue>;
  weights: ImportWeight[];
  /** the ONNX nodes it came from (the first names it) */
  nodes: OnnxNode[];
  /** its output shape per example */
  shape: number[];
}

export interface OpResult {
  layers: ImportLayer[];
  /** the value the layers compute (the last node's output) */
  out: string;
}

export interface OpContext {
  g: ImportGraph;
  node: OnnxNode;
  /** the data input's shape per example */
  inShape: number[];
}

type Converter = (c: OpContext) => OpResult;

/** Run a catalogue layer's own argument check and shape rule; its complaint becomes the node's. */
function layer(c: OpContext, name: string, args: Record<string, ArgValue>, weights: ImportWeight[] = [], nodes: OnnxNode[] = [c.node]): ImportLayer {
  const def = findLayer(name)!;
  const raw: Record<string, ArgValue> = {};
  for (const spec of def.args) {
    if (args[spec.name] !== undefined) raw[spec.name] = args[spec.name]!;
    else if (spec.default !== undefined && spec.default !== null) raw[spec.name] = spec.default;
  }
  const fail = (_code: string, message: string): never => c.g.fail(c.node, `as alexnetc's ${name}: ${message}`);
  const r = def.infer(raw, c.inShape, { error: fail, warn: () => undefined });
  if (!r) c.g.fail(c.node, `alexnetc's ${name} refuses these arguments`);
  // the weights the layer declares must be exactly the ones taken from the file
  const specs = def.weights(r!.args, c.inShape);
  const got = new Map(weights.map((w) => [w.name, w]));
  for (const s of specs) {
    const w = got.get(s.name);
    if (!w || w.dims.length !== s.shape.length || w.dims.some((d, i) => d !== s.shape[i])) {
      c.g.fail(c.node, `its ${s.name} has shape [${w?.dims.join(', ') ?? 'none'}], alexnetc's ${name} needs [${s.shape.join(', ')}]`);
    }
  }
  return { kind: 'layer', layer: name, args, weights: specs.map((s) => got.get(s.name)!), nodes, shape: r!.shape };
}

function one(c: OpContext, l: ImportLayer | undefined, out = c.node.outputs[0]!): OpResult {
  return { layers: l ? [l] : [], out };
}

/** A float weight from a constant input, refused when NaN or infinite. */
function weight(c: OpContext, slot: number, name: string): ImportWeight {
  const v = c.g.floats(c.node.inputs[slot]!, c.node);
  const bad = nonFinite(v.values, `'${c.node.inputs[slot]}'`, `${c.g.model.file}: ${c.g.where(c.node)}`);
  if (bad) c.g.fail(c.node, `its weight '${c.node.inputs[slot]}' is not finite: ${bad.replace(/^.*?: '.*?' /, '')}`);
  return { name, dims: v.dims, values: v.values };
}

function hasInput(n: OnnxNode, slot: number): boolean {
  return (n.inputs[slot] ?? '') !== '';
}

// ---------------------------------------------------------------- numbers as written

/** The shortest decimal that reads back as the same float32: ONNX stores 1e-5 as 9.99999974738e-06. */
export function f32(x: number): number {
  const target = Math.fround(x);
  for (let p = 1; p <= 17; p++) {
    const v = Number(target.toPrecision(p));
    if (Math.fround(v) === target) return v;
  }
  return target;
}

/** PyTorch's batch-norm momentum from ONNX's (1 − m), the shortest that alexnetc writes back identically. */
function torchMomentum(onnx: number): number {
  const target = Math.fround(onnx);
  for (let p = 1; p <= 17; p++) {
    const v = Number((1 - target).toPrecision(p));
    if (Math.fround(1 - v) === target) return v;
  }
  return 1 - target;
}

/** [a, a] → a: what a person writes. */
function pairArg(p: readonly number[]): ArgValue {
  return p[0] === p[1] ? p[0]! : [p[0]!, p[1]!];
}

/** ONNX pads [top, left, bottom, right] as alexnetc's `pad`: p, [ph, pw] or the four. */
function padArg(p: readonly number[]): ArgValue {
  if (p.every((x) => x === p[0])) return p[0]!;
  if (p[0] === p[2] && p[1] === p[3]) return [p[0]!, p[1]!];
  return [...p];
}

// ---------------------------------------------------------------- windows (Conv, pools)

interface Window {
  k: number[];
  stride: number[];
  dilation: number[];
  pads: number[];
}

function window(c: OpContext, kernel: number[]): Window {
  const n = c.node;
  if (c.inShape.length !== 3) c.g.fail(n, `expects an image, its input has shape [${c.inShape.join(', ')}] per example`);
  if (kernel.length !== 2) c.g.fail(n, `is ${kernel.length}-D; alexnetc's layers are 2-D`);
  const stride = intsAttr(n, 'strides') ?? [1, 1];
  const dilation = intsAttr(n, 'dilations') ?? [1, 1];
  let pads = intsAttr(n, 'pads') ?? [0, 0, 0, 0];
  const auto = stringAttr(n, 'auto_pad', 'NOTSET');
  if (auto === 'VALID') pads = [0, 0, 0, 0];
  else if (auto === 'SAME_UPPER' || auto === 'SAME_LOWER') {
    // out = ⌈in / stride⌉; the odd pixel goes at the end (UPPER) or the beginning (LOWER)
    const pp = [0, 1].map((i) => {
      const size = c.inShape[i + 1]!;
      const out = Math.ceil(size / stride[i]!);
      const total = Math.max((out - 1) * stride[i]! + dilation[i]! * (kernel[i]! - 1) + 1 - size, 0);
      const small = Math.floor(total / 2);
      return auto === 'SAME_UPPER' ? [small, total - small] : [total - small, small];
    });
    pads = [pp[0]![0]!, pp[1]![0]!, pp[0]![1]!, pp[1]![1]!];
  } else if (auto !== 'NOTSET') c.g.fail(n, `auto_pad '${auto}' is not an ONNX value`);
  if (stride.length !== 2 || dilation.length !== 2 || pads.length !== 4) c.g.fail(n, 'strides, dilations or pads do not describe a 2-D window');
  return { k: kernel, stride, dilation, pads };
}

function conv(c: OpContext, extraPads: number[] = [0, 0, 0, 0]): OpResult {
  const w = weight(c, 1, 'weight');
  if (w.dims.length !== 4) c.g.fail(c.node, `has a ${w.dims.length - 2}-D kernel [${w.dims.join(', ')}]; alexnetc's conv is 2-D`);
  const kernel = intsAttr(c.node, 'kernel_shape') ?? w.dims.slice(2);
  if (kernel[0] !== w.dims[2] || kernel[1] !== w.dims[3]) c.g.fail(c.node, `kernel_shape [${kernel.join(', ')}] disagrees with its weight [${w.dims.join(', ')}]`);
  const win = window(c, kernel);
  if (extraPads.some((p) => p > 0) && stringAttr(c.node, 'auto_pad', 'NOTSET') !== 'NOTSET') c.g.fail(c.node, 'combines auto_pad with a Pad before it');
  win.pads = win.pads.map((p, i) => p + extraPads[i]!);
  const groups = intAttr(c.node, 'group', 1);
  const weights = [w];
  if (hasInput(c.node, 2)) weights.push(weight(c, 2, 'bias'));
  const args: Record<string, ArgValue> = {
    filters: w.dims[0]!,
    k: pairArg(kernel),
    stride: pairArg(win.stride),
    pad: padArg(win.pads),
    dilation: pairArg(win.dilation),
    groups,
    bias: weights.length === 2,
  };
  return one(c, layer(c, 'conv', args, weights));
}

function onlyFirstOutput(c: OpContext, what: string): void {
  for (const o of c.node.outputs.slice(1)) {
    if (o !== '' && (c.g.consumers.has(o) || o === c.g.output)) c.g.fail(c.node, `its output ${o} (${what}) is used; alexnetc computes only the first output`);
  }
}

function pool(kind: 'maxpool' | 'avgpool'): Converter {
  return (c) => {
    const n = c.node;
    const kernel = intsAttr(n, 'kernel_shape');
    if (!kernel) c.g.fail(n, 'has no kernel_shape');
    const win = window(c, kernel!);
    if (win.dilation.some((d) => d !== 1)) c.g.fail(n, `dilations [${win.dilation.join(', ')}]: alexnetc's ${kind} has no dilation`);
    const ceil = intAttr(n, 'ceil_mode', 0) === 1;
    if (kind === 'maxpool') onlyFirstOutput(c, 'the indices');
    if (kind === 'avgpool' && intAttr(n, 'count_include_pad', 0) === 1) {
      // alexnetc's avgpool leaves padding out of the mean; with no padding and no
      // partial window the two agree, anywhere else they differ
      const partial = [0, 1].some((i) => {
        const size = c.inShape[i + 1]!;
        return (size - win.k[i]!) % win.stride[i]! !== 0 && ceil;
      });
      if (win.pads.some((p) => p > 0) || partial) {
        c.g.fail(n, "counts padding in its averages (count_include_pad=1); alexnetc's avgpool leaves padding out of the mean, so it would compute another function (PyTorch: AvgPool2d(count_include_pad=False))");
      }
    }
    // a 1×1 window with stride 1 is the identity (AdaptiveAvgPool2d to the size it already has)
    if (win.k.every((k) => k === 1) && win.stride.every((s) => s === 1) && win.pads.every((p) => p === 0)) return one(c, undefined);
    const args: Record<string, ArgValue> = { k: pairArg(win.k), stride: pairArg(win.stride), pad: padArg(win.pads), ceil };
    return one(c, layer(c, kind, args));
  };
}

function batchnorm(c: OpContext): OpResult {
  const n = c.node;
  if (intAttr(n, 'training_mode', 0) !== 0) c.g.fail(n, 'is in training mode (training_mode=1); export the model in eval mode');
  onlyFirstOutput(c, 'a training statistic');
  const weights = [weight(c, 1, 'weight'), weight(c, 2, 'bias'), weight(c, 3, 'running_mean'), weight(c, 4, 'running_var')];
  const args = { eps: f32(floatAttr(n, 'epsilon', 1e-5)), momentum: torchMomentum(floatAttr(n, 'momentum', 0.9)) };
  return one(c, layer(c, 'batchnorm', args, weights));
}

const plain =
  (kind: string): Converter =>
  (c) =>
    one(c, layer(c, kind, {}));

function softmax(c: OpContext): OpResult {
  const rank = c.inShape.length + 1;
  const modern = c.g.model.opset >= 13;
  let axis = intAttr(c.node, 'axis', modern ? -1 : 1);
  if (axis < 0) axis += rank;
  const spatial = c.inShape.slice(1).reduce((a, b) => a * b, 1);
  // before opset 13 Softmax flattens from `axis` on: over C·H·W, which is the channels only for 1×1 images
  const ok = rank === 2 ? axis === 1 : axis === 1 && (modern || spatial === 1);
  if (!ok) c.g.fail(c.node, `works over axis ${axis} of a [N, ${c.inShape.join(', ')}] tensor; alexnetc's softmax works over the channels (axis 1)`);
  return one(c, layer(c, 'softmax', {}));
}

function lrn(c: OpContext): OpResult {
  const n = c.node;
  const args = { size: intAttr(n, 'size', 0), alpha: f32(floatAttr(n, 'alpha', 1e-4)), beta: f32(floatAttr(n, 'beta', 0.75)), bias: f32(floatAttr(n, 'bias', 1)) };
  return one(c, layer(c, 'lrn', args));
}

/** To a vector [C·H·W] in C, H, W order (what Flatten with axis 1, and a Reshape to [N, -1], compute). */
function toVector(c: OpContext): OpResult {
  if (c.inShape.length === 1) return one(c, undefined);
  return one(c, layer(c, 'flatten', {}));
}

function flatten(c: OpContext): OpResult {
  const axis = intAttr(c.node, 'axis', 1);
  if (axis !== 1 && axis !== -c.inShape.length) c.g.fail(c.node, `flattens from axis ${axis}; alexnetc's flatten keeps the batch axis (axis 1)`);
  return toVector(c);
}

function reshape(c: OpContext): OpResult {
  const n = c.node;
  const target = c.g.ints(n.inputs[1]!, n);
  const allowzero = intAttr(n, 'allowzero', 0) === 1;
  const full = [null, ...c.inShape];
  const total = c.inShape.reduce((a, b) => a * b, 1);
  const desc = `[${target.map((d) => (d === null ? 'N' : d)).join(', ')}]`;
  // the first dimension must stay the batch: the batch symbol itself, 0 (copy), or -1 with the rest fixed
  const first = target[0];
  if (!(first === null || (first === 0 && !allowzero) || first === -1)) {
    c.g.fail(n, `reshapes to ${desc}, which does not keep the batch dimension (alexnetc's batch is implicit)`);
  }
  const rest = target.slice(1).map((d, i) => (d === 0 && !allowzero ? full[i + 1] : d));
  if (rest.some((d) => d === null || d === undefined)) c.g.fail(n, `reshapes to ${desc}, mixing the batch size into an example's shape`);
  const known = (rest as number[]).filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const dims = (rest as number[]).map((d) => (d === -1 ? total / known : d));
  if (first === -1 && dims.some((d) => d === -1)) c.g.fail(n, `reshapes to ${desc} with two unknown dimensions`);
  const same = dims.length === c.inShape.length && dims.every((d, i) => d === c.inShape[i]);
  if (same) return one(c, undefined);
  if (dims.length === 1 && dims[0] === total) return toVector(c);
  return c.g.fail(n, `reshapes [${c.inShape.join(', ')}] to [${dims.join(', ')}] per example; alexnetc can only flatten to a vector`);
}

function squeeze(c: OpContext): OpResult {
  const n = c.node;
  const axes = hasInput(n, 1) ? (c.g.ints(n.inputs[1]!, n) as number[]) : intsAttr(n, 'axes');
  const rank = c.inShape.length + 1;
  const norm = (axes ?? []).map((a) => (a < 0 ? a + rank : a)).sort();
  if (rank === 4 && c.inShape[1] === 1 && c.inShape[2] === 1 && (axes === undefined || (norm.length === 2 && norm[0] === 2 && norm[1] === 3))) return toVector(c);
  return c.g.fail(n, `squeezes axes [${(axes ?? []).join(', ')}] of [N, ${c.inShape.join(', ')}]; alexnetc can only flatten a [C, 1, 1] image to a vector`);
}

function dense(c: OpContext, w: ImportWeight, b: ImportWeight | undefined, out: string, nodes: OnnxNode[]): OpResult {
  if (c.inShape.length !== 1) c.g.fail(c.node, `multiplies a [N, ${c.inShape.join(', ')}] tensor; alexnetc's dense takes vectors`);
  const weights = b ? [w, b] : [w];
  return one(c, layer(c, 'dense', { units: w.dims[0]!, bias: b !== undefined }, weights, nodes), out);
}

function transpose(w: ImportWeight): ImportWeight {
  const [r, k] = w.dims as [number, number];
  const out = new Float32Array(r * k);
  for (let i = 0; i < r; i++) for (let j = 0; j < k; j++) out[j * r + i] = w.values[i * k + j]!;
  return { name: w.name, dims: [k, r], values: out };
}

function scaled(w: ImportWeight, s: number): ImportWeight {
  return s === 1 ? w : { ...w, values: w.values.map((v) => v * s) };
}

/** A bias that broadcasts over [N, units]: [units], [1, units], or a scalar. */
function biasVector(c: OpContext, b: ImportWeight, units: number): ImportWeight {
  const size = b.values.length;
  const okDims = b.dims.length <= 2 && (size === units || size === 1) && (b.dims.length < 2 || b.dims[0] === 1);
  if (!okDims) c.g.fail(c.node, `adds a bias of shape [${b.dims.join(', ')}] to [N, ${units}]`);
  return { name: 'bias', dims: [units], values: size === units ? b.values : new Float32Array(units).fill(b.values[0]!) };
}

function gemm(c: OpContext): OpResult {
  const n = c.node;
  if (intAttr(n, 'transA', 0) !== 0) c.g.fail(n, 'transposes its data input (transA=1)');
  let w = weight(c, 1, 'weight');
  if (w.dims.length !== 2) c.g.fail(n, `has a weight of shape [${w.dims.join(', ')}]`);
  if (intAttr(n, 'transB', 0) === 0) w = transpose(w);
  w = scaled(w, floatAttr(n, 'alpha', 1));
  const b = hasInput(n, 2) ? biasVector(c, scaled(weight(c, 2, 'bias'), floatAttr(n, 'beta', 1)), w.dims[0]!) : undefined;
  return dense(c, w, b, n.outputs[0]!, [n]);
}

/** MatMul by a constant [in, units], and the Add of a constant bias after it when there is one. */
function matmul(c: OpContext): OpResult {
  const n = c.node;
  const wIn = weight(c, 1, 'weight');
  if (wIn.dims.length !== 2) c.g.fail(n, `multiplies by a tensor of shape [${wIn.dims.join(', ')}]; alexnetc's dense needs a matrix`);
  const w = transpose(wIn);
  const users = c.g.consumers.get(n.outputs[0]!) ?? [];
  const add = users.length === 1 ? users[0]!.node : undefined;
  if (add && add.op === 'Add' && n.outputs[0] !== c.g.output) {
    const other = add.inputs[1 - add.inputs.indexOf(n.outputs[0]!)]!;
    if (!c.g.isData(other)) {
      const b = biasVector({ ...c, node: add }, weight({ ...c, node: add }, add.inputs.indexOf(other), 'bias'), w.dims[0]!);
      return dense(c, w, b, add.outputs[0]!, [n, add]);
    }
  }
  return dense(c, w, undefined, n.outputs[0]!, [n]);
}

function dropout(c: OpContext): OpResult {
  const n = c.node;
  onlyFirstOutput(c, 'the mask');
  const rate = hasInput(n, 1) ? c.g.floats(n.inputs[1]!, n).values[0]! : floatAttr(n, 'ratio', 0.5);
  // a rate of 0 is the identity, and alexnetc's dropout needs 0 < rate < 1
  if (rate === 0) return one(c, undefined);
  return one(c, layer(c, 'dropout', { rate: f32(rate) }));
}

function globalAvg(c: OpContext): OpResult {
  return one(c, layer(c, 'globalavgpool', {}));
}

/** ReduceMean over H and W: a global average pool (keepdims 0: then flattened). */
function reduceMean(c: OpContext): OpResult {
  const n = c.node;
  const axes = hasInput(n, 1) ? (c.g.ints(n.inputs[1]!, n) as number[]) : intsAttr(n, 'axes');
  const norm = (axes ?? []).map((a) => (a < 0 ? a + 4 : a)).sort();
  if (c.inShape.length !== 3 || norm.length !== 2 || norm[0] !== 2 || norm[1] !== 3) {
    c.g.fail(n, `averages over axes [${(axes ?? ['all']).join(', ')}]; alexnetc averages only over an image's height and width (globalavgpool)`);
  }
  const pooled = layer(c, 'globalavgpool', {});
  if (intAttr(n, 'keepdims', 1) === 1) return one(c, pooled);
  const flat = layer({ ...c, inShape: pooled.shape }, 'flatten', {});
  return { layers: [pooled, flat], out: n.outputs[0]! };
}

/**
 * Zero padding before a Conv (what tf2onnx and some PyTorch exports write):
 * folded into the Conv's own pads. Before a pool it would change the
 * function (padding counted in averages, zeros in maxima), so it is refused.
 */
function pad(c: OpContext): OpResult {
  const n = c.node;
  const mode = stringAttr(n, 'mode', 'constant');
  const pads = hasInput(n, 1) ? (c.g.ints(n.inputs[1]!, n) as number[]) : intsAttr(n, 'pads') ?? [];
  const value = hasInput(n, 2) ? c.g.floats(n.inputs[2]!, n).values[0] ?? 0 : floatAttr(n, 'value', 0);
  if (hasInput(n, 3)) c.g.fail(n, 'pads chosen axes (the axes input); alexnetc folds only padding of height and width');
  const users = c.g.consumers.get(n.outputs[0]!) ?? [];
  const next = users.length === 1 && n.outputs[0] !== c.g.output ? users[0]!.node : undefined;
  const rank = c.inShape.length + 1;
  // ONNX pads: all begins, then all ends, over [N, C, H, W]
  const spatialOnly = rank === 4 && pads.length === 8 && [0, 1, 4, 5].every((i) => pads[i] === 0) && pads.every((p) => p >= 0);
  if (mode !== 'constant' || value !== 0 || !spatialOnly || !next || next.op !== 'Conv' || next.inputs[0] !== n.outputs[0]) {
    const why =
      next?.op === 'AveragePool'
        ? "pads before an AveragePool, which then counts the padding in its averages; alexnetc's avgpool leaves padding out of the mean (PyTorch: count_include_pad=False)"
        : `is a ${mode} padding${mode === 'constant' ? ` with ${value}` : ''} of [${pads.join(', ')}] followed by ${next ? `${next.op} '${next.name}'` : 'more than one node'}; alexnetc folds only zero padding of height and width into a Conv`;
    c.g.fail(n, why);
  }
  const extra = [pads[2]!, pads[3]!, pads[6]!, pads[7]!];
  const convCtx: OpContext = { ...c, node: next! };
  const r = conv(convCtx, extra);
  r.layers[0]!.nodes.unshift(n);
  return r;
}

/** Each op the importer understands (on the data path; Add, Sum and Concat of branches are the structure's). */
export const CONVERTERS: Readonly<Record<string, Converter>> = {
  Conv: (c) => conv(c),
  Pad: pad,
  BatchNormalization: batchnorm,
  Relu: plain('relu'),
  Tanh: plain('tanh'),
  Sigmoid: plain('sigmoid'),
  LeakyRelu: (c) => one(c, layer(c, 'leakyrelu', { alpha: f32(floatAttr(c.node, 'alpha', 0.01)) })),
  Softmax: softmax,
  MaxPool: pool('maxpool'),
  AveragePool: pool('avgpool'),
  GlobalAveragePool: globalAvg,
  ReduceMean: reduceMean,
  LRN: lrn,
  Flatten: flatten,
  Reshape: reshape,
  Squeeze: squeeze,
  Gemm: gemm,
  MatMul: matmul,
  Dropout: dropout,
  Identity: (c) => one(c, undefined),
};
