// Transpose for the permutations transpose.ts leaves to the stock kernel
// (which computes an N-d index per element): attention's
// [N, T, 3, heads, dh] → [3, N, heads, T, dh] and [N, heads, T, dh] →
// [N, T, heads, dh]. Axes of size 1 are dropped and axes that stay adjacent
// merged first; then an odometer over the output walks runs of the last
// axis, which are contiguous in the source too when the permutation keeps it
// last (a copy of dh floats), strided otherwise. Copies: bit-identical.
import type { FastKernel, TensorInfo } from './backend.js';
import { onHeap, size } from './backend.js';

/** The permutation on merged axes: shape and perm without size-1 axes, adjacent runs joined. */
export function simplify(shape: readonly number[], perm: readonly number[]): { shape: number[]; perm: number[] } {
  // the source axes of size above 1, renumbered
  const kept = shape.map((d, i) => (d === 1 ? -1 : i)).filter((i) => i >= 0);
  const dims = kept.map((i) => shape[i]!);
  const keep = perm.filter((p) => shape[p]! !== 1).map((p) => kept.indexOf(p));
  // runs of source axes that stay consecutive in the output
  const groups: number[][] = [];
  for (const p of keep) {
    const last = groups[groups.length - 1];
    if (last !== undefined && last[last.length - 1]! + 1 === p) last.push(p);
    else groups.push([p]);
  }
  const order = [...groups].sort((a, b) => a[0]! - b[0]!);
  const merged = order.map((g) => g.reduce((s, a) => s * dims[a]!, 1));
  return { shape: merged, perm: groups.map((g) => order.indexOf(g)) };
}

/** dst = src transposed by perm (on merged axes). */
export function permuteInto(src: Float32Array, dst: Float32Array, shape: number[], perm: number[]): void {
  const r = shape.length;
  const strides = new Array<number>(r);
  for (let i = r - 1, s = 1; i >= 0; i--) { strides[i] = s; s *= shape[i]!; }
  const outShape = perm.map((p) => shape[p]!);
  const inStride = perm.map((p) => strides[p]!);
  const run = outShape[r - 1]!, step = inStride[r - 1]!;
  const idx = new Array<number>(r - 1).fill(0);
  const total = dst.length;
  let base = 0;
  for (let o = 0; o < total; o += run) {
    if (step === 1) {
      for (let j = 0; j < run; j++) dst[o + j] = src[base + j]!;
    } else {
      for (let j = 0, s = base; j < run; j++, s += step) dst[o + j] = src[s]!;
    }
    // odometer over the output's leading axes
    for (let k = r - 2; k >= 0; k--) {
      base += inStride[k]!;
      if (++idx[k]! < outShape[k]!) break;
      base -= inStride[k]! * outShape[k]!;
      idx[k] = 0;
    }
  }
}

/** The Transpose kernel `next`, with every other float32 permutation done here. */
export function withPermute(next: FastKernel): FastKernel {
  return (args, fallback) => {
    const { x } = args.inputs as { x: TensorInfo };
    const perm = args.attrs.perm as number[];
    if (x.dtype !== 'float32' || size(x.shape) === 0) return next(args, fallback);
    const s = simplify(x.shape, perm);
    // a batch of 2-D transposes: the next kernel's (wasm)
    if ((s.perm.length <= 3 && s.perm[0] === 0 && s.perm.length > 1) || s.perm.length === 2) return next(args, fallback);
    const shape = perm.map((p) => x.shape[p]!);
    return onHeap(args, fallback, (io) => {
      const n = size(x.shape);
      const p = io.input(x);
      const y = io.output(n);
      const src = io.heap.f32.subarray(p / 4, p / 4 + n), dst = y.view.subarray(0, n);
      // the identity once size-1 axes are dropped (tfjs-layers' Dense transposes its kernel by [0, 1]
      // on every call: on the stock kernel, two thirds of a ConvNeXt step): a copy
      if (s.perm.length <= 1) dst.set(src);
      else permuteInto(src, dst, s.shape, s.perm);
      return io.tensor(y.view, shape);
    });
  };
}
