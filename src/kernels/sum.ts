// Sum over leading axes (bias gradients: reduce N, H, W of an NHWC tensor)
// in doubles, rows in order, chunk by chunk (wasm/reduce.ts): the stock
// kernel's exact sums when the rows fit one chunk, and never dependent on the
// thread count. The stock kernel transposes the whole tensor first to put
// those axes last. Other reductions go to it.
import type { FastKernel, TensorInfo } from './backend.js';
import { allFloat, onHeap } from './backend.js';
import type { Io } from './runtime/tensors.js';

/** Rows per chunk: big enough that the partials are few, small enough to share among threads. */
const CHUNK_FLOATS = 1 << 16;

/** Column sums of x[rows, cols] into a new output. */
export function columnSums(io: Io, x: number, rows: number, cols: number): { p: number; view: Float32Array } {
  const y = io.output(cols);
  const chunk = Math.max(1, Math.ceil(CHUNK_FLOATS / Math.max(cols, 1)));
  const chunks = Math.max(1, Math.ceil(rows / chunk));
  const partials = io.temp(2 * chunks * cols + 4);
  if (rows === 0) io.heap.f32.fill(0, partials / 4, partials / 4 + 2 * cols);
  io.rt.parallel('colsum_partial', rows === 0 ? 0 : chunks, [x, rows, cols, chunk, partials], rows * cols < 1 << 17);
  io.rt.call('colsum_combine', [partials, chunks, cols, y.p]);
  return y;
}

export const fastSum: FastKernel = (args, fallback) => {
  const { x } = args.inputs as { x: TensorInfo };
  const rank = x.shape.length;
  const raw = args.attrs.axis as number | number[] | undefined;
  const axes = (raw === undefined ? [...Array(rank).keys()] : Array.isArray(raw) ? raw : [raw])
    .map((a) => (a < 0 ? a + rank : a)).sort((p, q) => p - q);
  const leading = axes.length > 0 && axes.length < rank && axes.every((a, i) => a === i);
  if (!leading || !allFloat(x)) return fallback(args as never) as TensorInfo;
  const outer = x.shape.slice(0, axes.length).reduce((p, d) => p * d, 1);
  const inner = x.shape.slice(axes.length).reduce((p, d) => p * d, 1);
  const shape = args.attrs.keepDims === true ? x.shape.map((d, i) => (i < axes.length ? 1 : d)) : x.shape.slice(axes.length);
  return onHeap(args, fallback, (io) => io.tensor(columnSums(io, io.input(x), outer, inner).view, shape));
};
