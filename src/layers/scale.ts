import { py } from './python.js';
import { defineLayer } from './types.js';
import { documented } from './reference.js';

export interface ScaleArgs {
  init: number;
  channels: number;
  image: boolean;
}

/** ConvNeXt's layer scale: each channel multiplied by a learned factor. */
export const scale = documented(defineLayer<ScaleArgs>({
  name: 'scale',
  kind: 'norm',
  mixes: 'nothing',
  positional: 1,
  channels: () => ({ kind: 'each' }),
  onnxImport: {
    none: 'a Mul by a per-channel constant: the importer reads a Mul as a whole (a gate, SiLU, or this scale) in src/import',
  },
  summary: 'Multiplies each channel by a learned factor (ConvNeXt\'s layer scale).',
  aliases: ['layer_scale', 'layerscale'],
  doc:
    'out[c] = weight[c] · x[c]; weight is [C, 1, 1] for an image (torchvision ConvNeXt\'s layer_scale), [F] for a vector, ' +
    'every factor starting at `init` (ConvNeXt: 1e-6).',
  args: [{ name: 'init', type: 'number', default: 1, doc: 'the factors\' initial value', aliases: ['layer_scale', 'init_value'] }],
  infer: (raw, input) => ({ args: { init: raw.init as number, channels: input[0]!, image: input.length === 3 }, shape: [...input] }),
  weights: (a) => [{ name: 'weight', shape: a.image ? [a.channels, 1, 1] : [a.channels], init: { kind: 'constant', value: a.init }, trainable: true }],
  macs: () => 0,
  onnx: (_a, g) => g.node('Mul', [g.input, g.weight('weight')]),
  // tfjs images are channels-last: a [C] factor broadcasts over the last axis
  tfjs: (a, g) => g.layer('AlexnetcScale', {}, { weights: [{ tfjs: 'scale', from: 'weight', layout: a.image ? 'flat' : 'same' }] }),
  torch: {
    body: py`
      if len(self.shape) == 3:
          module = Scale((self.shape[0], 1, 1), init)
      else:
          module = Scale((self.shape[0],), init)
      return self.append("scale", module, self.shape)
    `,
    classes: py`
      class Scale(nn.Module):
          """A learned factor per channel (ConvNeXt's layer scale)."""

          def __init__(self, shape, init):
              super().__init__()
              self.weight = nn.Parameter(torch.full(shape, float(init)))

          def forward(self, x):
              return x * self.weight
    `,
  },
}), { note: ': a learned factor per channel, weight [C, 1, 1] (ConvNeXt\'s layer scale: `scale(1e-6)`)', output: 'same', onnx: 'Mul' });
