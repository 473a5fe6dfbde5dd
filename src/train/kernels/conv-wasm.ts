// The three convolution passes on the wasm SIMD GEMM (wasm-gemm.ts), every
// operand laid out as C[·, N] = A[·, K] · B[K, N] with N padded to a multiple
// of 4 inside the workspace:
//   forward      Y[M, cout]  = cols[M, K]   · W[K, cout]
//   input grad   dcols[M, K] = dY[M, cout]  · Wᵀ[cout, K]   then col2im
//   filter grad  dW[K, cout] = colsᵀ[K, M]  · dY[M, cout]   (cols read transposed)
// (M = N·OH·OW output positions, K = FH·FW·cin.) Each returns null when wasm
// SIMD is unavailable, and the caller uses the plain-JS GEMM.
import type { ConvInfo } from './backend.js';
import { col2im, im2col } from './im2col.js';
import type { PatchGeom, Workspace } from './wasm-gemm.js';
import { wasmCol2im, wasmCopyRows, wasmGemm, wasmIm2col, wasmWorkspace } from './wasm-gemm.js';

/** The geometry when every tap lands in the image (the wasm patch copies apply). */
function inBounds(ci: ConvInfo): PatchGeom | null {
  const p = ci.padInfo;
  if (p.top !== 0 || p.left !== 0 || p.bottom !== 0 || p.right !== 0) return null;
  if (ci.dilationHeight !== 1 || ci.dilationWidth !== 1) return null;
  if ((ci.outHeight - 1) * ci.strideHeight + ci.filterHeight > ci.inHeight) return null;
  if ((ci.outWidth - 1) * ci.strideWidth + ci.filterWidth > ci.inWidth) return null;
  return {
    N: ci.batchSize, H: ci.inHeight, W: ci.inWidth, C: ci.inChannels, OH: ci.outHeight, OW: ci.outWidth,
    FH: ci.filterHeight, FW: ci.filterWidth, SH: ci.strideHeight, SW: ci.strideWidth,
  };
}

/** cols[M, K] at workspace offset `oa` from x (at `ox` when it is in the workspace). */
function patches(ws: Workspace, x: Float32Array, ci: ConvInfo, g: PatchGeom | null, ox: number, oa: number, M: number, K: number): void {
  if (g !== null) {
    ws.f32.set(x.subarray(0, g.N * g.H * g.W * g.C), ox);
    wasmIm2col(g, ox, oa, K);
  } else {
    im2col(x, ci, ws.f32.subarray(oa, oa + M * K));
  }
}

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

/** Y = conv(x, w) (+ bias, one value per output channel, added in the GEMM). */
export function wasmConvForward(x: Float32Array, w: Float32Array, ci: ConvInfo, bias?: Float32Array): Float32Array | null {
  const ws = wasmWorkspace();
  if (ws === null) return null;
  const { M, K, cout } = dims(ci);
  const np = up4(cout);
  const g = inBounds(ci);
  const [oa, ob, oc, ox, obias, oy] = ws.layout([M * K, K * np, M * np, g === null ? 0 : x.length, np,
    np === cout ? 0 : M * cout]) as [number, number, number, number, number, number];
  patches(ws, x, ci, g, ox, oa, M, K);
  const f = ws.f32;
  putPadded(f, ob, w, K, cout, np);
  if (bias !== undefined) putPadded(f, obias, bias, 1, cout, np);
  wasmGemm(M, np, K, oa, K, ob, np, oc, np, 1, bias === undefined ? -1 : obias);
  if (np === cout) return f.slice(oc, oc + M * cout);
  wasmCopyRows(oc, np, oy, cout, M, cout); // drop the pad columns
  return f.slice(oy, oy + M * cout);
}

export function wasmConvBackpropInput(dy: Float32Array, w: Float32Array, ci: ConvInfo): Float32Array | null {
  const ws = wasmWorkspace();
  if (ws === null) return null;
  const { M, K, cout } = dims(ci);
  const kp = up4(K);
  const g = inBounds(ci);
  const nx = ci.batchSize * ci.inHeight * ci.inWidth * ci.inChannels;
  const [oa, ob, oc, ox] = ws.layout([M * cout, cout * kp, M * kp, g === null ? 0 : nx]) as [number, number, number, number];
  const f = ws.f32;
  f.set(dy.subarray(0, M * cout), oa);
  // Wᵀ[c, k] = W[k, c], padded to kp columns.
  for (let c = 0; c < cout; c++) {
    const d = ob + c * kp;
    for (let k = 0; k < K; k++) f[d + k] = w[k * cout + c]!;
    for (let k = K; k < kp; k++) f[d + k] = 0;
  }
  wasmGemm(M, kp, cout, oa, cout, ob, kp, oc, kp);
  if (g !== null) {
    f.fill(0, ox, ox + nx);
    wasmCol2im(g, oc, kp, ox);
    return f.slice(ox, ox + nx);
  }
  const dx = new Float32Array(nx);
  col2im(f.subarray(oc, oc + M * kp), ci, dx, kp);
  return dx;
}

export function wasmConvBackpropFilter(x: Float32Array, dy: Float32Array, ci: ConvInfo): Float32Array | null {
  const ws = wasmWorkspace();
  if (ws === null) return null;
  const { M, K, cout } = dims(ci);
  const np = up4(cout);
  const g = inBounds(ci);
  const [oa, ob, oc, ox, ody] = ws.layout([M * K, M * np, K * np, g === null ? 0 : x.length,
    np === cout ? 0 : M * cout]) as [number, number, number, number, number];
  patches(ws, x, ci, g, ox, oa, M, K);
  const f = ws.f32;
  if (np === cout) {
    f.set(dy.subarray(0, M * cout), ob);
  } else {
    // Spread dY's rows to np floats; the pad columns get neighbouring values,
    // which only reach the pad columns of dW, dropped below.
    f.set(dy.subarray(0, M * cout), ody);
    wasmCopyRows(ody, cout, ob, np, M, cout);
  }
  // A = colsᵀ read in place: row i = tap k (1 float apart), column = position m (K apart).
  wasmGemm(K, np, M, oa, 1, ob, np, oc, np, K);
  return takePadded(f, oc, K, cout, np);
}
