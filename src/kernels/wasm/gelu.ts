// Exact GELU and its gradient, four floats per step:
//   gelu(x) = ½·x·(1 + erf(z)), z = x/√2
//   gelu'(x) = ½·(1 + erf(z)) + x·e^(−z²)/√(2π)
// erf by Abramowitz and Stegun 7.1.26 (|error| ≤ 1.5e-7, tfjs's Erf kernel's
// formula): erf(|z|) = 1 − t·P(t)·e^(−z²), t = 1/(1 + p·|z|), the sign put
// back; the gradient reuses the same e^(−z²). e^x is expf of elementwise.ts.
//   gelu(x, y, n, consts, thread, item), gelu_grad(x, dy, y, n, consts, thread, item)
import { f32x4, i32, i32x4, v128, type Code, type Func, type Local } from './assembler.js';
import { blockLoop, expf } from './elementwise.js';
import type { KernelDef } from './module.js';

const A = [1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592];

/** (½·(1 + erf(z)), e^(−z²)) of x, as code leaving nothing on the stack, results in locals. */
function erfParts(f: Func): { setup: Code; compute: (x: Code) => Code; half1: Local; e: Local } {
  const c = (v: number) => { const l = f.local('v128'); return { l, code: [...f32x4.const(v), ...l.set] }; };
  const rs2 = c(Math.SQRT1_2), p = c(0.3275911), one = c(1), half = c(0.5), sign = f.local('v128');
  const a = A.map(c);
  const ex = expf(f);
  const z = f.local('v128'), az = f.local('v128'), t = f.local('v128'), e = f.local('v128'), er = f.local('v128'), half1 = f.local('v128');
  const setup = [...rs2.code, ...p.code, ...one.code, ...half.code, ...a.flatMap((q) => q.code), ...ex.setup,
    ...i32.const(-0x80000000), ...i32x4.splat, ...sign.set];
  const compute = (x: Code): Code => [
    ...x, ...rs2.l.get, ...f32x4.mul, ...z.tee, ...f32x4.abs, ...az.set,
    ...one.l.get, ...one.l.get, ...p.l.get, ...az.get, ...f32x4.mul, ...f32x4.add, ...f32x4.div, ...t.set,
    ...ex.op([...az.get, ...az.get, ...f32x4.mul, ...f32x4.neg]), ...e.set,
    // P(t) by Horner, times t
    ...a[0]!.l.get,
    ...a.slice(1).flatMap((q) => [...t.get, ...f32x4.mul, ...q.l.get, ...f32x4.add]),
    ...t.get, ...f32x4.mul, ...e.get, ...f32x4.mul, ...er.set,
    // erf(|z|) = 1 − t·P·e, z's sign copied on: ½(1 + erf(z))
    ...one.l.get, ...er.get, ...f32x4.sub,
    ...z.get, ...sign.get, ...v128.and, ...v128.xor,
    ...one.l.get, ...f32x4.add, ...half.l.get, ...f32x4.mul, ...half1.set,
  ];
  return { setup, compute, half1, e };
}

const gelu: KernelDef = {
  name: 'gelu',
  params: ['x', 'y', 'n', 'consts', 'thread', 'item'],
  body(f) {
    const { x, y, n, item } = f.params as Record<string, Local>;
    const parts = erfParts(f), xv = f.local('v128');
    return [...parts.setup, ...blockLoop(f, n, item, (t) => [
      ...x.get, ...t.get, ...i32.add, ...v128.load(), ...xv.set,
      ...parts.compute(xv.get),
      ...y.get, ...t.get, ...i32.add, ...xv.get, ...parts.half1.get, ...f32x4.mul, ...v128.store(),
    ])];
  },
};

const geluGrad: KernelDef = {
  name: 'gelu_grad',
  params: ['x', 'dy', 'y', 'n', 'consts', 'thread', 'item'],
  body(f) {
    const { x, dy, y, n, item } = f.params as Record<string, Local>;
    const parts = erfParts(f), xv = f.local('v128'), k = f.local('v128');
    return [...parts.setup, ...f32x4.const(1 / Math.sqrt(2 * Math.PI)), ...k.set, ...blockLoop(f, n, item, (t) => [
      ...x.get, ...t.get, ...i32.add, ...v128.load(), ...xv.set,
      ...parts.compute(xv.get),
      ...y.get, ...t.get, ...i32.add,
      ...parts.half1.get, ...xv.get, ...k.get, ...f32x4.mul, ...parts.e.get, ...f32x4.mul, ...f32x4.add,
      ...dy.get, ...t.get, ...i32.add, ...v128.load(), ...f32x4.mul,
      ...v128.store(),
    ])];
  },
};

export function geluKernels(): KernelDef[] {
  return [gelu, geluGrad];
}
