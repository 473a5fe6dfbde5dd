// dX = col2im(dY[M, cout] · W[K, cout]ᵀ): the filter is already [K, cout]
// row-major, so the GEMM reads it as is.
//
// Computed on first read. tfjs' fused conv gradient computes dX and dW
// together, also for a network's first layer, whose input needs no gradient:
// there dX is disposed unread and the work (a sixth of a LeNet-5 step's
// convolution time) is skipped. The result is a cpu-backend tensor whose data
// record gets a one-shot getter; the inputs' values are captured now, so
// later disposal of dy or the filter does not matter. Every kernel here reads
// its inputs' values before it touches the shared wasm workspace, so a read
// that triggers this computation cannot clobber a caller's workspace.
import type { CpuBackend, FastKernel, TensorInfo, Tf } from './backend.js';
import { valuesOf } from './backend.js';
import { nhwcConvInfo } from './conv2d.js';
import { gemmNT, scratchBuffer } from './gemm.js';
import { wasmConvBackpropInput } from './conv-wasm.js';
import { col2im } from './im2col.js';
import { wasmWorkspace } from './wasm-gemm.js';

const EMPTY = new Float32Array(0);

/** A float32 tensor whose values are computed when first read. */
function lazyTensorInfo(b: CpuBackend, shape: number[], compute: () => Float32Array): TensorInfo {
  const info = b.makeTensorInfo(shape, 'float32', EMPTY);
  const rec = b.data.get(info.dataId) as { values: unknown };
  const plain = (v: unknown) => Object.defineProperty(rec, 'values', { value: v, writable: true, enumerable: true, configurable: true });
  const desc = Object.getOwnPropertyDescriptor(rec, 'values');
  if (desc === undefined || desc.configurable !== true || !('value' in desc)) {
    rec.values = compute(); // not the record layout expected: compute now
    return info;
  }
  Object.defineProperty(rec, 'values', {
    enumerable: true,
    configurable: true,
    get() {
      const v = compute();
      plain(v);
      return v;
    },
    set(v: unknown) { plain(v); },
  });
  return info;
}

export function makeConv2DBackpropInput(tf: Tf): FastKernel {
  return (args, fallback) => {
    const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
    const inputShape = args.attrs.inputShape as number[];
    const ci = nhwcConvInfo(tf, inputShape, filter.shape, args.attrs, 1);
    if (ci === null) return fallback(args as never) as TensorInfo;
    const b: CpuBackend = args.backend;
    if (wasmWorkspace() !== null) {
      const dyv = valuesOf(b, dy), wv = valuesOf(b, filter);
      return lazyTensorInfo(b, ci.inShape, () => wasmConvBackpropInput(dyv, wv, ci)!);
    }
    const M = ci.batchSize * ci.outHeight * ci.outWidth;
    const K = ci.filterHeight * ci.filterWidth * ci.inChannels;
    const dcols = scratchBuffer('bpi.dcols', M * K);
    gemmNT(M, K, ci.outChannels, valuesOf(b, dy), valuesOf(b, filter), dcols, false);
    const dx = new Float32Array(ci.batchSize * ci.inHeight * ci.inWidth * ci.inChannels);
    col2im(dcols, ci, dx);
    return b.makeTensorInfo(ci.inShape, 'float32', dx);
  };
}
