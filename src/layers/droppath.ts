import { py } from './python.js';
import { defineLayer } from './types.js';
import { documented } from './reference.js';

/** Stochastic depth (torchvision's StochasticDepth, "row" mode). */
export const droppath = documented(defineLayer<{ rate: number }>({
  name: 'droppath',
  kind: 'dropout',
  mixes: 'nothing',
  positional: 1,
  channels: () => ({ kind: 'each' }),
  onnxImport: { none: 'training only: inference graphs omit it, as they omit dropout' },
  summary: 'Stochastic depth: in training drops a whole example\'s value (a residual branch) with probability `rate`; identity at inference.',
  aliases: ['drop_path', 'stochasticdepth', 'stochastic_depth'],
  doc:
    'Training: out = x · keep / (1 − rate), one keep ~ Bernoulli(1 − rate) per example (torchvision\'s ' +
    'StochasticDepth(p, "row")). Inference: out = x. Put it last in a residual body so a dropped example passes the shortcut alone.',
  args: [{ name: 'rate', type: 'number', min: 0, below: 1, doc: 'probability of dropping an example', aliases: ['p', 'drop_rate', 'drop_path_rate'] }],
  infer: (raw, input) => ({ args: { rate: raw.rate as number }, shape: [...input] }),
  weights: () => [],
  macs: () => 0,
  onnx: (_a, g) => g.input,
  // tfjs's Dropout with one noise value per example, active only in training
  tfjs: (a, g, input) => g.layer('Dropout', { rate: a.rate, noiseShape: [null, ...input.map(() => 1)] }),
  torch: {
    body: py`
      return self.append("droppath", DropPath(rate), self.shape)
    `,
    classes: py`
      class DropPath(nn.Module):
          """torchvision's StochasticDepth(p, "row"): in training, each example
          is kept with probability 1 - p and scaled by 1 / (1 - p)."""

          def __init__(self, rate):
              super().__init__()
              self.rate = rate

          def forward(self, x):
              if not self.training or self.rate == 0.0:
                  return x
              keep = 1.0 - self.rate
              noise = x.new_empty((x.shape[0],) + (1,) * (x.dim() - 1))
              return x * noise.bernoulli_(keep).div_(keep)

          def extra_repr(self):
              return f"rate={self.rate}"
    `,
  },
}), { note: ': stochastic depth, torchvision\'s StochasticDepth(rate, "row"): in training a whole example is dropped (and the rest scaled by 1/(1 − rate)); identity at inference', output: 'same', onnx: 'omitted (inference graph)' });
