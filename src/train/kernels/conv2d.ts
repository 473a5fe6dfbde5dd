// Conv2D as im2col + GEMM: Y[M, cout] = cols[M, K] · Wᵀ, with W transposed to
// [cout, K] (tiny) so both GEMM operands stream along K.
import type { ConvInfo, CpuBackend, FastKernel, TensorInfo, Tf } from './backend.js';
import { valuesOf } from './backend.js';
import { gemmNT, scratchBuffer, transpose2d } from './gemm.js';
import { wasmConvForward } from './conv-wasm.js';
import { im2col } from './im2col.js';

/** conv(x, w), plus bias[cout] when given. */
export function convForward(x: Float32Array, w: Float32Array, ci: ConvInfo, bias?: Float32Array): Float32Array {
  const M = ci.batchSize * ci.outHeight * ci.outWidth;
  const K = ci.filterHeight * ci.filterWidth * ci.inChannels;
  const cout = ci.outChannels;
  const fast = wasmConvForward(x, w, ci, bias);
  if (fast !== null) return fast;
  const y = new Float32Array(M * cout);
  // A 1×1 stride-1 unpadded conv is already a matrix product over x itself.
  const direct = ci.filterHeight === 1 && ci.filterWidth === 1 && ci.strideHeight === 1 &&
    ci.strideWidth === 1 && ci.padInfo.top === 0 && ci.padInfo.left === 0 &&
    ci.outHeight === ci.inHeight && ci.outWidth === ci.inWidth;
  let cols = x;
  if (!direct) {
    cols = scratchBuffer('conv.cols', M * K);
    im2col(x, ci, cols);
  }
  const wT = transpose2d(w, K, cout, scratchBuffer('conv.wT', K * cout));
  gemmNT(M, cout, K, cols, wT, y, false);
  if (bias !== undefined) addBias(y, bias, cout);
  return y;
}

/** y[i, c] += bias[c] (or the one bias value everywhere). */
export function addBias(y: Float32Array, bias: Float32Array, cout: number): void {
  if (bias.length === 1) {
    const v = bias[0]!;
    for (let i = 0; i < y.length; i++) y[i] += v;
    return;
  }
  for (let i = 0; i < y.length; i += cout) {
    for (let c = 0; c < cout; c++) y[i + c] += bias[c]!;
  }
}

/** The conv geometry, or null when the stock kernel should handle the call. */
export function nhwcConvInfo(
  tf: Tf, xShape: number[], filterShape: number[], attrs: Record<string, unknown>, dilations: unknown,
): ConvInfo | null {
  const fmt = attrs.dataFormat;
  if (fmt !== undefined && fmt !== 'NHWC' && fmt !== 'channelsLast') return null;
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides as [number, number] | number,
    dilations as [number, number] | number,
    attrs.pad as 'valid' | 'same' | number,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
    false,
    'channelsLast',
  );
}

export function makeConv2D(tf: Tf): FastKernel {
  return (args, fallback) => {
    const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo };
    const ci = nhwcConvInfo(tf, x.shape, filter.shape, args.attrs, args.attrs.dilations ?? 1);
    if (ci === null || x.dtype === 'complex64') return fallback(args as never) as TensorInfo;
    const b: CpuBackend = args.backend;
    const y = convForward(valuesOf(b, x), valuesOf(b, filter), ci);
    return b.makeTensorInfo(ci.outShape, 'float32', y);
  };
}
