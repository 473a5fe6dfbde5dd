import { py } from './python.js';
import { defineLayer } from './types.js';
import { documented } from './reference.js';

export interface GeluArgs {
  approximate: 'none' | 'tanh';
}

export const gelu = documented(defineLayer<GeluArgs>({
  name: 'gelu',
  kind: 'activation',
  mixes: 'nothing',
  channels: () => ({ kind: 'each' }),
  onnxImport: {
    none: 'opset 17 has no Gelu op: exporters write x·½(1 + erf(x/√2)) as Div, Erf, Add and two Muls (the tanh approximation as Muls, Add, Tanh), a pattern (a fork of x joined by a Mul) that the importer recognises as a whole (src/import/transformer.ts)',
  },
  summary: 'Gaussian error linear unit (exact, or the tanh approximation).',
  aliases: ['gaussian_error_linear_unit'],
  doc:
    'out = x · Φ(x) = ½ · x · (1 + erf(x/√2)), as nn.GELU(). `approximate tanh` is ' +
    '½ · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³))), as nn.GELU(approximate="tanh").',
  args: [{ name: 'approximate', type: 'word', words: ['none', 'tanh'], default: 'none', doc: '`none` (exact, erf) or `tanh`' }],
  infer: (raw, input) => ({ args: { approximate: raw.approximate as GeluArgs['approximate'] }, shape: [...input] }),
  weights: () => [],
  macs: () => 0,
  // opset 17 has no Gelu: the formula, written as PyTorch's exporter writes it
  onnx(a, g) {
    const x = g.input;
    if (a.approximate === 'none') {
      const erf = g.node('Erf', [g.node('Div', [x, g.constant(Math.SQRT2)])]);
      return g.node('Mul', [g.node('Mul', [x, g.node('Add', [erf, g.constant(1)])]), g.constant(0.5)]);
    }
    const cube = g.node('Mul', [g.node('Mul', [x, x]), x]);
    const inner = g.node('Add', [x, g.node('Mul', [cube, g.constant(0.044715)])]);
    const t = g.node('Tanh', [g.node('Mul', [inner, g.constant(Math.sqrt(2 / Math.PI))])]);
    return g.node('Mul', [g.node('Mul', [x, g.constant(0.5)]), g.node('Add', [t, g.constant(1)])]);
  },
  tfjs: (a, g) => g.layer('AlexnetcActivation', { fn: a.approximate === 'tanh' ? 'gelu_tanh' : 'gelu' }),
  torch: {
    body: py`
      module = nn.GELU(approximate=approximate)
      return self.append("gelu", module, self.shape)
    `,
  },
}), { note: ': exact, ½x(1 + erf(x/√2)); `approximate tanh` the tanh approximation (PyTorch\'s names)', output: 'same', onnx: 'Div, Erf, Add, Mul (opset 17 has no Gelu)' });
