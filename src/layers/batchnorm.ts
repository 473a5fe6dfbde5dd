import { formatShape } from '../diagnostics/index.js';
import { f32, one } from './onnx-import.js';
import { py } from './python.js';
import { defineLayer, type ImportContext, type ImportResult } from './types.js';
import { documented } from './reference.js';

export interface BatchNormArgs {
  eps: number;
  momentum: number;
  channels: number;
}

export const batchnorm = documented(defineLayer<BatchNormArgs>({
  name: 'batchnorm',
  kind: 'norm',
  mixes: 'nothing',
  channels: () => ({ kind: 'each' }),
  onnxImport: { ops: ['BatchNormalization'], convert: importBatchNorm },
  summary: 'Batch normalisation over the channel axis.',
  aliases: ['batchnorm2d', 'batchnorm1d', 'batchnormalization', 'batch_norm', 'batch_normalization', 'bn'],
  doc:
    'out = weight · (x − mean) / √(var + eps) + bias, per channel. `momentum` follows PyTorch: ' +
    'running = (1 − momentum) · running + momentum · batch (ONNX stores 1 − momentum; Keras calls it 0.9 → 0.1 here).',
  args: [
    { name: 'eps', type: 'number', default: 1e-5, above: 0, doc: 'added to the variance', aliases: ['epsilon'] },
    { name: 'momentum', type: 'number', default: 0.1, min: 0, max: 1, doc: 'running-statistics update rate (PyTorch convention)' },
  ],
  infer(raw, input, ctx) {
    if (input.length === 2) {
      ctx.error('E307', `batchnorm normalises the channels of an image or a vector, but its input is tokens ${formatShape(input)}; use \`layernorm\` on tokens`);
      return undefined;
    }
    return { args: { eps: raw.eps as number, momentum: raw.momentum as number, channels: input[0]! }, shape: [...input] };
  },
  weights: (a) => [
    { name: 'weight', shape: [a.channels], init: { kind: 'ones' }, trainable: true },
    { name: 'bias', shape: [a.channels], init: { kind: 'zeros' }, trainable: true },
    { name: 'running_mean', shape: [a.channels], init: { kind: 'zeros' }, trainable: false },
    { name: 'running_var', shape: [a.channels], init: { kind: 'ones' }, trainable: false },
  ],
  macs: () => 0,
  onnx: (a, g) =>
    g.node(
      'BatchNormalization',
      [g.input, g.weight('weight'), g.weight('bias'), g.weight('running_mean'), g.weight('running_var')],
      { epsilon: { f: a.eps }, momentum: { f: 1 - a.momentum } },
    ),
  // channels are the last axis in tfjs; Keras's momentum is the share kept, PyTorch's the share taken.
  // alexnetc's layer is tfjs-layers' BatchNormalization training on a fused kernel where there is one
  tfjs: (a, g) =>
    g.layer(
      'AlexnetcBatchNorm',
      { axis: -1, epsilon: a.eps, momentum: 1 - a.momentum },
      {
        weights: [
          { tfjs: 'gamma', from: 'weight', layout: 'same' },
          { tfjs: 'beta', from: 'bias', layout: 'same' },
          { tfjs: 'moving_mean', from: 'running_mean', layout: 'same' },
          { tfjs: 'moving_variance', from: 'running_var', layout: 'same' },
        ],
      },
    ),
  // PyTorch's momentum convention is alexnetc's; nn.BatchNorm*d also keeps num_batches_tracked (a buffer no alexnetc weight matches)
  torch: {
    body: py`
      norm = nn.BatchNorm2d if len(self.shape) == 3 else nn.BatchNorm1d
      module = norm(self.shape[0], eps=eps, momentum=momentum)
      return self.append("batchnorm", module, self.shape)
    `,
  },
}), { output: 'same', onnx: 'BatchNormalization' });

/** PyTorch's batch-norm momentum from ONNX's (1 − m), the shortest that alexnetc writes back identically. */
function torchMomentum(onnx: number): number {
  const target = Math.fround(onnx);
  for (let p = 1; p <= 17; p++) {
    const v = Number((1 - target).toPrecision(p));
    if (Math.fround(1 - v) === target) return v;
  }
  return 1 - target;
}

function importBatchNorm(c: ImportContext): ImportResult {
  if (c.int('training_mode', 0) !== 0) c.fail('is in training mode (training_mode=1); export the model in eval mode');
  c.onlyFirstOutput('a training statistic');
  const weights = [c.weight(1, 'weight'), c.weight(2, 'bias'), c.weight(3, 'running_mean'), c.weight(4, 'running_var')];
  const args = { eps: f32(c.float('epsilon', 1e-5)), momentum: torchMomentum(c.float('momentum', 0.9)) };
  return one(c, c.layer('batchnorm', args, weights));
}
