// Multi-head self-attention over tokens [T, D], in nn.MultiheadAttention's
// layout: one packed input projection in_proj_weight [3D, D] (q, k, v
// stacked) with in_proj_bias [3D], and the output projection out_proj.
import { formatShape } from '../diagnostics/index.js';
import { py } from './python.js';
import { needTokens } from './tokens.js';
import { defineLayer } from './types.js';
import { documented } from './reference.js';

export interface AttentionArgs {
  heads: number;
  dropout: number;
  bias: boolean;
  tokens: number;
  features: number;
}

/**
 * Multiply-accumulates of one example: the q, k, v projections (3·T·D²), the
 * scores q·kᵀ of every head (T²·D in all), the weighted sum of the values
 * (T²·D) and the output projection (T·D²). Softmax, scaling and biases are
 * not counted, as for the other layers.
 */
export function attentionMacs(t: number, d: number): number {
  return 4 * t * d * d + 2 * t * t * d;
}

export const attention = documented(defineLayer<AttentionArgs>({
  name: 'attention',
  kind: 'dense',
  mixes: 'both',
  channels: () => ({ kind: 'mixes' }),
  positional: 1,
  onnxImport: { none: 'PyTorch writes attention as MatMul, Softmax, Reshape and Transpose chains, a pattern the importer recognises as a whole' },
  summary: 'Multi-head self-attention over tokens [T, D] (nn.MultiheadAttention).',
  aliases: ['multiheadattention', 'multihead_attention', 'mha', 'self_attention', 'selfattention'],
  doc:
    'q, k, v = x·Wqᵀ + bq, x·Wkᵀ + bk, x·Wvᵀ + bv (in_proj_weight [3D, D] stacks Wq, Wk, Wv); each of the ' +
    '`heads` heads attends with its D/heads features: softmax(q·kᵀ / √(D/heads)) · v, dropout on the attention ' +
    'weights in training; the heads joined, out = ·out_projᵀ + bias. As nn.MultiheadAttention(D, heads, ' +
    'batch_first=True) called as self-attention (torchvision\'s ViT).',
  args: [
    { name: 'heads', type: 'int', min: 1, doc: 'attention heads; they must divide the features D', aliases: ['num_heads', 'nhead', 'n_heads'] },
    { name: 'dropout', type: 'number', default: 0, min: 0, below: 1, doc: 'dropout on the attention weights in training', aliases: ['attention_dropout', 'attn_drop', 'rate'] },
    { name: 'bias', type: 'bool', default: true, doc: 'learned biases of the projections', aliases: ['use_bias'] },
  ],
  infer(raw, input, ctx) {
    if (!needTokens(input, ctx, 'attention')) return undefined;
    const heads = raw.heads as number;
    const [t, d] = input as [number, number];
    if (d % heads !== 0) {
      ctx.error('E309', `attention's ${heads} heads must divide the ${d} features of its input ${formatShape(input)} (${d} / ${heads} is not whole)`, 'heads');
      return undefined;
    }
    return { args: { heads, dropout: raw.dropout as number, bias: raw.bias as boolean, tokens: t, features: d }, shape: [...input] };
  },
  // nn.MultiheadAttention: xavier_uniform_ on the packed [3D, D] (limit √(6 / (D + 3D))), the output like nn.Linear
  weights(a) {
    const d = a.features;
    return [
      { name: 'in_proj_weight', shape: [3 * d, d], init: { kind: 'he_uniform', fanIn: 4 * d }, trainable: true },
      ...(a.bias ? [{ name: 'in_proj_bias', shape: [3 * d], init: { kind: 'zeros' as const }, trainable: true }] : []),
      { name: 'out_proj.weight', shape: [d, d], init: { kind: 'he_uniform', fanIn: d }, trainable: true },
      ...(a.bias ? [{ name: 'out_proj.bias', shape: [d], init: { kind: 'zeros' as const }, trainable: true }] : []),
    ];
  },
  macs: (a) => attentionMacs(a.tokens, a.features),
  onnx(a, g) {
    const d = a.features;
    const dh = d / a.heads;
    const linear = (x: string, w: string, b: string | undefined): string => {
      const y = g.node('MatMul', [x, g.node('Transpose', [g.weight(w)], { perm: { ints: [1, 0] } })]);
      return b ? g.node('Add', [y, g.weight(b)]) : y;
    };
    const qkv = linear(g.input, 'in_proj_weight', a.bias ? 'in_proj_bias' : undefined);
    // one head's features per slice: [N, T, D] → [N, heads, T, D/heads]
    const part = (i: number, perm: number[]): string => {
      const s = g.node('Slice', [qkv, g.int64s([i * d]), g.int64s([(i + 1) * d]), g.int64s([2])]);
      return g.node('Transpose', [g.node('Reshape', [s, g.int64s([0, 0, a.heads, dh])])], { perm: { ints: perm } });
    };
    const q = g.node('Mul', [part(0, [0, 2, 1, 3]), g.constant(1 / Math.sqrt(dh))]);
    const kT = part(1, [0, 2, 3, 1]);
    const v = part(2, [0, 2, 1, 3]);
    const weights = g.node('Softmax', [g.node('MatMul', [q, kT])], { axis: { i: -1 } });
    const heads = g.node('Transpose', [g.node('MatMul', [weights, v])], { perm: { ints: [0, 2, 1, 3] } });
    const joined = g.node('Reshape', [heads, g.int64s([0, 0, d])]);
    return linear(joined, 'out_proj.weight', a.bias ? 'out_proj.bias' : undefined);
  },
  tfjs: (a, g) =>
    g.layer(
      'AlexnetcAttention',
      { heads: a.heads, dropout: a.dropout, useBias: a.bias },
      {
        weights: [
          { tfjs: 'in_proj_kernel', from: 'in_proj_weight', layout: 'oi' },
          ...(a.bias ? [{ tfjs: 'in_proj_bias', from: 'in_proj_bias', layout: 'same' as const }] : []),
          { tfjs: 'out_proj_kernel', from: 'out_proj.weight', layout: 'oi' },
          ...(a.bias ? [{ tfjs: 'out_proj_bias', from: 'out_proj.bias', layout: 'same' as const }] : []),
        ],
      },
    ),
  torch: {
    uses: ['whole'],
    body: py`
      heads = whole(heads, "heads")
      if len(self.shape) != 2 or self.shape[1] % heads:
          raise ValueError(f"attention({heads}) needs tokens [T, D] with D "
                           f"divisible by {heads}, but its input has shape "
                           f"{list(self.shape)}")
      module = SelfAttention(self.shape[1], heads, dropout=dropout,
                             bias=bias)
      return self.append("attention", module, self.shape)
    `,
    classes: py`
      class SelfAttention(nn.MultiheadAttention):
          """nn.MultiheadAttention on [N, T, D] tokens as self-attention (the
          same state_dict names: in_proj_weight, in_proj_bias, out_proj)."""

          def __init__(self, features, heads, dropout=0.0, bias=True):
              super().__init__(features, heads, dropout=dropout, bias=bias,
                               batch_first=True)

          def forward(self, x):
              return super().forward(x, x, x, need_weights=False)[0]
    `,
  },
}), { note: ': multi-head self-attention, nn.MultiheadAttention\'s weights (`in_proj_weight` [3D, D], `in_proj_bias`, `out_proj.weight`, `out_proj.bias`); `dropout` on the attention weights in training; heads must divide D (E309)', output: 'same `[T, D]`', onnx: 'MatMul, Slice, Reshape, Transpose, Mul, Softmax (axis −1), MatMul, Add' });
