// 3×3 and 5×5 stride-1 convolutions by Winograd's minimal filtering
// F(m×m, r×r) (Lavin & Gray, "Fast Algorithms for Convolutional Neural
// Networks", 2016): each m×m block of outputs comes from an α×α input tile
// (α = m + r − 1) with α² multiplications per input–output channel pair
// instead of m²r², so the GEMMs, which bound these layers, do less work:
// F(2×2, 3×3) 2.25×, F(4×4, 3×3) 4×, F(2×2, 5×5) 2.78×.
//   forward   Y = Aᵀ [ Σ_c (Bᵀ d B) ⊙ (G g Gᵀ) ] A
//   filter    dW = Gᵀ [ Σ_tiles (Bᵀ d B) ⊙ (A e Aᵀ) ] G      (e an m×m tile of dY:
//             the transposition of the forward algorithm in g)
// The sums are GEMMs, one per tile position ξ (α² of them):
//   forward   M_ξ[tiles, F] = V_ξ[tiles, C] · U_ξ[C, F]
//   filter    M_ξ[C, F] += V_ξᵀ[C, tiles] · E_ξ[tiles, F], chunk of tiles by chunk
// and the input gradient is the forward computation on dY with the filter
// turned 180° and its channels swapped (the filter transform's `flip`).
// The matrices are Toom–Cook's for the points 0, ±1 (F(2×2, 3×3)) and
// 0, ±1, ½, −2 (α = 6), and ∞, derived in exact rationals (Aᵀ and G from the
// points, Bᵀ solved from the convolution identity). F(2×2, 3×3)'s constants
// are ±1 and ½ (a few float32 roundings from the direct sums); the α = 6
// ones reach 8 and 1/15, several times the rounding error of a direct sum
// but ≤ 1e-5 of the output's scale, as the conformance tests require
// (float32 against float64 over 64 channels: F(4×4, 3×3) 3.0e-6 with these
// points, 4.3e-6 with 0, ±1, ±2, 8.7e-6 with 0, ±1, ±½; F(2×2, 5×5) 5.5e-6).
import { addTo, f32, f32x4, forRange, i32, if_, ifValue, v128, type Code, type Func, type Local } from './assembler.js';
import { NR } from './gemm.js';
import { loadGeom, type Geom } from './im2col.js';
import type { KernelDef } from './module.js';

export interface WinoSpec {
  /** kernel names' prefix */
  name: string;
  /** filter size */
  r: number;
  /** outputs per tile side (m×m outputs per tile) */
  m: number;
  /** tile size m + r − 1 */
  alpha: number;
  BT: number[][];
  G: number[][];
  AT: number[][];
}

const transpose = (m: number[][]): number[][] => m[0]!.map((_, j) => m.map((row) => row[j]!));

export const WINO3: WinoSpec = {
  name: 'wino3', r: 3, m: 2, alpha: 4,
  BT: [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]],
  G: [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]],
  AT: [[1, 1, 1, 0], [0, 1, -1, -1]],
};

export const WINO5: WinoSpec = {
  name: 'wino5', r: 5, m: 2, alpha: 6,
  // points 0, ±1, ½, −2: half the rounding error of 0, ±1, ±2 (measured on 64-channel sums)
  BT: [[1, -3 / 2, -2, 3 / 2, 1, 0], [0, -1, 1 / 2, 5 / 2, 1, 0], [0, 1, -5 / 2, 1 / 2, 1, 0], [0, -2, -1, 2, 1, 0], [0, 1 / 2, -1, -1 / 2, 1, 0],
    [0, 1, -3 / 2, -2, 3 / 2, 1]],
  G: [[1, 0, 0, 0, 0], [1 / 3, 1 / 3, 1 / 3, 1 / 3, 1 / 3], [-1 / 3, 1 / 3, -1 / 3, 1 / 3, -1 / 3], [-16 / 15, -8 / 15, -4 / 15, -2 / 15, -1 / 15],
    [1 / 15, -2 / 15, 4 / 15, -8 / 15, 16 / 15], [0, 0, 0, 0, 1]],
  AT: [[1, 1, 1, 1, 1, 0], [0, 1, -1, 1 / 2, -2, 1]],
};

/** F(4×4, 3×3): 5×5's points and so its Bᵀ; 36 multiplications for 16 outputs (2.25 each) where F(2×2, 3×3) takes 4 each. */
export const WINO43: WinoSpec = {
  name: 'wino43', r: 3, m: 4, alpha: 6,
  BT: WINO5.BT,
  G: [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3], [-1 / 3, 1 / 3, -1 / 3], [-16 / 15, -8 / 15, -4 / 15], [1 / 15, -2 / 15, 4 / 15], [0, 0, 1]],
  AT: [[1, 1, 1, 1, 1, 0], [0, 1, -1, 1 / 2, -2, 0], [0, 1, 1, 1 / 4, 4, 0], [0, 1, -1, 1 / 8, -8, 1]],
};

/** The f32x4 constants a kernel's transforms multiply by, one local each (V8 rematerialises v128.const at every use). */
class Consts {
  private readonly map = new Map<number, Local>();
  readonly setup: Code = [];
  constructor(private readonly f: Func) {}
  get(v: number): Local {
    let l = this.map.get(v);
    if (l === undefined) {
      l = this.f.local('v128');
      this.map.set(v, l);
      this.setup.push(...f32x4.const(v), ...l.set);
    }
    return l;
  }
}

/**
 * Σ_k coeff[k]·term[k] over f32x4 values: the terms of each coefficient
 * magnitude added (or subtracted) first, then scaled once by it.
 */
function combine(coeffs: number[], terms: Code[], k: Consts): Code {
  const mags = [...new Set(coeffs.filter((c) => c !== 0).map(Math.abs))];
  if (mags.length === 0) return v128.zero;
  const code: Code = [];
  mags.forEach((mag, gi) => {
    let first = true;
    coeffs.forEach((c, i) => {
      if (Math.abs(c) !== mag) return;
      if (first) {
        code.push(...terms[i]!);
        if (c < 0) code.push(...f32x4.neg);
        first = false;
      } else {
        code.push(...terms[i]!, ...(c > 0 ? f32x4.add : f32x4.sub));
      }
    });
    if (mag !== 1) code.push(...k.get(mag).get, ...f32x4.mul);
    if (gi > 0) code.push(...f32x4.add);
  });
  return code;
}

/** P·X·Qᵀ for a p×n P, an n×n X (locals, row-major) and a q×n Q; results into `out` (p·q locals). */
function sandwich(P: number[][], X: Local[], Q: number[][], tmp: Local[], out: Local[], k: Consts): Code {
  const n = P[0]!.length;
  const code: Code = [];
  // tmp = P X   (p × n)
  for (let a = 0; a < P.length; a++) for (let b = 0; b < n; b++) code.push(...combine(P[a]!, X.slice(0).filter((_, i) => i % n === b).map((x) => x.get), k), ...tmp[n * a + b]!.set);
  // out = tmp Qᵀ   (p × q)
  for (let a = 0; a < P.length; a++) for (let b = 0; b < Q.length; b++) code.push(...combine(Q[b]!, tmp.slice(n * a, n * a + n).map((x) => x.get), k), ...out[Q.length * a + b]!.set);
  return code;
}

/** Tile t's image, row and column of tiles, from t (th × tw tiles per image). */
function tileOf(t: Local, th: Local, tw: Local, n: Local, ti: Local, tj: Local): Code {
  return [
    ...t.get, ...th.get, ...tw.get, ...i32.mul, ...i32.div_u, ...n.set,
    ...t.get, ...th.get, ...tw.get, ...i32.mul, ...i32.rem_u, ...ti.set,
    ...ti.get, ...tw.get, ...i32.rem_u, ...tj.set, ...ti.get, ...tw.get, ...i32.div_u, ...ti.set,
  ];
}

/** Tiles per column and per row: ⌈OH/m⌉, ⌈OW/m⌉. */
const tilesOf = (g: Geom, th: Local, tw: Local, m: number): Code => [
  ...g.OH.get, ...i32.const(m - 1), ...i32.add, ...i32.const(m), ...i32.div_u, ...th.set,
  ...g.OW.get, ...i32.const(m - 1), ...i32.add, ...i32.const(m), ...i32.div_u, ...tw.set,
];

/**
 * <spec>_input(geom, x, t0, t1, v, xiStride): V = Bᵀ d B of the tiles
 * [t0, t1) of x (α×α input patches at (m·ti − top, m·tj − left), zero
 * outside the image), stored as V_ξ[t − t0, c] at v + ξ·xiStride + ((t − t0)·C + c)·4.
 */
function inputKernel(spec: WinoSpec): KernelDef {
  const A = spec.alpha, X = A * A;
  return {
    name: `${spec.name}_input`,
    params: ['geom', 'x', 't0', 't1', 'v', 'xiStride'],
    body(f) {
      const { geom, x, t0, t1, v, xiStride } = f.params as Record<string, Local>;
      const { g, code } = loadGeom(f, geom);
      const th = f.local(), tw = f.local(), t = f.local(), n = f.local(), ti = f.local(), tj = f.local();
      const ih0 = f.local(), iw0 = f.local(), c = f.local(), rowB = f.local(), img = f.local(), dst = f.local();
      const base = f.local(), inside = f.local(), px = f.local(), pixB = f.local(), row = f.local();
      const k = new Consts(f);
      const d = f.locals_(X, 'v128'), tmp = f.locals_(X, 'v128'), out = f.locals_(X, 'v128');
      // per call: a row's and a column's byte offsets within the tile; per tile: which rows and columns
      // lie in the image (the c loop then only adds offsets and tests flags)
      const rowOff = f.locals_(A), colOff = f.locals_(A), rowOk = f.locals_(A), colOk = f.locals_(A);
      // a tile wholly inside the image: α² loads at base + rowOff[a] + colOff[b]; else each cell checked (the padding reads 0)
      const fast: Code = [], checked: Code = [];
      for (let a = 0; a < A; a++) {
        fast.push(...base.get, ...rowOff[a]!.get, ...i32.add, ...row.set);
        checked.push(...base.get, ...rowOff[a]!.get, ...i32.add, ...row.set);
        for (let b = 0; b < A; b++) {
          const addr = [...row.get, ...(b === 0 ? [] : [...colOff[b]!.get, ...i32.add])];
          fast.push(...addr, ...v128.load(), ...d[A * a + b]!.set);
          checked.push(
            ...rowOk[a]!.get, ...colOk[b]!.get, ...i32.and,
            ...ifValue('v128', [[...addr, ...v128.load()]], [v128.zero]), ...d[A * a + b]!.set,
          );
        }
      }
      const flags: Code = [];
      for (let a = 0; a < A; a++) {
        flags.push(...ih0.get, ...i32.const(a), ...i32.add, ...g.H.get, ...i32.lt_u, ...rowOk[a]!.set);
        flags.push(...iw0.get, ...i32.const(a), ...i32.add, ...g.W.get, ...i32.lt_u, ...colOk[a]!.set);
      }
      const offsets: Code = [];
      for (let a = 0; a < A; a++) offsets.push(...rowB.get, ...i32.const(a), ...i32.mul, ...rowOff[a]!.set, ...pixB.get, ...i32.const(a), ...i32.mul, ...colOff[a]!.set);
      // ξ by ξ, xiStride apart
      const store: Code = [];
      for (let q = 0; q < X; q++) {
        store.push(...px.get, ...out[q]!.get, ...v128.store());
        if (q < X - 1) store.push(...px.get, ...xiStride.get, ...i32.add, ...px.set);
      }
      const xform = sandwich(spec.BT, d, spec.BT, tmp, out, k);
      return [
        ...code,
        ...k.setup,
        ...tilesOf(g, th, tw, spec.m),
        ...g.C.get, ...i32.const(4), ...i32.mul, ...pixB.set,
        ...g.W.get, ...pixB.get, ...i32.mul, ...rowB.set,
        ...g.H.get, ...rowB.get, ...i32.mul, ...img.set,
        ...offsets,
        ...v.get, ...dst.set,
        ...forRange(t, t0.get, t1.get, 1, [
          tileOf(t, th, tw, n, ti, tj),
          [...ti.get, ...i32.const(spec.m), ...i32.mul, ...g.top.get, ...i32.sub, ...ih0.set],
          [...tj.get, ...i32.const(spec.m), ...i32.mul, ...g.left.get, ...i32.sub, ...iw0.set],
          [...ih0.get, ...i32.const(0), ...i32.ge_s, ...ih0.get, ...i32.const(A), ...i32.add, ...g.H.get, ...i32.le_s, ...i32.and,
            ...iw0.get, ...i32.const(0), ...i32.ge_s, ...i32.and, ...iw0.get, ...i32.const(A), ...i32.add, ...g.W.get, ...i32.le_s, ...i32.and, ...inside.set],
          flags,
          // the tile's corner (possibly outside the image: only read when its cells are)
          [...x.get, ...n.get, ...img.get, ...i32.mul, ...i32.add, ...ih0.get, ...rowB.get, ...i32.mul, ...i32.add, ...iw0.get, ...pixB.get, ...i32.mul, ...i32.add, ...base.set],
          forRange(c, i32.const(0), g.C.get, 4, [
            [...inside.get, ...if_([fast], [checked])],
            xform,
            [...dst.get, ...px.set],
            store,
            addTo(dst, 16),
            addTo(base, 16),
          ]),
        ]),
      ];
    },
  };
}

/**
 * <spec>_filter(w, C, F, flip, dst, thread, item): U = G g Gᵀ for the 8
 * output channels of panel `item` (four at a time in f32x4 lanes) and every
 * input channel, stored as α² packed GEMM operands (K = C deep, F wide; ξ-th
 * at dst + ξ·⌈F/8⌉·C·32). g(p, q, c, f) is w[p, q, c, f] ([r, r, C, F]), or
 * with `flip` w[r−1−p, r−1−q, f, c] of an [r, r, F, C] filter (the input
 * gradient's), gathered lane by lane. F is a multiple of 4; lanes past F are zero.
 */
function filterKernel(spec: WinoSpec): KernelDef {
  const R = spec.r, A = spec.alpha, X = A * A, taps = R * R;
  return {
    name: `${spec.name}_filter`,
    params: ['w', 'C', 'F', 'flip', 'dst', 'thread', 'item'],
    body(f) {
      const { w, C, F, flip, dst, item } = f.params as Record<string, Local>;
      const c = f.local(), n0 = f.local(), panels = f.local(), base = f.local();
      // addresses walked, not recomputed: src the tap-0 vector of row c (or, flipped, lane 0's
      // float of the last tap), tapB a tap's distance, laneB a flipped lane's, xiB a ξ-block's
      const src = f.local(), a = f.local(), tapB = f.local(), laneB = f.local(), xiB = f.local(), out = f.local(), full = f.local();
      const k = new Consts(f);
      const g = f.locals_(2 * taps, 'v128'), t = f.locals_(2 * A * R, 'v128'), u = f.locals_(2 * X, 'v128');
      /** g's 4 lanes for output channels n0 + 4h … at every tap, into g[taps·h …]: a walks the taps. */
      const loadTaps = (h: number): Code => [
        ...flip.get,
        ...if_([[
          // lane by lane: splat the first, replace the others; w[r−1−p, r−1−q, n0 + 4h + l, c], taps walked backwards
          ...src.get, ...laneB.get, ...i32.const(4 * h), ...i32.mul, ...i32.add, ...a.set,
          ...Array.from({ length: taps }, (_, tap) => [
            ...[0, 1, 2, 3].flatMap((l) => [
              ...a.get, ...(l === 0 ? [] : [...laneB.get, ...i32.const(l), ...i32.mul, ...i32.add]),
              ...f32.load(), ...(l === 0 ? f32x4.splat : f32x4.replace_lane(l)),
            ]),
            ...g[taps * h + tap]!.set,
            ...a.get, ...tapB.get, ...i32.sub, ...a.set,
          ]).flat(),
        ]], [[
          ...src.get, ...(h === 0 ? [] : [...i32.const(16), ...i32.add]), ...a.set,
          ...Array.from({ length: taps }, (_, tap) => [...a.get, ...v128.load(), ...g[taps * h + tap]!.set, ...a.get, ...tapB.get, ...i32.add, ...a.set]).flat(),
        ]]),
      ];
      const perC: Code = [];
      for (let h = 0; h < 2; h++) {
        if (h === 1) {
          // the second four channels exist only when the panel is full
          perC.push(...full.get, ...if_([loadTaps(1)], [g.slice(taps).flatMap((l) => [...v128.zero, ...l.set])]));
        } else {
          perC.push(...loadTaps(0));
        }
        // t = G g (α × r), U = t Gᵀ (α × α)
        const gg = g.slice(taps * h, taps * (h + 1)), tt = t.slice(A * R * h, A * R * (h + 1)), uu = u.slice(X * h, X * (h + 1));
        for (let a2 = 0; a2 < A; a2++) for (let q = 0; q < R; q++) perC.push(...combine(spec.G[a2]!, Array.from({ length: R }, (_, p) => gg[R * p + q]!.get), k), ...tt[R * a2 + q]!.set);
        for (let a2 = 0; a2 < A; a2++) for (let b = 0; b < A; b++) perC.push(...combine(spec.G[b]!, Array.from({ length: R }, (_, p) => tt[R * a2 + p]!.get), k), ...uu[A * a2 + b]!.set);
      }
      // the packed operands: ξ-th at dst + ξ·panels·C·32, panel item, row c, 8 lanes
      perC.push(...base.get, ...out.set);
      for (let xi = 0; xi < X; xi++) {
        for (let h = 0; h < 2; h++) perC.push(...out.get, ...u[X * h + xi]!.get, ...v128.store(16 * h));
        if (xi < X - 1) perC.push(...addTo(out, xiB.get));
      }
      return [
        ...k.setup,
        ...F.get, ...i32.const(NR - 1), ...i32.add, ...i32.const(NR), ...i32.div_u, ...panels.set,
        ...item.get, ...i32.const(NR), ...i32.mul, ...n0.set,
        ...n0.get, ...i32.const(8), ...i32.add, ...F.get, ...i32.le_s, ...full.set,
        ...dst.get, ...item.get, ...C.get, ...i32.mul, ...i32.const(NR * 4), ...i32.mul, ...i32.add, ...base.set,
        ...panels.get, ...C.get, ...i32.mul, ...i32.const(NR * 4), ...i32.mul, ...xiB.set,
        ...C.get, ...F.get, ...i32.mul, ...i32.const(4), ...i32.mul, ...tapB.set,
        ...C.get, ...i32.const(4), ...i32.mul, ...laneB.set,
        ...flip.get,
        ...if_([[
          // w[taps − 1, ·, n0, 0]
          ...w.get, ...i32.const(taps - 1), ...tapB.get, ...i32.mul, ...i32.add, ...n0.get, ...laneB.get, ...i32.mul, ...i32.add, ...src.set,
        ]], [[
          // w[0, 0, 0, n0]
          ...w.get, ...n0.get, ...i32.const(4), ...i32.mul, ...i32.add, ...src.set,
        ]]),
        ...forRange(c, i32.const(0), C.get, 1, [
          perC,
          addTo(base, NR * 4),
          [...flip.get, ...if_([addTo(src, 4)], [addTo(src, [...F.get, ...i32.const(4), ...i32.mul])])],
        ]),
      ];
    },
  };
}

/**
 * <spec>_conv(geom, x, up, y, bias, tb, scratch, sstride, parts, thread, item):
 * output tiles [b·tb, …) (m×m outputs each, row-major over images) and the
 * part p of the output channels' panels (b = item / parts, p = item % parts:
 * panels [p·P/parts, (p + 1)·P/parts)): the input transform into V (α² × tb
 * × C floats of the thread's scratch), α² GEMMs into M (α² × tb × F after
 * V; the part's columns), the output transform (+ bias) into y. Splitting
 * the channels lets a few large tiles' blocks (a 7×7 image of 512 channels)
 * keep two threads busy without streaming U once per small block; an
 * element's arithmetic is the same whatever the split. C and F are
 * multiples of 4.
 */
function convKernel(spec: WinoSpec): KernelDef {
  const A = spec.alpha, X = A * A, mo = spec.m;
  return {
    name: `${spec.name}_conv`,
    params: ['geom', 'x', 'up', 'y', 'bias', 'tb', 'scratch', 'sstride', 'parts', 'thread', 'item'],
    body(f, link) {
      const { geom, x, up, y, bias, tb, scratch, sstride, parts, thread, item } = f.params as Record<string, Local>;
      const { g, code } = loadGeom(f, geom);
      const th = f.local(), tw = f.local(), T = f.local(), t0 = f.local(), t1 = f.local(), t = f.local(), rows = f.local();
      const v = f.local(), m = f.local(), n = f.local(), ti = f.local(), tj = f.local(), c = f.local(), xi = f.local();
      const panels = f.local(), pack = f.local(), q = f.local(), oh = f.local(), ow = f.local(), yb = f.local();
      const blk = f.local(), part = f.local(), p0 = f.local(), p1 = f.local(), c0 = f.local(), c1 = f.local();
      const k = new Consts(f);
      const d = f.locals_(X, 'v128'), tmp = f.locals_(mo * A, 'v128'), out = f.locals_(mo * mo, 'v128');
      // addresses walked, not recomputed: per call M's ξ-block stride and y's row and column
      // offsets; per tile M's row, whether the tile is whole, and which rows and columns are in y
      const xiB = f.local(), mrow = f.local(), pa = f.local(), yc = f.local(), yr = f.local(), whole = f.local();
      const bv = f.local('v128');
      const rowOff = f.locals_(mo), colOff = f.locals_(mo), rowOk = f.locals_(mo), colOk = f.locals_(mo);
      const load: Code = [...mrow.get, ...c.get, ...i32.const(4), ...i32.mul, ...i32.add, ...pa.set];
      for (let e = 0; e < X; e++) {
        load.push(...pa.get, ...v128.load(), ...d[e]!.set);
        if (e < X - 1) load.push(...addTo(pa, xiB.get));
      }
      // the bias (or zero) once per channel vector, added to every output as before
      const biasV: Code = [...bias.get, ...ifValue('v128', [[...bias.get, ...c.get, ...i32.const(4), ...i32.mul, ...i32.add, ...v128.load()]], [v128.zero]), ...bv.set];
      const storeOf = (checked: boolean): Code => {
        const code: Code = [...yb.get, ...c.get, ...i32.const(4), ...i32.mul, ...i32.add, ...yc.set];
        for (let a = 0; a < mo; a++) {
          code.push(...yc.get, ...(a === 0 ? [] : [...rowOff[a]!.get, ...i32.add]), ...yr.set);
          for (let b = 0; b < mo; b++) {
            const st = [...yr.get, ...(b === 0 ? [] : [...colOff[b]!.get, ...i32.add]), ...out[mo * a + b]!.get, ...bv.get, ...f32x4.add, ...v128.store()];
            code.push(...(checked ? [...rowOk[a]!.get, ...colOk[b]!.get, ...i32.and, ...if_([st])] : st));
          }
        }
        return code;
      };
      const store: Code = [...biasV, ...whole.get, ...if_([storeOf(false)], [storeOf(true)])];
      const perTile: Code = [
        ...m.get, ...q.get, ...g.F.get, ...i32.mul, ...i32.const(4), ...i32.mul, ...i32.add, ...mrow.set,
        ...oh.get, ...i32.const(mo), ...i32.add, ...g.OH.get, ...i32.le_s, ...ow.get, ...i32.const(mo), ...i32.add, ...g.OW.get, ...i32.le_s, ...i32.and, ...whole.set,
      ];
      for (let a = 0; a < mo; a++) {
        perTile.push(...oh.get, ...i32.const(a), ...i32.add, ...g.OH.get, ...i32.lt_s, ...rowOk[a]!.set);
        perTile.push(...ow.get, ...i32.const(a), ...i32.add, ...g.OW.get, ...i32.lt_s, ...colOk[a]!.set);
      }
      const perCall: Code = [...tb.get, ...g.F.get, ...i32.mul, ...i32.const(4), ...i32.mul, ...xiB.set];
      for (let a = 0; a < mo; a++) {
        perCall.push(...g.OW.get, ...g.F.get, ...i32.mul, ...i32.const(4 * a), ...i32.mul, ...rowOff[a]!.set);
        perCall.push(...g.F.get, ...i32.const(4 * a), ...i32.mul, ...colOff[a]!.set);
      }
      const xform = sandwich(spec.AT, d, spec.AT, tmp, out, k);
      return [
        ...code,
        ...k.setup,
        ...tilesOf(g, th, tw, spec.m),
        ...perCall,
        ...g.N.get, ...th.get, ...i32.mul, ...tw.get, ...i32.mul, ...T.set,
        ...item.get, ...parts.get, ...i32.div_u, ...blk.set,
        ...item.get, ...parts.get, ...i32.rem_u, ...part.set,
        ...blk.get, ...tb.get, ...i32.mul, ...t0.set,
        ...t0.get, ...tb.get, ...i32.add, ...t1.set,
        ...t1.get, ...T.get, ...i32.gt_s, ...if_([[...T.get, ...t1.set]]),
        ...t1.get, ...t0.get, ...i32.sub, ...rows.set,
        ...scratch.get, ...thread.get, ...sstride.get, ...i32.mul, ...i32.add, ...v.set,
        ...v.get, ...i32.const(X), ...tb.get, ...i32.mul, ...g.C.get, ...i32.mul, ...i32.const(4), ...i32.mul, ...i32.add, ...m.set,
        ...geom.get, ...x.get, ...t0.get, ...t1.get, ...v.get, ...tb.get, ...g.C.get, ...i32.mul, ...i32.const(4), ...i32.mul, ...link.call(`${spec.name}_input`),
        // M_ξ = V_ξ · U_ξ
        ...g.F.get, ...i32.const(NR - 1), ...i32.add, ...i32.const(NR), ...i32.div_u, ...panels.set,
        ...panels.get, ...g.C.get, ...i32.mul, ...i32.const(NR * 4), ...i32.mul, ...pack.set,
        // this part's panels and their channels
        ...part.get, ...panels.get, ...i32.mul, ...parts.get, ...i32.div_u, ...p0.set,
        ...part.get, ...i32.const(1), ...i32.add, ...panels.get, ...i32.mul, ...parts.get, ...i32.div_u, ...p1.set,
        ...p0.get, ...i32.const(NR), ...i32.mul, ...c0.set,
        ...p1.get, ...i32.const(NR), ...i32.mul, ...c1.set,
        ...c1.get, ...g.F.get, ...i32.gt_s, ...if_([[...g.F.get, ...c1.set]]),
        ...forRange(xi, i32.const(0), i32.const(X), 1, [[
          ...v.get, ...xi.get, ...tb.get, ...i32.mul, ...g.C.get, ...i32.mul, ...i32.const(4), ...i32.mul, ...i32.add,
          ...g.C.get, ...i32.const(4), ...i32.mul, ...i32.const(4),
          ...up.get, ...xi.get, ...pack.get, ...i32.mul, ...i32.add,
          ...g.C.get,
          ...m.get, ...xi.get, ...tb.get, ...i32.mul, ...g.F.get, ...i32.mul, ...i32.const(4), ...i32.mul, ...i32.add,
          ...g.F.get, ...i32.const(4), ...i32.mul, ...i32.const(0),
          ...i32.const(0), ...rows.get, ...p0.get, ...p1.get, ...g.F.get, ...i32.const(0),
          ...link.call('gemm_run_row'),
        ]]),
        // Y = Aᵀ M A (+ bias)
        ...forRange(t, t0.get, t1.get, 1, [
          [...t.get, ...t0.get, ...i32.sub, ...q.set],
          tileOf(t, th, tw, n, ti, tj),
          [...ti.get, ...i32.const(spec.m), ...i32.mul, ...oh.set, ...tj.get, ...i32.const(spec.m), ...i32.mul, ...ow.set],
          [...y.get, ...n.get, ...g.OH.get, ...i32.mul, ...oh.get, ...i32.add, ...g.OW.get, ...i32.mul, ...ow.get, ...i32.add,
            ...g.F.get, ...i32.mul, ...i32.const(4), ...i32.mul, ...i32.add, ...yb.set],
          perTile,
          forRange(c, c0.get, c1.get, 4, [load, xform, store]),
        ]),
      ];
    },
  };
}

/**
 * <spec>_wgrad_prep(geom, x, dy, t0, t1, v, e, tb, nv, thread, item): the
 * operands of the filter gradient for the tiles [t0, t1): items [0, nv) the
 * input transforms of tb tiles each into v (V_ξ[t − t0, c], ξ-th block
 * (t1 − t0)·C floats apart); the rest the transforms A e Aᵀ of dY's m×m tiles
 * (zero past OH, OW) for 8 output channels each, packed as GEMM operands
 * ((t1 − t0) deep, F wide; ξ-th at e + ξ·⌈F/8⌉·(t1 − t0)·32).
 */
function wgradPrepKernel(spec: WinoSpec): KernelDef {
  const A = spec.alpha, X = A * A, m = spec.m, Amat = transpose(spec.AT); // α × m
  return {
    name: `${spec.name}_wgrad_prep`,
    params: ['geom', 'x', 'dy', 't0', 't1', 'v', 'e', 'tb', 'nv', 'thread', 'item'],
    body(f, link) {
      const { geom, x, dy, t0, t1, v, e, tb, nv, item } = f.params as Record<string, Local>;
      const { g, code } = loadGeom(f, geom);
      const a0 = f.local(), a1 = f.local(), th = f.local(), tw = f.local(), t = f.local(), n = f.local(), ti = f.local(), tj = f.local();
      const oh = f.local(), ow = f.local(), c = f.local(), c1 = f.local(), depth = f.local(), panels = f.local(), dst = f.local();
      const k = new Consts(f);
      const d = f.locals_(m * m, 'v128'), tmp = f.locals_(m * A, 'v128'), out = f.locals_(X, 'v128');
      // addresses walked, not recomputed: per call dY's row and column offsets and E's ξ-block
      // stride; per tile its corner in dY, whether it is whole, which rows and columns are in dY
      const tile = f.local(), pa = f.local(), pr = f.local(), whole = f.local(), xiB = f.local();
      const rowOff = f.locals_(m), colOff = f.locals_(m), rowOk = f.locals_(m), colOk = f.locals_(m);
      const loadOf = (checked: boolean): Code => {
        const code: Code = [...tile.get, ...c.get, ...i32.const(4), ...i32.mul, ...i32.add, ...pa.set];
        for (let a = 0; a < m; a++) {
          code.push(...pa.get, ...(a === 0 ? [] : [...rowOff[a]!.get, ...i32.add]), ...pr.set);
          for (let b = 0; b < m; b++) {
            const ld = [...pr.get, ...(b === 0 ? [] : [...colOff[b]!.get, ...i32.add]), ...v128.load()];
            code.push(...(checked ? [...rowOk[a]!.get, ...colOk[b]!.get, ...i32.and, ...ifValue('v128', [ld], [v128.zero])] : ld), ...d[m * a + b]!.set);
          }
        }
        return code;
      };
      const load: Code = [...whole.get, ...if_([loadOf(false)], [loadOf(true)])];
      const perTile: Code = [
        ...dy.get, ...n.get, ...g.OH.get, ...i32.mul, ...oh.get, ...i32.add, ...g.OW.get, ...i32.mul, ...ow.get, ...i32.add, ...g.F.get, ...i32.mul,
        ...i32.const(4), ...i32.mul, ...i32.add, ...tile.set,
        ...oh.get, ...i32.const(m), ...i32.add, ...g.OH.get, ...i32.le_s, ...ow.get, ...i32.const(m), ...i32.add, ...g.OW.get, ...i32.le_s, ...i32.and, ...whole.set,
      ];
      for (let a = 0; a < m; a++) {
        perTile.push(...oh.get, ...i32.const(a), ...i32.add, ...g.OH.get, ...i32.lt_s, ...rowOk[a]!.set);
        perTile.push(...ow.get, ...i32.const(a), ...i32.add, ...g.OW.get, ...i32.lt_s, ...colOk[a]!.set);
      }
      const perCall: Code = [...panels.get, ...depth.get, ...i32.mul, ...i32.const(NR * 4), ...i32.mul, ...xiB.set];
      for (let a = 0; a < m; a++) {
        perCall.push(...g.OW.get, ...g.F.get, ...i32.mul, ...i32.const(4 * a), ...i32.mul, ...rowOff[a]!.set);
        perCall.push(...g.F.get, ...i32.const(4 * a), ...i32.mul, ...colOff[a]!.set);
      }
      // A e Aᵀ: tmp = A e (α × m), out = tmp Aᵀ (α × α)
      const xform: Code = [], qs = Array.from({ length: m }, (_, q) => q);
      for (let r = 0; r < A; r++) for (let s2 = 0; s2 < m; s2++) xform.push(...combine(Amat[r]!, qs.map((q) => d[m * q + s2]!.get), k), ...tmp[m * r + s2]!.set);
      for (let r = 0; r < A; r++) for (let s2 = 0; s2 < A; s2++) xform.push(...combine(Amat[s2]!, qs.map((q) => tmp[m * r + q]!.get), k), ...out[A * r + s2]!.set);
      const store: Code = [];
      for (let q = 0; q < X; q++) {
        store.push(...dst.get, ...out[q]!.get, ...v128.store());
        if (q < X - 1) store.push(...addTo(dst, xiB.get));
      }
      return [
        ...code,
        ...k.setup,
        ...item.get, ...nv.get, ...i32.lt_s,
        ...if_([[
          ...t0.get, ...item.get, ...tb.get, ...i32.mul, ...i32.add, ...a0.set,
          ...a0.get, ...tb.get, ...i32.add, ...a1.set,
          ...a1.get, ...t1.get, ...i32.gt_s, ...if_([[...t1.get, ...a1.set]]),
          ...geom.get, ...x.get, ...a0.get, ...a1.get,
          ...v.get, ...a0.get, ...t0.get, ...i32.sub, ...g.C.get, ...i32.mul, ...i32.const(4), ...i32.mul, ...i32.add,
          ...t1.get, ...t0.get, ...i32.sub, ...g.C.get, ...i32.mul, ...i32.const(4), ...i32.mul,
          ...link.call(`${spec.name}_input`),
        ]], [[
          // dY channels [8p, 8p + 8) of every tile of the chunk
          ...tilesOf(g, th, tw, spec.m),
          ...t1.get, ...t0.get, ...i32.sub, ...depth.set,
          ...g.F.get, ...i32.const(NR - 1), ...i32.add, ...i32.const(NR), ...i32.div_u, ...panels.set,
          ...item.get, ...nv.get, ...i32.sub, ...i32.const(NR), ...i32.mul, ...c1.set,
          ...perCall,
          ...forRange(t, t0.get, t1.get, 1, [
            tileOf(t, th, tw, n, ti, tj),
            [...ti.get, ...i32.const(spec.m), ...i32.mul, ...oh.set, ...tj.get, ...i32.const(spec.m), ...i32.mul, ...ow.set],
            perTile,
            forRange(c, c1.get, [...c1.get, ...i32.const(NR), ...i32.add], 4, [
              [...c.get, ...g.F.get, ...i32.lt_s],
              if_([[
                ...load, ...xform,
                ...e.get, ...c.get, ...i32.const(NR), ...i32.div_u, ...depth.get, ...i32.mul, ...i32.const(NR * 4), ...i32.mul, ...i32.add,
                ...t.get, ...t0.get, ...i32.sub, ...i32.const(NR * 4), ...i32.mul, ...i32.add,
                ...c.get, ...i32.const(NR - 1), ...i32.and, ...i32.const(4), ...i32.mul, ...i32.add, ...dst.set,
                ...store,
              ]]),
            ]),
          ]),
        ]]),
      ];
    },
  };
}

/**
 * <spec>_wgrad_gemm(C, F, depth, v, e, m, flags, mb, nb, ncb, items, thread, item):
 * item = ξ·items + j: the j-th block of M_ξ[C, F] (+)= V_ξᵀ · E_ξ.
 */
function wgradGemmKernel(spec: WinoSpec): KernelDef {
  return {
    name: `${spec.name}_wgrad_gemm`,
    params: ['C', 'F', 'depth', 'v', 'e', 'm', 'flags', 'mb', 'nb', 'ncb', 'items', 'thread', 'item'],
    body(f, link) {
      const { C, F, depth, v, e, m, flags, mb, nb, ncb, items, thread, item } = f.params as Record<string, Local>;
      const xi = f.local(), j = f.local(), panels = f.local();
      return [
        ...item.get, ...items.get, ...i32.div_u, ...xi.set,
        ...item.get, ...items.get, ...i32.rem_u, ...j.set,
        ...F.get, ...i32.const(NR - 1), ...i32.add, ...i32.const(NR), ...i32.div_u, ...panels.set,
        ...C.get, ...F.get, ...depth.get,
        ...v.get, ...xi.get, ...depth.get, ...i32.mul, ...C.get, ...i32.mul, ...i32.const(4), ...i32.mul, ...i32.add,
        ...i32.const(4), ...C.get, ...i32.const(4), ...i32.mul,
        ...e.get, ...xi.get, ...panels.get, ...i32.mul, ...depth.get, ...i32.mul, ...i32.const(NR * 4), ...i32.mul, ...i32.add,
        ...m.get, ...xi.get, ...C.get, ...i32.mul, ...F.get, ...i32.mul, ...i32.const(4), ...i32.mul, ...i32.add,
        ...F.get, ...i32.const(4), ...i32.mul, ...i32.const(0), ...flags.get, ...mb.get, ...nb.get, ...ncb.get, ...thread.get, ...j.get,
        ...link.call('gemm_col'),
      ];
    },
  };
}

/** <spec>_wgrad_out(m, C, F, dw, thread, item): dW[p, q, c, f] = (Gᵀ M G)[p, q] for input channel c = item, all f (F a multiple of 4). */
function wgradOutKernel(spec: WinoSpec): KernelDef {
  const R = spec.r, A = spec.alpha, X = A * A, GT = transpose(spec.G);
  return {
    name: `${spec.name}_wgrad_out`,
    params: ['m', 'C', 'F', 'dw', 'thread', 'item'],
    body(f) {
      const { m, C, F, dw, item } = f.params as Record<string, Local>;
      const c = f.local(), fo = f.local();
      const k = new Consts(f);
      const d = f.locals_(X, 'v128'), tmp = f.locals_(R * A, 'v128'), out = f.locals_(R * R, 'v128');
      const load: Code = [];
      for (let q = 0; q < X; q++) {
        load.push(...m.get, ...i32.const(q), ...C.get, ...i32.mul, ...F.get, ...i32.mul, ...c.get, ...F.get, ...i32.mul, ...i32.add, ...fo.get, ...i32.add,
          ...i32.const(4), ...i32.mul, ...i32.add, ...v128.load(), ...d[q]!.set);
      }
      const store: Code = [];
      for (let q = 0; q < R * R; q++) {
        store.push(...dw.get, ...i32.const(q), ...C.get, ...i32.mul, ...F.get, ...i32.mul, ...c.get, ...F.get, ...i32.mul, ...i32.add, ...fo.get, ...i32.add,
          ...i32.const(4), ...i32.mul, ...i32.add, ...out[q]!.get, ...v128.store());
      }
      const xform = sandwich(GT, d, GT, tmp, out, k);
      return [...k.setup, ...item.get, ...c.set, ...forRange(fo, i32.const(0), F.get, 4, [load, xform, store])];
    },
  };
}

export function winogradKernels(): KernelDef[] {
  return [WINO3, WINO43, WINO5].flatMap((spec) => [
    inputKernel(spec), filterKernel(spec), convKernel(spec), wgradPrepKernel(spec), wgradGemmKernel(spec), wgradOutKernel(spec),
  ]);
}
