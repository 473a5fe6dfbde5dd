// ReLU, LeakyReLU, sigmoid and tanh, and their gradients, as single wasm
// passes. tfjs-core writes each gradient as several kernels (relu's is
// mul(dy, step(x)), sigmoid's mul(dy, mul(y, sub(1, y)))), each a full-size
// temporary; here each gradient is one kernel doing the same float32
// roundings in the same order, so the results are bit-identical (sigmoid's and
// tanh's forward use an exp and a rational approximation within a few ulps).
import type { FastKernel, KernelArgs, KernelFunc, TensorInfo, Tf } from './backend.js';
import { allFloat, onHeap, size } from './backend.js';
import { BLOCK } from './wasm/copy.js';
import type { Io } from './runtime/tensors.js';

/** y = kernel(inputs…) element-wise over n floats; `alpha` (LeakyReLU) goes in a constants block. */
function map(io: Io, kernel: string, inputs: TensorInfo[], alpha?: number): { p: number; view: Float32Array } {
  const n = size(inputs[0]!.shape);
  const ps = inputs.map((t) => io.input(t));
  const y = io.output(n);
  let consts = 0;
  if (alpha !== undefined) {
    consts = io.temp(4);
    new Float64Array(io.heap.f32.buffer, consts, 1)[0] = alpha;
    io.heap.f32[consts / 4 + 2] = alpha;
  }
  io.rt.parallel(kernel, Math.ceil(n / BLOCK), [...ps, y.p, n, consts], n < 4 * BLOCK);
  return y;
}

function unaryKernel(kernel: string, alphaOf?: (a: Record<string, unknown>) => number): FastKernel {
  return (args, fallback) => {
    const { x } = args.inputs as { x: TensorInfo };
    if (!allFloat(x)) return fallback(args as never) as TensorInfo;
    return onHeap(args, fallback, (io) => io.tensor(map(io, kernel, [x], alphaOf?.(args.attrs)).view, x.shape));
  };
}

export const fastRelu = unaryKernel('relu');
export const fastLeakyRelu = unaryKernel('leaky_relu', (a) => a.alpha as number);
export const fastSigmoid = unaryKernel('sigmoid');
export const fastTanh = unaryKernel('tanh');

/** The gradient kernels, registered under names of their own for the cpu backend. */
export const GRAD_KERNELS: Array<[string, string, string[], ((a: Record<string, unknown>) => number)?]> = [
  ['AlexnetcReluGrad', 'relu_grad', ['x', 'dy']],
  ['AlexnetcLeakyReluGrad', 'leaky_relu_grad', ['x', 'dy'], (a) => a.alpha as number],
  ['AlexnetcSigmoidGrad', 'sigmoid_grad', ['y', 'dy']],
  ['AlexnetcTanhGrad', 'tanh_grad', ['y', 'dy']],
  ['AlexnetcRelu6Grad', 'relu6_grad', ['x', 'dy']],
];

export function gradKernel(kernel: string, names: string[], alphaOf?: (a: Record<string, unknown>) => number): KernelFunc {
  return (args) => {
    const a = args as unknown as KernelArgs;
    const ins = names.map((n) => a.inputs[n]!);
    return onHeap(a, undefined, (io) => io.tensor(map(io, kernel, ins, alphaOf?.(a.attrs)).view, ins[0]!.shape)) as TensorInfo;
  };
}

type GradConfig = NonNullable<ReturnType<Tf['getGradient']>>;
type GradFunc = GradConfig['gradFunc'];
const FAST = Symbol.for('alexnetc.fastGradient');
interface Marked { [FAST]?: GradConfig }

/**
 * Replace a registered gradient by `fast` on the cpu backend. The stock one
 * stays for other backends and under an outer tape (a gradient of a
 * gradient), where a fused kernel, having no gradient of its own, would not do.
 */
export function overrideGradient(tf: Tf, kernelName: string, fast: GradFunc): boolean {
  const stock = tf.getGradient(kernelName);
  if (stock === undefined) return false;
  if ((stock as Marked)[FAST] !== undefined) return true;
  const engine = tf.engine() as unknown as { state: { gradientDepth: number } };
  const config: GradConfig = {
    ...stock,
    gradFunc: (dy, saved, attrs) => {
      if (tf.getBackend() !== 'cpu' || engine.state.gradientDepth !== 0 || Array.isArray(dy)) return stock.gradFunc(dy, saved, attrs);
      return fast(dy, saved, attrs);
    },
  };
  (config as Marked)[FAST] = stock;
  tf.registerGradient(config);
  return true;
}

export function restoreGradient(tf: Tf, kernelName: string): void {
  const stock = (tf.getGradient(kernelName) as Marked | undefined)?.[FAST];
  if (stock !== undefined) tf.registerGradient(stock);
}

const run = (tf: Tf, name: string, inputs: Record<string, unknown>, attrs: Record<string, unknown> = {}) =>
  tf.engine().runKernel(name, inputs as never, attrs as never) as import('@tensorflow/tfjs').Tensor;

/** The fast activation gradients: kernel name → gradient function. */
export function activationGradients(tf: Tf): Array<[string, GradFunc]> {
  return [
    ['Relu', (dy, saved) => ({ x: () => run(tf, 'AlexnetcReluGrad', { x: saved[0], dy }) })],
    ['LeakyRelu', (dy, saved, attrs) => ({ x: () => run(tf, 'AlexnetcLeakyReluGrad', { x: saved[0], dy }, { alpha: (attrs as { alpha: number }).alpha }) })],
    ['Sigmoid', (dy, saved) => ({ x: () => run(tf, 'AlexnetcSigmoidGrad', { y: saved[0], dy }) })],
    ['Tanh', (dy, saved) => ({ x: () => run(tf, 'AlexnetcTanhGrad', { y: saved[0], dy }) })],
    // hard sigmoid and hard swish are relu6(x + 3) / 6 (·x): the stock gradient's LessEqual(x, 6) indexes a broadcast scalar
    ['Relu6', (dy, saved) => ({ x: () => run(tf, 'AlexnetcRelu6Grad', { x: saved[0], dy }) })],
  ];
}

