// Batch normalisation in training mode as two fused kernels of alexnetc's own
// (tfjs has none: its layer runs Mean, SquaredDifference, a second Mean and
// FusedBatchNorm forward, and a dozen generic kernels backward):
//   AlexnetcBatchNormTrain {x, scale, offset} → [y, mean, variance]
//   AlexnetcBatchNormGrad  {x, dy, scale, mean, variance} → [dx, dscale, doffset]
// over the last (channel) axis, with the batch's biased variance as tfjs-layers
// uses it (for normalising and for the moving average). Statistics are summed
// in doubles, chunk by chunk (wasm/batchnorm.ts).
import type { KernelArgs, KernelFunc, TensorInfo, Tf } from './backend.js';
import { onHeap, size } from './backend.js';
import type { Io } from './runtime/tensors.js';

export const BN_TRAIN = 'AlexnetcBatchNormTrain';
export const BN_GRAD = 'AlexnetcBatchNormGrad';

/** Rows per statistics chunk and per apply item, for C channels (the compiled step's batch norm too). */
export const chunkRows = (C: number): number => Math.max(1, Math.ceil((1 << 16) / C));

/** A copy of a small tensor's values. */
function floats(io: Io, t: TensorInfo, n: number): Float32Array {
  const p = io.input(t) / 4;
  return io.heap.f32.slice(p, p + n);
}

/** Sum the per-chunk partials (2 × C doubles each) in chunk order. */
export function combine(f64: Float64Array, at: number, chunks: number, C: number): [Float64Array, Float64Array] {
  const s = new Float64Array(C), q = new Float64Array(C);
  for (let k = 0; k < chunks; k++) {
    const base = at + k * 2 * C;
    for (let c = 0; c < C; c++) {
      s[c] += f64[base + c]!;
      q[c] += f64[base + C + c]!;
    }
  }
  return [s, q];
}

const trainKernel: KernelFunc = (args) => {
  const a = args as unknown as KernelArgs;
  const { x, scale, offset } = a.inputs as { x: TensorInfo; scale: TensorInfo; offset: TensorInfo };
  const eps = a.attrs.varianceEpsilon as number;
  return onHeap(a, undefined, (io) => {
    const C = x.shape[x.shape.length - 1]!, rows = size(x.shape) / C;
    const px = io.input(x);
    const gamma = floats(io, scale, C);
    const beta = io.input(offset);
    const chunk = chunkRows(C), chunks = Math.max(1, Math.ceil(rows / chunk));
    const partials = io.temp(4 * chunks * C + 4);
    const small = rows * C < 1 << 17;
    io.rt.parallel('bn_stats_partial', chunks, [px, rows, C, chunk, partials], small);
    const [s, q] = combine(new Float64Array(io.heap.f32.buffer), partials / 8, chunks, C);
    const mean = io.output(C), variance = io.output(C), coef = io.temp(C);
    const f = io.heap.f32; // after the last allocation: a grown heap has a longer view
    for (let c = 0; c < C; c++) {
      const m = rows > 0 ? s[c]! / rows : 0;
      const v = rows > 0 ? Math.max(0, q[c]! / rows - m * m) : 0;
      mean.view[c] = m;
      variance.view[c] = v;
      f[coef / 4 + c] = gamma[c]! / Math.sqrt(v + eps);
    }
    const y = io.output(rows * C);
    io.rt.parallel('bn_fwd_apply', Math.ceil(rows / chunk), [px, y.p, mean.p, coef, beta, rows, C, chunk], small);
    return [io.tensor(y.view, x.shape), io.tensor(mean.view, [C]), io.tensor(variance.view, [C])];
  });
};

const gradKernel: KernelFunc = (args) => {
  const a = args as unknown as KernelArgs;
  const { x, dy, scale, mean, variance } = a.inputs as Record<string, TensorInfo>;
  const eps = a.attrs.varianceEpsilon as number;
  return onHeap(a, undefined, (io) => {
    const C = x!.shape[x!.shape.length - 1]!, rows = size(x!.shape) / C;
    const px = io.input(x!), pdy = io.input(dy!), pm = io.input(mean!);
    const gamma = floats(io, scale!, C), vr = floats(io, variance!, C);
    const chunk = chunkRows(C), chunks = Math.max(1, Math.ceil(rows / chunk));
    const partials = io.temp(4 * chunks * C + 4);
    const small = rows * C < 1 << 17;
    io.rt.parallel('bn_grad_partial', chunks, [px, pdy, pm, rows, C, chunk, partials], small);
    const [sdy, sdyx] = combine(new Float64Array(io.heap.f32.buffer), partials / 8, chunks, C);
    const dscale = io.output(C), doffset = io.output(C);
    const k = io.temp(3 * C);
    const g = io.heap.f32; // after the last allocation: a grown heap has a longer view
    for (let c = 0; c < C; c++) {
      const inv = 1 / Math.sqrt(vr[c]! + eps);
      dscale.view[c] = sdyx[c]! * inv;
      doffset.view[c] = sdy[c]!;
      g[k / 4 + c] = gamma[c]! * inv;
      g[k / 4 + C + c] = rows > 0 ? sdy[c]! / rows : 0;
      g[k / 4 + 2 * C + c] = rows > 0 ? (sdyx[c]! * inv * inv) / rows : 0;
    }
    const dx = io.output(rows * C);
    io.rt.parallel('bn_bwd_apply', Math.ceil(rows / chunk), [px, pdy, dx.p, pm, k, k + 4 * C, k + 8 * C, rows, C, chunk], small);
    return [io.tensor(dx.view, x!.shape), io.tensor(dscale.view, [C]), io.tensor(doffset.view, [C])];
  });
};

export const batchNormKernels: Array<[string, KernelFunc]> = [[BN_TRAIN, trainKernel], [BN_GRAD, gradKernel]];

/** The gradient of AlexnetcBatchNormTrain: one kernel computes all three (the backward pass keeps what it uses). */
export function registerBatchNormGradient(tf: Tf): void {
  tf.registerGradient({
    kernelName: BN_TRAIN,
    inputsToSave: ['x', 'scale'],
    outputsToSave: [false, true, true],
    gradFunc: (dy, saved, attrs) => {
      const [x, scale, mean, variance] = saved as import('@tensorflow/tfjs').Tensor[];
      const dyY = (Array.isArray(dy) ? dy[0] : dy)!;
      const [dx, dscale, doffset] = tf.engine().runKernel(BN_GRAD, { x, dy: dyY, scale, mean, variance } as never, attrs as never) as
        import('@tensorflow/tfjs').Tensor[];
      return { x: () => dx!, scale: () => dscale!, offset: () => doffset! };
    },
  });
}
