// The three convolution passes on the wasm SIMD GEMM (wasm-gemm.ts), every
// operand laid out as C[·, N] = A[·, K] · B[K, N] with N padded to a multiple
// of 4 inside the workspace:
//   forward      Y[M, cout]  = cols[M, K]   · W[K, cout]
//   input grad   dcols[M, K] = dY[M, cout]  · Wᵀ[cout, K]   then col2im
//   filter grad  dW[K, cout] = colsᵀ[K, M]  · dY[M, cout]
// (M = N·OH·OW output positions, K = FH·FW·cin.) Each returns null when wasm
// SIMD is unavailable, and the caller uses the plain-JS GEMM.
import type { ConvInfo } from './backend.js';
import { col2im, im2col, im2colT } from './im2col.js';
import { wasmGemm, wasmWorkspace } from './wasm-gemm.js';

const up4 = (n: number) => (n + 3) & ~3;

/** dst[off + r·ld + c] = src[r·cols + c], zero in the ld − cols pad columns. */
function putPadded(dst: Float32Array, off: number, src: Float32Array, rows: number, cols: number, ld: number): void {
  if (ld === cols) { dst.set(src.subarray(0, rows * cols), off); return; }
  for (let r = 0; r < rows; r++) {
    const d = off + r * ld, s = r * cols;
    for (let c = 0; c < cols; c++) dst[d + c] = src[s + c]!;
    for (let c = cols; c < ld; c++) dst[d + c] = 0;
  }
}

/** A fresh rows×cols array from workspace rows `ld` floats apart. */
function takePadded(src: Float32Array, off: number, rows: number, cols: number, ld: number): Float32Array {
  if (ld === cols) return src.slice(off, off + rows * cols);
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const s = off + r * ld, d = r * cols;
    for (let c = 0; c < cols; c++) out[d + c] = src[s + c]!;
  }
  return out;
}

function dims(ci: ConvInfo): { M: number; K: number; cout: number } {
  return {
    M: ci.batchSize * ci.outHeight * ci.outWidth,
    K: ci.filterHeight * ci.filterWidth * ci.inChannels,
    cout: ci.outChannels,
  };
}

export function wasmConvForward(x: Float32Array, w: Float32Array, ci: ConvInfo): Float32Array | null {
  const ws = wasmWorkspace();
  if (ws === null) return null;
  const { M, K, cout } = dims(ci);
  const np = up4(cout);
  const [oa, ob, oc] = ws.layout([M * K, K * np, M * np]) as [number, number, number];
  const f = ws.f32;
  im2col(x, ci, f.subarray(oa, oa + M * K));
  putPadded(f, ob, w, K, cout, np);
  wasmGemm(M, np, K, oa, K, ob, np, oc, np);
  return takePadded(f, oc, M, cout, np);
}

export function wasmConvBackpropInput(dy: Float32Array, w: Float32Array, ci: ConvInfo): Float32Array | null {
  const ws = wasmWorkspace();
  if (ws === null) return null;
  const { M, K, cout } = dims(ci);
  const kp = up4(K);
  const [oa, ob, oc] = ws.layout([M * cout, cout * kp, M * kp]) as [number, number, number];
  const f = ws.f32;
  f.set(dy.subarray(0, M * cout), oa);
  // Wᵀ[c, k] = W[k, c], padded to kp columns.
  for (let c = 0; c < cout; c++) {
    const d = ob + c * kp;
    for (let k = 0; k < K; k++) f[d + k] = w[k * cout + c]!;
    for (let k = K; k < kp; k++) f[d + k] = 0;
  }
  wasmGemm(M, kp, cout, oa, cout, ob, kp, oc, kp);
  const dx = new Float32Array(ci.batchSize * ci.inHeight * ci.inWidth * ci.inChannels);
  col2im(f.subarray(oc, oc + M * kp), ci, dx, kp);
  return dx;
}

export function wasmConvBackpropFilter(x: Float32Array, dy: Float32Array, ci: ConvInfo): Float32Array | null {
  const ws = wasmWorkspace();
  if (ws === null) return null;
  const { M, K, cout } = dims(ci);
  const np = up4(cout);
  const [oa, ob, oc] = ws.layout([K * M, M * np, K * np]) as [number, number, number];
  const f = ws.f32;
  im2colT(x, ci, f.subarray(oa, oa + K * M));
  putPadded(f, ob, dy, M, cout, np);
  wasmGemm(K, np, M, oa, M, ob, np, oc, np);
  return takePadded(f, oc, K, cout, np);
}
