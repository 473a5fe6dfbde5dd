// One matrix-multiply shape is enough for every convolution pass:
//   C[i, j] (+)= Σ_k A[i, k] · B[j, k]      (A: M×K, B: N×K, both row-major)
// Both operands are read contiguously along the reduction axis, so a 4×4 tile
// of accumulators lives in registers and each step does 16 multiply-adds for
// 8 loads. V8 keeps the locals as unboxed doubles, which also makes the sums
// more accurate than float32 accumulation.

/** Reduction chunk: keeps the B rows touched by one A row block in cache. */
const KC = 512;

export function gemmNT(
  M: number, N: number, K: number,
  A: Float32Array, B: Float32Array, C: Float32Array,
  accumulate: boolean,
): void {
  if (!accumulate) C.fill(0, 0, M * N);
  for (let k0 = 0; k0 < K; k0 += KC) {
    const k1 = Math.min(K, k0 + KC);
    gemmChunk(M, N, K, k0, k1, A, B, C);
  }
}

function gemmChunk(
  M: number, N: number, K: number, k0: number, k1: number,
  A: Float32Array, B: Float32Array, C: Float32Array,
): void {
  const M4 = M - (M % 4);
  const N4 = N - (N % 4);
  for (let i = 0; i < M4; i += 4) {
    const a0 = i * K, a1 = a0 + K, a2 = a1 + K, a3 = a2 + K;
    const c0 = i * N, c1 = c0 + N, c2 = c1 + N, c3 = c2 + N;
    let j = 0;
    for (; j < N4; j += 4) {
      const b0 = j * K, b1 = b0 + K, b2 = b1 + K, b3 = b2 + K;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0;
      let s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      let s20 = 0, s21 = 0, s22 = 0, s23 = 0;
      let s30 = 0, s31 = 0, s32 = 0, s33 = 0;
      for (let k = k0; k < k1; k++) {
        const x0 = A[a0 + k], x1 = A[a1 + k], x2 = A[a2 + k], x3 = A[a3 + k];
        const y0 = B[b0 + k], y1 = B[b1 + k], y2 = B[b2 + k], y3 = B[b3 + k];
        s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3;
        s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3;
        s20 += x2 * y0; s21 += x2 * y1; s22 += x2 * y2; s23 += x2 * y3;
        s30 += x3 * y0; s31 += x3 * y1; s32 += x3 * y2; s33 += x3 * y3;
      }
      C[c0 + j] += s00; C[c0 + j + 1] += s01; C[c0 + j + 2] += s02; C[c0 + j + 3] += s03;
      C[c1 + j] += s10; C[c1 + j + 1] += s11; C[c1 + j + 2] += s12; C[c1 + j + 3] += s13;
      C[c2 + j] += s20; C[c2 + j + 1] += s21; C[c2 + j + 2] += s22; C[c2 + j + 3] += s23;
      C[c3 + j] += s30; C[c3 + j + 1] += s31; C[c3 + j + 2] += s32; C[c3 + j + 3] += s33;
    }
    // Leftover columns: 4 rows × 1 column still reuses each B load four times.
    for (; j < N; j++) {
      const b0 = j * K;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let k = k0; k < k1; k++) {
        const y = B[b0 + k];
        s0 += A[a0 + k] * y; s1 += A[a1 + k] * y; s2 += A[a2 + k] * y; s3 += A[a3 + k] * y;
      }
      C[c0 + j] += s0; C[c1 + j] += s1; C[c2 + j] += s2; C[c3 + j] += s3;
    }
  }
  // Leftover rows: 1 row × 4 columns.
  for (let i = M4; i < M; i++) {
    const a0 = i * K, c0 = i * N;
    let j = 0;
    for (; j < N4; j += 4) {
      const b0 = j * K, b1 = b0 + K, b2 = b1 + K, b3 = b2 + K;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let k = k0; k < k1; k++) {
        const x = A[a0 + k];
        s0 += x * B[b0 + k]; s1 += x * B[b1 + k]; s2 += x * B[b2 + k]; s3 += x * B[b3 + k];
      }
      C[c0 + j] += s0; C[c0 + j + 1] += s1; C[c0 + j + 2] += s2; C[c0 + j + 3] += s3;
    }
    for (; j < N; j++) {
      const b0 = j * K;
      let s = 0;
      for (let k = k0; k < k1; k++) s += A[a0 + k] * B[b0 + k];
      C[c0 + j] += s;
    }
  }
}

/** out[j, i] = src[i, j] for a rows×cols row-major matrix. */
export function transpose2d(src: Float32Array, rows: number, cols: number, out: Float32Array): Float32Array {
  // Blocked so both sides stay within a few cache lines per tile.
  const T = 32;
  for (let i0 = 0; i0 < rows; i0 += T) {
    const i1 = Math.min(rows, i0 + T);
    for (let j0 = 0; j0 < cols; j0 += T) {
      const j1 = Math.min(cols, j0 + T);
      for (let i = i0; i < i1; i++) {
        const s = i * cols;
        for (let j = j0; j < j1; j++) out[j * rows + i] = src[s + j];
      }
    }
  }
  return out;
}

/** Growable scratch buffers; kernels run synchronously, so reuse is safe. */
const scratch = new Map<string, Float32Array>();
export function scratchBuffer(name: string, size: number): Float32Array {
  let buf = scratch.get(name);
  if (buf === undefined || buf.length < size) {
    buf = new Float32Array(size);
    scratch.set(name, buf);
  }
  return buf.length === size ? buf : buf.subarray(0, size);
}
