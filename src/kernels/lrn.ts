// LRN and its gradient (AlexNet's local response normalisation across
// channels) on wasm/lrn.ts, for β = 0.75, 0.5 or 1 and channels in fours;
// other settings go to the stock kernels, which compute per element in doubles.
import type { FastKernel, TensorInfo } from './backend.js';
import { allFloat, onHeap, size } from './backend.js';
import type { Io } from './runtime/tensors.js';

const MODES = new Map([[0.75, 0], [0.5, 1], [1, 2]]);

interface LrnAttrs { depthRadius: number; bias: number; alpha: number; beta: number }

function usable(x: TensorInfo, a: LrnAttrs): boolean {
  const C = x.shape[x.shape.length - 1]!;
  return x.shape.length === 4 && C % 4 === 0 && MODES.has(a.beta) && Number.isInteger(a.depthRadius) && a.depthRadius >= 0;
}

/** The constants block, the per-thread scratch and the item split shared by both kernels. */
function setup(io: Io, x: TensorInfo, a: LrnAttrs): { args: number[]; pixels: number; C: number } {
  const C = x.shape[3]!, pixels = size(x.shape) / C, r = a.depthRadius;
  const consts = io.temp(4);
  const f = io.heap.f32, i = new Int32Array(f.buffer, consts, 4);
  f[consts / 4] = a.bias;
  f[consts / 4 + 1] = a.alpha;
  i[2] = MODES.get(a.beta)!;
  f[consts / 4 + 3] = -2 * a.alpha * a.beta;
  const sstride = 4 * (3 * (C + 2 * r + 8) + r + 16);
  const scratch = io.temp(io.rt.threads * sstride / 4);
  const rowsPer = Math.max(1, Math.ceil(8192 / C));
  return { args: [io.input(x), C, r, pixels, rowsPer, consts, scratch, sstride], pixels, C };
}

export const fastLrn: FastKernel = (args, fallback) => {
  const { x } = args.inputs as { x: TensorInfo };
  const a = args.attrs as unknown as LrnAttrs;
  if (!allFloat(x) || !usable(x, a)) return fallback(args as never) as TensorInfo;
  return onHeap(args, fallback, (io) => {
    const s = setup(io, x, a);
    const y = io.output(size(x.shape));
    io.rt.parallel('lrn_fwd', Math.ceil(s.pixels / s.args[4]!), [...s.args, y.p], size(x.shape) < 1 << 15);
    return io.tensor(y.view, x.shape);
  });
};

export const fastLrnGrad: FastKernel = (args, fallback) => {
  const { x, y, dy } = args.inputs as { x: TensorInfo; y: TensorInfo; dy: TensorInfo };
  const a = args.attrs as unknown as LrnAttrs;
  if (!allFloat(x, y, dy) || !usable(x, a)) return fallback(args as never) as TensorInfo;
  return onHeap(args, fallback, (io) => {
    const s = setup(io, x, a);
    const dx = io.output(size(x.shape));
    io.rt.parallel('lrn_grad', Math.ceil(s.pixels / s.args[4]!), [...s.args, io.input(y), io.input(dy), dx.p], size(x.shape) < 1 << 15);
    return io.tensor(dx.view, x.shape);
  });
};
