// Layers without weights whose output has the input's shape.
import { py } from './python.js';
import { defineLayer, type LayerDef, type TorchLowering } from './types.js';
import { needImage } from './window.js';

/** The PyTorch lowering of a layer that keeps its input's shape: one module. */
function same(name: string, module: string): TorchLowering {
  return { body: `return self.append("${name}", ${module}, self.shape)` };
}

function elementwise(name: string, op: string, activation: string, torchModule: string, summary: string, doc: string): LayerDef<Record<string, never>> {
  return defineLayer<Record<string, never>>({
    name,
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

export const relu = elementwise('relu', 'Relu', 'relu', 'nn.ReLU()', 'Rectified linear unit.', 'out = max(x, 0)');
export const tanh = elementwise('tanh', 'Tanh', 'tanh', 'nn.Tanh()', 'Hyperbolic tangent.', 'out = tanh(x)');
export const sigmoid = elementwise('sigmoid', 'Sigmoid', 'sigmoid', 'nn.Sigmoid()', 'Logistic sigmoid.', 'out = 1 / (1 + e^−x)');
export const identity = elementwise('identity', 'Identity', 'linear', 'nn.Identity()', 'Passes its input through unchanged.', 'out = x');

export const softmax = defineLayer<Record<string, never>>({
  name: 'softmax',
  summary: 'Softmax over the channel axis (the only axis of a vector).',
  doc: 'out[c] = e^x[c] / Σ_k e^x[k], over channels (axis 1 of NCHW) like nn.Softmax(dim=1).',
  args: [],
  infer: (_raw, input) => ({ args: {}, shape: [...input] }),
  weights: () => [],
  macs: () => 0,
  onnx: (_a, g) => g.node('Softmax', [g.input], { axis: { i: 1 } }),
  // channels are the last axis inside tfjs
  tfjs: (_a, g) => g.layer('Softmax', { axis: -1 }),
  torch: same('softmax', 'nn.Softmax(dim=1)'),
});

export const leakyrelu = defineLayer<{ alpha: number }>({
  name: 'leakyrelu',
  aliases: ['leaky_relu'],
  summary: 'Leaky rectified linear unit.',
  doc: 'out = x if x ≥ 0 else alpha · x',
  args: [{ name: 'alpha', type: 'number', default: 0.01, min: 0, doc: 'slope for negative inputs', aliases: ['negative_slope'] }],
  infer: (raw, input) => ({ args: { alpha: raw.alpha as number }, shape: [...input] }),
  weights: () => [],
  macs: () => 0,
  onnx: (a, g) => g.node('LeakyRelu', [g.input], { alpha: { f: a.alpha } }),
  tfjs: (a, g) => g.layer('LeakyReLU', { alpha: a.alpha }),
  torch: same('leakyrelu', 'nn.LeakyReLU(alpha)'),
});

export const dropout = defineLayer<{ rate: number }>({
  name: 'dropout',
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
});

export const flatten = defineLayer<Record<string, never>>({
  name: 'flatten',
  summary: 'Flattens [C, H, W] into a vector [C·H·W] in C, H, W order.',
  doc: 'The order is channels-major like PyTorch\'s torch.flatten(x, 1), so dense weights carry over from PyTorch unchanged.',
  args: [],
  infer: (_raw, input) => ({ args: {}, shape: [input.reduce((a, b) => a * b, 1)] }),
  weights: () => [],
  macs: () => 0,
  onnx: (_a, g) => g.node('Flatten', [g.input], { axis: { i: 1 } }),
  tfjs(_a, g, input) {
    if (input.length <= 1) return g.input;
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
});

export const globalavgpool = defineLayer<Record<string, never>>({
  name: 'globalavgpool',
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
});
