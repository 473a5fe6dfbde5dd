// Sequences of tokens [T, D] (T tokens of D features, per example): the
// patch embedding's reshape from an image and back, the class token, the
// learned position embeddings, and the two ways a transformer's head reads a
// sequence (one token, or their mean). Attention is in ./attention.ts.
import { formatShape } from '../diagnostics/index.js';
import { py } from './python.js';
import { defineLayer, type LayerContext, type Shape } from './types.js';
import { documented } from './reference.js';

/** Tokens [T, D], or an error naming the layer and the shape it got. */
export function needTokens(input: Shape, ctx: LayerContext, layer: string): boolean {
  if (input.length !== 2) {
    const hint = input.length === 3 ? '; insert `tokens` to make an image [D, H, W] a sequence [H·W, D]' : '';
    ctx.error('E307', `${layer} needs tokens [T, D], but its input has shape ${formatShape(input)}${hint}`);
    return false;
  }
  return true;
}

export const tokens = documented(defineLayer<Record<string, never>>({
  name: 'tokens',
  kind: 'reshape',
  mixes: 'nothing',
  channels: () => ({ kind: 'mixes' }),
  onnxImport: { none: 'PyTorch writes flatten(2).transpose(1, 2) as Reshape and Transpose, a pattern the importer recognises as a whole (src/import/transformer.ts)' },
  summary: 'An image [D, H, W] as a sequence of H·W tokens of D features (after a patch embedding conv).',
  aliases: ['patches', 'to_tokens', 'sequence'],
  doc:
    'out[h·W + w, d] = x[d, h, w]: the tokens in row-major order of the grid, as torchvision\'s ViT writes ' +
    'x.reshape(n, D, H·W).permute(0, 2, 1) after its patch-embedding conv.',
  args: [],
  infer(_raw, input, ctx) {
    if (input.length !== 3) {
      ctx.error('E307', `tokens needs an image [D, H, W], but its input has shape ${formatShape(input)}`);
      return undefined;
    }
    return { args: {}, shape: [input[1]! * input[2]!, input[0]!] };
  },
  weights: () => [],
  macs: () => 0,
  onnx: (_a, g, input) => g.node('Transpose', [g.node('Reshape', [g.input, g.int64s([0, input[0]!, -1])])], { perm: { ints: [0, 2, 1] } }),
  // tfjs holds the image [H, W, D]: the rows of the grid in order are already the tokens
  tfjs: (_a, g, _input, output) => g.layer('Reshape', { targetShape: [...output] }),
  torch: {
    body: py`
      if len(self.shape) != 3:
          raise ValueError(f"tokens needs an image [D, H, W], but its input "
                           f"has shape {list(self.shape)}")
      d, h, w = self.shape
      return self.append("tokens", Tokens(), (h * w, d))
    `,
    classes: py`
      class Tokens(nn.Module):
          """An image [N, D, H, W] as tokens [N, H*W, D] (torchvision's ViT)."""

          def forward(self, x):
              return x.flatten(2).transpose(1, 2)
    `,
  },
}), { note: ': an image as a sequence (after a patch-embedding conv)', output: '`[D, H, W]` → `[H·W, D]`, row-major over the grid', onnx: 'Reshape, Transpose' });

export interface ImageArgs {
  h: number;
  w: number;
}

export const image = documented(defineLayer<ImageArgs>({
  name: 'image',
  kind: 'reshape',
  mixes: 'nothing',
  channels: () => ({ kind: 'mixes' }),
  onnxImport: { none: 'written Transpose and Reshape, a pattern the importer recognises as a whole' },
  summary: 'Tokens [h·w, D] back as an image [D, h, w] (hybrid networks).',
  aliases: ['unpatch', 'to_image', 'grid'],
  doc: 'out[d, i, j] = x[i·w + j, d]: the inverse of `tokens`. The number of tokens must be h·w.',
  args: [
    { name: 'h', type: 'int', min: 1, doc: 'rows of the grid', aliases: ['height'] },
    { name: 'w', type: 'int', min: 1, doc: 'columns of the grid', aliases: ['width'] },
  ],
  infer(raw, input, ctx) {
    if (!needTokens(input, ctx, 'image')) return undefined;
    const h = raw.h as number;
    const w = raw.w as number;
    if (h * w !== input[0]) {
      ctx.error('E309', `image(${h}, ${w}) makes a grid of ${h * w} tokens, but the input has ${input[0]} tokens (shape ${formatShape(input)})`, 'w');
      return undefined;
    }
    return { args: { h, w }, shape: [input[1]!, h, w] };
  },
  weights: () => [],
  macs: () => 0,
  onnx: (a, g, input) => g.node('Reshape', [g.node('Transpose', [g.input], { perm: { ints: [0, 2, 1] } }), g.int64s([0, input[1]!, a.h, a.w])]),
  tfjs: (a, g, input) => g.layer('Reshape', { targetShape: [a.h, a.w, input[1]!] }),
  torch: {
    uses: ['whole'],
    body: py`
      h, w = whole(h, "h"), whole(w, "w")
      if len(self.shape) != 2 or self.shape[0] != h * w:
          raise ValueError(f"image({h}, {w}) needs {h * w} tokens, but its "
                           f"input has shape {list(self.shape)}")
      return self.append("image", TokenImage(h, w), (self.shape[1], h, w))
    `,
    classes: py`
      class TokenImage(nn.Module):
          """Tokens [N, h*w, D] as an image [N, D, h, w]."""

          def __init__(self, h, w):
              super().__init__()
              self.h, self.w = h, w

          def forward(self, x):
              return x.transpose(1, 2).reshape(x.shape[0], -1, self.h, self.w)
    `,
  },
}), { note: ': tokens back as an image (hybrid networks); h·w must be T (E309)', output: '`[T, D]` → `[D, h, w]`', onnx: 'Transpose, Reshape' });

export interface FeaturesArgs {
  tokens: number;
  features: number;
}

export const classtoken = documented(defineLayer<FeaturesArgs>({
  name: 'classtoken',
  kind: 'reshape',
  mixes: 'nothing',
  channels: () => ({ kind: 'mixes' }),
  onnxImport: { none: 'written Expand and Concat of a learned [1, 1, D] tensor, a pattern the importer recognises as a whole' },
  summary: 'Prepends a learned class token: [T, D] → [T + 1, D].',
  aliases: ['cls', 'cls_token', 'class_token'],
  doc: 'out = concat([class_token, x]) along the tokens; class_token [1, 1, D] is learned (zeros at first, as torchvision\'s ViT).',
  args: [],
  infer(_raw, input, ctx) {
    if (!needTokens(input, ctx, 'classtoken')) return undefined;
    return { args: { tokens: input[0]!, features: input[1]! }, shape: [input[0]! + 1, input[1]!] };
  },
  weights: (a) => [{ name: 'class_token', shape: [1, 1, a.features], init: { kind: 'zeros' }, trainable: true }],
  macs: () => 0,
  onnx(_a, g) {
    // the class token broadcast to [N, 1, D]: Expand to the batch read off the input's shape
    const batch = g.node('Shape', [g.input], { start: { i: 0 }, end: { i: 1 } });
    const shape = g.node('Concat', [batch, g.int64s([1, 1])], { axis: { i: 0 } });
    const cls = g.node('Expand', [g.weight('class_token'), shape]);
    return g.node('Concat', [cls, g.input], { axis: { i: 1 } });
  },
  tfjs: (_a, g) => g.layer('AlexnetcClassToken', {}, { weights: [{ tfjs: 'class_token', from: 'class_token', layout: 'same' }] }),
  torch: {
    body: py`
      if len(self.shape) != 2:
          raise ValueError(f"classtoken needs tokens [T, D], but its input "
                           f"has shape {list(self.shape)}")
      t, d = self.shape
      return self.append("classtoken", ClassToken(d), (t + 1, d))
    `,
    classes: py`
      class ClassToken(nn.Module):
          """A learned token prepended to the sequence (torchvision's ViT)."""

          def __init__(self, features):
              super().__init__()
              self.class_token = nn.Parameter(torch.zeros(1, 1, features))

          def forward(self, x):
              cls = self.class_token.expand(x.shape[0], -1, -1)
              return torch.cat([cls, x], dim=1)
    `,
  },
}), { note: ': prepends a learned class token `class_token` [1, 1, D] (zeros at first)', output: '`[T, D]` → `[T+1, D]`', onnx: 'Shape, Concat, Expand, Concat' });

export const posembed = documented(defineLayer<FeaturesArgs>({
  name: 'posembed',
  kind: 'norm',
  mixes: 'nothing',
  channels: () => ({ kind: 'mixes' }),
  onnxImport: { none: 'written Add of a learned [1, T, D] tensor, which the importer recognises' },
  summary: 'Adds learned position embeddings, one D-vector per token.',
  aliases: ['pos_embedding', 'position_embedding', 'positional_embedding', 'pos_embed'],
  doc: 'out = x + pos_embedding with pos_embedding [1, T, D] learned (normal, std 0.02 at first, as torchvision\'s ViT).',
  args: [],
  infer(_raw, input, ctx) {
    if (!needTokens(input, ctx, 'posembed')) return undefined;
    return { args: { tokens: input[0]!, features: input[1]! }, shape: [...input] };
  },
  weights: (a) => [{ name: 'pos_embedding', shape: [1, a.tokens, a.features], init: { kind: 'normal', std: 0.02 }, trainable: true }],
  macs: () => 0,
  onnx: (_a, g) => g.node('Add', [g.input, g.weight('pos_embedding')]),
  tfjs: (_a, g) => g.layer('AlexnetcPositionEmbedding', {}, { weights: [{ tfjs: 'pos_embedding', from: 'pos_embedding', layout: 'same' }] }),
  torch: {
    body: py`
      if len(self.shape) != 2:
          raise ValueError(f"posembed needs tokens [T, D], but its input "
                           f"has shape {list(self.shape)}")
      module = PositionEmbedding(*self.shape)
      return self.append("posembed", module, self.shape)
    `,
    classes: py`
      class PositionEmbedding(nn.Module):
          """Learned position embeddings added to the tokens (torchvision's ViT)."""

          def __init__(self, tokens, features):
              super().__init__()
              self.pos_embedding = nn.Parameter(
                  torch.empty(1, tokens, features).normal_(std=0.02))

          def forward(self, x):
              return x + self.pos_embedding
    `,
  },
}), { note: ': adds learned position embeddings `pos_embedding` [1, T, D] (normal, std 0.02 at first, as torchvision)', output: 'same', onnx: 'Add' });

export interface TokenArgs {
  index: number;
}

export const token = documented(defineLayer<TokenArgs>({
  name: 'token',
  kind: 'reshape',
  mixes: 'nothing',
  channels: () => ({ kind: 'mixes' }),
  positional: 1,
  onnxImport: { none: 'written Gather of one index along the tokens, which the importer recognises' },
  summary: 'One token\'s features: [T, D] → [D] (the class token: `token(0)`).',
  aliases: ['select', 'pick', 'cls_select'],
  doc: 'out = x[index], as torchvision\'s ViT reads x[:, 0] for its head.',
  args: [{ name: 'index', type: 'int', default: 0, min: 0, doc: 'which token (0: the first, the class token)' }],
  infer(raw, input, ctx) {
    if (!needTokens(input, ctx, 'token')) return undefined;
    const index = raw.index as number;
    if (index >= input[0]!) {
      ctx.error('E309', `token(${index}) reads past the last of ${input[0]} tokens (shape ${formatShape(input)})`, 'index');
      return undefined;
    }
    return { args: { index }, shape: [input[1]!] };
  },
  weights: () => [],
  macs: () => 0,
  onnx: (a, g) =>
    g.node('Squeeze', [g.node('Slice', [g.input, g.int64s([a.index]), g.int64s([a.index + 1]), g.int64s([1])]), g.int64s([1])]),
  tfjs: (a, g) => g.layer('AlexnetcToken', { index: a.index }),
  torch: {
    uses: ['whole'],
    body: py`
      index = whole(index, "index")
      if len(self.shape) != 2 or not 0 <= index < self.shape[0]:
          raise ValueError(f"token({index}) needs tokens [T, D] with "
                           f"T > {index}, but its input has shape "
                           f"{list(self.shape)}")
      return self.append("token", Token(index), (self.shape[1],))
    `,
    classes: py`
      class Token(nn.Module):
          """One token's features: [N, T, D] -> [N, D]."""

          def __init__(self, index):
              super().__init__()
              self.index = index

          def forward(self, x):
              return x[:, self.index]
    `,
  },
}), { note: ': one token\'s features (`token(0)`: the class token)', output: '`[T, D]` → `[D]`', onnx: 'Slice, Squeeze' });

export const avgtokens = documented(defineLayer<Record<string, never>>({
  name: 'avgtokens',
  kind: 'pool',
  mixes: 'space',
  channels: () => ({ kind: 'mixes' }),
  onnxImport: { none: 'written ReduceMean over axis 1 of a sequence, which the importer recognises' },
  summary: 'The mean of the tokens: [T, D] → [D].',
  aliases: ['meantokens', 'tokenmean', 'avgpool1d', 'globalaveragepooling1d'],
  doc: 'out[d] = (1/T) Σ_t x[t, d]: a sequence\'s global average pool (for heads without a class token).',
  args: [],
  infer(_raw, input, ctx) {
    if (!needTokens(input, ctx, 'avgtokens')) return undefined;
    return { args: {}, shape: [input[1]!] };
  },
  weights: () => [],
  macs: () => 0,
  onnx: (_a, g) => g.node('ReduceMean', [g.input], { axes: { ints: [1] }, keepdims: { i: 0 } }),
  tfjs: (_a, g) => g.layer('GlobalAveragePooling1D', {}),
  torch: {
    body: py`
      if len(self.shape) != 2:
          raise ValueError(f"avgtokens needs tokens [T, D], but its input "
                           f"has shape {list(self.shape)}")
      return self.append("avgtokens", TokenMean(), (self.shape[1],))
    `,
    classes: py`
      class TokenMean(nn.Module):
          """The mean of the tokens: [N, T, D] -> [N, D]."""

          def forward(self, x):
              return x.mean(dim=1)
    `,
  },
}), { note: ': the mean over the tokens', output: '`[T, D]` → `[D]`', onnx: 'ReduceMean (axis 1)' });
