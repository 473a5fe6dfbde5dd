// Transpose, for the permutations that are a batch of 2-D transposes: the
// dimensions after an unchanged prefix swap places as two blocks, e.g. NHWC ↔
// NCHW ([0, 3, 1, 2] and back, what a flatten in C, H, W order needs). The
// stock kernel computes a 4-D index per element. Other permutations go to it.
import type { FastKernel, TensorInfo } from './backend.js';
import { aroundAxes, onHeap } from './backend.js';
import { TR } from './wasm/copy.js';

/** [batch, rows, cols] when perm = [0 … k−1, m … r−1, k … m−1], else null. */
export function asBatched2D(shape: readonly number[], perm: readonly number[]): [number, number, number] | null {
  const r = perm.length;
  let k = 0;
  while (k < r && perm[k] === k) k++;
  if (k >= r - 1) return null; // the identity, or one dimension left
  const m = perm[k]!;
  for (let i = 0; i < r - m; i++) if (perm[k + i] !== m + i) return null;
  for (let i = 0; i < m - k; i++) if (perm[k + (r - m) + i] !== k + i) return null;
  return aroundAxes(shape, k, m);
}

export const fastTranspose: FastKernel = (args, fallback) => {
  const { x } = args.inputs as { x: TensorInfo };
  const perm = args.attrs.perm as number[];
  const b2d = asBatched2D(x.shape, perm);
  if (b2d === null || x.dtype !== 'float32') return fallback(args as never) as TensorInfo;
  const [batch, rows, cols] = b2d;
  const shape = perm.map((p) => x.shape[p]!);
  return onHeap(args, fallback, (io) => {
    const y = io.output(batch * rows * cols);
    const blocks = Math.ceil(rows / TR);
    io.rt.parallel('transpose_2d', batch * blocks, [io.input(x), y.p, rows, cols, blocks], batch * rows * cols < 1 << 16);
    return io.tensor(y.view, shape);
  });
};
