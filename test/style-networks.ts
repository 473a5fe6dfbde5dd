// Small networks in the style of the classic families, shared by the tests
// that train them two ways and compare (test/train/compiled.test.ts: the
// compiled step against tfjs's autodiff; test/kernels/training.test.ts: the
// fast kernels against tfjs's stock ones). Odd input sizes on purpose.

/** Dropout after the flatten (and between the VGG-style dense layers): the kernel tests train with it, the compiled step's parity without. */
export interface StyleOptions { dropout?: boolean }

/** ResNet-style: batch norm, max pooling with padding, a strided projection shortcut, global average pooling. */
export function resnetStyle({ dropout = false }: StyleOptions = {}): string {
  return `
block basic(c) {
  residual { conv(c, 3, pad 1, bias false) | batchnorm | relu | conv(c, 3, pad 1, bias false) | batchnorm }
  relu
}
block down(c) {
  residual { conv(c, 3, stride 2, pad 1, bias false) | batchnorm | relu | conv(c, 3, pad 1, bias false) | batchnorm }
  shortcut { conv(c, 1, stride 2, bias false) | batchnorm }
  relu
}
network ResNetStyle {
  input [3, 29, 27]
  conv(8, 7, stride 2, pad 3, bias false) | batchnorm | relu | maxpool(3, 2, pad 1)
  basic(8) | down(16) | basic(16)
  globalavgpool | flatten |${dropout ? ' dropout(0.2) |' : ''} dense(10)
}`;
}

/** VGG-style: max pooling with ceil mode, explicit asymmetric conv padding, dense layers after an image's flatten. */
export function vggStyle({ dropout = false }: StyleOptions = {}): string {
  const drop = dropout ? ' dropout(0.5) |' : '';
  return `
network VGGStyle {
  input [3, 24, 26]
  conv(16, 3, pad 1) | relu | conv(16, 3, pad 1, bias false) | batchnorm | relu | maxpool(2)
  conv(16, 3, pad 1, bias false) | batchnorm | relu | conv(16, 3, pad 1) | relu | maxpool(2, ceil true)
  conv(24, 3, pad [1, 0, 1, 2]) | relu | maxpool(3, 2, ceil true)
  flatten | dense(32) | relu |${drop} dense(32) | ${dropout ? 'relu |' + drop : 'sigmoid |'} dense(10) | softmax
}`;
}
