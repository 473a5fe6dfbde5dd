import { formatShape } from '../diagnostics/index.js';
import { f32, one } from './onnx-import.js';
import { py } from './python.js';
import { defineLayer, type ImportContext, type ImportResult, type ImportWeight, type Shape } from './types.js';
import { documented } from './reference.js';

export interface LayerNormArgs {
  eps: number;
  /** the size of the normalised axis */
  features: number;
  /** an image [C, H, W]: normalised over the channels at each position */
  image: boolean;
}

/**
 * The axis a layer norm normalises: an image's channels at each position
 * (ConvNeXt's LayerNorm2d), otherwise the last axis (a vector's features; a
 * sequence's features per token, as nn.LayerNorm does).
 */
export function normalisedSize(input: Shape): number {
  return input.length === 3 ? input[0]! : input[input.length - 1]!;
}

export const layernorm = documented(defineLayer<LayerNormArgs>({
  name: 'layernorm',
  kind: 'norm',
  mixes: 'channels',
  channels: () => ({ kind: 'mixes' }),
  onnxImport: { ops: ['LayerNormalization', 'Transpose'], convert: importLayerNorm },
  summary: 'Layer normalisation over the features: an image\'s channels at each position, each token\'s features, a vector\'s features.',
  aliases: ['layernorm2d', 'layer_norm', 'layernormalization', 'layer_normalization', 'ln'],
  doc:
    'out = weight · (x − mean) / √(var + eps) + bias, the mean and (biased) variance taken over the ' +
    'features of each example: over C at every position of an image [C, H, W] (ConvNeXt\'s LayerNorm2d, ' +
    'nn.LayerNorm on channels-last), over D for each token of a sequence [T, D], over F for a vector [F]. weight and bias are learned, one per feature.',
  args: [{ name: 'eps', type: 'number', default: 1e-5, above: 0, doc: 'added to the variance', aliases: ['epsilon'] }],
  infer(raw, input, ctx) {
    if (input.length < 1 || input.length > 3) {
      ctx.error('E307', `layernorm needs an image [C, H, W], tokens [T, D] or a vector [F], but its input has shape ${formatShape(input)}`);
      return undefined;
    }
    return { args: { eps: raw.eps as number, features: normalisedSize(input), image: input.length === 3 }, shape: [...input] };
  },
  weights: (a) => [
    { name: 'weight', shape: [a.features], init: { kind: 'ones' }, trainable: true },
    { name: 'bias', shape: [a.features], init: { kind: 'zeros' }, trainable: true },
  ],
  macs: () => 0,
  // LayerNormalization (opset 17) normalises the axes from `axis` on: an NCHW image goes channels-last
  // around it, as PyTorch exports LayerNorm2d
  onnx(a, g) {
    const ln = (x: string): string => g.node('LayerNormalization', [x, g.weight('weight'), g.weight('bias')], { axis: { i: -1 }, epsilon: { f: a.eps } });
    if (!a.image) return ln(g.input);
    const last = g.node('Transpose', [g.input], { perm: { ints: [0, 2, 3, 1] } });
    return g.node('Transpose', [ln(last)], { perm: { ints: [0, 3, 1, 2] } });
  },
  // tfjs images are channels-last: the channels are the last axis for images, tokens and vectors alike.
  // alexnetc's layer is tfjs-layers' LayerNormalization without its tiling (see AlexnetcLayerNorm)
  tfjs: (a, g) =>
    g.layer(
      'AlexnetcLayerNorm',
      { epsilon: a.eps },
      {
        weights: [
          { tfjs: 'gamma', from: 'weight', layout: 'same' },
          { tfjs: 'beta', from: 'bias', layout: 'same' },
        ],
      },
    ),
  torch: {
    body: py`
      if len(self.shape) == 3:
          module = LayerNorm2d(self.shape[0], eps=eps)
      else:
          module = nn.LayerNorm(self.shape[-1], eps=eps)
      return self.append("layernorm", module, self.shape)
    `,
    classes: py`
      class LayerNorm2d(nn.LayerNorm):
          """nn.LayerNorm over the channels of an NCHW image at each position
          (torchvision's ConvNeXt LayerNorm2d)."""

          def forward(self, x):
              x = x.permute(0, 2, 3, 1)
              x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias,
                               self.eps)
              return x.permute(0, 3, 1, 2)
    `,
  },
}), { note: ', learned weight and bias per feature', output: 'same; normalised over C at each position of an image (ConvNeXt\'s LayerNorm2d), over D of each token, over F of a vector', onnx: 'LayerNormalization (axis −1; an image goes channels-last around it with two Transposes)' });

function normWeights(c: ImportContext, features: number): ImportWeight[] {
  const scale = c.weight(1, 'weight');
  const bias = c.hasInput(2) ? c.weight(2, 'bias') : { name: 'bias', dims: [features], values: new Float32Array(features) };
  return [scale, bias];
}

/** LayerNormalization over the last axis of a vector, or Transpose → LayerNormalization → Transpose over an image's channels (LayerNorm2d). */
function importLayerNorm(c: ImportContext): ImportResult {
  const lnAttrs = (ln: ImportContext, rank: number): number => {
    const axis = ln.int('axis', -1);
    if (axis !== -1 && axis !== rank - 1) ln.fail(`normalises from axis ${axis} of a rank-${rank} tensor; alexnetc's layernorm normalises one axis, the features`);
    if (ln.int('stash_type', 1) !== 1) ln.fail('computes its statistics in another precision (stash_type)');
    ln.onlyFirstOutput('a statistic');
    return f32(ln.float('epsilon', 1e-5));
  };
  if (c.node.op === 'LayerNormalization') {
    if (c.inShape.length !== 1 && c.inShape.length !== 2) c.fail(`normalises a [N, ${c.inShape.join(', ')}] tensor over its last axis; alexnetc's layernorm normalises an image's channels (written Transpose, LayerNormalization, Transpose), each token's features or a vector's features`);
    const eps = lnAttrs(c, c.inShape.length + 1);
    return one(c, c.layer('layernorm', { eps }, normWeights(c, c.inShape[c.inShape.length - 1]!)));
  }
  // Transpose to channels-last, normalise the last axis, and back
  const perm = c.ints('perm') ?? [];
  const ln = c.next();
  const ctxLn = ln ? c.at(ln) : undefined;
  const back = ctxLn?.next();
  const isPerm = (p: readonly number[] | undefined, want: number[]): boolean => p !== undefined && p.length === want.length && p.every((x, i) => x === want[i]);
  if (
    c.inShape.length !== 3 ||
    !isPerm(perm, [0, 2, 3, 1]) ||
    ln?.op !== 'LayerNormalization' ||
    ln.inputs[0] !== c.node.outputs[0] ||
    back?.op !== 'Transpose' ||
    back.inputs[0] !== ln.outputs[0] ||
    !isPerm(c.at(back).ints('perm'), [0, 3, 1, 2])
  ) {
    c.fail(`transposes [N, ${c.inShape.join(', ')}] by [${perm.join(', ')}]; alexnetc reads a Transpose only as channels-last around a LayerNormalization and back (a layer norm over an image's channels)`);
  }
  const eps = lnAttrs(ctxLn!, 4);
  const weights = normWeights(ctxLn!, c.inShape[0]!);
  return { layers: [c.layer('layernorm', { eps }, weights, [c.node, ln!, back!])], out: back!.outputs[0]! };
}
