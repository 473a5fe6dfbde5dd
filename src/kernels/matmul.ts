// BatchMatMul and _FusedMatMul (dense layers and their gradients) on the wasm
// GEMM. The GEMM packs its right operand; when that operand is the large one
// (a dense layer's forward pass: a small batch times a big weight matrix, or
// dX = dY · Wᵀ) and A is much smaller than it, Cᵀ = Bᵀ · Aᵀ is computed
// instead, reading the big matrix in place and packing the small one, and Cᵀ
// is transposed back. Equal batch
// dims only: broadcasting a batch, int32 and prelu go to the stock kernels.
import type { FastKernel, TensorInfo } from './backend.js';
import { allFloat, onHeap, size } from './backend.js';
import { applyActivation } from './conv2d.js';
import { FLAG_RELU, gemm, packB, swapPays } from './ops/gemm.js';
import type { Io } from './runtime/tensors.js';

const ACTIVATIONS = new Set(['linear', 'relu', 'relu6', 'leakyrelu', 'sigmoid', 'elu']);

interface Plan { batch: number; M: number; K: number; N: number; outShape: number[] }

function plan(a: TensorInfo, b: TensorInfo, ta: boolean, tb: boolean): Plan | null {
  const ra = a.shape.length, rb = b.shape.length;
  if (ra < 2 || rb < 2 || ra !== rb || !allFloat(a, b)) return null;
  for (let i = 0; i < ra - 2; i++) if (a.shape[i] !== b.shape[i]) return null;
  const M = ta ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const K = ta ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const K2 = tb ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const N = tb ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  if (K !== K2) return null;
  const lead = a.shape.slice(0, ra - 2);
  return { batch: size(lead), M, K, N, outShape: [...lead, M, N] };
}

/** out[batch, M, N] = op(A) · op(B) (+ bias) (relu). bias: 0 or N floats. */
function matmul(io: Io, pa: number, pb: number, p: Plan, ta: boolean, tb: boolean, bias: number, relu: boolean): { p: number; view: Float32Array } {
  const { batch, M, K, N } = p;
  const out = io.output(batch * M * N);
  const swap = swapPays(M, K, N);
  const ct = swap ? io.temp(M * N) : 0;
  for (let t = 0; t < batch; t++) {
    const a = pa + t * M * K * 4, b = pb + t * K * N * 4, c = out.p + t * M * N * 4;
    if (!swap) {
      const bp = packB(io, b, (tb ? K : N) * 4, tb, K, N);
      gemm(io, {
        M, N, K, a, rs: ta ? 4 : K * 4, cs: ta ? M * 4 : 4, bp, c, ldc: N * 4,
        bias, flags: relu ? FLAG_RELU : 0,
      });
      continue;
    }
    // Cᵀ[N, M] = op(B)ᵀ · op(A)ᵀ: op(B)ᵀ read in place, op(A)ᵀ packed
    const bp = packB(io, a, (ta ? M : K) * 4, !ta, K, M);
    gemm(io, { M: N, N: M, K, a: b, rs: tb ? K * 4 : 4, cs: tb ? 4 : N * 4, bp, c: ct, ldc: M * 4 });
    const f = io.heap.f32, o = c / 4, s = ct / 4, bi = bias / 4;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let v = f[s + j * M + i]!;
        if (bias !== 0) v += f[bi + j]!;
        f[o + i * N + j] = relu && v < 0 ? 0 : v;
      }
    }
  }
  return out;
}

export const fastBatchMatMul: FastKernel = (args, fallback) => {
  const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
  const ta = args.attrs.transposeA === true, tb = args.attrs.transposeB === true;
  const p = plan(a, b, ta, tb);
  if (p === null) return fallback(args as never) as TensorInfo;
  return onHeap(args, fallback, (io) => io.tensor(matmul(io, io.input(a), io.input(b), p, ta, tb, 0, false).view, p.outShape));
};

export const fastFusedMatMul: FastKernel = (args, fallback) => {
  const { a, b, bias, preluActivationWeights } = args.inputs as
    { a: TensorInfo; b: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo };
  const ta = args.attrs.transposeA === true, tb = args.attrs.transposeB === true;
  const activation = (args.attrs.activation as string | undefined) ?? 'linear';
  const p = plan(a, b, ta, tb);
  const biasSize = bias === undefined ? 0 : size(bias.shape);
  if (p === null || preluActivationWeights !== undefined || !ACTIVATIONS.has(activation) || !allFloat(bias) ||
      (bias !== undefined && (bias.shape.length > 1 || (biasSize !== 1 && biasSize !== p.N)))) {
    return fallback(args as never) as TensorInfo;
  }
  return onHeap(args, fallback, (io) => {
    let pbias = 0;
    if (bias !== undefined) {
      pbias = io.input(bias);
      if (biasSize === 1 && p.N !== 1) {
        const v = io.heap.f32[pbias / 4]!;
        pbias = io.temp(p.N);
        io.heap.f32.fill(v, pbias / 4, pbias / 4 + p.N);
      }
    }
    const out = matmul(io, io.input(a), io.input(b), p, ta, tb, pbias, activation === 'relu');
    applyActivation(out.view, activation, (args.attrs.leakyreluAlpha as number | undefined) ?? 0.2);
    return io.tensor(out.view, p.outShape);
  });
};
