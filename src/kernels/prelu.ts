// PReLU (a learned slope per channel, broadcast as a row over the last axes)
// and its gradient on the heap, in plain loops: the stock kernel indexes the
// broadcast slope in four dimensions per element, and the stock gradient is
// Greater(x, 0) (a broadcast scalar), two Wheres, two Multiplies and a Sum.
//   Prelu                  {x, alpha}: x < 0 ? alpha·x : x  (alpha's shape a suffix of x's)
//   AlexnetcPreluGrad {x, alpha, dy} → [dx, dalpha]: dx = x > 0 ? dy : dy·alpha,
//     dalpha = Σ over the leading rows of (x > 0 ? 0 : dy·x), in doubles
import type { FastKernel, KernelArgs, KernelFunc, TensorInfo, Tf } from './backend.js';
import { allFloat, onHeap, size } from './backend.js';

export const PRELU_GRAD = 'AlexnetcPreluGrad';

/** alpha's values repeat along x's rows when alpha's shape, leading 1s dropped, ends x's. */
function rowOf(x: readonly number[], alpha: readonly number[]): number | null {
  let i = 0;
  while (i < alpha.length && alpha[i] === 1) i++;
  const rest = alpha.slice(i);
  if (rest.length > x.length || rest.some((d, j) => d !== x[x.length - rest.length + j])) return null;
  return size(rest);
}

const view = (f32: Float32Array, p: number, n: number): Float32Array => f32.subarray(p / 4, p / 4 + n);

export const fastPrelu: FastKernel = (args, fallback) => {
  const { x, alpha } = args.inputs as { x: TensorInfo; alpha: TensorInfo };
  const row = allFloat(x, alpha) ? rowOf(x.shape, alpha.shape) : null;
  if (row === null || row === 0) return fallback(args as never) as TensorInfo;
  return onHeap(args, fallback, (io) => {
    const n = size(x.shape);
    const px = io.input(x), pa = io.input(alpha);
    const y = io.output(n);
    const f = io.heap.f32, xv = view(f, px, n), av = view(f, pa, row), yv = view(f, y.p, n);
    for (let o = 0; o < n; o += row) {
      for (let j = 0; j < row; j++) { const v = xv[o + j]!; yv[o + j] = v < 0 ? av[j]! * v : v; }
    }
    return io.tensor(y.view, x.shape);
  });
};

const preluGrad: KernelFunc = (raw) => {
  const args = raw as unknown as KernelArgs;
  const { x, alpha, dy } = args.inputs as Record<string, TensorInfo>;
  return onHeap(args, undefined, (io) => {
    const n = size(x!.shape), row = size(alpha!.shape);
    const px = io.input(x!), pa = io.input(alpha!), pdy = io.input(dy!);
    const dx = io.output(n), da = io.output(row);
    const f = io.heap.f32, xv = view(f, px, n), av = view(f, pa, row), dyv = view(f, pdy, n), dxv = view(f, dx.p, n);
    const acc = new Float64Array(row);
    for (let o = 0; o < n; o += row) {
      for (let j = 0; j < row; j++) {
        const v = xv[o + j]!, d = dyv[o + j]!;
        if (v > 0) dxv[o + j] = d;
        else { dxv[o + j] = d * av[j]!; acc[j] += Math.fround(d * v); }
      }
    }
    view(f, da.p, row).set(acc);
    return [io.tensor(dx.view, x!.shape), io.tensor(da.view, alpha!.shape)];
  }) as TensorInfo[];
};

export const preluKernels: Array<[string, KernelFunc]> = [[PRELU_GRAD, preluGrad]];

type GradFunc = NonNullable<ReturnType<Tf['getGradient']>>['gradFunc'];
type Tensor = import('@tensorflow/tfjs').Tensor;

/** The fused Prelu gradient where alpha is a row of x, else the stock one. */
export function preluGradient(tf: Tf): GradFunc | undefined {
  const registered = tf.getGradient('Prelu');
  const stock = (registered as unknown as { [k: symbol]: typeof registered } | undefined)?.[Symbol.for('alexnetc.fastGradient')] ?? registered;
  if (stock === undefined) return undefined;
  return (dy, saved, attrs) => {
    const [x, alpha] = saved as Tensor[];
    const d = dy as Tensor;
    if (!allFloat(x!, alpha!, d) || rowOf(x!.shape, alpha!.shape) === null || size(alpha!.shape) === 0) return stock.gradFunc(dy, saved, attrs);
    const [dx, dalpha] = tf.engine().runKernel(PRELU_GRAD, { x, alpha, dy: d } as never, {} as never) as Tensor[];
    return { x: () => dx!, alpha: () => dalpha! };
  };
}
