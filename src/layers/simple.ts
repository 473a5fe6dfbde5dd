// Layers without weights whose output has the input's shape.
import { defineLayer, type LayerDef } from './types.js';
import { needImage } from './window.js';

function elementwise(name: string, op: string, summary: string, doc: string): LayerDef<Record<string, never>> {
  return defineLayer<Record<string, never>>({
    name,
    summary,
    doc,
    args: [],
    infer: (_raw, input) => ({ args: {}, shape: [...input] }),
    weights: () => [],
    macs: () => 0,
    onnx: (_a, g) => g.node(op, [g.input]),
  });
}

export const relu = elementwise('relu', 'Relu', 'Rectified linear unit.', 'out = max(x, 0)');
export const tanh = elementwise('tanh', 'Tanh', 'Hyperbolic tangent.', 'out = tanh(x)');
export const sigmoid = elementwise('sigmoid', 'Sigmoid', 'Logistic sigmoid.', 'out = 1 / (1 + e^−x)');
export const identity = elementwise('identity', 'Identity', 'Passes its input through unchanged.', 'out = x');

export const softmax = defineLayer<Record<string, never>>({
  name: 'softmax',
  summary: 'Softmax over the channel axis (the only axis of a vector).',
  doc: 'out[c] = e^x[c] / Σ_k e^x[k], over channels (axis 1 of NCHW) like nn.Softmax(dim=1).',
  args: [],
  infer: (_raw, input) => ({ args: {}, shape: [...input] }),
  weights: () => [],
  macs: () => 0,
  onnx: (_a, g) => g.node('Softmax', [g.input], { axis: { i: 1 } }),
});

export const leakyrelu = defineLayer<{ alpha: number }>({
  name: 'leakyrelu',
  summary: 'Leaky rectified linear unit.',
  doc: 'out = x if x ≥ 0 else alpha · x',
  args: [{ name: 'alpha', type: 'number', default: 0.01, min: 0, doc: 'slope for negative inputs' }],
  infer: (raw, input) => ({ args: { alpha: raw.alpha as number }, shape: [...input] }),
  weights: () => [],
  macs: () => 0,
  onnx: (a, g) => g.node('LeakyRelu', [g.input], { alpha: { f: a.alpha } }),
});

export const dropout = defineLayer<{ rate: number }>({
  name: 'dropout',
  summary: 'Randomly zeroes inputs during training (inverted dropout); identity at inference.',
  doc: 'Training: out = x · mask / (1 − rate), mask ~ Bernoulli(1 − rate). Inference: out = x. Omitted from ONNX graphs, which are inference graphs.',
  args: [{ name: 'rate', type: 'number', default: 0.5, min: 0, below: 1, doc: 'probability of dropping a value' }],
  infer: (raw, input) => ({ args: { rate: raw.rate as number }, shape: [...input] }),
  weights: () => [],
  macs: () => 0,
  onnx: (_a, g) => g.input,
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
});

export const globalavgpool = defineLayer<Record<string, never>>({
  name: 'globalavgpool',
  summary: 'Averages each channel over the whole image.',
  doc: 'out[c, 0, 0] = mean over h, w of x[c, h, w]; output [C, 1, 1].',
  args: [],
  infer: (_raw, input, ctx) => (needImage(input, ctx, 'globalavgpool') ? { args: {}, shape: [input[0]!, 1, 1] } : undefined),
  weights: () => [],
  macs: () => 0,
  onnx: (_a, g) => g.node('GlobalAveragePool', [g.input]),
});
