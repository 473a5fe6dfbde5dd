// The optimizers' updates as one pass per variable, writing the new weight
// and slots over the old ones. Each does the float32 operations of tfjs's
// own optimizer in the same order (its scalars are float32 tensors), so the
// weights come out bit-identical. Constants are floats at `consts`.
import { forRange, i32, if_, v128, f32x4, type Code, type Local } from './assembler.js';
import { BLOCK } from './copy.js';
import type { KernelDef } from './module.js';

function updateKernel(name: string, inputs: string[], outputs: string[], consts: number,
  body: (v: Record<string, Local>, c: Local[], at: Local) => Code): KernelDef {
  return {
    name,
    params: [...inputs, ...outputs, 'n', 'consts', 'thread', 'item'],
    body(f) {
      const p = f.params as Record<string, Local>;
      const cs = Array.from({ length: consts }, () => f.local('v128'));
      const t = f.local(), end = f.local();
      const vals: Record<string, Local> = {};
      for (const i of inputs) vals[i] = f.local('v128');
      return [
        ...cs.flatMap((c, i) => [...p.consts!.get, ...v128.load32_splat(4 * i), ...c.set]),
        ...p.item!.get, ...i32.const(BLOCK * 4), ...i32.mul, ...t.set,
        ...t.get, ...i32.const(BLOCK * 4), ...i32.add, ...end.set,
        ...end.get, ...p.n!.get, ...i32.const(4), ...i32.mul, ...i32.gt_s, ...if_([[...p.n!.get, ...i32.const(4), ...i32.mul, ...end.set]]),
        ...forRange(t, t.get, end.get, 16, [
          inputs.flatMap((i) => [...p[i]!.get, ...t.get, ...i32.add, ...v128.load(), ...vals[i]!.set]),
          body({ ...p, ...Object.fromEntries(inputs.map((i) => [`${i}v`, vals[i]!])) }, cs, t),
        ]),
      ];
    },
  };
}

const store = (base: Local, t: Local, val: Code): Code => [...base.get, ...t.get, ...i32.add, ...val, ...v128.store()];

/**
 * adam_update(w, m, v, g, w2, m2, v2, n, consts): consts = β1, 1−β1, β2, 1−β2, 1−β1ᵗ, 1−β2ᵗ, ε, −lr.
 *   m2 = m·β1 + g·(1−β1);  v2 = v·β2 + g²·(1−β2);  w2 = (m2/(1−β1ᵗ)) / (√(v2/(1−β2ᵗ)) + ε) · (−lr) + w
 */
const adam = updateKernel('adam_update', ['w', 'm', 'v', 'g'], ['w2', 'm2', 'v2'], 8, (p, c, t) => {
  const [b1, ob1, b2, ob2, omab1, omab2, eps, nlr] = c as [Local, Local, Local, Local, Local, Local, Local, Local];
  const { wv, mv, vv, gv } = p as Record<string, Local>;
  return [
    ...mv!.get, ...b1.get, ...f32x4.mul, ...gv!.get, ...ob1.get, ...f32x4.mul, ...f32x4.add, ...mv!.set,
    ...vv!.get, ...b2.get, ...f32x4.mul, ...gv!.get, ...gv!.get, ...f32x4.mul, ...ob2.get, ...f32x4.mul, ...f32x4.add, ...vv!.set,
    ...store(p.m2!, t, mv!.get), ...store(p.v2!, t, vv!.get),
    ...store(p.w2!, t, [
      ...mv!.get, ...omab1.get, ...f32x4.div,
      ...vv!.get, ...omab2.get, ...f32x4.div, ...f32x4.sqrt, ...eps.get, ...f32x4.add,
      ...f32x4.div, ...nlr.get, ...f32x4.mul, ...wv!.get, ...f32x4.add,
    ]),
  ];
});

/** sgd_update(w, g, w2, n, consts): consts = −lr.  w2 = (−lr)·g + w */
const sgd = updateKernel('sgd_update', ['w', 'g'], ['w2'], 1, (p, c, t) => [
  ...store(p.w2!, t, [...c[0]!.get, ...p.gv!.get, ...f32x4.mul, ...p.wv!.get, ...f32x4.add]),
]);

/**
 * momentum_update(w, a, g, w2, a2, n, consts): consts = μ, −lr, nesterov (0 or 1 as a float).
 *   a2 = μ·a + g;  w2 = (−lr)·a2 + w,  or with Nesterov (−lr)·(g + a2·μ) + w
 */
const momentum = updateKernel('momentum_update', ['w', 'a', 'g'], ['w2', 'a2'], 3, (p, c, t) => {
  const [mu, nlr, nesterov] = c as [Local, Local, Local];
  const { wv, av, gv } = p as Record<string, Local>;
  return [
    ...mu.get, ...av!.get, ...f32x4.mul, ...gv!.get, ...f32x4.add, ...av!.set,
    ...store(p.a2!, t, av!.get),
    // nesterov lanes are all 1.0 or all 0.0: pick g + a2·μ or a2
    ...store(p.w2!, t, [
      ...nlr.get,
      ...gv!.get, ...av!.get, ...mu.get, ...f32x4.mul, ...f32x4.add, ...av!.get, ...nesterov.get, ...v128.zero, ...f32x4.ne, ...v128.bitselect,
      ...f32x4.mul, ...wv!.get, ...f32x4.add,
    ]),
  ];
});

export function optimKernels(): KernelDef[] {
  return [adam, sgd, momentum];
}
