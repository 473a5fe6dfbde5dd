// BatchMatMul and _FusedMatMul (dense layers and their gradients) on the wasm
// SIMD GEMM. Operands are copied into the workspace in the layout the GEMM
// wants (A[M, K], B[K, N] with N padded to 4), transposing on the way in when
// the attrs ask for it; the matrices are small, so copies are cheap next to
// the stock kernel's per-element work. Equal batch dims only: broadcasting a
// batch, int32, prelu and an unusual bias all go to the stock kernels.
import type { CpuBackend, FastKernel, TensorInfo } from './backend.js';
import { valuesOf } from './backend.js';
import { addBias, applyActivation } from './fused-conv2d.js';
import { wasmGemm, wasmWorkspace } from './wasm-gemm.js';

const ACTIVATIONS = new Set(['linear', 'relu', 'relu6', 'leakyrelu', 'sigmoid', 'elu']);

interface Plan { batch: number; M: number; K: number; N: number; outShape: number[] }

function plan(a: TensorInfo, b: TensorInfo, ta: boolean, tb: boolean): Plan | null {
  const ra = a.shape.length, rb = b.shape.length;
  if (ra < 2 || rb < 2 || ra !== rb || a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  for (let i = 0; i < ra - 2; i++) if (a.shape[i] !== b.shape[i]) return null;
  const M = ta ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const K = ta ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const K2 = tb ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const N = tb ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  if (K !== K2) return null;
  const lead = a.shape.slice(0, ra - 2);
  return { batch: lead.reduce((p, d) => p * d, 1), M, K, N, outShape: [...lead, M, N] };
}

/** out[batch, M, N] = op(A) · op(B), or null without wasm. */
function matmul(av: Float32Array, bv: Float32Array, p: Plan, ta: boolean, tb: boolean): Float32Array | null {
  const ws = wasmWorkspace();
  if (ws === null) return null;
  const { batch, M, K, N } = p;
  const np = (N + 3) & ~3;
  const [oa, ob, oc] = ws.layout([M * K, K * np, M * np]) as [number, number, number];
  const out = new Float32Array(batch * M * N);
  for (let t = 0; t < batch; t++) {
    const f = ws.f32;
    const sa = t * M * K, sb = t * K * N;
    if (!ta) f.set(av.subarray(sa, sa + M * K), oa);
    else for (let k = 0; k < K; k++) for (let i = 0; i < M; i++) f[oa + i * K + k] = av[sa + k * M + i]!;
    for (let k = 0; k < K; k++) {
      const d = ob + k * np;
      if (!tb) for (let j = 0; j < N; j++) f[d + j] = bv[sb + k * N + j]!;
      else for (let j = 0; j < N; j++) f[d + j] = bv[sb + j * K + k]!;
      for (let j = N; j < np; j++) f[d + j] = 0;
    }
    wasmGemm(M, np, K, oa, K, ob, np, oc, np);
    const so = t * M * N;
    if (np === N) out.set(f.subarray(oc, oc + M * N), so);
    else for (let i = 0; i < M; i++) out.set(f.subarray(oc + i * np, oc + i * np + N), so + i * N);
  }
  return out;
}

export const fastBatchMatMul: FastKernel = (args, fallback) => {
  const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
  const ta = args.attrs.transposeA === true, tb = args.attrs.transposeB === true;
  const p = plan(a, b, ta, tb);
  const be: CpuBackend = args.backend;
  const out = p === null ? null : matmul(valuesOf(be, a), valuesOf(be, b), p, ta, tb);
  if (p === null || out === null) return fallback(args as never) as TensorInfo;
  return be.makeTensorInfo(p.outShape, 'float32', out);
};

export const fastFusedMatMul: FastKernel = (args, fallback) => {
  const { a, b, bias, preluActivationWeights } = args.inputs as
    { a: TensorInfo; b: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo };
  const ta = args.attrs.transposeA === true, tb = args.attrs.transposeB === true;
  const activation = (args.attrs.activation as string | undefined) ?? 'linear';
  const p = plan(a, b, ta, tb);
  const biasSize = bias === undefined ? 0 : bias.shape.reduce((q, d) => q * d, 1);
  if (p === null || preluActivationWeights !== undefined || !ACTIVATIONS.has(activation) ||
      (bias !== undefined && (bias.shape.length > 1 || (biasSize !== 1 && biasSize !== p.N)))) {
    return fallback(args as never) as TensorInfo;
  }
  const be: CpuBackend = args.backend;
  const out = matmul(valuesOf(be, a), valuesOf(be, b), p, ta, tb);
  if (out === null) return fallback(args as never) as TensorInfo;
  if (bias !== undefined) addBias(out, valuesOf(be, bias), p.N);
  applyActivation(out, activation, (args.attrs.leakyreluAlpha as number | undefined) ?? 0.2);
  return be.makeTensorInfo(p.outShape, 'float32', out);
};
