// The gradients of Minimum and Maximum as one pass each: dx = dy · (a cmp b),
// the comparison as 1 or 0, the stock gradient's mul(dy, cast(cmp(a, b)))
// without its boolean and float temporaries (the same bits: dy·1 and dy·0).
//   mask_<cmp>(a, b, dy, y, n, mode, thread, item), cmp ∈ le gt ge lt,
//   mode: 0 a and b of n floats, 1 b a scalar, 2 a a scalar.
import { f32x4, forRange, i32, if_, v128, type Code, type Local } from './assembler.js';
import { BLOCK } from './copy.js';
import type { KernelDef } from './module.js';

export const MASK_MODE = { same: 0, scalarB: 1, scalarA: 2 } as const;
export type MaskCmp = 'le' | 'gt' | 'ge' | 'lt';

function mask(cmp: MaskCmp): KernelDef {
  const vcmp = { le: f32x4.le, gt: f32x4.gt, ge: f32x4.ge, lt: f32x4.lt }[cmp];
  return {
    name: `mask_${cmp}`,
    params: ['a', 'b', 'dy', 'y', 'n', 'mode', 'thread', 'item'],
    body(f) {
      const { a, b, dy, y, n, mode, item } = f.params as Record<string, Local>;
      const t = f.local(), t0 = f.local(), end = f.local(), sa = f.local('v128'), sb = f.local('v128'), one = f.local('v128');
      const loopWith = (av: Code, bv: Code): Code => forRange(t, t0.get, end.get, 16, [[
        ...y.get, ...t.get, ...i32.add,
        ...one.get, ...v128.zero, ...av, ...bv, ...vcmp, ...v128.bitselect,
        ...dy.get, ...t.get, ...i32.add, ...v128.load(), ...f32x4.mul,
        ...v128.store(),
      ]]);
      const at = (p: Local): Code => [...p.get, ...t.get, ...i32.add, ...v128.load()];
      return [
        ...f32x4.const(1), ...one.set,
        ...a.get, ...v128.load32_splat(), ...sa.set,
        ...b.get, ...v128.load32_splat(), ...sb.set,
        ...item.get, ...i32.const(BLOCK * 4), ...i32.mul, ...t0.set,
        ...t0.get, ...i32.const(BLOCK * 4), ...i32.add, ...end.set,
        ...end.get, ...n.get, ...i32.const(4), ...i32.mul, ...i32.gt_s, ...if_([[...n.get, ...i32.const(4), ...i32.mul, ...end.set]]),
        ...mode.get, ...i32.const(MASK_MODE.scalarB), ...i32.eq,
        ...if_([loopWith(at(a), sb.get)], [[
          ...mode.get, ...i32.const(MASK_MODE.scalarA), ...i32.eq,
          ...if_([loopWith(sa.get, at(b))], [loopWith(at(a), at(b))]),
        ]]),
      ];
    },
  };
}

/**
 * relu6_grad(x, dy, y, n, consts, thread, item): dy · (0 < x ≤ 6), the stock
 * Relu6 gradient's mul(dy, cast(lessEqual(x, 6) · step(x))) in one pass (a NaN
 * in x gives dy · 0 here, NaN there).
 */
const relu6Grad: KernelDef = {
  name: 'relu6_grad',
  params: ['x', 'dy', 'y', 'n', 'consts', 'thread', 'item'],
  body(f) {
    const { x, dy, y, n, item } = f.params as Record<string, Local>;
    const t = f.local(), t0 = f.local(), end = f.local(), one = f.local('v128'), six = f.local('v128'), v = f.local('v128');
    return [
      ...f32x4.const(1), ...one.set, ...f32x4.const(6), ...six.set,
      ...item.get, ...i32.const(BLOCK * 4), ...i32.mul, ...t0.set,
      ...t0.get, ...i32.const(BLOCK * 4), ...i32.add, ...end.set,
      ...end.get, ...n.get, ...i32.const(4), ...i32.mul, ...i32.gt_s, ...if_([[...n.get, ...i32.const(4), ...i32.mul, ...end.set]]),
      ...forRange(t, t0.get, end.get, 16, [[
        ...y.get, ...t.get, ...i32.add,
        ...x.get, ...t.get, ...i32.add, ...v128.load(), ...v.set,
        ...one.get, ...v128.zero,
        ...v.get, ...v128.zero, ...f32x4.gt, ...v.get, ...six.get, ...f32x4.le, ...v128.and,
        ...v128.bitselect,
        ...dy.get, ...t.get, ...i32.add, ...v128.load(), ...f32x4.mul,
        ...v128.store(),
      ]]),
    ];
  },
};

export function maskKernels(): KernelDef[] {
  return [mask('le'), mask('gt'), mask('ge'), mask('lt'), relu6Grad];
}
