// Depthwise convolution (groups = channels, one filter per channel) over
// NHWC, directly: channels are contiguous, so four of them are one vector and
// each output cell is a few multiply-adds per tap, with no im2col matrix and
// no GEMM of one-column groups. The geometry block is conv's (wasm/im2col.ts);
// the filter is [FH, FW, 1, C] (tap-major, channels inside), padding and
// stride and dilation as conv's. Kernels are generated per square window
// (3, 5, 7) with the taps unrolled; a cell whose whole window lies inside the
// image takes a branch-free loop, an edge cell tests each tap.
//
//   dw<K>_fwd(geom, x, w, y, bias, thread, item)       item = one output row (n, oh)
//   dw<K>_bwd_input(geom, dy, w, dx, thread, item)     item = one input row (n, ih): a gather
//        over the taps whose output cell exists, so rows never race
//   dw<K>_bwd_filter(geom, x, dy, part, rowsPer, thread, item)
//        item = rowsPer output rows into its own partial [K·K·C] at part + item·K²·C·4;
//        dw_sum_parts then adds the partials in item order (a fixed order: the same
//        sums whatever the thread count)
import { f32, f32x4, forRange, i32, if_, v128, type Code, type Func, type Local } from './assembler.js';
import { BLOCK } from './copy.js';
import { loadGeom, type Geom } from './im2col.js';
import type { KernelDef } from './module.js';

/** The square windows with generated kernels. */
export const DEPTHWISE_SIZES = [3, 5, 7] as const;

/** Vector (four channels) or scalar (one) arithmetic for the channel loops. */
interface Lanes { step: number; load: Code; store: Code; add: Code; mul: Code; zero: Code }
const VEC: Lanes = { step: 16, load: v128.load(), store: v128.store(), add: f32x4.add, mul: f32x4.mul, zero: v128.zero };
const ONE: Lanes = { step: 4, load: f32.load(), store: f32.store(), add: f32.add, mul: f32.mul, zero: f32.const(0) };

/**
 * Per-tap source offsets of one cell: rows[kh] + cols[kw] is the byte offset
 * of the tap's cell from the tensor's start, each −1 when outside. `inside`
 * is 1 when every tap is.
 */
interface Taps { rows: Local[]; cols: Local[]; inside: Local }

function tapLocals(f: Func, K: number): Taps {
  return { rows: f.locals_(K), cols: f.locals_(K), inside: f.local() };
}

/** inside = every rows[kh] ≥ 0 and cols[kw] ≥ 0 (−1 has the sign bit) */
function allInside(t: Taps): Code {
  const or = [...t.rows, ...t.cols].flatMap((l, i) => (i === 0 ? l.get : [...l.get, ...i32.or]));
  return [...or, ...i32.const(0), ...i32.ge_s, ...t.inside.set];
}

/** Forward mapping: source index = o·S − pad + k·D, inside [0, size). */
function forwardIndex(f: Func, o: Code, S: Local, pad: Local, D: Local, size: Local, k: number, scale: Code, out: Local): Code {
  const i = f.local();
  return [
    ...o, ...S.get, ...i32.mul, ...pad.get, ...i32.sub, ...D.get, ...i32.const(k), ...i32.mul, ...i32.add, ...i.set,
    ...i32.const(-1), ...out.set,
    ...i.get, ...i32.const(0), ...i32.ge_s, ...i.get, ...size.get, ...i32.lt_s, ...i32.and,
    ...if_([[...i.get, ...scale, ...out.set]]),
  ];
}

/** Gradient mapping: the output index o with o·S − pad + k·D = i, when whole and inside [0, size). */
function backwardIndex(f: Func, i: Code, S: Local, pad: Local, D: Local, size: Local, k: number, scale: (o: Code) => Code, out: Local): Code {
  const t = f.local();
  return [
    ...i, ...pad.get, ...i32.add, ...D.get, ...i32.const(k), ...i32.mul, ...i32.sub, ...t.set,
    ...i32.const(-1), ...out.set,
    ...t.get, ...i32.const(0), ...i32.ge_s,
    ...if_([[
      ...t.get, ...S.get, ...i32.rem_u, ...i32.eqz,
      ...if_([[
        ...t.get, ...S.get, ...i32.div_u, ...t.set,
        ...t.get, ...size.get, ...i32.lt_s, ...if_([[...scale(t.get), ...out.set]]),
      ]]),
    ]]),
  ];
}

/** wa[tap] = w + tap·C·4, once per call */
function filterTaps(K: number, w: Local, C4: Local, wa: Local[]): Code {
  return wa.flatMap((l, tap) => [...w.get, ...C4.get, ...i32.const(tap), ...i32.mul, ...i32.add, ...l.set]);
}

/** C·4 and the vector part's end (C rounded down to four, in bytes). */
function channelBytes(f: Func, g: Geom): { C4: Local; cv: Local; code: Code } {
  const C4 = f.local(), cv = f.local();
  return { C4, cv, code: [...g.C.get, ...i32.const(4), ...i32.mul, ...C4.set, ...g.C.get, ...i32.const(-4), ...i32.and, ...i32.const(4), ...i32.mul, ...cv.set] };
}

function forward(K: number): KernelDef {
  return {
    name: `dw${K}_fwd`,
    params: ['geom', 'x', 'w', 'y', 'bias', 'thread', 'item'],
    body(f) {
      const { geom, x, w, y, bias, item } = f.params as Record<string, Local>;
      const { g, code } = loadGeom(f, geom);
      const ch = channelBytes(f, g);
      const t = tapLocals(f, K);
      const n = f.local(), oh = f.local(), ow = f.local(), yc = f.local(), rowB = f.local(), img = f.local();
      const biasOrNull = f.local();
      const cellFwd = (withBias: boolean) => cellWithFilter(f, K, t, x, w, yc, ch.C4, ch.cv, withBias ? biasOrNull : null);
      const plain = cellFwd(false), biased = cellFwd(true);
      return [
        ...code, ...ch.code,
        ...bias.get, ...biasOrNull.set,
        ...plain.once, ...biased.once,
        ...item.get, ...g.OH.get, ...i32.div_u, ...n.set,
        ...item.get, ...g.OH.get, ...i32.rem_u, ...oh.set,
        ...g.W.get, ...ch.C4.get, ...i32.mul, ...rowB.set,
        ...n.get, ...g.H.get, ...i32.mul, ...rowB.get, ...i32.mul, ...img.set,
        ...Array.from({ length: K }, (_, kh) => forwardIndex(f, oh.get, g.SH, g.top, g.DH, g.H, kh, [...rowB.get, ...i32.mul, ...img.get, ...i32.add], t.rows[kh]!)).flat(),
        ...forRange(ow, i32.const(0), g.OW.get, 1, [
          Array.from({ length: K }, (_, kw) => forwardIndex(f, ow.get, g.SW, g.left, g.DW, g.W, kw, [...ch.C4.get, ...i32.mul], t.cols[kw]!)).flat(),
          allInside(t),
          [...y.get, ...item.get, ...g.OW.get, ...i32.mul, ...ow.get, ...i32.add, ...ch.C4.get, ...i32.mul, ...i32.add, ...yc.set],
          [...bias.get, ...i32.eqz, ...if_([plain.cell], [biased.cell])],
        ]),
      ];
    },
  };
}

/** A cell's code and, separately, the once-per-call setup of its filter-tap addresses. */
function cellWithFilter(f: Func, K: number, t: Taps, src: Local, w: Local, dst: Local, C4: Local, cv: Local, bias: Local | null): { once: Code; cell: Code } {
  const wa = f.locals_(K * K);
  const cell = gatherCellWith(f, K, t, src, wa, dst, C4, cv, bias);
  return { once: filterTaps(K, w, C4, wa), cell };
}

/**
 * The channel loops of one cell: for c in [0, C): dst[c] = (bias[c] +) Σ_tap src_tap[c] · w_tap[c],
 * src_tap = src + rows[kh] + cols[kw], w_tap = wa[tap]; taps outside skipped.
 */
function gatherCellWith(f: Func, K: number, t: Taps, src: Local, wa: Local[], dst: Local, C4: Local, cv: Local, bias: Local | null): Code {
  const xa = f.locals_(K * K), c = f.local();
  const setup: Code = [];
  for (let kh = 0; kh < K; kh++) for (let kw = 0; kw < K; kw++) {
    setup.push(...src.get, ...t.rows[kh]!.get, ...i32.add, ...t.cols[kw]!.get, ...i32.add, ...xa[kh * K + kw]!.set);
  }
  const loop = (L: Lanes, start: Code, end: Code, checked: boolean): Code => {
    const acc = f.local(L === VEC ? 'v128' : 'f32');
    const body: Code = [...L.zero, ...acc.set];
    for (let kh = 0; kh < K; kh++) for (let kw = 0; kw < K; kw++) {
      const tap = kh * K + kw;
      const term = [...acc.get, ...xa[tap]!.get, ...c.get, ...i32.add, ...L.load, ...wa[tap]!.get, ...c.get, ...i32.add, ...L.load, ...L.mul, ...L.add, ...acc.set];
      body.push(...(checked ? [...t.rows[kh]!.get, ...t.cols[kw]!.get, ...i32.or, ...i32.const(0), ...i32.ge_s, ...if_([term])] : term));
    }
    const out = bias === null ? acc.get : [...acc.get, ...bias.get, ...c.get, ...i32.add, ...L.load, ...L.add];
    body.push(...dst.get, ...c.get, ...i32.add, ...out, ...L.store);
    return forRange(c, start, end, L.step, [body]);
  };
  const both = (checked: boolean): Code => [...loop(VEC, i32.const(0), cv.get, checked), ...loop(ONE, c.get, C4.get, checked)];
  return [...setup, ...t.inside.get, ...if_([both(false)], [both(true)])];
}

function backwardInput(K: number): KernelDef {
  return {
    name: `dw${K}_bwd_input`,
    params: ['geom', 'dy', 'w', 'dx', 'thread', 'item'],
    body(f) {
      const { geom, dy, w, dx, item } = f.params as Record<string, Local>;
      const { g, code } = loadGeom(f, geom);
      const ch = channelBytes(f, g);
      const t = tapLocals(f, K);
      const n = f.local(), ih = f.local(), iw = f.local(), xc = f.local(), rowB = f.local(), img = f.local();
      const cell = cellWithFilter(f, K, t, dy, w, xc, ch.C4, ch.cv, null);
      return [
        ...code, ...ch.code, ...cell.once,
        ...item.get, ...g.H.get, ...i32.div_u, ...n.set,
        ...item.get, ...g.H.get, ...i32.rem_u, ...ih.set,
        ...g.OW.get, ...ch.C4.get, ...i32.mul, ...rowB.set,
        ...n.get, ...g.OH.get, ...i32.mul, ...rowB.get, ...i32.mul, ...img.set,
        ...Array.from({ length: K }, (_, kh) => backwardIndex(f, ih.get, g.SH, g.top, g.DH, g.OH, kh, (o) => [...o, ...rowB.get, ...i32.mul, ...img.get, ...i32.add], t.rows[kh]!)).flat(),
        ...forRange(iw, i32.const(0), g.W.get, 1, [
          Array.from({ length: K }, (_, kw) => backwardIndex(f, iw.get, g.SW, g.left, g.DW, g.OW, kw, (o) => [...o, ...ch.C4.get, ...i32.mul], t.cols[kw]!)).flat(),
          allInside(t),
          [...dx.get, ...item.get, ...g.W.get, ...i32.mul, ...iw.get, ...i32.add, ...ch.C4.get, ...i32.mul, ...i32.add, ...xc.set],
          cell.cell,
        ]),
      ];
    },
  };
}

function backwardFilter(K: number): KernelDef {
  return {
    name: `dw${K}_bwd_filter`,
    params: ['geom', 'x', 'dy', 'part', 'rowsPer', 'thread', 'item'],
    body(f) {
      const { geom, x, dy, part, rowsPer, item } = f.params as Record<string, Local>;
      const { g, code } = loadGeom(f, geom);
      const ch = channelBytes(f, g);
      const t = tapLocals(f, K);
      const q = f.local(), q1 = f.local(), n = f.local(), oh = f.local(), ow = f.local(), rowB = f.local(), img = f.local();
      const p = f.local(), pend = f.local(), dyc = f.local(), c = f.local();
      const pa = f.locals_(K * K), xa = f.locals_(K * K);
      const loop = (L: Lanes, start: Code, end: Code, checked: boolean): Code => {
        const d = f.local(L === VEC ? 'v128' : 'f32');
        const body: Code = [...dyc.get, ...c.get, ...i32.add, ...L.load, ...d.set];
        for (let kh = 0; kh < K; kh++) for (let kw = 0; kw < K; kw++) {
          const tap = kh * K + kw;
          const at = [...pa[tap]!.get, ...c.get, ...i32.add];
          const term = [...at, ...at, ...L.load, ...xa[tap]!.get, ...c.get, ...i32.add, ...L.load, ...d.get, ...L.mul, ...L.add, ...L.store];
          body.push(...(checked ? [...t.rows[kh]!.get, ...t.cols[kw]!.get, ...i32.or, ...i32.const(0), ...i32.ge_s, ...if_([term])] : term));
        }
        return forRange(c, start, end, L.step, [body]);
      };
      const both = (checked: boolean): Code => [...loop(VEC, i32.const(0), ch.cv.get, checked), ...loop(ONE, c.get, ch.C4.get, checked)];
      return [
        ...code, ...ch.code,
        // this item's partial, zeroed
        ...part.get, ...item.get, ...i32.const(K * K), ...i32.mul, ...ch.C4.get, ...i32.mul, ...i32.add, ...p.set,
        ...p.get, ...i32.const(K * K), ...ch.C4.get, ...i32.mul, ...i32.add, ...pend.set,
        ...pa.flatMap((l, tap) => [...p.get, ...ch.C4.get, ...i32.const(tap), ...i32.mul, ...i32.add, ...l.set]),
        ...forRange(p, p.get, pend.get, 4, [[...p.get, ...f32.const(0), ...f32.store()]]),
        ...g.W.get, ...ch.C4.get, ...i32.mul, ...rowB.set,
        ...item.get, ...rowsPer.get, ...i32.mul, ...q.set,
        ...q.get, ...rowsPer.get, ...i32.add, ...q1.set,
        ...q1.get, ...g.N.get, ...g.OH.get, ...i32.mul, ...i32.gt_s, ...if_([[...g.N.get, ...g.OH.get, ...i32.mul, ...q1.set]]),
        ...forRange(q, q.get, q1.get, 1, [
          [...q.get, ...g.OH.get, ...i32.div_u, ...n.set, ...q.get, ...g.OH.get, ...i32.rem_u, ...oh.set],
          [...n.get, ...g.H.get, ...i32.mul, ...rowB.get, ...i32.mul, ...img.set],
          Array.from({ length: K }, (_, kh) => forwardIndex(f, oh.get, g.SH, g.top, g.DH, g.H, kh, [...rowB.get, ...i32.mul, ...img.get, ...i32.add], t.rows[kh]!)).flat(),
          forRange(ow, i32.const(0), g.OW.get, 1, [
            Array.from({ length: K }, (_, kw) => forwardIndex(f, ow.get, g.SW, g.left, g.DW, g.W, kw, [...ch.C4.get, ...i32.mul], t.cols[kw]!)).flat(),
            allInside(t),
            [...dy.get, ...q.get, ...g.OW.get, ...i32.mul, ...ow.get, ...i32.add, ...ch.C4.get, ...i32.mul, ...i32.add, ...dyc.set],
            xa.flatMap((l, tap) => [...x.get, ...t.rows[Math.floor(tap / K)]!.get, ...i32.add, ...t.cols[tap % K]!.get, ...i32.add, ...l.set]),
            [...t.inside.get, ...if_([both(false)], [both(true)])],
          ]),
        ]),
      ];
    },
  };
}

/**
 * dw_sum_parts(parts, count, n, y, thread, item): y[i] = Σ_j parts[j·n + i] over j in order,
 * for the item-th block of BLOCK floats (vectors; the last may run into y's slack).
 */
function sumParts(): KernelDef {
  return {
    name: 'dw_sum_parts',
    params: ['parts', 'count', 'n', 'y', 'thread', 'item'],
    body(f) {
      const { parts, count, n, y, item } = f.params as Record<string, Local>;
      const t = f.local(), end = f.local(), j = f.local(), stride = f.local(), acc = f.local('v128'), a = f.local();
      return [
        ...n.get, ...i32.const(4), ...i32.mul, ...stride.set,
        ...item.get, ...i32.const(BLOCK * 4), ...i32.mul, ...t.set,
        ...t.get, ...i32.const(BLOCK * 4), ...i32.add, ...end.set,
        ...end.get, ...stride.get, ...i32.gt_s, ...if_([[...stride.get, ...end.set]]),
        ...forRange(t, t.get, end.get, 16, [
          [...v128.zero, ...acc.set, ...parts.get, ...t.get, ...i32.add, ...a.set],
          forRange(j, i32.const(0), count.get, 1, [[...acc.get, ...a.get, ...v128.load(), ...f32x4.add, ...acc.set, ...a.get, ...stride.get, ...i32.add, ...a.set]]),
          [...y.get, ...t.get, ...i32.add, ...acc.get, ...v128.store()],
        ]),
      ];
    },
  };
}

export function depthwiseKernels(): KernelDef[] {
  return [...DEPTHWISE_SIZES.flatMap((K) => [forward(K), backwardInput(K), backwardFilter(K)]), sumParts()];
}
