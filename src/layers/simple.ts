// Layers without weights whose output has the input's shape.
import { f32, one, plain } from './onnx-import.js';
import { py } from './python.js';
import { defineLayer, type ImportContext, type ImportResult, type LayerDef, type OnnxImport, type TorchLowering } from './types.js';
import { documented } from './reference.js';
import { needImage } from './window.js';

/** The PyTorch lowering of a layer that keeps its input's shape: one module. */
function same(name: string, module: string): TorchLowering {
  return { body: `return self.append("${name}", ${module}, self.shape)` };
}

function elementwise(
  name: string,
  op: string,
  activation: string,
  torchModule: string,
  summary: string,
  doc: string,
  onnxImport: OnnxImport = { ops: [op], convert: plain(name) },
): LayerDef<Record<string, never>> {
  return defineLayer<Record<string, never>>({
    name,
    kind: 'activation',
    mixes: 'nothing',
    channels: () => ({ kind: 'each' }),
    onnxImport,
    summary,
    doc,
    args: [],
    infer: (_raw, input) => ({ args: {}, shape: [...input] }),
    weights: () => [],
    macs: () => 0,
    onnx: (_a, g) => g.node(op, [g.input]),
    tfjs: (_a, g) => g.layer('Activation', { activation }),
    torch: same(name, torchModule),
  });
}

export const relu = documented(elementwise('relu', 'Relu', 'relu', 'nn.ReLU()', 'Rectified linear unit.', 'out = max(x, 0)'), { output: 'same', onnx: 'Relu' });
export const tanh = documented(elementwise('tanh', 'Tanh', 'tanh', 'nn.Tanh()', 'Hyperbolic tangent.', 'out = tanh(x)'), { output: 'same', onnx: 'Tanh' });
export const sigmoid = documented(elementwise('sigmoid', 'Sigmoid', 'sigmoid', 'nn.Sigmoid()', 'Logistic sigmoid.', 'out = 1 / (1 + e^−x)'), { output: 'same', onnx: 'Sigmoid' });
// an ONNX Identity node is no layer at all: it is skipped
export const identity = documented(elementwise('identity', 'Identity', 'linear', 'nn.Identity()', 'Passes its input through unchanged.', 'out = x', {
  ops: ['Identity'],
  convert: (c) => one(c, undefined),
}), { output: 'same', onnx: 'Identity' });

export const softmax = documented(defineLayer<Record<string, never>>({
  name: 'softmax',
  kind: 'activation',
  mixes: 'channels',
  channels: () => ({ kind: 'mixes' }),
  onnxImport: { ops: ['Softmax'], convert: importSoftmax },
  summary: 'Softmax over the channel axis (the only axis of a vector; each token\'s features).',
  doc: 'out[c] = e^x[c] / Σ_k e^x[k], over channels (axis 1 of NCHW) like nn.Softmax(dim=1); on tokens [T, D] over each token\'s D features (nn.Softmax(dim=-1)).',
  args: [],
  infer: (_raw, input) => ({ args: {}, shape: [...input] }),
  weights: () => [],
  macs: () => 0,
  onnx: (_a, g, input) => g.node('Softmax', [g.input], { axis: { i: input.length === 2 ? -1 : 1 } }),
  // channels are the last axis inside tfjs
  tfjs: (_a, g) => g.layer('Softmax', { axis: -1 }),
  // over the channels (dim 1), each token's features on tokens (dim -1)
  torch: {
    body: py`
      dim = -1 if len(self.shape) == 2 else 1
      return self.append("softmax", nn.Softmax(dim=dim), self.shape)
    `,
  },
}), { output: 'same, over channels (each token\'s features)', onnx: 'Softmax (axis 1; −1 on tokens)' });

export const dropout = documented(defineLayer<{ rate: number }>({
  name: 'dropout',
  kind: 'dropout',
  mixes: 'nothing',
  positional: 1,
  channels: () => ({ kind: 'each' }),
  onnxImport: { ops: ['Dropout'], convert: importDropout },
  summary: 'Randomly zeroes inputs during training (inverted dropout); identity at inference.',
  doc: 'Training: out = x · mask / (1 − rate), mask ~ Bernoulli(1 − rate). Inference: out = x. Omitted from ONNX graphs, which are inference graphs.',
  args: [{ name: 'rate', type: 'number', default: 0.5, min: 0, below: 1, doc: 'probability of dropping a value', aliases: ['p'] }],
  infer: (raw, input) => ({ args: { rate: raw.rate as number }, shape: [...input] }),
  weights: () => [],
  macs: () => 0,
  onnx: (_a, g) => g.input,
  // tfjs's Dropout is active only in training (model.fit), like nn.Dropout in eval mode
  tfjs: (a, g) => g.layer('Dropout', { rate: a.rate }),
  // like nn.Dropout: active in train(), the identity in eval()
  torch: same('dropout', 'nn.Dropout(rate)'),
}), { output: 'same', onnx: 'omitted (inference graph)' });

export const flatten = documented(defineLayer<Record<string, never>>({
  name: 'flatten',
  kind: 'reshape',
  mixes: 'nothing',
  channels: (_a, input) => (input.length === 2 ? { kind: 'mixes' } : { kind: 'spread', per: input.length === 3 ? input[1]! * input[2]! : 1 }),
  onnxImport: {
    ops: ['Flatten', 'Reshape', 'Squeeze'],
    convert: (c) => (c.node.op === 'Flatten' ? importFlatten(c) : c.node.op === 'Reshape' ? importReshape(c) : importSqueeze(c)),
  },
  summary: 'Flattens [C, H, W] into a vector [C·H·W] in C, H, W order.',
  doc: 'The order is channels-major like PyTorch\'s torch.flatten(x, 1), so dense weights carry over from PyTorch unchanged.',
  args: [],
  infer: (_raw, input) => ({ args: {}, shape: [input.reduce((a, b) => a * b, 1)] }),
  weights: () => [],
  macs: () => 0,
  onnx: (_a, g) => g.node('Flatten', [g.input], { axis: { i: 1 } }),
  tfjs(_a, g, input) {
    // a vector is flat already; tokens [T, D] are in the same order in tfjs and ONNX
    if (input.length <= 1) return g.input;
    if (input.length === 2) return g.layer('Flatten', {});
    // tfjs holds [H, W, C]; bring channels first so the vector is in C, H, W order like ONNX/PyTorch
    // (unless the order cannot differ: one channel, or a 1×1 image)
    const spatial = input.slice(1).reduce((a, b) => a * b, 1);
    const x =
      input[0] === 1 || spatial === 1
        ? g.input
        : g.layer('Permute', { dims: [input.length, ...input.slice(1).map((_, i) => i + 1)] }, { suffix: 'nchw' });
    return g.layer('Flatten', {}, { inputs: [x] });
  },
  // nn.Flatten keeps PyTorch's C, H, W order, which is alexnetc's
  torch: {
    body: 'return self.append("flatten", nn.Flatten(), (math.prod(self.shape),))',
  },
}), { output: '`[C·H·W]`, C-major', onnx: 'Flatten' });

export const globalavgpool = documented(defineLayer<Record<string, never>>({
  name: 'globalavgpool',
  kind: 'pool',
  mixes: 'space',
  channels: () => ({ kind: 'each' }),
  onnxImport: { ops: ['GlobalAveragePool', 'ReduceMean'], convert: (c) => (c.node.op === 'ReduceMean' ? importReduceMean(c) : one(c, c.layer('globalavgpool', {}))) },
  aliases: ['adaptiveavgpool2d', 'globalaveragepooling2d', 'globalaveragepool', 'global_avg_pool', 'gap'],
  summary: 'Averages each channel over the whole image.',
  doc: 'out[c, 0, 0] = mean over h, w of x[c, h, w]; output [C, 1, 1].',
  args: [],
  infer: (_raw, input, ctx) => (needImage(input, ctx, 'globalavgpool') ? { args: {}, shape: [input[0]!, 1, 1] } : undefined),
  weights: () => [],
  macs: () => 0,
  onnx: (_a, g) => g.node('GlobalAveragePool', [g.input]),
  // one window over the whole image keeps the [1, 1, C] shape (GlobalAveragePooling2D would drop it)
  tfjs: (_a, g, input) =>
    g.layer('AveragePooling2D', { poolSize: [input[1]!, input[2]!], strides: [input[1]!, input[2]!], padding: 'valid' }),
  torch: {
    body: py`
      channels = self.image("globalavgpool")[0]
      pool = nn.AdaptiveAvgPool2d(1)
      return self.append("globalavgpool", pool, (channels, 1, 1))
    `,
  },
}), { output: '`[C, 1, 1]`', onnx: 'GlobalAveragePool' });

function importSoftmax(c: ImportContext): ImportResult {
  const rank = c.inShape.length + 1;
  const modern = c.opset >= 13;
  let axis = c.int('axis', modern ? -1 : 1);
  if (axis < 0) axis += rank;
  const spatial = c.inShape.slice(1).reduce((a, b) => a * b, 1);
  // before opset 13 Softmax flattens from `axis` on: over C·H·W, which is the channels only for 1×1 images
  // tokens [N, T, D]: over each token's features (the last axis)
  const ok = rank === 2 ? axis === 1 : rank === 3 ? axis === 2 : axis === 1 && (modern || spatial === 1);
  if (!ok) c.fail(`works over axis ${axis} of a [N, ${c.inShape.join(', ')}] tensor; alexnetc's softmax works over the channels (axis 1; the last axis of tokens)`);
  return one(c, c.layer('softmax', {}));
}

function importDropout(c: ImportContext): ImportResult {
  c.onlyFirstOutput('the mask');
  const rate = c.hasInput(1) ? c.floats(1).values[0]! : c.float('ratio', 0.5);
  // a rate of 0 is the identity, and alexnetc's dropout needs 0 < rate < 1
  if (rate === 0) return one(c, undefined);
  return one(c, c.layer('dropout', { rate: f32(rate) }));
}

/** To a vector [C·H·W] in C, H, W order (what Flatten with axis 1, and a Reshape to [N, -1], compute). */
function toVector(c: ImportContext): ImportResult {
  if (c.inShape.length === 1) return one(c, undefined);
  return one(c, c.layer('flatten', {}));
}

function importFlatten(c: ImportContext): ImportResult {
  const axis = c.int('axis', 1);
  if (axis !== 1 && axis !== -c.inShape.length) c.fail(`flattens from axis ${axis}; alexnetc's flatten keeps the batch axis (axis 1)`);
  return toVector(c);
}

function importReshape(c: ImportContext): ImportResult {
  const target = c.constInts(1);
  const allowzero = c.int('allowzero', 0) === 1;
  const full = [null, ...c.inShape];
  const total = c.inShape.reduce((a, b) => a * b, 1);
  const desc = `[${target.map((d) => (d === null ? 'N' : d)).join(', ')}]`;
  // the first dimension must stay the batch: the batch symbol itself, 0 (copy), or -1 with the rest fixed
  const first = target[0];
  if (!(first === null || (first === 0 && !allowzero) || first === -1)) {
    c.fail(`reshapes to ${desc}, which does not keep the batch dimension (alexnetc's batch is implicit)`);
  }
  const rest = target.slice(1).map((d, i) => (d === 0 && !allowzero ? full[i + 1] : d));
  if (rest.some((d) => d === null || d === undefined)) c.fail(`reshapes to ${desc}, mixing the batch size into an example's shape`);
  const known = (rest as number[]).filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const dims = (rest as number[]).map((d) => (d === -1 ? total / known : d));
  if (first === -1 && dims.some((d) => d === -1)) c.fail(`reshapes to ${desc} with two unknown dimensions`);
  const same = dims.length === c.inShape.length && dims.every((d, i) => d === c.inShape[i]);
  if (same) return one(c, undefined);
  if (dims.length === 1 && dims[0] === total) return toVector(c);
  return c.fail(`reshapes [${c.inShape.join(', ')}] to [${dims.join(', ')}] per example; alexnetc can only flatten to a vector`);
}

function importSqueeze(c: ImportContext): ImportResult {
  const axes = c.hasInput(1) ? (c.constInts(1) as number[]) : c.ints('axes');
  const rank = c.inShape.length + 1;
  const norm = (axes ?? []).map((a) => (a < 0 ? a + rank : a)).sort();
  if (rank === 4 && c.inShape[1] === 1 && c.inShape[2] === 1 && (axes === undefined || (norm.length === 2 && norm[0] === 2 && norm[1] === 3))) return toVector(c);
  return c.fail(`squeezes axes [${(axes ?? []).join(', ')}] of [N, ${c.inShape.join(', ')}]; alexnetc can only flatten a [C, 1, 1] image to a vector`);
}

/** ReduceMean over H and W: a global average pool (keepdims 0: then flattened). */
function importReduceMean(c: ImportContext): ImportResult {
  const axes = c.hasInput(1) ? (c.constInts(1) as number[]) : c.ints('axes');
  const norm = (axes ?? []).map((a) => (a < 0 ? a + 4 : a)).sort();
  if (c.inShape.length !== 3 || norm.length !== 2 || norm[0] !== 2 || norm[1] !== 3) {
    c.fail(`averages over axes [${(axes ?? ['all']).join(', ')}]; alexnetc averages only over an image's height and width (globalavgpool)`);
  }
  const pooled = c.layer('globalavgpool', {});
  if (c.int('keepdims', 1) === 1) return one(c, pooled);
  const flat = c.at(c.node, pooled.shape).layer('flatten', {});
  return { layers: [pooled, flat], out: c.node.outputs[0]! };
}
