// Softmax over the last axis, rows of n ≥ 4 floats, four lanes at a time:
// the row's maximum, e^(x − max) (expf of elementwise.ts; the last partial
// vector is redone as the row's last four floats, the same values again), the
// sum of those, then each divided by it.
//   softmax_rows(x, y, rows, n, rowsPer, thread, item): rows [item·rowsPer, …)
import { f32, f32x4, forRange, i32, i32x4_shuffle, if_, v128, type Code, type Local } from './assembler.js';
import { expf } from './elementwise.js';
import type { KernelDef } from './module.js';

/** The four lanes of a v128 on the stack folded by op into lane 0 (then extracted). */
function horizontal(v: Local, op: Code): Code {
  return [
    ...v.get, ...v.get, ...v.get, ...i32x4_shuffle(2, 3, 0, 1), ...op, ...v.set,
    ...v.get, ...v.get, ...v.get, ...i32x4_shuffle(1, 0, 3, 2), ...op, ...f32x4.extract_lane(0),
  ];
}

const softmax: KernelDef = {
  name: 'softmax_rows',
  params: ['x', 'y', 'rows', 'n', 'rowsPer', 'thread', 'item'],
  body(f) {
    const { x, y, rows, n, rowsPer, item } = f.params as Record<string, Local>;
    const r = f.local(), r1 = f.local(), px = f.local(), py = f.local(), j = f.local(), end = f.local(), nb = f.local();
    const acc = f.local('v128'), mx = f.local('v128'), m = f.local('f32'), s = f.local('f32'), sv = f.local('v128');
    const e = expf(f);
    const expAt = (at: Code): Code => [...py.get, ...at, ...i32.add, ...e.op([...px.get, ...at, ...i32.add, ...v128.load(), ...mx.get, ...f32x4.sub]), ...v128.store()];
    return [
      ...e.setup,
      ...n.get, ...i32.const(4), ...i32.mul, ...nb.set,
      ...n.get, ...i32.const(-4), ...i32.and, ...i32.const(4), ...i32.mul, ...end.set,
      ...item.get, ...rowsPer.get, ...i32.mul, ...r.set,
      ...r.get, ...rowsPer.get, ...i32.add, ...r1.set,
      ...r1.get, ...rows.get, ...i32.gt_s, ...if_([[...rows.get, ...r1.set]]),
      ...forRange(r, r.get, r1.get, 1, [[
        ...x.get, ...r.get, ...nb.get, ...i32.mul, ...i32.add, ...px.set,
        ...y.get, ...r.get, ...nb.get, ...i32.mul, ...i32.add, ...py.set,
        // maximum
        ...px.get, ...v128.load(), ...acc.set,
        ...forRange(j, i32.const(16), end.get, 16, [[...acc.get, ...px.get, ...j.get, ...i32.add, ...v128.load(), ...f32x4.max, ...acc.set]]),
        ...horizontal(acc, f32x4.max), ...m.set,
        ...forRange(j, end.get, nb.get, 4, [[...m.get, ...px.get, ...j.get, ...i32.add, ...f32.load(), ...f32.max, ...m.set]]),
        ...m.get, ...f32x4.splat, ...mx.set,
        // e^(x − max), the tail as the row's last vector
        ...forRange(j, i32.const(0), end.get, 16, [expAt(j.get)]),
        ...end.get, ...nb.get, ...i32.ne, ...if_([expAt([...nb.get, ...i32.const(16), ...i32.sub])]),
        // the sum
        ...v128.zero, ...acc.set,
        ...forRange(j, i32.const(0), end.get, 16, [[...acc.get, ...py.get, ...j.get, ...i32.add, ...v128.load(), ...f32x4.add, ...acc.set]]),
        ...horizontal(acc, f32x4.add), ...s.set,
        ...forRange(j, end.get, nb.get, 4, [[...s.get, ...py.get, ...j.get, ...i32.add, ...f32.load(), ...f32.add, ...s.set]]),
        ...s.get, ...f32x4.splat, ...sv.set,
        // divided by it
        ...forRange(j, i32.const(0), end.get, 16, [[...py.get, ...j.get, ...i32.add, ...py.get, ...j.get, ...i32.add, ...v128.load(), ...sv.get, ...f32x4.div, ...v128.store()]]),
        ...forRange(j, end.get, nb.get, 4, [[...py.get, ...j.get, ...i32.add, ...py.get, ...j.get, ...i32.add, ...f32.load(), ...s.get, ...f32.div, ...f32.store()]]),
      ]]),
    ];
  },
};

export function softmaxKernels(): KernelDef[] {
  return [softmax];
}
