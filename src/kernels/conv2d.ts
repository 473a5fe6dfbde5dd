// tfjs' own convolution kernels (what tf.layers.conv2d and tf.conv2d run) on
// the wasm im2col + GEMM: Conv2D, FusedConv2D (conv + bias + activation;
// the stock one calls the stock conv directly, so it is replaced too), and
// both gradients. NCHW and the rarer fused activations go to the stock
// kernels. The backprop kernels also honour a `dilations` attribute, which
// the stock ones lack: the Conv2D gradient installed here passes it.
import type { ConvInfo, FastKernel, KernelArgs, TensorInfo, Tf } from './backend.js';
import { allFloat, onHeap, size } from './backend.js';
import { convBackpropFilter, convBackpropInput, convForward, type ConvGeom } from './ops/conv.js';
import { runtime } from './runtime/index.js';
import { lazyTensor } from './runtime/tensors.js';

export function geomOf(ci: ConvInfo, groups = 1): ConvGeom {
  return {
    N: ci.batchSize, H: ci.inHeight, W: ci.inWidth, C: ci.inChannels, OH: ci.outHeight, OW: ci.outWidth, F: ci.outChannels,
    FH: ci.filterHeight, FW: ci.filterWidth, SH: ci.strideHeight, SW: ci.strideWidth,
    DH: ci.dilationHeight, DW: ci.dilationWidth, top: ci.padInfo.top, left: ci.padInfo.left, groups,
  };
}

/** The conv geometry, or null when the stock kernel should handle the call (NCHW). */
export function nhwcConvInfo(tf: Tf, xShape: number[], filterShape: number[], attrs: Record<string, unknown>): ConvInfo | null {
  const fmt = attrs.dataFormat;
  if (fmt !== undefined && fmt !== 'NHWC' && fmt !== 'channelsLast') return null;
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides as [number, number] | number,
    (attrs.dilations ?? 1) as [number, number] | number,
    attrs.pad as 'valid' | 'same' | number,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
    false,
    'channelsLast',
  );
}

/** Activations applied after the GEMM (relu is fused into it). */
const ACTIVATIONS = new Set(['linear', 'relu', 'relu6', 'leakyrelu', 'sigmoid', 'elu']);

export function applyActivation(y: Float32Array, activation: string, alpha: number): void {
  const n = y.length;
  switch (activation) {
    case 'relu6': for (let i = 0; i < n; i++) y[i] = Math.min(6, Math.max(0, y[i]!)); return;
    case 'leakyrelu': for (let i = 0; i < n; i++) { const v = y[i]!; if (v < 0) y[i] = alpha * v; } return;
    case 'sigmoid': for (let i = 0; i < n; i++) y[i] = 1 / (1 + Math.exp(-y[i]!)); return;
    case 'elu': for (let i = 0; i < n; i++) { const v = y[i]!; if (v < 0) y[i] = Math.exp(v) - 1; } return;
  }
}

function forward(tf: Tf, fused: boolean): FastKernel {
  return (args, fallback) => {
    const { x, filter, bias } = args.inputs as { x: TensorInfo; filter: TensorInfo; bias?: TensorInfo };
    const activation = fused ? ((args.attrs.activation as string | undefined) ?? 'linear') : 'linear';
    const ci = nhwcConvInfo(tf, x.shape, filter.shape, args.attrs);
    const biasSize = bias === undefined ? 0 : size(bias.shape);
    if (ci === null || !allFloat(x, filter, bias) || !ACTIVATIONS.has(activation) || args.inputs.preluActivationWeights !== undefined ||
        (bias !== undefined && biasSize !== 1 && biasSize !== ci.outChannels) ||
        (bias !== undefined && bias.shape.length > 1 && bias.shape[bias.shape.length - 1] !== biasSize)) {
      return fallback(args as never) as TensorInfo;
    }
    return onHeap(args, fallback, (io) => {
      let b = 0;
      if (bias !== undefined) {
        b = io.input(bias);
        if (biasSize === 1 && ci.outChannels !== 1) {
          const one = io.heap.f32[b / 4]!;
          b = io.temp(ci.outChannels);
          io.heap.f32.fill(one, b / 4, b / 4 + ci.outChannels);
        }
      }
      const y = convForward(io, geomOf(ci), io.input(x), io.input(filter), b, activation === 'relu');
      applyActivation(y.view, activation, (args.attrs.leakyreluAlpha as number | undefined) ?? 0.2);
      return io.tensor(y.view, ci.outShape);
    });
  };
}

export const makeConv2D = (tf: Tf): FastKernel => forward(tf, false);
export const makeFusedConv2D = (tf: Tf): FastKernel => forward(tf, true);

export function makeConv2DBackpropFilter(tf: Tf): FastKernel {
  return (args, fallback) => {
    const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
    const ci = nhwcConvInfo(tf, x.shape, args.attrs.filterShape as number[], args.attrs);
    if (ci === null || !allFloat(x, dy)) return fallback(args as never) as TensorInfo;
    return onHeap(args, fallback, (io) => io.tensor(convBackpropFilter(io, geomOf(ci), io.input(x), io.input(dy)).view, ci.filterShape));
  };
}

/** A tensor of its own on t's data (the data's reference count raised), kept out of any tidy scope. */
function holdTensor(tf: Tf, t: TensorInfo, backend: unknown): import('@tensorflow/tfjs').Tensor {
  const engine = tf.engine() as unknown as { nextTensorId(): number; incRef(t: unknown, backend: unknown): void };
  const held = new tf.Tensor(t.shape, t.dtype, t.dataId, engine.nextTensorId());
  engine.incRef(held, backend);
  return tf.keep(held);
}

/**
 * Computed on first read: tfjs' fused conv gradient computes dX and dW
 * together, also for a network's first layer, whose input needs no gradient;
 * there dX is disposed unread and the work is skipped.
 */
export function makeConv2DBackpropInput(tf: Tf): FastKernel {
  return (args: KernelArgs, fallback) => {
    const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
    const ci = nhwcConvInfo(tf, args.attrs.inputShape as number[], filter.shape, args.attrs);
    const rt = runtime();
    if (ci === null || rt === null || !allFloat(dy, filter)) return fallback(args as never) as TensorInfo;
    const held = [dy, filter].map((t) => holdTensor(tf, t, args.backend));
    return lazyTensor(rt, args.backend, ci.inShape, held, (io) => convBackpropInput(io, geomOf(ci), io.input(held[0]!), io.input(held[1]!)));
  };
}
