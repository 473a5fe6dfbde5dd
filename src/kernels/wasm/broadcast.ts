// An operand broadcast along a middle axis, and the sum that is its
// gradient. Tensors are seen as [outer, mid, inner]; the small operand as
// [outer, inner]. Squeeze-and-excitation's gate ([N, 1, 1, C] over
// [N, H, W, C]: mid = H·W), stochastic depth's per-example mask ([N, 1, 1, 1]:
// inner = 1) and layer norm's statistics ([N, T, 1] over [N, T, D]) are all
// this shape; the stock kernels index each element in four dimensions.
//   bcast_<op>(a, b, y, outer, mid, inner, rowsPer, swap, thread, item):
//     y[o, m, i] = a[o, m, i] op b[o, i] (swap: b op a), outer rows [item·rowsPer, …)
//   midsum(x, y, outer, mid, inner, rowsPer, scratch, thread, item):
//     y[o, i] = Σ_m x[o, m, i], in doubles (the stock Sum's accumulator), m in order;
//     inner even or 1 (the caller checks); scratch: inner doubles per thread
import { addTo, f32, f32x4, f64, f64x2, forRange, i32, if_, v128, type Code, type Local } from './assembler.js';
import type { KernelDef } from './module.js';

export type BcastOp = 'add' | 'sub' | 'mul' | 'div';

function bcast(op: BcastOp): KernelDef {
  const vop = { add: f32x4.add, sub: f32x4.sub, mul: f32x4.mul, div: f32x4.div }[op];
  const sop = { add: f32.add, sub: f32.sub, mul: f32.mul, div: f32.div }[op];
  return {
    name: `bcast_${op}`,
    params: ['a', 'b', 'y', 'outer', 'mid', 'inner', 'rowsPer', 'swap', 'thread', 'item'],
    body(f) {
      const { a, b, y, outer, mid, inner, rowsPer, swap, item } = f.params as Record<string, Local>;
      const o = f.local(), o1 = f.local(), m = f.local(), i = f.local(), row = f.local(), brow = f.local();
      const pa = f.local(), py = f.local(), end = f.local(), s = f.local('v128'), sf = f.local('f32');
      const apply = (sw: boolean, av: Code, bv: Code, which: Code): Code => (sw ? [...bv, ...av, ...which] : [...av, ...bv, ...which]);
      const variants = (sw: boolean): Code => [
        ...inner.get, ...i32.const(1), ...i32.eq,
        ...if_([[
          // one value per outer row, splat over a contiguous run of mid floats
          ...forRange(o, o.get, o1.get, 1, [[
            ...b.get, ...o.get, ...i32.const(4), ...i32.mul, ...i32.add, ...v128.load32_splat(), ...s.set,
            ...b.get, ...o.get, ...i32.const(4), ...i32.mul, ...i32.add, ...f32.load(), ...sf.set,
            ...o.get, ...mid.get, ...i32.mul, ...i32.const(4), ...i32.mul, ...row.set,
            ...a.get, ...row.get, ...i32.add, ...pa.set, ...y.get, ...row.get, ...i32.add, ...py.set,
            ...mid.get, ...i32.const(-4), ...i32.and, ...i32.const(4), ...i32.mul, ...end.set,
            ...forRange(m, i32.const(0), end.get, 16, [[
              ...py.get, ...m.get, ...i32.add, ...apply(sw, [...pa.get, ...m.get, ...i32.add, ...v128.load()], s.get, vop), ...v128.store(),
            ]]),
            ...forRange(m, m.get, [...mid.get, ...i32.const(4), ...i32.mul], 4, [[
              ...py.get, ...m.get, ...i32.add, ...apply(sw, [...pa.get, ...m.get, ...i32.add, ...f32.load()], sf.get, sop), ...f32.store(),
            ]]),
          ]]),
        ]], [[
          ...inner.get, ...i32.const(3), ...i32.and, ...i32.eqz,
          ...if_([[
            // whole vectors of the inner axis
            ...forRange(o, o.get, o1.get, 1, [[
              ...b.get, ...o.get, ...inner.get, ...i32.mul, ...i32.const(4), ...i32.mul, ...i32.add, ...brow.set,
              ...o.get, ...mid.get, ...i32.mul, ...inner.get, ...i32.mul, ...i32.const(4), ...i32.mul, ...row.set,
              ...a.get, ...row.get, ...i32.add, ...pa.set, ...y.get, ...row.get, ...i32.add, ...py.set,
              ...forRange(m, i32.const(0), mid.get, 1, [[
                ...forRange(i, i32.const(0), [...inner.get, ...i32.const(4), ...i32.mul], 16, [[
                  ...py.get, ...i.get, ...i32.add,
                  ...apply(sw, [...pa.get, ...i.get, ...i32.add, ...v128.load()], [...brow.get, ...i.get, ...i32.add, ...v128.load()], vop),
                  ...v128.store(),
                ]]),
                ...addTo(pa, [...inner.get, ...i32.const(4), ...i32.mul]), ...addTo(py, [...inner.get, ...i32.const(4), ...i32.mul]),
              ]]),
            ]]),
          ]], [[
            // any other width, one float at a time
            ...forRange(o, o.get, o1.get, 1, [[
              ...b.get, ...o.get, ...inner.get, ...i32.mul, ...i32.const(4), ...i32.mul, ...i32.add, ...brow.set,
              ...o.get, ...mid.get, ...i32.mul, ...inner.get, ...i32.mul, ...i32.const(4), ...i32.mul, ...row.set,
              ...a.get, ...row.get, ...i32.add, ...pa.set, ...y.get, ...row.get, ...i32.add, ...py.set,
              ...forRange(m, i32.const(0), mid.get, 1, [[
                ...forRange(i, i32.const(0), [...inner.get, ...i32.const(4), ...i32.mul], 4, [[
                  ...py.get, ...i.get, ...i32.add,
                  ...apply(sw, [...pa.get, ...i.get, ...i32.add, ...f32.load()], [...brow.get, ...i.get, ...i32.add, ...f32.load()], sop),
                  ...f32.store(),
                ]]),
                ...addTo(pa, [...inner.get, ...i32.const(4), ...i32.mul]), ...addTo(py, [...inner.get, ...i32.const(4), ...i32.mul]),
              ]]),
            ]]),
          ]]),
        ]]),
      ];
      return [
        ...item.get, ...rowsPer.get, ...i32.mul, ...o.set,
        ...o.get, ...rowsPer.get, ...i32.add, ...o1.set,
        ...o1.get, ...outer.get, ...i32.gt_s, ...if_([[...outer.get, ...o1.set]]),
        ...swap.get, ...if_([variants(true)], [variants(false)]),
      ];
    },
  };
}

function midsum(): KernelDef {
  return {
    name: 'midsum',
    params: ['x', 'y', 'outer', 'mid', 'inner', 'rowsPer', 'scratch', 'thread', 'item'],
    body(f) {
      const { x, y, outer, mid, inner, rowsPer, scratch, thread, item } = f.params as Record<string, Local>;
      const o = f.local(), o1 = f.local(), m = f.local(), i = f.local(), px = f.local(), acc = f.local('v128');
      const sc = f.local(), ib = f.local(), end = f.local(), d = f.local('f64');
      return [
        ...item.get, ...rowsPer.get, ...i32.mul, ...o.set,
        ...o.get, ...rowsPer.get, ...i32.add, ...o1.set,
        ...o1.get, ...outer.get, ...i32.gt_s, ...if_([[...outer.get, ...o1.set]]),
        ...inner.get, ...i32.const(1), ...i32.eq,
        ...if_([[
          // row sums: two lanes of doubles over the row's pairs, then the odd last one
          ...mid.get, ...i32.const(-2), ...i32.and, ...i32.const(4), ...i32.mul, ...end.set,
          ...forRange(o, o.get, o1.get, 1, [[
            ...x.get, ...o.get, ...mid.get, ...i32.mul, ...i32.const(4), ...i32.mul, ...i32.add, ...px.set,
            ...v128.zero, ...acc.set,
            ...forRange(m, i32.const(0), end.get, 8, [[...acc.get, ...px.get, ...m.get, ...i32.add, ...v128.load64_zero(), ...f64x2.promote_low_f32x4, ...f64x2.add, ...acc.set]]),
            ...acc.get, ...f64x2.extract_lane(0), ...acc.get, ...f64x2.extract_lane(1), ...f64.add, ...d.set,
            ...m.get, ...mid.get, ...i32.const(4), ...i32.mul, ...i32.lt_s,
            ...if_([[...d.get, ...px.get, ...m.get, ...i32.add, ...f32.load(), ...f64.promote_f32, ...f64.add, ...d.set]]),
            ...y.get, ...o.get, ...i32.const(4), ...i32.mul, ...i32.add, ...d.get, ...f32.demote_f64, ...f32.store(),
          ]]),
        ]], [[
          // pairs of the inner axis accumulate in the thread's row of doubles
          ...scratch.get, ...thread.get, ...inner.get, ...i32.mul, ...i32.const(8), ...i32.mul, ...i32.add, ...sc.set,
          ...inner.get, ...i32.const(8), ...i32.mul, ...ib.set,
          ...forRange(o, o.get, o1.get, 1, [[
            ...forRange(i, i32.const(0), ib.get, 16, [[...sc.get, ...i.get, ...i32.add, ...v128.zero, ...v128.store()]]),
            ...x.get, ...o.get, ...mid.get, ...i32.mul, ...inner.get, ...i32.mul, ...i32.const(4), ...i32.mul, ...i32.add, ...px.set,
            ...forRange(m, i32.const(0), mid.get, 1, [[
              ...forRange(i, i32.const(0), ib.get, 16, [[
                ...sc.get, ...i.get, ...i32.add,
                ...sc.get, ...i.get, ...i32.add, ...v128.load(),
                ...px.get, ...i.get, ...i32.const(1), ...i32.shr_u, ...i32.add, ...v128.load64_zero(), ...f64x2.promote_low_f32x4,
                ...f64x2.add, ...v128.store(),
              ]]),
              ...addTo(px, [...inner.get, ...i32.const(4), ...i32.mul]),
            ]]),
            ...forRange(i, i32.const(0), ib.get, 16, [[
              ...y.get, ...o.get, ...inner.get, ...i32.mul, ...i32.const(4), ...i32.mul, ...i32.add, ...i.get, ...i32.const(1), ...i32.shr_u, ...i32.add,
              ...sc.get, ...i.get, ...i32.add, ...v128.load(), ...f32x4.demote_f64x2_zero,
              ...v128.store64_lane(0),
            ]]),
          ]]),
        ]]),
      ];
    },
  };
}

export function broadcastKernels(): KernelDef[] {
  return [bcast('add'), bcast('sub'), bcast('mul'), bcast('div'), midsum()];
}
