// dX = col2im(dY[M, cout] · W[K, cout]ᵀ): the filter is already [K, cout]
// row-major, so the GEMM reads it as is.
import type { CpuBackend, FastKernel, TensorInfo, Tf } from './backend.js';
import { valuesOf } from './backend.js';
import { nhwcConvInfo } from './conv2d.js';
import { gemmNT, scratchBuffer } from './gemm.js';
import { wasmConvBackpropInput } from './conv-wasm.js';
import { col2im } from './im2col.js';

export function makeConv2DBackpropInput(tf: Tf): FastKernel {
  return (args, fallback) => {
    const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
    const inputShape = args.attrs.inputShape as number[];
    const ci = nhwcConvInfo(tf, inputShape, filter.shape, args.attrs, 1);
    if (ci === null) return fallback(args as never) as TensorInfo;
    const b: CpuBackend = args.backend;
    const fast = wasmConvBackpropInput(valuesOf(b, dy), valuesOf(b, filter), ci);
    if (fast !== null) return b.makeTensorInfo(ci.inShape, 'float32', fast);
    const M = ci.batchSize * ci.outHeight * ci.outWidth;
    const K = ci.filterHeight * ci.filterWidth * ci.inChannels;
    const dcols = scratchBuffer('bpi.dcols', M * K);
    gemmNT(M, K, ci.outChannels, valuesOf(b, dy), valuesOf(b, filter), dcols, false);
    const dx = new Float32Array(ci.batchSize * ci.inHeight * ci.inWidth * ci.inChannels);
    col2im(dcols, ci, dx);
    return b.makeTensorInfo(ci.inShape, 'float32', dx);
  };
}
