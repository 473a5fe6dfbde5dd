// Kernels of the compiled training step's transformer ops
// (src/train/compiled/tokens.ts), each the wasm form of arithmetic the tfjs
// path already does, so that both paths keep training to the same losses:
//   ln_fwd_rows(x, y, mean, rstd, gamma, beta, rows, D, consts, rowsPer, thread, item)
//     layer norm over rows of D floats, as src/kernels/layernorm.ts computes it:
//     the row's mean and squared deviations summed in doubles (two lanes),
//     y = (x − m)·(1/σ)·γ + β in doubles rounded once; mean and 1/σ stored as
//     float32. consts: ε as a double.
//   ln_grad_rows(x, dy, gamma, mean, rstd, dx, partials, rows, D, rowsPer, thread, item)
//     its gradient: dx = (1/σ)·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)), ĝ = dy·γ, in
//     doubles (dx 0: not written); the item's Σ dy·x̂ and Σ dy per column as
//     2·D doubles at partials + item·16·D, added in item order by the caller.
//   softmax_grad_rows(y, dy, dx, rows, n, rowsPer, thread, item)
//     dx = dy·y − (Σ dy·y)·y per row, the dot in float32 left to right as
//     the tfjs path's AlexnetcSoftmaxGrad (src/kernels/softmax.ts) sums it.
// (attention's products, bmm_nn and bmm_tn, are in bmm.ts)
import { f32, f32x4, f64, f64x2, forRange, i32, if_, v128, type Code, type Local } from './assembler.js';
import type { KernelDef } from './module.js';

/** rows [item·rowsPer, min(rows, (item + 1)·rowsPer)) into r, r1 */
function rowRange(item: Local, rowsPer: Local, rows: Local, r: Local, r1: Local): Code {
  return [
    ...item.get, ...rowsPer.get, ...i32.mul, ...r.set,
    ...r.get, ...rowsPer.get, ...i32.add, ...r1.set,
    ...r1.get, ...rows.get, ...i32.gt_s, ...if_([[...rows.get, ...r1.set]]),
  ];
}

/** two floats at addr as an f64x2 */
const pair = (addr: Code): Code => [...addr, ...v128.load64_zero(), ...f64x2.promote_low_f32x4];
/** one float at addr as a double */
const one = (addr: Code): Code => [...addr, ...f32.load(), ...f64.promote_f32];
const at = (base: Local, off: Local): Code => [...base.get, ...off.get, ...i32.add];

const lnForward: KernelDef = {
  name: 'ln_fwd_rows',
  params: ['x', 'y', 'mean', 'rstd', 'gamma', 'beta', 'rows', 'D', 'consts', 'rowsPer', 'thread', 'item'],
  body(f) {
    const { x, y, mean, rstd, gamma, beta, rows, D, consts, rowsPer, item } = f.params as Record<string, Local>;
    const r = f.local(), r1 = f.local(), px = f.local(), py = f.local(), j = f.local(), nb = f.local(), d2 = f.local();
    const dd = f.local('f64'), eps = f.local('f64'), m = f.local('f64'), q = f.local('f64'), inv = f.local('f64'), t = f.local('f64');
    const acc = f.local('v128'), mv = f.local('v128'), iv = f.local('v128'), tv = f.local('v128');
    const hsum = (v: Local): Code => [...v.get, ...f64x2.extract_lane(0), ...v.get, ...f64x2.extract_lane(1), ...f64.add];
    const odd: Code = [...d2.get, ...nb.get, ...i32.ne];
    return [
      ...D.get, ...i32.const(4), ...i32.mul, ...nb.set,
      ...D.get, ...i32.const(-2), ...i32.and, ...i32.const(4), ...i32.mul, ...d2.set,
      ...D.get, ...f64.convert_i32_s, ...dd.set,
      ...consts.get, ...f64.load(), ...eps.set,
      ...rowRange(item, rowsPer, rows, r, r1),
      ...forRange(r, r.get, r1.get, 1, [[
        ...x.get, ...r.get, ...nb.get, ...i32.mul, ...i32.add, ...px.set,
        ...y.get, ...r.get, ...nb.get, ...i32.mul, ...i32.add, ...py.set,
        // the mean
        ...v128.zero, ...acc.set,
        ...forRange(j, i32.const(0), d2.get, 8, [[...acc.get, ...pair(at(px, j)), ...f64x2.add, ...acc.set]]),
        ...hsum(acc), ...m.set,
        ...odd, ...if_([[...m.get, ...one(at(px, d2)), ...f64.add, ...m.set]]),
        ...m.get, ...dd.get, ...f64.div, ...m.set,
        ...m.get, ...f64x2.splat, ...mv.set,
        // the squared deviations
        ...v128.zero, ...acc.set,
        ...forRange(j, i32.const(0), d2.get, 8, [[
          ...pair(at(px, j)), ...mv.get, ...f64x2.sub, ...tv.set,
          ...acc.get, ...tv.get, ...tv.get, ...f64x2.mul, ...f64x2.add, ...acc.set,
        ]]),
        ...hsum(acc), ...q.set,
        ...odd, ...if_([[...one(at(px, d2)), ...m.get, ...f64.sub, ...t.set, ...q.get, ...t.get, ...t.get, ...f64.mul, ...f64.add, ...q.set]]),
        ...f64.const(1), ...q.get, ...dd.get, ...f64.div, ...eps.get, ...f64.add, ...f64.sqrt, ...f64.div, ...inv.set,
        ...mean.get, ...r.get, ...i32.const(4), ...i32.mul, ...i32.add, ...m.get, ...f32.demote_f64, ...f32.store(),
        ...rstd.get, ...r.get, ...i32.const(4), ...i32.mul, ...i32.add, ...inv.get, ...f32.demote_f64, ...f32.store(),
        ...inv.get, ...f64x2.splat, ...iv.set,
        // y = (x − m)·inv·γ + β
        ...forRange(j, i32.const(0), d2.get, 8, [[
          ...at(py, j),
          ...pair(at(px, j)), ...mv.get, ...f64x2.sub, ...iv.get, ...f64x2.mul, ...pair(at(gamma, j)), ...f64x2.mul, ...pair(at(beta, j)), ...f64x2.add,
          ...f64x2.demote_zero, ...v128.store64_lane(0),
        ]]),
        ...odd, ...if_([[
          ...at(py, d2),
          ...one(at(px, d2)), ...m.get, ...f64.sub, ...inv.get, ...f64.mul, ...one(at(gamma, d2)), ...f64.mul, ...one(at(beta, d2)), ...f64.add,
          ...f32.demote_f64, ...f32.store(),
        ]]),
      ]]),
    ];
  },
};

const lnGrad: KernelDef = {
  name: 'ln_grad_rows',
  params: ['x', 'dy', 'gamma', 'mean', 'rstd', 'dx', 'partials', 'rows', 'D', 'rowsPer', 'thread', 'item'],
  body(f) {
    const { x, dy, gamma, mean, rstd, dx, partials, rows, D, rowsPer, item } = f.params as Record<string, Local>;
    const r = f.local(), r1 = f.local(), px = f.local(), pd = f.local(), pq = f.local(), j = f.local(), nb = f.local(), d2 = f.local();
    const pg = f.local(), pb = f.local(), k = f.local();
    const dd = f.local('f64'), m = f.local('f64'), inv = f.local('f64'), s1 = f.local('f64'), s2 = f.local('f64');
    const xh = f.local('f64'), d = f.local('f64'), gh = f.local('f64');
    const a1 = f.local('v128'), a2 = f.local('v128'), mv = f.local('v128'), iv = f.local('v128'), m1 = f.local('v128'), m2 = f.local('v128');
    const xv = f.local('v128'), dv = f.local('v128'), gv = f.local('v128');
    const hsum = (v: Local): Code => [...v.get, ...f64x2.extract_lane(0), ...v.get, ...f64x2.extract_lane(1), ...f64.add];
    const odd: Code = [...d2.get, ...nb.get, ...i32.ne];
    // the doubles at pg / pb + 2·(float offset j): column j's partial sums
    const addTo = (base: Local, off: Code, v: Code): Code => [...base.get, ...off, ...i32.add, ...base.get, ...off, ...i32.add, ...v128.load(), ...v, ...f64x2.add, ...v128.store()];
    const addToOne = (base: Local, off: Code, v: Code): Code => [...base.get, ...off, ...i32.add, ...base.get, ...off, ...i32.add, ...f64.load(), ...v, ...f64.add, ...f64.store()];
    return [
      ...D.get, ...i32.const(4), ...i32.mul, ...nb.set,
      ...D.get, ...i32.const(-2), ...i32.and, ...i32.const(4), ...i32.mul, ...d2.set,
      ...D.get, ...f64.convert_i32_s, ...dd.set,
      ...partials.get, ...item.get, ...D.get, ...i32.mul, ...i32.const(16), ...i32.mul, ...i32.add, ...pg.set,
      ...pg.get, ...D.get, ...i32.const(8), ...i32.mul, ...i32.add, ...pb.set,
      ...forRange(k, i32.const(0), [...D.get, ...i32.const(16), ...i32.mul], 8, [[...pg.get, ...k.get, ...i32.add, ...f64.const(0), ...f64.store()]]),
      ...rowRange(item, rowsPer, rows, r, r1),
      ...forRange(r, r.get, r1.get, 1, [[
        ...x.get, ...r.get, ...nb.get, ...i32.mul, ...i32.add, ...px.set,
        ...dy.get, ...r.get, ...nb.get, ...i32.mul, ...i32.add, ...pd.set,
        ...one([...mean.get, ...r.get, ...i32.const(4), ...i32.mul, ...i32.add]), ...m.tee, ...f64x2.splat, ...mv.set,
        ...one([...rstd.get, ...r.get, ...i32.const(4), ...i32.mul, ...i32.add]), ...inv.tee, ...f64x2.splat, ...iv.set,
        ...v128.zero, ...a1.set, ...v128.zero, ...a2.set,
        ...forRange(j, i32.const(0), d2.get, 8, [[
          ...pair(at(px, j)), ...mv.get, ...f64x2.sub, ...iv.get, ...f64x2.mul, ...xv.set,
          ...pair(at(pd, j)), ...dv.set,
          ...dv.get, ...pair(at(gamma, j)), ...f64x2.mul, ...gv.set,
          ...a1.get, ...gv.get, ...f64x2.add, ...a1.set,
          ...a2.get, ...gv.get, ...xv.get, ...f64x2.mul, ...f64x2.add, ...a2.set,
          ...addTo(pg, [...j.get, ...i32.const(2), ...i32.mul], [...dv.get, ...xv.get, ...f64x2.mul]),
          ...addTo(pb, [...j.get, ...i32.const(2), ...i32.mul], dv.get),
        ]]),
        ...hsum(a1), ...s1.set,
        ...hsum(a2), ...s2.set,
        ...odd, ...if_([[
          ...one(at(px, d2)), ...m.get, ...f64.sub, ...inv.get, ...f64.mul, ...xh.set,
          ...one(at(pd, d2)), ...d.set,
          ...d.get, ...one(at(gamma, d2)), ...f64.mul, ...gh.set,
          ...s1.get, ...gh.get, ...f64.add, ...s1.set,
          ...s2.get, ...gh.get, ...xh.get, ...f64.mul, ...f64.add, ...s2.set,
          ...addToOne(pg, [...d2.get, ...i32.const(2), ...i32.mul], [...d.get, ...xh.get, ...f64.mul]),
          ...addToOne(pb, [...d2.get, ...i32.const(2), ...i32.mul], d.get),
        ]]),
        ...dx.get, ...if_([[
          ...dx.get, ...r.get, ...nb.get, ...i32.mul, ...i32.add, ...pq.set,
          ...s1.get, ...dd.get, ...f64.div, ...f64x2.splat, ...m1.set,
          ...s2.get, ...dd.get, ...f64.div, ...f64x2.splat, ...m2.set,
          // dx = inv · (dy·γ − m1 − x̂·m2)
          ...forRange(j, i32.const(0), d2.get, 8, [[
            ...at(pq, j),
            ...iv.get,
            ...pair(at(pd, j)), ...pair(at(gamma, j)), ...f64x2.mul, ...m1.get, ...f64x2.sub,
            ...pair(at(px, j)), ...mv.get, ...f64x2.sub, ...iv.get, ...f64x2.mul, ...m2.get, ...f64x2.mul, ...f64x2.sub,
            ...f64x2.mul, ...f64x2.demote_zero, ...v128.store64_lane(0),
          ]]),
          ...odd, ...if_([[
            ...at(pq, d2),
            ...inv.get,
            ...one(at(pd, d2)), ...one(at(gamma, d2)), ...f64.mul, ...s1.get, ...dd.get, ...f64.div, ...f64.sub,
            ...one(at(px, d2)), ...m.get, ...f64.sub, ...inv.get, ...f64.mul, ...s2.get, ...dd.get, ...f64.div, ...f64.mul, ...f64.sub,
            ...f64.mul, ...f32.demote_f64, ...f32.store(),
          ]]),
        ]]),
      ]]),
    ];
  },
};

const softmaxGrad: KernelDef = {
  name: 'softmax_grad_rows',
  params: ['y', 'dy', 'dx', 'rows', 'n', 'rowsPer', 'thread', 'item'],
  body(f) {
    const { y, dy, dx, rows, n, rowsPer, item } = f.params as Record<string, Local>;
    const r = f.local(), r1 = f.local(), py = f.local(), pg = f.local(), pq = f.local(), j = f.local(), nb = f.local(), end = f.local();
    const dot = f.local('f32'), dv = f.local('v128'), yv = f.local('v128');
    return [
      ...n.get, ...i32.const(4), ...i32.mul, ...nb.set,
      ...n.get, ...i32.const(-4), ...i32.and, ...i32.const(4), ...i32.mul, ...end.set,
      ...rowRange(item, rowsPer, rows, r, r1),
      ...forRange(r, r.get, r1.get, 1, [[
        ...y.get, ...r.get, ...nb.get, ...i32.mul, ...i32.add, ...py.set,
        ...dy.get, ...r.get, ...nb.get, ...i32.mul, ...i32.add, ...pg.set,
        ...dx.get, ...r.get, ...nb.get, ...i32.mul, ...i32.add, ...pq.set,
        ...f32.const(0), ...dot.set,
        ...forRange(j, i32.const(0), nb.get, 4, [[...dot.get, ...at(pg, j), ...f32.load(), ...at(py, j), ...f32.load(), ...f32.mul, ...f32.add, ...dot.set]]),
        ...dot.get, ...f32x4.splat, ...dv.set,
        ...forRange(j, i32.const(0), end.get, 16, [[
          ...at(pq, j),
          ...at(py, j), ...v128.load(), ...yv.set,
          ...at(pg, j), ...v128.load(), ...yv.get, ...f32x4.mul, ...dv.get, ...yv.get, ...f32x4.mul, ...f32x4.sub,
          ...v128.store(),
        ]]),
        ...forRange(j, end.get, nb.get, 4, [[
          ...at(pq, j),
          ...at(pg, j), ...f32.load(), ...at(py, j), ...f32.load(), ...f32.mul, ...dot.get, ...at(py, j), ...f32.load(), ...f32.mul, ...f32.sub,
          ...f32.store(),
        ]]),
      ]]),
    ];
  },
};

export function transformerKernels(): KernelDef[] {
  return [lnForward, lnGrad, softmaxGrad];
}
