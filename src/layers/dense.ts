import { formatShape } from '../diagnostics/index.js';
import { one } from './onnx-import.js';
import { py } from './python.js';
import { defineLayer, type ImportContext, type ImportResult, type ImportWeight, type OnnxNodeView, type TfjsWeight, type WeightSpec } from './types.js';
import { documented } from './reference.js';

export interface DenseArgs {
  units: number;
  bias: boolean;
  inFeatures: number;
  /** applied to each of this many tokens [T, F] (the last axis, as nn.Linear); 0 for a vector */
  tokens: number;
}

export const dense = documented(defineLayer<DenseArgs>({
  name: 'dense',
  kind: 'dense',
  mixes: 'both',
  // on tokens the features are the last axis, which structured pruning does not follow
  channels: (a) => (a.tokens ? { kind: 'mixes' } : { kind: 'new', groups: 1, inputs: ['weight'], width: 'units' }),
  onnxImport: { ops: ['Gemm', 'MatMul'], convert: (c) => (c.node.op === 'Gemm' ? importGemm(c) : importMatMul(c)) },
  summary: 'Fully connected layer on a vector [F], or on each token of a sequence [T, F].',
  aliases: ['linear', 'fc', 'gemm', 'fully_connected', 'innerproduct'],
  doc: 'out = W · x + b with W of shape [units, F] (PyTorch nn.Linear layout; ONNX Gemm with transB = 1). On tokens [T, F] it applies to each token (the last axis, as nn.Linear): [T, units].',
  args: [
    { name: 'units', type: 'int', min: 1, doc: 'output features', aliases: ['out_features', 'filters', 'output_dim', 'features'] },
    { name: 'bias', type: 'bool', default: true, doc: 'add a learned bias', aliases: ['use_bias'] },
  ],
  infer(raw, input, ctx) {
    if (input.length !== 1 && input.length !== 2) {
      ctx.error('E303', `dense needs a vector input [F] (or tokens [T, F]), but its input has shape ${formatShape(input)}; insert \`flatten\` before it`);
      return undefined;
    }
    const units = raw.units as number;
    const tokens = input.length === 2 ? input[0]! : 0;
    return { args: { units, bias: raw.bias as boolean, inFeatures: input[input.length - 1]!, tokens }, shape: tokens ? [tokens, units] : [units] };
  },
  weights(a) {
    const w: WeightSpec[] = [
      { name: 'weight', shape: [a.units, a.inFeatures], init: { kind: 'he_uniform', fanIn: a.inFeatures }, trainable: true },
    ];
    if (a.bias) w.push({ name: 'bias', shape: [a.units], init: { kind: 'zeros' }, trainable: true });
    return w;
  },
  macs: (a) => Math.max(a.tokens, 1) * a.units * a.inFeatures,
  onnx(a, g) {
    if (a.tokens) {
      // Gemm is 2-D: tokens [N, T, F] take MatMul by Wᵀ (a Transpose node keeps the initializer canonical)
      const y = g.node('MatMul', [g.input, g.node('Transpose', [g.weight('weight')], { perm: { ints: [1, 0] } })]);
      return a.bias ? g.node('Add', [y, g.weight('bias')]) : y;
    }
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
      if len(self.shape) not in (1, 2):
          raise ValueError(f"dense needs a vector input [F] or tokens "
                           f"[T, F], but its input has shape "
                           f"{list(self.shape)}; insert flatten")
      units = whole(units, "units")
      linear = nn.Linear(self.shape[-1], units, bias=bias)
      shape = (*self.shape[:-1], units)
      return self.append("dense", he_uniform(linear), shape)
    `,
  },
}), { note: ' on a vector (or each token)', output: '`[units]` (`[T, units]`)', onnx: 'Gemm (transB 1); MatMul, Add on tokens' });

function denseOf(c: ImportContext, w: ImportWeight, b: ImportWeight | undefined, out: string, nodes: OnnxNodeView[]): ImportResult {
  if (c.inShape.length !== 1 && !(c.inShape.length === 2 && c.node.op === 'MatMul')) c.fail(`multiplies a [N, ${c.inShape.join(', ')}] tensor; alexnetc's dense takes vectors (and tokens, by MatMul)`);
  const weights = b ? [w, b] : [w];
  return one(c, c.layer('dense', { units: w.dims[0]!, bias: b !== undefined }, weights, nodes), out);
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
function biasVector(c: ImportContext, b: ImportWeight, units: number): ImportWeight {
  const size = b.values.length;
  const okDims = b.dims.length <= 2 && (size === units || size === 1) && (b.dims.length < 2 || b.dims[0] === 1);
  if (!okDims) c.fail(`adds a bias of shape [${b.dims.join(', ')}] to [N, ${units}]`);
  return { name: 'bias', dims: [units], values: size === units ? b.values : new Float32Array(units).fill(b.values[0]!) };
}

function importGemm(c: ImportContext): ImportResult {
  if (c.int('transA', 0) !== 0) c.fail('transposes its data input (transA=1)');
  let w = c.weight(1, 'weight');
  if (w.dims.length !== 2) c.fail(`has a weight of shape [${w.dims.join(', ')}]`);
  if (c.int('transB', 0) === 0) w = transpose(w);
  w = scaled(w, c.float('alpha', 1));
  const b = c.hasInput(2) ? biasVector(c, scaled(c.weight(2, 'bias'), c.float('beta', 1)), w.dims[0]!) : undefined;
  return denseOf(c, w, b, c.node.outputs[0]!, [c.node]);
}

/** MatMul by a constant [in, units], and the Add of a constant bias after it when there is one. */
function importMatMul(c: ImportContext): ImportResult {
  const wIn = c.weight(1, 'weight');
  if (wIn.dims.length !== 2) c.fail(`multiplies by a tensor of shape [${wIn.dims.join(', ')}]; alexnetc's dense needs a matrix`);
  const w = transpose(wIn);
  const add = c.next();
  if (add && add.op === 'Add') {
    const other = add.inputs[1 - add.inputs.indexOf(c.node.outputs[0]!)]!;
    if (!c.isData(other)) {
      const a = c.at(add);
      const b = biasVector(a, a.weight(add.inputs.indexOf(other), 'bias'), w.dims[0]!);
      return denseOf(c, w, b, add.outputs[0]!, [c.node, add]);
    }
  }
  return denseOf(c, w, undefined, c.node.outputs[0]!, [c.node]);
}
