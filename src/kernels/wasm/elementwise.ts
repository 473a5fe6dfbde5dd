// Element-wise kernels, four floats per step. Each item is a block of BLOCK
// floats; the last vector of a tensor may run into the 16 bytes of slack
// every heap block has, never into another tensor. Where the stock kernel's
// arithmetic is float32 (or doubles that round to the same float32, as for one
// +, −, ·, / of float32 values), the vector form gives the identical bits;
// activations with exp are within a few ulps.
import {
  addTo, f32x4, f64, f64x2, forRange, i32, i32x4, i8x16_shuffle, if_, v128, type Code, type Func, type Local,
} from './assembler.js';
import { BLOCK } from './copy.js';
import type { KernelDef } from './module.js';

/**
 * A kernel over the block `item` of n floats: `body(at)` gets the byte
 * offset `at` (from the start of every operand) of one vector.
 */
export function blockLoop(f: Func, n: Local, item: Local, body: (at: Local) => Code): Code {
  const t = f.local(), end = f.local();
  return [
    ...item.get, ...i32.const(BLOCK * 4), ...i32.mul, ...t.set,
    ...t.get, ...i32.const(BLOCK * 4), ...i32.add, ...end.set,
    ...end.get, ...n.get, ...i32.const(4), ...i32.mul, ...i32.gt_s, ...if_([[...n.get, ...i32.const(4), ...i32.mul, ...end.set]]),
    ...forRange(t, t.get, end.get, 16, [body(t)]),
  ];
}

const at = (base: Local, off: Local): Code => [...base.get, ...off.get, ...i32.add];

function unary(name: string, make: (f: Func) => { setup: Code; op: (x: Code) => Code }): KernelDef {
  return {
    name,
    params: ['x', 'y', 'n', 'consts', 'thread', 'item'],
    body(f) {
      const { x, y, n, item } = f.params as Record<string, Local>;
      const { setup, op } = make(f);
      return [...setup, ...blockLoop(f, n, item, (t) => [...at(y, t), ...op([...at(x, t), ...v128.load()]), ...v128.store()])];
    },
  };
}

/** A kernel of two same-size inputs (a gradient: the forward's x or y, and dy). */
function binaryMap(name: string, make: (f: Func) => { setup: Code; op: (a: Code, b: Code) => Code }): KernelDef {
  return {
    name,
    params: ['a', 'b', 'y', 'n', 'consts', 'thread', 'item'],
    body(f) {
      const { a, b, y, n, item } = f.params as Record<string, Local>;
      const { setup, op } = make(f);
      return [...setup, ...blockLoop(f, n, item, (t) => [...at(y, t), ...op([...at(a, t), ...v128.load()], [...at(b, t), ...v128.load()]), ...v128.store()])];
    },
  };
}

/** A v128 local holding four copies of a constant (V8 re-materialises v128.const at every use). */
function vconst(f: Func, v: number): { local: Local; code: Code } {
  const local = f.local('v128');
  return { local, code: [...f32x4.const(v), ...local.set] };
}

// relu as the stock Math.max(0, x): pmax(0, x) = (0 < x ? x : 0) gives +0 for −0, and NaN is put back
const relu = unary('relu', (f) => {
  const v = f.local('v128');
  return {
    setup: [],
    op: (x) => [...x, ...v.set, ...v.get, ...v128.zero, ...v.get, ...f32x4.pmax, ...v.get, ...v.get, ...f32x4.ne, ...v128.bitselect],
  };
});

// dx = dy · step(x), step = x > 0 ? 1 : (x is NaN ? NaN : 0): the stock gradient's one multiply
const reluGrad = binaryMap('relu_grad', (f) => {
  const one = vconst(f, 1), xv = f.local('v128'), s = f.local('v128');
  return {
    setup: one.code,
    op: (x, dy) => [
      ...x, ...xv.set,
      ...one.local.get, ...v128.zero, ...xv.get, ...v128.zero, ...f32x4.gt, ...v128.bitselect, ...s.set,
      ...xv.get, ...s.get, ...xv.get, ...xv.get, ...f32x4.ne, ...v128.bitselect, // NaN in x → NaN
      ...dy, ...f32x4.mul,
    ],
  };
});

// leakyrelu: x < 0 ? α·x : x, the product in doubles (α is a double in the stock kernel) rounded once
const leakyRelu: KernelDef = {
  name: 'leaky_relu',
  params: ['x', 'y', 'n', 'consts', 'thread', 'item'],
  body(f) {
    const { x, y, n, consts, item } = f.params as Record<string, Local>;
    const alpha = f.local('v128'), v = f.local('v128'), lo = f.local('v128'), hi = f.local('v128');
    return [
      // α as f64x2 from the f64 at consts
      ...consts.get, ...f64.load(), ...f64x2.splat, ...alpha.set,
      ...blockLoop(f, n, item, (t) => [
        ...at(x, t), ...v128.load(), ...v.set,
        ...v.get, ...f64x2.promote_low_f32x4, ...alpha.get, ...f64x2.mul, ...f32x4.demote_f64x2_zero, ...lo.set,
        ...v.get, ...v.get, ...i8x16_shuffle([8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7]),
        ...f64x2.promote_low_f32x4, ...alpha.get, ...f64x2.mul, ...f32x4.demote_f64x2_zero, ...hi.set,
        ...at(y, t),
        ...lo.get, ...hi.get, ...i8x16_shuffle([0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]),
        ...v.get, ...v.get, ...v128.zero, ...f32x4.lt, ...v128.bitselect,
        ...v128.store(),
      ]),
    ];
  },
};

// dx = x > 0 ? dy : dy·α (α rounded to float32, as the stock gradient's scalar tensor is)
const leakyReluGrad = binaryMap('leaky_relu_grad', (f) => {
  const alpha = f.local('v128'), d = f.local('v128'), xv = f.local('v128');
  const consts = f.params.consts!;
  return {
    setup: [...consts.get, ...v128.load32_splat(8), ...alpha.set],
    op: (x, dy) => [...x, ...xv.set, ...dy, ...d.tee, ...d.get, ...alpha.get, ...f32x4.mul, ...xv.get, ...v128.zero, ...f32x4.gt, ...v128.bitselect],
  };
});

// (1 − y²)·dy with the stock gradient's three roundings
const tanhGrad = binaryMap('tanh_grad', (f) => {
  const one = vconst(f, 1), v = f.local('v128');
  return { setup: one.code, op: (y, dy) => [...one.local.get, ...y, ...v.tee, ...v.get, ...f32x4.mul, ...f32x4.sub, ...dy, ...f32x4.mul] };
});

// dy·(y·(1 − y)), the stock sigmoid gradient's order
const sigmoidGrad = binaryMap('sigmoid_grad', (f) => {
  const one = vconst(f, 1), v = f.local('v128');
  return { setup: one.code, op: (y, dy) => [...dy, ...y, ...v.tee, ...one.local.get, ...v.get, ...f32x4.sub, ...f32x4.mul, ...f32x4.mul] };
});

// tanh: the rational minimax approximation Eigen and XLA use for float32, x clamped to ±7.905
// (≤ 4e-7 from tanh; NaN stays NaN: pmin/pmax keep a NaN in their first operand)
const TANH_NUM = [-2.76076847742355e-16, 2.00018790482477e-13, -8.60467152213735e-11, 5.12229709037114e-08,
  1.48572235717979e-05, 6.37261928875436e-04, 4.89352455891786e-03];
const TANH_DEN = [1.19825839466702e-06, 1.18534705686654e-04, 2.26843463243900e-03, 4.89352518554385e-03];
const tanh = unary('tanh', (f) => {
  const hi = vconst(f, 7.90531110763549805), lo = vconst(f, -7.90531110763549805);
  const num = TANH_NUM.map((c) => vconst(f, c)), den = TANH_DEN.map((c) => vconst(f, c));
  const v = f.local('v128'), x2 = f.local('v128');
  const horner = (cs: Array<{ local: Local }>): Code => {
    const code = [...cs[0]!.local.get];
    for (let i = 1; i < cs.length; i++) code.push(...x2.get, ...f32x4.mul, ...cs[i]!.local.get, ...f32x4.add);
    return code;
  };
  return {
    setup: [...hi.code, ...lo.code, ...num.flatMap((c) => c.code), ...den.flatMap((c) => c.code)],
    op: (x) => [
      ...x, ...hi.local.get, ...f32x4.pmin, ...lo.local.get, ...f32x4.pmax, ...v.tee, ...v.get, ...f32x4.mul, ...x2.set,
      ...v.get, ...horner(num), ...f32x4.mul, ...horner(den), ...f32x4.div,
    ],
  };
});

/**
 * e^x in float32 lanes (Cephes expf): x = k·ln2 + r, |r| ≤ ln2/2, a degree-5
 * polynomial for e^r, 2^k built in the exponent bits. ≤ 2 ulp on [−87, 88];
 * below, 0; above, +∞; NaN stays NaN.
 */
export function expf(f: Func): { setup: Code; op: (x: Code) => Code } {
  const c = (v: number) => vconst(f, v);
  const hi = c(88.3762626647949), lo = c(-87.3365447504019), log2e = c(1.44269504088896341), half = c(0.5);
  const c1 = c(0.693359375), c2 = c(-2.12194440e-4), one = c(1);
  const p = [1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1].map(c);
  const x = f.local('v128'), k = f.local('v128'), r = f.local('v128'), y = f.local('v128'), z = f.local('v128');
  const setup = [hi, lo, log2e, half, c1, c2, one, ...p].flatMap((v) => v.code);
  const op = (src: Code): Code => [
    ...src, ...hi.local.get, ...f32x4.pmin, ...lo.local.get, ...f32x4.pmax, ...x.set,
    // k = floor(x·log2e + 0.5)
    ...x.get, ...log2e.local.get, ...f32x4.mul, ...half.local.get, ...f32x4.add, ...f32x4.floor, ...k.set,
    ...x.get, ...k.get, ...c1.local.get, ...f32x4.mul, ...f32x4.sub, ...k.get, ...c2.local.get, ...f32x4.mul, ...f32x4.sub, ...r.set,
    ...r.get, ...r.get, ...f32x4.mul, ...z.set,
    ...p[0]!.local.get,
    ...p.slice(1).flatMap((q) => [...r.get, ...f32x4.mul, ...q.local.get, ...f32x4.add]),
    ...z.get, ...f32x4.mul, ...r.get, ...f32x4.add, ...one.local.get, ...f32x4.add, ...y.set,
    // · 2^k: k + 127 shifted into the exponent
    ...y.get, ...k.get, ...i32x4.trunc_sat_f32x4_s, ...i32.const(127), ...i32x4.splat, ...i32x4.add, ...i32.const(23), ...i32x4.shl,
    ...f32x4.mul,
  ];
  return { setup, op };
}

// sigmoid: 1 / (1 + e^−x)
const sigmoid = unary('sigmoid', (f) => {
  const e = expf(f), one = vconst(f, 1);
  return { setup: [...e.setup, ...one.code], op: (x) => [...one.local.get, ...one.local.get, ...e.op([...x, ...f32x4.neg]), ...f32x4.add, ...f32x4.div] };
});

export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'min' | 'max';
export const BINARY_MODE = { same: 0, scalar: 1, row: 2 } as const;

/**
 * binary_<op>(a, b, y, n, bn, mode, swap, thread, item): y = a op b over n
 * floats, b of n floats (mode same), one (scalar) or bn repeated (row, bn a
 * multiple of 4); swap: y = b op a.
 */
function binary(op: BinaryOp): KernelDef {
  // min and max as Math.min and Math.max: NaN if either is, −0 below +0
  const vop = { add: f32x4.add, sub: f32x4.sub, mul: f32x4.mul, div: f32x4.div, min: f32x4.min, max: f32x4.max }[op];
  return {
    name: `binary_${op}`,
    params: ['a', 'b', 'y', 'n', 'bn', 'mode', 'swap', 'thread', 'item'],
    body(f) {
      const { a, b, y, n, bn, mode, swap, item } = f.params as Record<string, Local>;
      const s = f.local('v128'), j = f.local(), rowB = f.local(), t = f.local(), t0 = f.local(), end = f.local();
      const aAt = [...a.get, ...t.get, ...i32.add, ...v128.load()];
      /** the loops over the block for one operand order */
      const loops = (swapped: boolean): Code => {
        const apply = (bval: Code): Code => (swapped ? [...bval, ...aAt, ...vop] : [...aAt, ...bval, ...vop]);
        const store = (val: Code): Code => [...y.get, ...t.get, ...i32.add, ...val, ...v128.store()];
        return [
          ...mode.get, ...i32.const(BINARY_MODE.row), ...i32.eq,
          ...if_([[
            // row: b's offset runs in step with t, modulo the row
            ...t0.get, ...rowB.get, ...i32.rem_u, ...j.set,
            ...forRange(t, t0.get, end.get, 16, [
              store(apply([...b.get, ...j.get, ...i32.add, ...v128.load()])),
              addTo(j, 16),
              [...j.get, ...rowB.get, ...i32.ge_u, ...if_([[...i32.const(0), ...j.set]])],
            ]),
          ]], [[
            ...mode.get, ...i32.const(BINARY_MODE.scalar), ...i32.eq,
            ...if_([forRange(t, t0.get, end.get, 16, [store(apply(s.get))])],
              [forRange(t, t0.get, end.get, 16, [store(apply([...b.get, ...t.get, ...i32.add, ...v128.load()]))])]),
          ]]),
        ];
      };
      return [
        ...item.get, ...i32.const(BLOCK * 4), ...i32.mul, ...t0.set,
        ...t0.get, ...i32.const(BLOCK * 4), ...i32.add, ...end.set,
        ...end.get, ...n.get, ...i32.const(4), ...i32.mul, ...i32.gt_s, ...if_([[...n.get, ...i32.const(4), ...i32.mul, ...end.set]]),
        ...b.get, ...v128.load32_splat(), ...s.set,
        ...bn.get, ...i32.const(4), ...i32.mul, ...rowB.set,
        ...swap.get, ...if_([loops(true)], [loops(false)]),
      ];
    },
  };
}

export function elementwiseKernels(): KernelDef[] {
  return [relu, reluGrad, leakyRelu, leakyReluGrad, tanh, tanhGrad, sigmoid, sigmoidGrad,
    binary('add'), binary('sub'), binary('mul'), binary('div'), binary('min'), binary('max')];
}
