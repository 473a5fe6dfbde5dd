// The activations of today's convolutional networks (MobileNet, EfficientNet,
// RegNet): element-wise, the input's shape kept, PyTorch's definitions.
import { f32, one, plain } from './onnx-import.js';
import { py } from './python.js';
import { defineLayer, type ArgSpec, type ImportContext, type ImportResult, type LayerDef, type OnnxImport } from './types.js';
import { documented } from './reference.js';

type NoArgs = Record<string, never>;

/** An element-wise activation without arguments. */
function activation(def: {
  name: string;
  summary: string;
  doc: string;
  aliases?: string[];
  onnxImport: OnnxImport | { none: string };
  onnx: LayerDef<NoArgs>['onnx'];
  tfjs: NonNullable<LayerDef<NoArgs>['tfjs']>;
  torchModule: string;
}): LayerDef<NoArgs> {
  return defineLayer<NoArgs>({
    name: def.name,
    kind: 'activation',
    mixes: 'nothing',
    channels: () => ({ kind: 'each' }),
    onnxImport: def.onnxImport,
    summary: def.summary,
    doc: def.doc,
    ...(def.aliases ? { aliases: def.aliases } : {}),
    args: [],
    infer: (_raw, input) => ({ args: {}, shape: [...input] }),
    weights: () => [],
    macs: () => 0,
    onnx: def.onnx,
    tfjs: def.tfjs,
    torch: { body: `return self.append("${def.name}", ${def.torchModule}, self.shape)` },
  });
}

export const relu6 = documented(activation({
  name: 'relu6',
  summary: 'Rectified linear unit capped at 6 (MobileNetV2).',
  doc: 'out = min(max(x, 0), 6), as nn.ReLU6',
  aliases: ['relu_6'],
  onnxImport: { ops: ['Clip'], convert: importClip },
  // PyTorch exports nn.ReLU6 as Clip with min and max inputs (opset ≥ 11)
  onnx: (_a, g) => g.node('Clip', [g.input, g.constant(0), g.constant(6)]),
  tfjs: (_a, g) => g.layer('Activation', { activation: 'relu6' }),
  torchModule: 'nn.ReLU6()',
}), { note: ': min(max(x, 0), 6) (MobileNetV2)', output: 'same', onnx: 'Clip (0, 6)' });

export const hardsigmoid = documented(activation({
  name: 'hardsigmoid',
  summary: 'Piecewise-linear sigmoid (MobileNetV3\'s gates), PyTorch\'s definition.',
  doc: 'out = relu6(x + 3) / 6 = max(0, min(1, x/6 + ½)), as nn.Hardsigmoid (Keras\'s hard_sigmoid is 0.2·x + 0.5, another function)',
  aliases: ['hard_sigmoid'],
  onnxImport: { ops: ['HardSigmoid'], convert: importHardSigmoid },
  onnx: (_a, g) => g.node('HardSigmoid', [g.input], { alpha: { f: 1 / 6 }, beta: { f: 0.5 } }),
  tfjs: (_a, g) => g.layer('AlexnetcActivation', { fn: 'hardsigmoid' }),
  torchModule: 'nn.Hardsigmoid()',
}), { note: ': relu6(x + 3)/6, PyTorch\'s (not Keras\'s 0.2·x + 0.5)', output: 'same', onnx: 'HardSigmoid (alpha 1/6, beta ½)' });

export const hardswish = documented(activation({
  name: 'hardswish',
  summary: 'x times its hard sigmoid (MobileNetV3).',
  doc: 'out = x · relu6(x + 3) / 6, as nn.Hardswish',
  aliases: ['hard_swish', 'hswish', 'h_swish'],
  onnxImport: { ops: ['HardSwish'], convert: plain('hardswish') },
  onnx: (_a, g) => g.node('HardSwish', [g.input]),
  tfjs: (_a, g) => g.layer('AlexnetcActivation', { fn: 'hardswish' }),
  torchModule: 'nn.Hardswish()',
}), { note: ': x · relu6(x + 3)/6 (MobileNetV3); alias `hswish`', output: 'same', onnx: 'HardSwish' });

export const silu = documented(activation({
  name: 'silu',
  summary: 'Sigmoid-weighted linear unit, also called swish (EfficientNet).',
  doc: 'out = x · sigmoid(x), as nn.SiLU (Keras\'s swish)',
  aliases: ['swish'],
  onnxImport: {
    none: 'opset 17 has no SiLU op: exporters write x · sigmoid(x) as a Sigmoid whose output a Mul joins with x, a fork that the importer recognises as a whole (src/import)',
  },
  onnx: (_a, g) => g.node('Mul', [g.input, g.node('Sigmoid', [g.input])]),
  tfjs: (_a, g) => g.layer('Activation', { activation: 'swish' }),
  torchModule: 'nn.SiLU()',
}), { note: ': x · sigmoid(x) (EfficientNet); alias `swish`', output: 'same', onnx: 'Sigmoid, Mul (opset 17 has no SiLU)' });

export const softplus = documented(activation({
  name: 'softplus',
  summary: 'Smooth rectifier.',
  doc: 'out = ln(1 + eˣ), as nn.Softplus() (whose switch to x above 20 differs by less than 2·10⁻⁹)',
  aliases: ['soft_plus'],
  onnxImport: { ops: ['Softplus'], convert: plain('softplus') },
  onnx: (_a, g) => g.node('Softplus', [g.input]),
  tfjs: (_a, g) => g.layer('Activation', { activation: 'softplus' }),
  torchModule: 'nn.Softplus()',
}), { note: ': ln(1 + eˣ)', output: 'same', onnx: 'Softplus' });

/** An element-wise activation with one number, `alpha`, that is also its ONNX operator's attribute (Elu, LeakyRelu). */
function alphaActivation(def: {
  name: string;
  op: string;
  summary: string;
  doc: string;
  aliases?: string[];
  alpha: Omit<ArgSpec, 'name' | 'type'> & { default: number };
  tfjs: NonNullable<LayerDef<{ alpha: number }>['tfjs']>;
  torchModule: string;
}): LayerDef<{ alpha: number }> {
  return defineLayer<{ alpha: number }>({
    name: def.name,
    kind: 'activation',
    mixes: 'nothing',
    positional: 1,
    channels: () => ({ kind: 'each' }),
    onnxImport: { ops: [def.op], convert: (c) => one(c, c.layer(def.name, { alpha: f32(c.float('alpha', def.alpha.default)) })) },
    ...(def.aliases ? { aliases: def.aliases } : {}),
    summary: def.summary,
    doc: def.doc,
    args: [{ name: 'alpha', type: 'number', ...def.alpha }],
    infer: (raw, input) => ({ args: { alpha: raw.alpha as number }, shape: [...input] }),
    weights: () => [],
    macs: () => 0,
    onnx: (a, g) => g.node(def.op, [g.input], { alpha: { f: a.alpha } }),
    tfjs: def.tfjs,
    torch: { body: `return self.append("${def.name}", ${def.torchModule}, self.shape)` },
  });
}

export const elu = documented(alphaActivation({
  name: 'elu',
  op: 'Elu',
  summary: 'Exponential linear unit.',
  doc: 'out = x if x > 0 else alpha · (eˣ − 1), as nn.ELU(alpha)',
  alpha: { default: 1, above: 0, doc: 'the value the negative side tends to is −alpha' },
  tfjs: (a, g) => g.layer('AlexnetcActivation', { fn: 'elu', alpha: a.alpha }),
  torchModule: 'nn.ELU(alpha)',
}), { note: ': x if x > 0 else alpha·(eˣ − 1)', output: 'same', onnx: 'Elu' });

export const leakyrelu = documented(alphaActivation({
  name: 'leakyrelu',
  op: 'LeakyRelu',
  aliases: ['leaky_relu'],
  summary: 'Leaky rectified linear unit.',
  doc: 'out = x if x ≥ 0 else alpha · x',
  alpha: { default: 0.01, min: 0, doc: 'slope for negative inputs', aliases: ['negative_slope'] },
  tfjs: (a, g) => g.layer('LeakyReLU', { alpha: a.alpha }),
  torchModule: 'nn.LeakyReLU(alpha)',
}), { output: 'same', onnx: 'LeakyRelu' });

export const prelu = documented(defineLayer<{ channels: number; image: boolean }>({
  name: 'prelu',
  kind: 'activation',
  mixes: 'nothing',
  channels: () => ({ kind: 'each' }),
  onnxImport: { ops: ['PRelu'], convert: importPRelu },
  summary: 'Leaky rectifier whose negative slope is learned, one per channel.',
  doc: 'out[c] = x[c] if x[c] ≥ 0 else weight[c] · x[c], as nn.PReLU(num_parameters=C) (slopes start at 0.25)',
  aliases: ['parametric_relu'],
  args: [],
  infer: (_raw, input) => ({ args: { channels: input[0]!, image: input.length === 3 }, shape: [...input] }),
  weights: (a) => [{ name: 'weight', shape: [a.channels], init: { kind: 'constant', value: 0.25 }, trainable: true }],
  macs: () => 0,
  // PRelu's slope broadcasts from the right: an image's [C] slope needs [C, 1, 1], as PyTorch exports it
  onnx: (a, g) => g.node('PRelu', [g.input, a.image ? g.node('Unsqueeze', [g.weight('weight'), g.int64s([1, 2])]) : g.weight('weight')]),
  // tfjs images are channels-last: one slope per channel, shared over height and width
  tfjs: (a, g) =>
    g.layer('PReLU', a.image ? { sharedAxes: [1, 2] } : {}, { weights: [{ tfjs: 'alpha', from: 'weight', layout: a.image ? 'hwc' : 'same' }] }),
  torch: {
    body: py`
      module = nn.PReLU(num_parameters=self.shape[0], init=0.25)
      return self.append("prelu", module, self.shape)
    `,
  },
}), { note: ': a learned slope per channel (feature) for x < 0, starting at 0.25 (`nn.PReLU(num_parameters=C)`)', output: 'same', onnx: 'PRelu (slope [C, 1, 1] for an image)' });

/** Clip(x, 0, 6) is relu6; Clip(x, 0, ∞) a relu. Bounds come as inputs (opset ≥ 11) or attributes. */
function importClip(c: ImportContext): ImportResult {
  const bound = (slot: number, attr: string, dflt: number): number => {
    if (c.opset >= 11) return c.hasInput(slot) ? c.floats(slot).values[0]! : dflt;
    return c.float(attr, dflt);
  };
  const lo = bound(1, 'min', -Infinity);
  const hi = bound(2, 'max', Infinity);
  if (lo === 0 && hi === 6) return one(c, c.layer('relu6', {}));
  if (lo === 0 && hi === Infinity) return one(c, c.layer('relu', {}));
  return c.fail(`clips to [${lo}, ${hi}]; alexnetc reads a Clip only as relu6 (to [0, 6]) or relu (to [0, ∞))`);
}

/** HardSigmoid with PyTorch's slope 1/6 and offset ½ (ONNX's defaults are Keras's 0.2 and 0.5). */
function importHardSigmoid(c: ImportContext): ImportResult {
  const alpha = c.float('alpha', 0.2);
  const beta = c.float('beta', 0.5);
  if (Math.fround(alpha) !== Math.fround(1 / 6) || Math.fround(beta) !== 0.5) {
    c.fail(`is max(0, min(1, ${f32(alpha)}·x + ${f32(beta)})); alexnetc's hardsigmoid is PyTorch's (1/6·x + 0.5)`);
  }
  return one(c, c.layer('hardsigmoid', {}));
}

/** PRelu with one slope per channel ([C], [C, 1, 1]) or one for all (broadcast to every channel). */
function importPRelu(c: ImportContext): ImportResult {
  const w = c.weight(1, 'weight');
  const channels = c.inShape[0]!;
  const image = c.inShape.length === 3;
  const size = w.values.length;
  const perChannel = image ? w.dims.length === 3 && w.dims[1] === 1 && w.dims[2] === 1 && w.dims[0] === channels : w.dims.length === 1 && w.dims[0] === channels;
  if (size === 1 && w.dims.every((d) => d === 1)) {
    return one(c, c.layer('prelu', {}, [{ name: 'weight', dims: [channels], values: new Float32Array(channels).fill(w.values[0]!) }]));
  }
  if (!perChannel) c.fail(`has a slope of shape [${w.dims.join(', ')}] for a [N, ${c.inShape.join(', ')}] input; alexnetc's prelu has one slope per channel`);
  return one(c, c.layer('prelu', {}, [{ name: 'weight', dims: [channels], values: w.values }]));
}
