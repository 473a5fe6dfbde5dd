// Element-wise Add / Sub / Multiply / RealDiv on float32. The stock cpu
// kernels compute 4-D indices per element (indexToLoc + locToIndex) whenever
// an operand is broadcast, which is how `1 - y²` in the tanh gradient or a
// scalar learning rate times a gradient is computed; those cost ~1 ms each
// for a LeNet-sized batch. Here the three shapes training produces get flat
// loops: equal shapes, a scalar operand, and an operand whose shape is a
// suffix of the result (a bias row). Anything else goes to the stock kernel.
// Arithmetic is in doubles rounded to float32, exactly as in the stock kernel.
import type { CpuBackend, FastKernel, TensorInfo, Tf } from './backend.js';

type Op = 'add' | 'sub' | 'mul' | 'div';

function size(shape: number[]): number {
  let s = 1;
  for (const d of shape) s *= d;
  return s;
}

/** True when `small`, leading 1s dropped, equals the trailing dims of `full`. */
function isSuffix(small: number[], full: number[]): boolean {
  let i = 0;
  while (i < small.length && small[i] === 1) i++;
  const rest = small.length - i;
  if (rest > full.length) return false;
  for (let j = 0; j < rest; j++) if (small[i + j] !== full[full.length - rest + j]) return false;
  return true;
}

/** out[i] = a[i] op b[i % bn] (bFirst: out[i] = b[i % bn] op a[i]). */
function apply(op: Op, a: Float32Array, b: Float32Array, out: Float32Array, bFirst: boolean): void {
  const n = out.length, bn = b.length;
  if (bn === 1) {
    const s = b[0]!;
    if (!bFirst) {
      switch (op) {
        case 'add': for (let i = 0; i < n; i++) out[i] = a[i]! + s; return;
        case 'sub': for (let i = 0; i < n; i++) out[i] = a[i]! - s; return;
        case 'mul': for (let i = 0; i < n; i++) out[i] = a[i]! * s; return;
        case 'div': for (let i = 0; i < n; i++) out[i] = a[i]! / s; return;
      }
    } else {
      switch (op) {
        case 'add': for (let i = 0; i < n; i++) out[i] = s + a[i]!; return;
        case 'sub': for (let i = 0; i < n; i++) out[i] = s - a[i]!; return;
        case 'mul': for (let i = 0; i < n; i++) out[i] = s * a[i]!; return;
        case 'div': for (let i = 0; i < n; i++) out[i] = s / a[i]!; return;
      }
    }
  }
  for (let o = 0; o < n; o += bn) {
    // Row by row: b is the row, a and out advance by one row each time.
    if (!bFirst) {
      switch (op) {
        case 'add': for (let j = 0; j < bn; j++) out[o + j] = a[o + j]! + b[j]!; break;
        case 'sub': for (let j = 0; j < bn; j++) out[o + j] = a[o + j]! - b[j]!; break;
        case 'mul': for (let j = 0; j < bn; j++) out[o + j] = a[o + j]! * b[j]!; break;
        case 'div': for (let j = 0; j < bn; j++) out[o + j] = a[o + j]! / b[j]!; break;
      }
    } else {
      switch (op) {
        case 'add': for (let j = 0; j < bn; j++) out[o + j] = b[j]! + a[o + j]!; break;
        case 'sub': for (let j = 0; j < bn; j++) out[o + j] = b[j]! - a[o + j]!; break;
        case 'mul': for (let j = 0; j < bn; j++) out[o + j] = b[j]! * a[o + j]!; break;
        case 'div': for (let j = 0; j < bn; j++) out[o + j] = b[j]! / a[o + j]!; break;
      }
    }
  }
}

export function makeBinary(tf: Tf, op: Op): FastKernel {
  return (args, fallback) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const be: CpuBackend = args.backend;
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return fallback(args as never) as TensorInfo;
    const av = be.data.get(a.dataId).values, bv = be.data.get(b.dataId).values;
    if (!(av instanceof Float32Array) || !(bv instanceof Float32Array)) return fallback(args as never) as TensorInfo;
    const shape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const n = size(shape);
    const an = av.length, bn = bv.length;
    const out = new Float32Array(n);
    if (an === n && (bn === n || bn === 1 || (bn > 0 && isSuffix(b.shape, shape)))) {
      apply(op, av, bv, out, false);
    } else if (bn === n && (an === 1 || (an > 0 && isSuffix(a.shape, shape)))) {
      apply(op, bv, av, out, true);
    } else {
      return fallback(args as never) as TensorInfo;
    }
    return be.makeTensorInfo(shape, 'float32', out);
  };
}
