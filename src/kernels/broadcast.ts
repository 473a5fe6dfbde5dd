// Add, Sub, Multiply and RealDiv with one operand broadcast along middle
// axes, and Sum over middle axes (its gradient): wasm/broadcast.ts. The
// squeeze-and-excitation gate ([N, 1, 1, C] times [N, H, W, C]) and the sum
// of its gradient over H and W were 75 % of an EfficientNet-B0 training step
// on the stock kernels; layer norm's [N, T, 1] statistics are the same
// shape. Everything else goes on to the kernel wrapped (binary.ts, sum.ts).
import type { FastKernel, TensorInfo, Tf } from './backend.js';
import { allFloat, aroundAxes, onHeap, size } from './backend.js';
import { BLOCK } from './wasm/copy.js';
import type { BcastOp } from './wasm/broadcast.js';

/** [outer, mid, inner] when `small` equals `full` but for 1s on a run of middle axes of `full`, else null. */
export function middleBroadcast(small: readonly number[], full: readonly number[]): [number, number, number] | null {
  if (small.length > full.length) return null;
  const s = [...Array<number>(full.length - small.length).fill(1), ...small];
  let k = 0;
  while (k < full.length && s[k] === full[k]) k++;
  let m = k;
  while (m < full.length && s[m] === 1) m++;
  for (let j = m; j < full.length; j++) if (s[j] !== full[j]) return null;
  const geo = aroundAxes(full, k, m);
  return geo[1] > 1 ? geo : null;
}

/** The binary kernel `next`, with middle broadcasts (outer > 1) done here. */
export function withMiddleBroadcast(tf: Tf, op: BcastOp, next: FastKernel): FastKernel {
  return (args, fallback) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    if (!allFloat(a, b) || a.shape.length === 0 || b.shape.length === 0) return next(args, fallback);
    const shape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const n = size(shape);
    const swap = size(a.shape) !== n;
    const [big, small] = swap ? [b, a] : [a, b];
    const geo = size(big.shape) === n ? middleBroadcast(small.shape, shape) : null;
    if (geo === null || geo[0] === 1 || n === 0) return next(args, fallback);
    const [outer, mid, inner] = geo;
    return onHeap(args, fallback, (io) => {
      const y = io.output(n);
      const rowsPer = Math.max(1, Math.floor(BLOCK / (mid * inner)));
      io.rt.parallel(`bcast_${op}`, Math.ceil(outer / rowsPer), [io.input(big), io.input(small), y.p, outer, mid, inner, rowsPer, swap ? 1 : 0], n < 4 * BLOCK);
      return io.tensor(y.view, shape);
    });
  };
}

/** The Sum kernel `next`, with sums over a run of middle axes (inner even or 1) done here. */
export function withMiddleSum(next: FastKernel): FastKernel {
  return (args, fallback) => {
    const { x } = args.inputs as { x: TensorInfo };
    const rank = x.shape.length;
    const raw = args.attrs.axis as number | number[] | undefined;
    const axes = (raw === undefined ? [] : Array.isArray(raw) ? raw : [raw]).map((a) => (a < 0 ? a + rank : a)).sort((p, q) => p - q);
    const contiguous = axes.length > 0 && axes.every((a, i) => a === axes[0]! + i);
    if (!contiguous || axes[0] === 0 || !allFloat(x)) return next(args, fallback);
    const k = axes[0]!, m = axes[axes.length - 1]! + 1;
    const [outer, mid, inner] = aroundAxes(x.shape, k, m);
    if ((inner !== 1 && inner % 2 !== 0) || outer * inner === 0) return next(args, fallback);
    const shape = args.attrs.keepDims === true ? x.shape.map((d, i) => (i >= k && i < m ? 1 : d)) : x.shape.filter((_, i) => i < k || i >= m);
    return onHeap(args, fallback, (io) => {
      const y = io.output(outer * inner);
      const rowsPer = Math.max(1, Math.floor(BLOCK / Math.max(1, mid * inner)));
      const scratch = io.temp(io.rt.threads * inner * 2 + 4);
      io.rt.parallel('midsum', Math.ceil(outer / rowsPer), [io.input(x), y.p, outer, mid, inner, rowsPer, scratch], outer * mid * inner < 4 * BLOCK);
      return io.tensor(y.view, shape);
    });
  };
}
