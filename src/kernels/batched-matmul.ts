// BatchMatMul of many small products (attention's per-head products:
// batch N·heads, each at most a few hundred thousand multiply-adds) on
// wasm/bmm.ts, one product per thread item; a transposed operand is first
// transposed as a batch (transpose_2d) so that the kernel reads rows. Larger
// products go on to matmul.ts's GEMM.
import type { FastKernel, TensorInfo } from './backend.js';
import { allFloat, onHeap, size } from './backend.js';
import { TR } from './wasm/copy.js';
import type { Io } from './runtime/tensors.js';

/** A product small enough, in a batch large enough, for one thread item per product. */
export function isSmallBatch(batch: number, M: number, N: number, K: number): boolean {
  return batch >= 8 && M * N * K <= 1 << 18 && M * K <= 1 << 14 && K * N <= 1 << 14;
}

/** The batch of [rows, cols] matrices at p transposed into a temporary. */
function transposed(io: Io, p: number, batch: number, rows: number, cols: number): number {
  const t = io.temp(batch * rows * cols + 4);
  const blocks = Math.ceil(rows / TR);
  io.rt.parallel('transpose_2d', batch * blocks, [p, t, rows, cols, blocks], batch * rows * cols < 1 << 16);
  return t;
}

export function withSmallBatches(next: FastKernel): FastKernel {
  return (args, fallback) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const ta = args.attrs.transposeA === true, tb = args.attrs.transposeB === true;
    const r = a.shape.length;
    if (r < 3 || b.shape.length !== r || !allFloat(a, b) || a.shape.slice(0, r - 2).some((d, i) => d !== b.shape[i])) return next(args, fallback);
    const batch = size(a.shape.slice(0, r - 2));
    const M = ta ? a.shape[r - 1]! : a.shape[r - 2]!, K = ta ? a.shape[r - 2]! : a.shape[r - 1]!;
    const N = tb ? b.shape[r - 2]! : b.shape[r - 1]!, K2 = tb ? b.shape[r - 1]! : b.shape[r - 2]!;
    if (K !== K2 || !isSmallBatch(batch, M, N, K) || M * N * K === 0) return next(args, fallback);
    return onHeap(args, fallback, (io) => {
      let pa = io.input(a), pb = io.input(b);
      if (ta) pa = transposed(io, pa, batch, K, M);
      if (tb) pb = transposed(io, pb, batch, N, K);
      const c = io.output(batch * M * N);
      io.rt.parallel('bmm_nn', batch, [pa, pb, c.p, M, N, K], batch * M * N * K < 1 << 15);
      return io.tensor(c.view, [...a.shape.slice(0, r - 2), M, N]);
    });
  };
}
