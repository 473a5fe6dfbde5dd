// Sum over leading axes (bias gradients: reduce N, H, W of an NHWC tensor).
// The stock kernel transposes the whole tensor to put those axes last first;
// summing rows into an accumulator avoids that copy. Other cases fall back.
import type { CpuBackend, FastKernel, TensorInfo } from './backend.js';
import { wasmSumRows } from './wasm-gemm.js';

export const fastSum: FastKernel = (args, fallback) => {
  const { x } = args.inputs as { x: TensorInfo };
  const rank = x.shape.length;
  const raw = args.attrs.axis as number | number[] | undefined;
  const axes = (raw === undefined ? [...Array(rank).keys()] : Array.isArray(raw) ? raw : [raw])
    .map((a) => (a < 0 ? a + rank : a)).sort((p, q) => p - q);
  const leading = axes.length > 0 && axes.length < rank && axes.every((a, i) => a === i);
  const b: CpuBackend = args.backend;
  const values = b.data.get(x.dataId).values;
  if (!leading || x.dtype !== 'float32' || !(values instanceof Float32Array)) {
    return fallback(args as never) as TensorInfo;
  }
  const outer = x.shape.slice(0, axes.length).reduce((p, d) => p * d, 1);
  const inner = x.shape.slice(axes.length).reduce((p, d) => p * d, 1);
  const shape = args.attrs.keepDims === true
    ? x.shape.map((d, i) => (i < axes.length ? 1 : d))
    : x.shape.slice(axes.length);
  // Same sums (doubles, rows in order) two columns per wasm SIMD lane pair.
  const fast = outer * inner >= 256 ? wasmSumRows(values, outer, inner) : null;
  if (fast !== null) return b.makeTensorInfo(shape, 'float32', fast);
  const acc = new Float64Array(inner);
  for (let i = 0; i < outer; i++) {
    const base = i * inner;
    for (let j = 0; j < inner; j++) acc[j] += values[base + j]!;
  }
  return b.makeTensorInfo(shape, 'float32', Float32Array.from(acc));
};
