// Layers of other frameworks that alexnetc's catalogue does not have. An
// unknown name found here is answered with "not in alexnetc's catalogue"
// instead of a spelling suggestion: `mish` is one edit from nothing useful,
// and `selu` one edit from `elu` and `relu`, which are different functions a
// quick fix would silently swap in. A real layer (or one of its aliases) of
// the same name always wins, so a layer added to the catalogue needs no
// change here (delete its line when convenient). A foreign name for the
// same function as an alexnetc layer is that layer's alias, declared in its
// file (`swish` → silu), not listed here.

export interface ForeignLayer {
  /** where the name comes from, for the message */
  from: string;
}

/** name (lower case, as written in PyTorch, Keras or ONNX) → what it is */
export const FOREIGN_LAYERS: Readonly<Record<string, ForeignLayer>> = {
  // activations
  mish: { from: 'PyTorch nn.Mish' },
  selu: { from: 'PyTorch nn.SELU, Keras' },
  celu: { from: 'PyTorch nn.CELU, ONNX Celu' },
  glu: { from: 'PyTorch nn.GLU' },
  softsign: { from: 'PyTorch nn.Softsign, Keras, ONNX' },
  softmin: { from: 'PyTorch nn.Softmin' },
  logsoftmax: { from: 'PyTorch nn.LogSoftmax, ONNX' },
  log_softmax: { from: 'PyTorch F.log_softmax' },
  logsigmoid: { from: 'PyTorch nn.LogSigmoid' },
  tanhshrink: { from: 'PyTorch nn.Tanhshrink' },
  hardtanh: { from: 'PyTorch nn.Hardtanh' },
  hardshrink: { from: 'PyTorch nn.Hardshrink, ONNX' },
  softshrink: { from: 'PyTorch nn.Softshrink, ONNX' },
  threshold: { from: 'PyTorch nn.Threshold' },
  thresholdedrelu: { from: 'ONNX ThresholdedRelu, Keras' },
  rrelu: { from: 'PyTorch nn.RReLU' },
  // recurrent, attention, embeddings
  lstm: { from: 'PyTorch nn.LSTM, Keras, ONNX' },
  gru: { from: 'PyTorch nn.GRU, Keras, ONNX' },
  rnn: { from: 'PyTorch nn.RNN, ONNX' },
  embedding: { from: 'PyTorch nn.Embedding, Keras' },
  attention: { from: 'Keras Attention, ONNX Attention' },
  multiheadattention: { from: 'PyTorch nn.MultiheadAttention, Keras' },
  transformer: { from: 'PyTorch nn.Transformer' },
  // convolutions, resampling
  conv1d: { from: 'PyTorch nn.Conv1d, Keras' },
  conv3d: { from: 'PyTorch nn.Conv3d, Keras' },
  convtranspose: { from: 'ONNX ConvTranspose' },
  convtranspose2d: { from: 'PyTorch nn.ConvTranspose2d' },
  conv2dtranspose: { from: 'Keras Conv2DTranspose' },
  deconv: { from: 'Caffe Deconvolution' },
  deconvolution: { from: 'Caffe Deconvolution' },
  separableconv2d: { from: 'Keras SeparableConv2D (write conv(c, k, groups c) | conv(f, 1))' },
  depthwiseconv2d: { from: 'Keras DepthwiseConv2D (write conv(c, k, groups c))' },
  upsample: { from: 'PyTorch nn.Upsample, ONNX' },
  upsampling2d: { from: 'Keras UpSampling2D' },
  interpolate: { from: 'PyTorch F.interpolate' },
  resize: { from: 'ONNX Resize' },
  pixelshuffle: { from: 'PyTorch nn.PixelShuffle' },
  depthtospace: { from: 'ONNX DepthToSpace' },
  // normalisation, pooling, shape
  instancenorm: { from: 'PyTorch nn.InstanceNorm2d' },
  instancenorm2d: { from: 'PyTorch nn.InstanceNorm2d' },
  instancenormalization: { from: 'ONNX InstanceNormalization' },
  groupnorm: { from: 'PyTorch nn.GroupNorm' },
  adaptivemaxpool2d: { from: 'PyTorch nn.AdaptiveMaxPool2d' },
  adaptiveavgpool1d: { from: 'PyTorch nn.AdaptiveAvgPool1d' },
  globalmaxpool: { from: 'ONNX GlobalMaxPool' },
  globalmaxpooling2d: { from: 'Keras GlobalMaxPooling2D' },
  maxpool1d: { from: 'PyTorch nn.MaxPool1d' },
  maxpool3d: { from: 'PyTorch nn.MaxPool3d' },
  avgpool1d: { from: 'PyTorch nn.AvgPool1d' },
  avgpool3d: { from: 'PyTorch nn.AvgPool3d' },
  reshape: { from: 'Keras Reshape, ONNX' },
  permute: { from: 'Keras Permute' },
  transpose: { from: 'ONNX Transpose' },
  zeropad2d: { from: 'PyTorch nn.ZeroPad2d (conv and pooling take pad)' },
  zeropadding2d: { from: 'Keras ZeroPadding2D (conv and pooling take pad)' },
  dropout2d: { from: 'PyTorch nn.Dropout2d (channel dropout)' },
  spatialdropout2d: { from: 'Keras SpatialDropout2D (channel dropout)' },
  alphadropout: { from: 'PyTorch nn.AlphaDropout' },
};

/** The foreign layer `name` names (case-insensitive), if it is one. */
export function foreignLayer(name: string): ForeignLayer | undefined {
  const key = name.toLowerCase();
  return Object.hasOwn(FOREIGN_LAYERS, key) ? FOREIGN_LAYERS[key] : undefined;
}

/**
 * Would replacing `name` by `suggestion` change the function and not just
 * the spelling? Names that differ in their digits (`relu6` → `relu`,
 * `conv3d` → `conv`) name different layers, whatever the edit distance.
 */
export function differentFunction(name: string, suggestion: string): boolean {
  const digits = (s: string): string => s.replace(/\D/g, '');
  return digits(name) !== digits(suggestion);
}
