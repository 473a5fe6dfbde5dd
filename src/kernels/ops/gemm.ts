// Driving the wasm GEMM from JavaScript: packing B, and splitting C into
// parallel items. How C is split never changes a result (see wasm/gemm.ts).
import { FLAG_ADD, FLAG_RELU, KC, NR, TILE_PAD } from '../wasm/gemm.js';
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

/**
 * How gemm() splits C: all rows in one item up to 256 (an item's A block,
 * mb × 256 floats, stays in L2 and each B panel loaded into L1 serves all of
 * them), then columns: an item's C block of at most 64K floats (256 KiB, in
 * L2 across the K blocks that add to it), and at least four items per thread
 * (a loaded machine takes a thread away for a while), evenly many per thread.
 * Measured at ViT-B/32's shapes ([200, 768] · [768, 2304] and alike), one
 * thread: 45–49 GFLOP/s against 30–38 for splitGemm's rows-first items,
 * which load every B panel from memory for a quarter of the rows.
 */
export function gemmSplit(M: number, N: number, threads: number): GemmSplit {
  const panels = Math.max(1, Math.ceil(N / NR));
  const rowItems = Math.max(1, Math.ceil(M / 256));
  const mb = up(Math.max(1, Math.ceil(M / rowItems)), 4);
  let ncb = Math.ceil(panels / Math.max(1, Math.floor((1 << 16) / (mb * NR))));
  if (threads > 1) {
    ncb = Math.max(ncb, Math.ceil(4 * threads / rowItems));
    while ((rowItems * ncb) % threads !== 0 && ncb < panels) ncb++;
  }
  ncb = Math.min(ncb, panels);
  const nb = Math.ceil(panels / ncb);
  ncb = Math.ceil(panels / nb);
  return { mb, nb, ncb, items: rowItems * ncb };
}

/**
 * Whether C[M, N] = A · B is better computed as Cᵀ = Bᵀ · Aᵀ and transposed
 * back: B large (N > 4M) and A small beside it (K > 4M), so that packing B
 * (about a third of the transpose's cost per float: [768, 3072] packs in
 * 1.5 ms, a [200, 3072] result transposes back in 2 ms) costs more than
 * packing A and the transpose. AlexNet's fc6 at batch 16 swaps; ViT-B/32's
 * dense layers on 200 tokens do not.
 */
export function swapPays(M: number, K: number, N: number): boolean {
  return N > 4 * M && K > 4 * M && K * N > 1 << 16;
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

/**
 * C (+)= A · B over the pool. A column-major A (cs ≠ 4) is packed by each
 * item, a K block at a time, into its thread's scratch (gemm_packed), where
 * the item has panels enough to repay it; a row-major one is read in place
 * (packing it measured no faster). Packed or not, the same sums in the same
 * order.
 */
export function gemm(io: Io, g: GemmArgs): void {
  if (g.M === 0 || g.N === 0) return;
  if (g.cs !== 4 && g.rs !== 4) throw new Error('gemm: A must be row- or column-major');
  const s = gemmSplit(g.M, g.N, io.rt.threads);
  const args = [g.M, g.N, g.K, g.a, g.rs, g.cs, g.bp, g.c, g.ldc, g.bias ?? 0, g.flags ?? 0, s.mb, s.nb, s.ncb];
  const serial = g.M * g.N * g.K < 1 << 15;
  if (g.cs === 4 || serial || s.nb < 4) {
    io.rt.parallel(g.cs === 4 ? 'gemm_row' : 'gemm_col', s.items, args, serial);
    return;
  }
  const sstride = (s.mb / 4) * (Math.min(KC, Math.max(g.K, 1)) * 16 + TILE_PAD);
  const scratch = io.temp(io.rt.threads * sstride / 4);
  io.rt.parallel('gemm_packed', s.items, [...args, scratch, sstride], serial);
}
