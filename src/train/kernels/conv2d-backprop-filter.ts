// dW[K, cout] = Σ_m cols[m, K] · dY[m, cout], computed as colsᵀ · dYᵀᵀ with
// both operands laid out [·, M] so the long reduction over M is contiguous.
// The stock kernel walks 4-D buffers through get() per element, which is
// what made it ~45× slower than the forward pass.
import type { CpuBackend, FastKernel, TensorInfo, Tf } from './backend.js';
import { valuesOf } from './backend.js';
import { nhwcConvInfo } from './conv2d.js';
import { gemmNT, scratchBuffer, transpose2d } from './gemm.js';
import { wasmConvBackpropFilter } from './conv-wasm.js';
import { im2colT } from './im2col.js';

export function makeConv2DBackpropFilter(tf: Tf): FastKernel {
  return (args, fallback) => {
    const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
    const filterShape = args.attrs.filterShape as number[];
    const ci = nhwcConvInfo(tf, x.shape, filterShape, args.attrs, 1);
    if (ci === null) return fallback(args as never) as TensorInfo;
    const b: CpuBackend = args.backend;
    const fast = wasmConvBackpropFilter(valuesOf(b, x), valuesOf(b, dy), ci);
    if (fast !== null) return b.makeTensorInfo(ci.filterShape, 'float32', fast);
    const M = ci.batchSize * ci.outHeight * ci.outWidth;
    const K = ci.filterHeight * ci.filterWidth * ci.inChannels;
    const cout = ci.outChannels;
    const colsT = scratchBuffer('bpf.colsT', K * M);
    im2colT(valuesOf(b, x), ci, colsT);
    const dyT = transpose2d(valuesOf(b, dy), M, cout, scratchBuffer('bpf.dyT', M * cout));
    const dw = new Float32Array(K * cout);
    gemmNT(K, cout, M, colsT, dyT, dw, false);
    return b.makeTensorInfo(ci.filterShape, 'float32', dw);
  };
}
