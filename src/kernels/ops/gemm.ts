// Driving the wasm GEMM from JavaScript: packing B, and splitting C into
// parallel items. How C is split never changes a result (see wasm/gemm.ts).
import { FLAG_ADD, FLAG_RELU, NR } from '../wasm/gemm.js';
import type { Io } from '../runtime/tensors.js';

export { FLAG_ADD, FLAG_RELU, NR };

const up = (n: number, m: number): number => Math.ceil(n / m) * m;

export interface GemmSplit {
  /** rows per item (a multiple of 4) */
  mb: number;
  /** panels per item */
  nb: number;
  /** column blocks */
  ncb: number;
  items: number;
}

/**
 * About four items per thread, rows first: an item's A block (mb rows × one
 * K block) stays in L2 while its panels stream through L1.
 */
export function splitGemm(M: number, N: number, threads: number): GemmSplit {
  const panels = Math.max(1, Math.ceil(N / NR));
  const want = 4 * threads;
  let mb = Math.min(256, Math.max(16, up(Math.ceil(M / want), 4)));
  if (mb > M) mb = up(Math.max(M, 1), 4);
  const rowItems = Math.ceil(M / mb);
  const ncb = Math.min(panels, Math.max(1, Math.ceil(want / rowItems)));
  const nb = Math.ceil(panels / ncb);
  return { mb, nb, ncb: Math.ceil(panels / nb), items: rowItems * Math.ceil(panels / nb) };
}

/** Bytes of B packed into panels: ⌈N/8⌉ × K × 8 floats. */
export function packedBytes(K: number, N: number): number {
  return Math.ceil(N / NR) * K * NR * 4;
}

/**
 * Pack B[K, N] (B[k, j] at src + k·ld + 4j, or at src + j·ld + 4k when
 * trans) into a temporary of io; returns its address.
 */
export function packB(io: Io, src: number, ld: number, trans: boolean, K: number, N: number): number {
  const dst = io.temp(packedBytes(K, N) / 4);
  io.rt.parallel('pack_b', Math.ceil(N / NR), [src, ld, trans ? 1 : 0, K, N, dst], K * N < 1 << 16);
  return dst;
}

export interface GemmArgs {
  M: number;
  N: number;
  K: number;
  /** A[i, k] at a + i·rs + k·cs (bytes): row-major A has cs = 4, column-major rs = 4 */
  a: number;
  rs: number;
  cs: number;
  /** packed B (packB) */
  bp: number;
  c: number;
  /** bytes between rows of C */
  ldc: number;
  /** 0 or a row of N floats added to every row of C */
  bias?: number;
  flags?: number;
}

/** C (+)= A · B over the pool. */
export function gemm(io: Io, g: GemmArgs): void {
  if (g.M === 0 || g.N === 0) return;
  const variant = g.cs === 4 ? 'row' : g.rs === 4 ? 'col' : null;
  if (variant === null) throw new Error('gemm: A must be row- or column-major');
  const s = splitGemm(g.M, g.N, io.rt.threads);
  io.rt.parallel(`gemm_${variant}`, s.items,
    [g.M, g.N, g.K, g.a, g.rs, g.cs, g.bp, g.c, g.ldc, g.bias ?? 0, g.flags ?? 0, s.mb, s.nb, s.ncb],
    g.M * g.N * g.K < 1 << 15);
}
