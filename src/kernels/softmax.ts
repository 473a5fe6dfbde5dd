// Softmax over the last axis and its gradient, one pass per row in plain JS.
// tfjs-core writes softmax as max, sub, exp, sum and div kernels over the
// whole tensor and its gradient as mul, sum, mul, sub: each a full-size
// temporary. Attention's weights [N, heads, T, T] made those the largest part
// of a small ViT's step. Each row here is read twice and written once,
// computed in float32 order as the stock kernels do (exp(x − max), the sum
// accumulated left to right), so results agree to the last ulp or so. Rows
// of four or more take the wasm kernel of wasm/softmax.ts (four lanes: the
// sum in another order, a few ulps).
import type { FastKernel, KernelArgs, KernelFunc, TensorInfo, Tf } from './backend.js';
import { allFloat, onHeap, size } from './backend.js';
import { BLOCK } from './wasm/copy.js';

function values(args: KernelArgs, t: TensorInfo): Float32Array {
  return args.backend.data.get(t.dataId).values as Float32Array;
}

/** Softmax over the last axis (the only axis tfjs' Softmax kernel takes: `dim` −1). */
export const fastSoftmax: FastKernel = (args, fallback) => {
  const { logits } = args.inputs as { logits: TensorInfo };
  const dim = args.attrs.dim as number;
  const rank = logits.shape.length;
  if (!allFloat(logits) || rank === 0 || (dim !== -1 && dim !== rank - 1)) return fallback(args as never) as TensorInfo;
  const n = logits.shape[rank - 1]!;
  if (n >= 4) {
    // rows of four or more: the wasm kernel (wasm/softmax.ts), on the heap
    return onHeap(args, fallback, (io) => {
      const total = size(logits.shape), rows = total / n;
      const y = io.output(total);
      const rowsPer = Math.max(1, Math.floor(BLOCK / n));
      io.rt.parallel('softmax_rows', Math.ceil(rows / rowsPer), [io.input(logits), y.p, rows, n, rowsPer], total < 4 * BLOCK);
      return io.tensor(y.view, logits.shape);
    }) as TensorInfo;
  }
  const x = values(args, logits);
  const y = new Float32Array(size(logits.shape));
  for (let r = 0; r < y.length; r += n) {
    let max = -Infinity;
    for (let i = r; i < r + n; i++) if (x[i]! > max) max = x[i]!;
    let sum = 0;
    for (let i = r; i < r + n; i++) {
      const e = Math.fround(Math.exp(Math.fround(x[i]! - max)));
      y[i] = e;
      sum = Math.fround(sum + e);
    }
    for (let i = r; i < r + n; i++) y[i] = Math.fround(y[i]! / sum);
  }
  return args.backend.makeTensorInfo([...logits.shape], 'float32', y);
};

/** dx = y · (dy − Σ dy·y) over each row of the last axis: the softmax gradient, from its output y. */
export const softmaxGrad: KernelFunc = (raw) => {
  const args = raw as unknown as KernelArgs;
  const { y: yt, dy: dyt } = args.inputs as { y: TensorInfo; dy: TensorInfo };
  const y = values(args, yt);
  const dy = values(args, dyt);
  const n = yt.shape[yt.shape.length - 1]!;
  const dx = new Float32Array(y.length);
  for (let r = 0; r < y.length; r += n) {
    let dot = 0;
    for (let i = r; i < r + n; i++) dot = Math.fround(dot + Math.fround(dy[i]! * y[i]!));
    for (let i = r; i < r + n; i++) dx[i] = Math.fround(Math.fround(dy[i]! * y[i]!) - Math.fround(dot * y[i]!));
  }
  return args.backend.makeTensorInfo([...yt.shape], 'float32', dx) as ReturnType<KernelFunc>;
};

type GradFunc = NonNullable<ReturnType<Tf['getGradient']>>['gradFunc'];

/** The Softmax gradient on AlexnetcSoftmaxGrad when the softmax was over the last axis. */
export function softmaxGradient(tf: Tf): GradFunc {
  const stock = tf.getGradient('Softmax');
  return (dy, saved, attrs) => {
    const y = saved[0]!;
    const dim = (attrs as { dim: number }).dim;
    if (Array.isArray(dy) || (dim !== -1 && dim !== y.rank - 1) || y.dtype !== 'float32') return stock!.gradFunc(dy, saved, attrs);
    return { logits: () => tf.engine().runKernel('AlexnetcSoftmaxGrad', { y, dy } as never, {} as never) as import('@tensorflow/tfjs').Tensor };
  };
}
