// The layer and construct cases every back end is checked on against
// onnxruntime (test/tfjs/layers.test.ts, test/torch/layers.test.ts): every
// layer of the catalogue, with argument combinations that stress what a
// target lacks (odd sizes, strides that do not divide, explicit / asymmetric
// / `same` padding, groups, dilation, ceil mode), and every construct.

/** [name, input, body]: each becomes `network T { input [...] body }`. */
export const CASES: [string, string, string][] = [
  // conv
  ['conv 3×3 odd image', '[3, 9, 11]', 'conv(4, 3)'],
  ['conv 1×1', '[5, 7, 6]', 'conv(3, 1)'],
  ['conv no bias', '[3, 8, 8]', 'conv(4, 3, bias false)'],
  ['conv rect kernel, stride [1,2], asymmetric pads', '[3, 19, 17]', 'conv(8, [3, 5], stride [1, 2], pad [1, 0, 2, 2])'],
  ['conv pad [h, w]', '[2, 9, 10]', 'conv(3, 3, pad [1, 2])'],
  ['conv pad same stride 2 (odd)', '[3, 9, 10]', 'conv(4, 3, stride 2, pad same)'],
  ['conv pad same 4×4 (extra pad at the end)', '[3, 10, 9]', 'conv(4, 4, pad same)'],
  ['conv stride 3 not dividing', '[3, 14, 13]', 'conv(5, 5, stride 3)'],
  ['conv stride 4 pad 2 (torchvision AlexNet)', '[3, 35, 33]', 'conv(6, 11, stride 4, pad 2)'],
  ['conv symmetric pad equal to same', '[4, 8, 8]', 'conv(4, 3, pad 1)'],
  ['conv dilation 2', '[3, 12, 11]', 'conv(4, 3, dilation 2, pad 2)'],
  ['conv dilation [2, 3]', '[3, 12, 13]', 'conv(4, 3, dilation [2, 3])'],
  ['conv dilation with stride', '[3, 13, 12]', 'conv(4, 3, dilation 2, stride 2, pad 1)'],
  ['conv groups 2', '[4, 9, 9]', 'conv(8, 3, groups 2, pad 1)'],
  ['conv groups 4, stride 2, asymmetric pads, no bias', '[8, 11, 10]', 'conv(12, 3, groups 4, stride 2, pad [0, 1, 1, 0], bias false)'],
  ['conv depthwise (groups = channels)', '[6, 7, 7]', 'conv(6, 3, groups 6, pad same)'],
  ['conv groups with dilation', '[4, 10, 10]', 'conv(4, 3, groups 2, dilation 2)'],
  // big enough for the fast kernels' Winograd paths (≥ 16 channels in and out, ≥ 6×6 outputs)
  ['conv 3×3 Winograd F(2×2), 13×12', '[16, 13, 12]', 'conv(20, 3, pad 1)'],
  ['conv 3×3 Winograd F(4×4), 18×17 (partial tiles), pads [0, 2, 2, 0]', '[20, 18, 17]', 'conv(16, 3, pad [0, 2, 2, 0])'],
  ['conv 5×5 Winograd F(2×2), 12×13', '[16, 12, 13]', 'conv(16, 5, pad 2)'],
  // maxpool / avgpool
  ...(['maxpool', 'avgpool'] as const).flatMap((p): [string, string, string][] => [
    [`${p} 2 on odd sizes (floor)`, '[3, 9, 11]', `${p}(2)`],
    [`${p} 3 stride 2`, '[3, 10, 9]', `${p}(3, 2)`],
    [`${p} 3 stride 2 pad 1 (not tf same)`, '[3, 12, 12]', `${p}(3, 2, pad 1)`],
    [`${p} 3 stride 1 pad 1 (tf same)`, '[3, 7, 8]', `${p}(3, 1, pad 1)`],
    [`${p} pad same`, '[3, 9, 10]', `${p}(3, 2, pad same)`],
    [`${p} ceil 3 stride 2`, '[3, 10, 10]', `${p}(3, 2, ceil true)`],
    [`${p} ceil 3 stride 2 odd`, '[3, 9, 12]', `${p}(3, 2, ceil true)`],
    [`${p} ceil 2 on 7×7`, '[2, 7, 7]', `${p}(2, ceil true)`],
    [`${p} ceil with pads`, '[3, 10, 11]', `${p}(3, 2, pad 1, ceil true)`],
    [`${p} rect window, asymmetric pads, ceil`, '[3, 9, 8]', `${p}([3, 2], stride [2, 1], pad [1, 0, 1, 1], ceil true)`],
    [`${p} 2 stride 1`, '[3, 5, 6]', `${p}(2, 1)`],
  ]),
  ['globalavgpool', '[5, 7, 3]', 'globalavgpool'],
  // lrn
  ['lrn default (size 5)', '[7, 5, 6]', 'lrn'],
  ['lrn AlexNet paper constants', '[8, 4, 4]', 'lrn(alpha 5e-4, bias 2)'],
  ['lrn size 3', '[6, 4, 5]', 'lrn(size 3, alpha 0.01, beta 0.5)'],
  ['lrn size 1', '[3, 4, 4]', 'lrn(size 1, alpha 0.5)'],
  ['lrn window wider than the channels', '[3, 4, 4]', 'lrn(size 7, alpha 0.3)'],
  // batchnorm (random statistics: see randomWeights)
  ['batchnorm on an image', '[6, 5, 7]', 'batchnorm'],
  ['batchnorm eps 1e-3', '[4, 3, 3]', 'batchnorm(eps 0.001, momentum 0.01)'],
  ['batchnorm on a vector', '[10]', 'batchnorm'],
  // dense, flatten, dropout
  ['dense', '[17]', 'dense(9)'],
  ['dense no bias', '[17]', 'dense(9, bias false)'],
  ['flatten (C, H, W order) then dense', '[3, 4, 5]', 'flatten | dense(7)'],
  ['flatten one channel', '[1, 4, 5]', 'flatten | dense(3)'],
  ['flatten 1×1 image', '[6, 1, 1]', 'flatten | dense(3)'],
  ['flatten a vector', '[6]', 'flatten | dense(3)'],
  ['flatten alone', '[3, 2, 5]', 'flatten'],
  ['dropout is the identity at inference', '[4, 5, 5]', 'dropout(0.3) | conv(2, 1)'],
  // activations
  ['relu', '[3, 5, 5]', 'conv(4, 1) | relu'],
  ['tanh', '[3, 5, 5]', 'conv(4, 1) | tanh'],
  ['sigmoid', '[3, 5, 5]', 'conv(4, 1) | sigmoid'],
  ['identity', '[3, 5, 5]', 'conv(4, 1) | identity'],
  ['leakyrelu', '[3, 5, 5]', 'conv(4, 1) | leakyrelu(alpha 0.2)'],
  ['softmax over channels of an image', '[3, 4, 5]', 'conv(6, 1) | softmax'],
  ['softmax on a vector', '[12]', 'dense(8) | softmax'],
  ['gelu (exact, erf)', '[3, 5, 7]', 'conv(5, 1) | gelu'],
  ['gelu approximate tanh on a vector', '[13]', 'dense(9) | gelu(approximate tanh)'],
  // layernorm (random weight and bias: see the back ends' weights)
  ['layernorm over the channels of an image', '[7, 5, 3]', 'conv(6, 1) | layernorm'],
  ['layernorm eps 1e-6 after a depthwise conv (ConvNeXt)', '[5, 9, 7]', 'conv(5, 7, pad 3, groups 5) | layernorm(eps 1e-6) | conv(11, 1) | gelu | conv(5, 1)'],
  ['layernorm on a vector', '[11]', 'dense(9) | layernorm | dense(4)'],
  // today's activations (conv outputs spread enough to reach every piece: below −3, 0..6, above 6)
  ['relu6', '[3, 6, 5]', 'conv(5, 3, pad 1) | relu6'],
  ['hardsigmoid', '[3, 5, 7]', 'conv(5, 3, pad 1) | hardsigmoid'],
  ['hardswish', '[3, 7, 5]', 'conv(5, 3, pad 1) | hardswish'],
  ['silu', '[3, 5, 5]', 'conv(6, 1) | silu'],
  ['silu on a vector', '[9]', 'dense(7) | silu'],
  ['elu', '[3, 5, 6]', 'conv(4, 1) | elu'],
  ['elu alpha 0.5 on a vector', '[10]', 'dense(6) | elu(0.5)'],
  ['prelu (a slope per channel)', '[3, 5, 5]', 'conv(6, 3, pad 1) | prelu'],
  ['prelu on a vector', '[12]', 'dense(7) | prelu | dense(3)'],
  ['softplus', '[3, 4, 6]', 'conv(5, 1) | softplus'],
  // today's CNNs' other layers
  ['avgpool countpad (Inception-v3)', '[3, 9, 10]', 'avgpool(3, 1, pad 1, countpad true)'],
  ['avgpool countpad, stride 2, asymmetric pads', '[3, 10, 9]', 'avgpool(3, 2, pad [1, 0, 1, 1], countpad true)'],
  ['avgpool countpad pad same', '[3, 8, 7]', 'avgpool(2, 2, pad same, countpad true)'],
  ['shuffle 2 groups (ShuffleNetV2)', '[6, 5, 4]', 'conv(8, 1) | shuffle(2)'],
  ['shuffle 3 groups', '[6, 3, 5]', 'conv(9, 1) | shuffle(3) | conv(4, 1)'],
  ['scale on an image (layer scale)', '[4, 5, 5]', 'conv(6, 1) | scale(1e-6)'],
  ['scale on a vector', '[8]', 'dense(5) | scale'],
  ['droppath is the identity at inference', '[4, 5, 5]', 'residual { conv(4, 3, pad 1) | droppath(0.2) }'],
  // constructs
  ['repeat', '[3, 8, 8]', 'repeat 3 { conv(3, 3, pad 1) | relu }'],
  ['residual, identity shortcut', '[4, 7, 7]', 'residual { conv(4, 3, pad 1) | batchnorm | relu | conv(4, 3, pad 1) } | relu'],
  [
    'residual with a projection shortcut',
    '[4, 9, 9]',
    'residual { conv(8, 3, stride 2, pad 1, bias false) | batchnorm } shortcut { conv(8, 1, stride 2, bias false) | batchnorm } | relu',
  ],
  [
    'concat (with an identity branch)',
    '[4, 9, 9]',
    'concat { branch { conv(2, 1) } branch { conv(3, 3, pad 1) | relu } branch { maxpool(3, 1, pad 1, ceil true) } branch { } } | conv(5, 1)',
  ],
  ['add of three branches', '[4, 6, 6]', 'add { branch { conv(4, 1) } branch { identity } branch { tanh } }'],
  [
    'nested constructs',
    '[4, 8, 8]',
    'residual { concat { branch { conv(2, 1) } branch { residual { conv(2, 3, pad 1) } shortcut { conv(2, 1) } } } } | flatten | dense(5) | softmax',
  ],
];
