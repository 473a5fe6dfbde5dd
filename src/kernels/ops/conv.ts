// The three passes of an NHWC convolution (padding, stride, dilation and
// groups included) on the wasm kernels of wasm/conv.ts. Memory: besides its
// output, each pass holds the packed filter, one geometry block and a
// cache-sized im2col block per thread; the filter gradient walks the output
// positions in chunks no larger than the input, so no pass ever makes a
// K-fold copy of a whole input.
import { FLAG_ADD, FLAG_RELU, gemm, packB, packedBytes, splitGemm, NR } from './gemm.js';
import { GEOM, GEOM_FIELDS } from '../wasm/im2col.js';
import { WINO3, WINO43, WINO5, type WinoSpec } from '../wasm/winograd.js';
import { BLOCK } from '../wasm/copy.js';
import type { Io } from '../runtime/tensors.js';

/** A convolution's shape, NHWC, filter [FH, FW, C/groups, F]. */
export interface ConvGeom {
  N: number; H: number; W: number; C: number;
  OH: number; OW: number; F: number;
  FH: number; FW: number; SH: number; SW: number; DH: number; DW: number;
  top: number; left: number; groups: number;
}

const taps = (g: ConvGeom): number => g.FH * g.FW * (g.C / g.groups);

export function geomBlock(io: Io, g: ConvGeom): number {
  const p = io.temp(GEOM_FIELDS);
  const v = new Int32Array(io.heap.f32.buffer, p, GEOM_FIELDS);
  const cg = g.C / g.groups;
  // in GEOM's order
  v[GEOM.N] = g.N; v[GEOM.H] = g.H; v[GEOM.W] = g.W; v[GEOM.C] = g.C; v[GEOM.OH] = g.OH; v[GEOM.OW] = g.OW;
  v[GEOM.FH] = g.FH; v[GEOM.FW] = g.FW; v[GEOM.SH] = g.SH; v[GEOM.SW] = g.SW; v[GEOM.DH] = g.DH; v[GEOM.DW] = g.DW;
  v[GEOM.top] = g.top; v[GEOM.left] = g.left; v[GEOM.groups] = g.groups; v[GEOM.cg] = cg;
  v[GEOM.F] = g.F; v[GEOM.fg] = g.F / g.groups; v[GEOM.K] = g.FH * g.FW * cg;
  return p;
}

/** 1×1, stride 1, no padding, one group: x is already the patch matrix. */
export function isPointwise(g: ConvGeom): boolean {
  return g.FH === 1 && g.FW === 1 && g.SH === 1 && g.SW === 1 && g.top === 0 && g.left === 0 &&
    g.groups === 1 && g.OH === g.H && g.OW === g.W;
}

/**
 * Rows per im2col block: enough that a block's GEMM reuses each packed filter
 * panel many times (a handful of rows would stream the whole filter per
 * block), few enough that the block (≤ 2 MiB) stays near the core; a multiple
 * of 4, and split finer when the whole problem has fewer rows than threads × 4 blocks.
 */
function blockRows(K: number, M: number, threads: number): number {
  let mb = Math.min(256, Math.max(16, Math.floor(524288 / Math.max(K, 1)))) & ~3;
  mb = Math.min(mb, Math.max(16, Math.ceil(M / (4 * threads) / 4) * 4));
  return mb;
}

/** Zero n floats at p, in parallel. */
export function zeroFill(io: Io, p: number, n: number): void {
  io.rt.parallel('fill_f32', Math.ceil(n / BLOCK), [p, n, 0], n < 4 * BLOCK);
}

/**
 * The Winograd variant that applies, if any: 3×3 or 5×5, stride 1, no
 * dilation, one group, channels in fours and enough of them that the GEMMs
 * are the work, pads within the window, and outputs of at least 6×6 (smaller
 * ones waste too much of their tiles; 7×7×512 measured 20–40 % faster than
 * im2col). 3×3 takes F(4×4, 3×3) (2.25 multiplications an output against
 * F(2×2, 3×3)'s 4) unless the outputs its 4×4 tiles waste past the image's
 * edge eat more than a quarter of that saving (6², 9², 10²: F(2×2, 3×3)).
 * Measured per pass, one thread, batch 8: 25–40 % faster than F(2×2, 3×3) at
 * ResNet's 56² and 28², 16–23 % at 14² × 256, 21–34 % at 7² × 512 (with
 * winograd()'s blocks for few tiles).
 */
export function winogradSpec(g: ConvGeom): WinoSpec | null {
  const up = (n: number, m: number): number => Math.ceil(n / m) * m;
  const four = 2.25 * up(g.OH, 4) * up(g.OW, 4) <= 3 * up(g.OH, 2) * up(g.OW, 2);
  const spec = g.FH === 3 ? (four ? WINO43 : WINO3) : g.FH === 5 ? WINO5 : null;
  if (spec === null || g.FW !== g.FH || g.SH !== 1 || g.SW !== 1 || g.DH !== 1 || g.DW !== 1 || g.groups !== 1) return null;
  if (g.C % 4 !== 0 || g.F % 4 !== 0 || g.C < 16 || g.F < 16 || g.OH * g.OW < 36) return null;
  if (g.top < 0 || g.top > spec.r - 1 || g.left < 0 || g.left > spec.r - 1) return null;
  return spec;
}

/**
 * A Winograd convolution of x (the geometry's input) by the filter at w
 * ([r, r, C, F], or with `flip` the [r, r, F, C] filter of the convolution
 * whose input gradient this is), into a new output of io.
 */
function winograd(io: Io, spec: WinoSpec, g: ConvGeom, x: number, w: number, flip: boolean, bias: number): { p: number; view: Float32Array } {
  const X = spec.alpha * spec.alpha;
  const panels = Math.ceil(g.F / NR);
  const up = io.temp(X * panels * g.C * NR + 16);
  io.rt.parallel(`${spec.name}_filter`, panels, [w, g.C, g.F, flip ? 1 : 0, up], g.C * g.F < 1 << 12);
  const y = io.output(g.N * g.OH * g.OW * g.F);
  const tiles = g.N * Math.ceil(g.OH / spec.m) * Math.ceil(g.OW / spec.m);
  // V (α² × tb × C) and M (α² × tb × F) of a block stay within ~2 MiB; at least 8 tiles a block,
  // then as many blocks as a multiple of the threads (7 blocks on 2 threads left one idle an
  // eighth of the time: ResNet's 28² stage 15–30 % faster per pass balanced).
  // Few tiles of many channels (7² × 512 at batch 8: 32 tiles) take up to 32
  // a block, so that U (α² · C · F floats, 37 MB there) streams through once,
  // not three times (26 against 36 ms a pass), and when there are fewer
  // blocks than threads the threads share a block's output channels instead
  let tb = Math.max(8, Math.min(256, Math.floor(524288 / (X * (g.C + g.F)))));
  tb = Math.max(tb, Math.min(tiles, 32));
  const threads = io.rt.threads, blocks = Math.ceil(tiles / tb);
  let parts = 1;
  if (blocks < threads) parts = Math.min(panels, Math.ceil(threads / blocks));
  else if (blocks > 1 && blocks % threads !== 0) tb = Math.max(4, Math.ceil(tiles / (Math.ceil(blocks / threads) * threads)));
  const sstride = (X * tb * (g.C + g.F) + 16) * 4;
  const scratch = io.temp(threads * sstride / 4);
  io.rt.parallel(`${spec.name}_conv`, Math.ceil(tiles / tb) * parts, [geomBlock(io, g), x, up, y.p, bias, tb, scratch, sstride, parts], false);
  return y;
}

/** y = conv(x, w) (+ bias per output channel) (relu); returns y's address (an output of io). */
export function convForward(io: Io, g: ConvGeom, x: number, w: number, bias: number, relu: boolean): { p: number; view: Float32Array } {
  const spec = relu ? null : winogradSpec(g);
  if (spec !== null) return winograd(io, spec, g, x, w, false, bias);
  const K = taps(g), fg = g.F / g.groups, M = g.N * g.OH * g.OW;
  const pack = packedBytes(K, fg);
  const bp = io.temp(g.groups * pack / 4);
  for (let grp = 0; grp < g.groups; grp++) {
    io.rt.parallel('pack_b', Math.ceil(fg / NR), [w + grp * fg * 4, g.F * 4, 0, K, fg, bp + grp * pack], K * fg < 1 << 16);
  }
  const y = io.output(M * g.F);
  const mb = blockRows(K, M, io.rt.threads);
  const sstride = isPointwise(g) ? 0 : (mb * K + 16) * 4;
  const scratch = sstride === 0 ? 0 : io.temp(io.rt.threads * sstride / 4);
  io.rt.parallel('conv_fwd', Math.ceil(M / mb),
    [geomBlock(io, g), x, bp, y.p, bias, relu ? FLAG_RELU : 0, mb, scratch, sstride], M * K * g.F < 1 << 15);
  return y;
}

/**
 * Bands of bh output rows for a scatter into the input (col2im, pooling
 * gradients): two bands of the same parity must never reach the same input
 * row, so bh·SH > (FH − 1)·DH − SH; within that, at most `maxRows` rows (a
 * cache budget), and at least 16 bands per phase in all when the image
 * allows, so that many threads have work. The bands fix the order of the
 * sums into dx, so they depend on the problem only, never on the threads.
 */
export function bandRows(g: ConvGeom, maxRows: number): { bh: number; nbands: number } {
  const minBh = Math.max(1, Math.floor(((g.FH - 1) * g.DH - g.SH) / g.SH) + 1);
  let bh = Math.max(minBh, Math.min(g.OH, maxRows));
  while (bh > minBh && g.N * Math.ceil(Math.ceil(g.OH / bh) / 2) < 16) bh--;
  return { bh, nbands: Math.ceil(g.OH / bh) };
}

/** dx of a convolution from dy and w. */
export function convBackpropInput(io: Io, g: ConvGeom, dy: number, w: number): { p: number; view: Float32Array } {
  const spec = winogradSpec(g);
  if (spec !== null) {
    // the "full" correlation of dY with the filter turned 180°, channels swapped
    const gt: ConvGeom = { ...g, H: g.OH, W: g.OW, C: g.F, OH: g.H, OW: g.W, F: g.C, top: spec.r - 1 - g.top, left: spec.r - 1 - g.left };
    return winograd(io, spec, gt, dy, w, true, 0);
  }
  const K = taps(g), fg = g.F / g.groups, M = g.N * g.OH * g.OW;
  const dx = io.output(g.N * g.H * g.W * g.C);
  if (isPointwise(g)) {
    // dx = dY · Wᵀ straight into dx
    const bp = packB(io, w, g.F * 4, true, g.F, g.C);
    gemm(io, { M, N: g.C, K: g.F, a: dy, rs: g.F * 4, cs: 4, bp, c: dx.p, ldc: g.C * 4 });
    return dx;
  }
  const packT = packedBytes(fg, K);
  const bpt = io.temp(g.groups * packT / 4);
  for (let grp = 0; grp < g.groups; grp++) {
    io.rt.parallel('pack_b', Math.ceil(K / NR), [w + grp * fg * 4, g.F * 4, 1, fg, K, bpt + grp * packT], K * fg < 1 << 16);
  }
  zeroFill(io, dx.p, g.N * g.H * g.W * g.C);
  const rowFloats = g.OW * K;
  const { bh, nbands } = bandRows(g, Math.floor(524288 / Math.max(rowFloats, 1)));
  const threads = io.rt.threads;
  const sstride = (bh * rowFloats + 16) * 4;
  const scratch = io.temp(threads * sstride / 4);
  const geom = geomBlock(io, g);
  const small = M * K * fg < 1 << 15;
  for (const phase of [0, 1]) {
    const per = (nbands - phase + 1) >> 1;
    io.rt.parallel('conv_bwd_input', g.N * per, [geom, dy, bpt, dx.p, phase, bh, nbands, scratch, sstride], small);
  }
  return dx;
}

/**
 * dW by Winograd: chunk by chunk of output tiles (chunks fixed by the sizes),
 * the operands' transforms, then the 16 GEMMs adding into M; at the end
 * dW = Gᵀ M G.
 */
function winogradFilter(io: Io, spec: WinoSpec, g: ConvGeom, x: number, dy: number): { p: number; view: Float32Array } {
  const X = spec.alpha * spec.alpha;
  const panels = Math.ceil(g.F / NR);
  const tiles = g.N * Math.ceil(g.OH / spec.m) * Math.ceil(g.OW / spec.m);
  // the operands of a chunk take at most 8 MiB (or x's size): at 7² × 512 and batch 8 all 32 tiles
  // in one chunk, so M (α² · C · F) is written once (28 against 35 ms a pass)
  const limit = Math.max(g.N * g.H * g.W * g.C, 1 << 21);
  const chunk = Math.max(16, Math.min(tiles, Math.floor(limit / (X * (g.C + panels * NR)))));
  const v = io.temp(X * chunk * g.C + 16), e = io.temp(X * panels * chunk * NR + 16), m = io.temp(X * g.C * g.F + 16);
  const geom = geomBlock(io, g);
  const tb = 16;
  const s = splitGemm(g.C, g.F, io.rt.threads);
  for (let t0 = 0; t0 < tiles; t0 += chunk) {
    const t1 = Math.min(tiles, t0 + chunk);
    const nv = Math.ceil((t1 - t0) / tb);
    io.rt.parallel(`${spec.name}_wgrad_prep`, nv + panels, [geom, x, dy, t0, t1, v, e, tb, nv], false);
    io.rt.parallel(`${spec.name}_wgrad_gemm`, X * s.items, [g.C, g.F, t1 - t0, v, e, m, t0 > 0 ? FLAG_ADD : 0, s.mb, s.nb, s.ncb, s.items], false);
  }
  const dw = io.output(spec.r * spec.r * g.C * g.F);
  io.rt.parallel(`${spec.name}_wgrad_out`, g.C, [m, g.C, g.F, dw.p], g.C * g.F < 1 << 12);
  return dw;
}

/** dw of a convolution from x and dy. */
export function convBackpropFilter(io: Io, g: ConvGeom, x: number, dy: number): { p: number; view: Float32Array } {
  const spec = winogradSpec(g);
  if (spec !== null) return winogradFilter(io, spec, g, x, dy);
  const K = taps(g), fg = g.F / g.groups, M = g.N * g.OH * g.OW;
  const dw = io.output(K * g.F);
  if (M === 0) {
    zeroFill(io, dw.p, K * g.F);
    return dw;
  }
  if (isPointwise(g)) {
    // dW = xᵀ · dY: x read column-major in place
    const bp = packB(io, dy, g.F * 4, false, M, g.F);
    gemm(io, { M: g.C, N: g.F, K: M, a: x, rs: 4, cs: g.C * 4, bp, c: dw.p, ldc: g.F * 4 });
    return dw;
  }
  // chunks of output positions whose patches take no more room than x (and at least 4 MiB)
  const limit = Math.max(g.N * g.H * g.W * g.C, 1 << 20);
  const chunk = Math.max(4, Math.min(M, Math.floor(limit / K) & ~3));
  const cols = io.temp(chunk * K + 16);
  const dyp = io.temp(packedBytes(chunk, fg) / 4 + 16);
  const geom = geomBlock(io, g);
  const mb = blockRows(K, chunk, io.rt.threads);
  for (let c0 = 0; c0 < M; c0 += chunk) {
    const c1 = Math.min(M, c0 + chunk);
    for (let grp = 0; grp < g.groups; grp++) {
      const nim = Math.ceil((c1 - c0) / mb);
      io.rt.parallel('conv_bwd_filter_prep', nim + Math.ceil(fg / NR), [geom, x, dy, grp, c0, c1, cols, dyp, mb, nim],
        (c1 - c0) * K < 1 << 14);
      // dW_g[K, fg] (+)= colsᵀ · dY_g, cols read column-major
      const s = splitGemm(K, fg, io.rt.threads);
      io.rt.parallel('gemm_col', s.items,
        [K, fg, c1 - c0, cols, 4, K * 4, dyp, dw.p + grp * fg * 4, g.F * 4, 0, c0 > 0 ? FLAG_ADD : 0, s.mb, s.nb, s.ncb],
        K * fg * (c1 - c0) < 1 << 15);
    }
  }
  return dw;
}
