// Minimum and Maximum, and their gradients, on the heap. tfjs-layers' relu6
// is minimum(6, relu(x)), and the stock kernels index every element of a
// broadcast operand in four dimensions: the scalar 6 made Minimum and the
// Greater of its gradient three quarters of a MobileNetV2 training step.
// Forward: the binary kernels' flat loops (min and max as Math.min and
// Math.max). Gradient: one kernel per input, dy · (a cmp b) (wasm/masks.ts),
// for operands of the output's size or scalars; other broadcasts keep the
// stock gradient.
import type { KernelArgs, KernelFunc, TensorInfo, Tf } from './backend.js';
import { allFloat, onHeap, size } from './backend.js';
import { BLOCK } from './wasm/copy.js';
import { MASK_MODE, type MaskCmp } from './wasm/masks.js';

export const MASK_GRAD = 'AlexnetcMaskGrad';

/** AlexnetcMaskGrad {a, b, dy} attrs {cmp}: dy · (a cmp b), a and b each dy's size or a scalar. */
export const maskGrad: KernelFunc = (args) => {
  const k = args as unknown as KernelArgs;
  const { a, b, dy } = k.inputs as { a: TensorInfo; b: TensorInfo; dy: TensorInfo };
  const n = size(dy.shape);
  const mode = size(b.shape) === 1 && n !== 1 ? MASK_MODE.scalarB : size(a.shape) === 1 && n !== 1 ? MASK_MODE.scalarA : MASK_MODE.same;
  return onHeap(k, undefined, (io) => {
    const y = io.output(n);
    io.rt.parallel(`mask_${k.attrs.cmp as MaskCmp}`, Math.ceil(n / BLOCK), [io.input(a), io.input(b), io.input(dy), y.p, n, mode], n < 4 * BLOCK);
    return io.tensor(y.view, dy.shape);
  }) as TensorInfo;
};

type GradFunc = NonNullable<ReturnType<Tf['getGradient']>>['gradFunc'];
type Tensor = import('@tensorflow/tfjs').Tensor;

/** The fused gradient of Minimum (lower = le: a where a ≤ b) or Maximum (ge), else the stock one. */
export function minMaxGradient(tf: Tf, kernel: 'Minimum' | 'Maximum'): GradFunc | undefined {
  const registered = tf.getGradient(kernel);
  // the stock gradient, also when the fast one is installed already
  const stock = (registered as unknown as { [k: symbol]: typeof registered } | undefined)?.[Symbol.for('alexnetc.fastGradient')] ?? registered;
  if (stock === undefined) return undefined;
  const [forA, forB]: MaskCmp[] = kernel === 'Minimum' ? ['le', 'gt'] : ['ge', 'lt'];
  return (dy, saved, attrs) => {
    const [a, b] = saved as Tensor[];
    const d = dy as Tensor;
    const n = size(d.shape);
    const fits = (t: Tensor) => size(t.shape) === n || size(t.shape) === 1;
    if (!allFloat(a!, b!, d) || !fits(a!) || !fits(b!)) return stock.gradFunc(dy, saved, attrs);
    const fallback = stock.gradFunc(dy, saved, attrs) as Record<string, () => Tensor>;
    const run = (cmp: MaskCmp) => tf.engine().runKernel(MASK_GRAD, { a, b, dy: d } as never, { cmp } as never) as Tensor;
    return {
      // a scalar input's gradient needs a sum: the stock one
      a: size(a!.shape) === n ? () => run(forA) : fallback.a!,
      b: size(b!.shape) === n ? () => run(forB) : fallback.b!,
    };
  };
}
