// Layer normalisation over the last axis (ViT's and ConvNeXt's LayerNorm)
// and exact GELU as fused kernels of alexnetc's own, with their gradients:
//   AlexnetcLayerNorm     {x, gamma, beta} attrs {epsilon} → [y, mean, rstd]
//   AlexnetcLayerNormGrad {x, dy, gamma, mean, rstd}       → [dx, dgamma, dbeta]
//   AlexnetcGelu          {x}     → ½·x·(1 + erf(x/√2))
//   AlexnetcGeluGrad      {x, dy} → dy·(½·(1 + erf(x/√2)) + x·φ(x))
// The compositions they replace are about ten tfjs kernels forward and
// twenty backward for one layer norm (moments, broadcasts, their sums), and
// Erf, Exp, Square, Neg, Pow for GELU's gradient. Layer norm on the wasm
// kernels the compiled step uses too, driven the same way (kernels/ops/layernorm.ts:
// row statistics in doubles, two passes), so both paths compute the same numbers.
// GELU on the wasm kernels of wasm/gelu.ts.
import type { KernelArgs, KernelFunc, TensorInfo, Tf } from './backend.js';
import { onHeap, size } from './backend.js';
import { BLOCK } from './wasm/copy.js';
import { layerNormGradRows, layerNormRows } from './ops/layernorm.js';

export const LN = 'AlexnetcLayerNorm';
export const LN_GRAD = 'AlexnetcLayerNormGrad';
export const GELU = 'AlexnetcGelu';
export const GELU_GRAD = 'AlexnetcGeluGrad';

const layerNorm: KernelFunc = (args) => {
  const a = args as unknown as KernelArgs;
  const { x, gamma, beta } = a.inputs as Record<string, TensorInfo>;
  const eps = a.attrs.epsilon as number;
  return onHeap(a, undefined, (io) => {
    const D = x!.shape[x!.shape.length - 1]!, rows = size(x!.shape) / D;
    const px = io.input(x!), pg = io.input(gamma!), pb = io.input(beta!);
    const y = io.output(rows * D), mean = io.output(rows), rstd = io.output(rows);
    const consts = (io.temp(4) + 7) & ~7;
    new Float64Array(io.heap.f32.buffer, consts, 1)[0] = eps;
    layerNormRows(io, px, y.p, mean.p, rstd.p, pg, pb, rows, D, consts);
    const stats = x!.shape.slice(0, -1);
    return [io.tensor(y.view, x!.shape), io.tensor(mean.view, stats), io.tensor(rstd.view, stats)];
  }) as TensorInfo[];
};

const layerNormGrad: KernelFunc = (args) => {
  const a = args as unknown as KernelArgs;
  const { x, dy, gamma, mean, rstd } = a.inputs as Record<string, TensorInfo>;
  return onHeap(a, undefined, (io) => {
    const D = x!.shape[x!.shape.length - 1]!, rows = size(x!.shape) / D;
    const px = io.input(x!), pdy = io.input(dy!), pg = io.input(gamma!), pm = io.input(mean!), pr = io.input(rstd!);
    const dx = io.output(rows * D), dgamma = io.output(D), dbeta = io.output(D);
    layerNormGradRows(io, px, pdy, pg, pm, pr, dx.p, rows, D, dgamma.view, dbeta.view);
    return [io.tensor(dx.view, x!.shape), io.tensor(dgamma.view, [D]), io.tensor(dbeta.view, [D])];
  }) as TensorInfo[];
};

/** y = kernel(inputs…) element-wise on the wasm kernels (wasm/gelu.ts). */
function map(kernel: string, names: string[]): KernelFunc {
  return (args) => {
    const a = args as unknown as KernelArgs;
    const ins = names.map((n) => a.inputs[n]!);
    return onHeap(a, undefined, (io) => {
      const n = size(ins[0]!.shape);
      const ps = ins.map((t) => io.input(t));
      const y = io.output(n);
      io.rt.parallel(kernel, Math.ceil(n / BLOCK), [...ps, y.p, n, 0], n < 4 * BLOCK);
      return io.tensor(y.view, ins[0]!.shape);
    }) as TensorInfo;
  };
}
const gelu = map('gelu', ['x']);
const geluGrad = map('gelu_grad', ['x', 'dy']);

export const layerNormKernels: Array<[string, KernelFunc]> = [[LN, layerNorm], [LN_GRAD, layerNormGrad], [GELU, gelu], [GELU_GRAD, geluGrad]];

type Tensor = import('@tensorflow/tfjs').Tensor;

/** The gradients of AlexnetcLayerNorm (one kernel for all three) and AlexnetcGelu. */
export function registerLayerNormGradients(tf: Tf): void {
  tf.registerGradient({
    kernelName: LN,
    inputsToSave: ['x', 'gamma'],
    outputsToSave: [false, true, true],
    gradFunc: (dy, saved) => {
      const [x, gamma, mean, rstd] = saved as Tensor[];
      const d = (Array.isArray(dy) ? dy[0] : dy)!;
      const [dx, dgamma, dbeta] = tf.engine().runKernel(LN_GRAD, { x, dy: d, gamma, mean, rstd } as never, {} as never) as Tensor[];
      return { x: () => dx!, gamma: () => dgamma!, beta: () => dbeta! };
    },
  });
  tf.registerGradient({
    kernelName: GELU,
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => {
      const [x] = saved as Tensor[];
      return { x: () => tf.engine().runKernel(GELU_GRAD, { x, dy } as never, {} as never) as Tensor };
    },
  });
}
