import { formatShape } from '../diagnostics/index.js';
import { py } from './python.js';
import { defineLayer, type TfjsWeight, type WeightSpec } from './types.js';

export interface DenseArgs {
  units: number;
  bias: boolean;
  inFeatures: number;
}

export const dense = defineLayer<DenseArgs>({
  name: 'dense',
  summary: 'Fully connected layer on a vector [F].',
  aliases: ['linear', 'fc', 'gemm', 'fully_connected', 'innerproduct'],
  doc: 'out = W · x + b with W of shape [units, F] (PyTorch nn.Linear layout; ONNX Gemm with transB = 1).',
  args: [
    { name: 'units', type: 'int', min: 1, doc: 'output features', aliases: ['out_features', 'filters', 'output_dim', 'features'] },
    { name: 'bias', type: 'bool', default: true, doc: 'add a learned bias', aliases: ['use_bias'] },
  ],
  infer(raw, input, ctx) {
    if (input.length !== 1) {
      ctx.error('E303', `dense needs a vector input [F], but its input has shape ${formatShape(input)}; insert \`flatten\` before it`);
      return undefined;
    }
    const units = raw.units as number;
    return { args: { units, bias: raw.bias as boolean, inFeatures: input[0]! }, shape: [units] };
  },
  weights(a) {
    const w: WeightSpec[] = [
      { name: 'weight', shape: [a.units, a.inFeatures], init: { kind: 'he_uniform', fanIn: a.inFeatures }, trainable: true },
    ];
    if (a.bias) w.push({ name: 'bias', shape: [a.units], init: { kind: 'zeros' }, trainable: true });
    return w;
  },
  macs: (a) => a.units * a.inFeatures,
  onnx(a, g) {
    const inputs = [g.input, g.weight('weight')];
    if (a.bias) inputs.push(g.weight('bias'));
    return g.node('Gemm', inputs, { transB: { i: 1 } });
  },
  tfjs(a, g) {
    const weights: TfjsWeight[] = [{ tfjs: 'kernel', from: 'weight', layout: 'oi' }];
    if (a.bias) weights.push({ tfjs: 'bias', from: 'bias', layout: 'same' });
    return g.layer('Dense', { units: a.units, useBias: a.bias, kernelInitializer: 'zeros' }, { weights });
  },
  torch: {
    uses: ['whole', 'he_uniform'],
    body: py`
      if len(self.shape) != 1:
          raise ValueError(f"dense needs a vector input [F], but its input "
                           f"has shape {list(self.shape)}; insert flatten")
      units = whole(units, "units")
      linear = nn.Linear(self.shape[0], units, bias=bias)
      return self.append("dense", he_uniform(linear), (units,))
    `,
  },
});
