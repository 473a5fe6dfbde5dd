// Sum over leading axes (bias gradients: reduce N, H, W of an NHWC tensor).
// The stock kernel transposes the whole tensor to put those axes last first;
// summing rows into an accumulator avoids that copy. Other cases fall back.
import type { CpuBackend, FastKernel, TensorInfo } from './backend.js';

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
  const acc = new Float64Array(inner);
  for (let i = 0; i < outer; i++) {
    const base = i * inner;
    for (let j = 0; j < inner; j++) acc[j] += values[base + j]!;
  }
  const shape = args.attrs.keepDims === true
    ? x.shape.map((d, i) => (i < axes.length ? 1 : d))
    : x.shape.slice(axes.length);
  return b.makeTensorInfo(shape, 'float32', Float32Array.from(acc));
};
