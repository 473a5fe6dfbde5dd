// Element-wise Add / Sub / Multiply / RealDiv on float32, and AddN (the sum
// of the gradients that meet where a tensor fed two layers, as a residual
// input does). The stock kernels compute 4-D indices per element whenever an
// operand is broadcast; the three shapes training produces get flat wasm
// loops here: equal shapes, a scalar operand, and an operand whose shape is a
// suffix of the result (a bias row, a multiple of 4 wide). Anything else goes
// to the stock kernel. One float32 operation per element: the stock kernel's
// double arithmetic rounds to the same bits.
import type { FastKernel, KernelFunc, TensorInfo, Tf } from './backend.js';
import { allFloat, onHeap, size } from './backend.js';
import { BLOCK } from './wasm/copy.js';
import { BINARY_MODE, type BinaryOp } from './wasm/elementwise.js';
import type { Io } from './runtime/tensors.js';

/** True when `small`, leading 1s dropped, equals the trailing dims of `full`. */
function isSuffix(small: readonly number[], full: readonly number[]): boolean {
  let i = 0;
  while (i < small.length && small[i] === 1) i++;
  const rest = small.length - i;
  if (rest > full.length) return false;
  for (let j = 0; j < rest; j++) if (small[i + j] !== full[full.length - rest + j]) return false;
  return true;
}

/** y = a op b (swap: b op a) with b of n, 1 or bn (a row) floats. */
export function binaryInto(io: Io, op: BinaryOp, a: number, b: number, y: number, n: number, bn: number, swap: boolean): void {
  const mode = bn === n ? BINARY_MODE.same : bn === 1 ? BINARY_MODE.scalar : BINARY_MODE.row;
  io.rt.parallel(`binary_${op}`, Math.ceil(n / BLOCK), [a, b, y, n, bn, mode, swap ? 1 : 0], n < 4 * BLOCK);
}

export function makeBinary(tf: Tf, op: BinaryOp): FastKernel {
  return (args, fallback) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    if (!allFloat(a, b)) return fallback(args as never) as TensorInfo;
    const shape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const n = size(shape), an = size(a.shape), bn = size(b.shape);
    const fits = (m: number, s: readonly number[]) => m === n || m === 1 || (m > 0 && m % 4 === 0 && n % m === 0 && isSuffix(s, shape));
    let swap: boolean;
    if (an === n && fits(bn, b.shape)) swap = false;
    else if (bn === n && fits(an, a.shape)) swap = true;
    else return fallback(args as never) as TensorInfo;
    return onHeap(args, fallback, (io) => {
      const y = io.output(n);
      const [big, small] = swap ? [b, a] : [a, b];
      binaryInto(io, op, io.input(big), io.input(small), y.p, n, swap ? an : bn, swap);
      return io.tensor(y.view, shape);
    });
  };
}

/** AddN: ((t0 + t1) + t2) + …, float32 after every add like the stock kernel's accumulator. */
export const fastAddN: FastKernel = (args, fallback: KernelFunc) => {
  const ts = Object.keys(args.inputs).sort((p, q) => Number(p) - Number(q)).map((k) => args.inputs[k]!) as TensorInfo[];
  if (ts.length < 2 || !allFloat(...ts)) return fallback(args as never) as TensorInfo;
  const n = size(ts[0]!.shape);
  return onHeap(args, fallback, (io) => {
    const y = io.output(n);
    binaryInto(io, 'add', io.input(ts[0]!), io.input(ts[1]!), y.p, n, n, false);
    for (let i = 2; i < ts.length; i++) binaryInto(io, 'add', y.p, io.input(ts[i]!), y.p, n, n, false);
    return io.tensor(y.view, ts[0]!.shape);
  });
};
