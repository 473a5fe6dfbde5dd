// Local response normalisation across channels (AlexNet), NHWC, for the β
// the nets use (0.75, also 0.5 and 1), C a multiple of 4:
//   y[c] = x[c] · n[c]^−β,  n[c] = bias + α · Σ_{|k−c| ≤ r} x[k]²
//   dx[k] = dy[k] · n[k]^−β − 2αβ · x[k] · Σ_{|i−k| ≤ r} dy[i] · y[i] / n[i]
// (the second sum's window is the first's, turned around). Per pixel, the
// squares (or dy·y/n) go to a row of the thread's scratch with r zeros on
// each side, and each window sum is 2r + 1 unaligned vector loads: the
// stock kernels' sums, in float32, in the same order. n^−0.75 = 1/(s·√s)
// with s = √n: two square roots, no pow.
import { f32x4, forRange, i32, if_, ifValue, v128, type Code, type Func, type Local } from './assembler.js';
import type { KernelDef } from './module.js';

/** n^−β for β = 0.75 (mode 0), 0.5 (mode 1) or 1 (mode 2), on f32x4. */
function negPow(n: Code, mode: Local, one: Local, s: Local): Code {
  return [
    ...n, ...s.set,
    ...mode.get, ...i32.eqz,
    ...ifV([[...one.get, ...s.get, ...f32x4.sqrt, ...s.tee, ...s.get, ...f32x4.sqrt, ...f32x4.mul, ...f32x4.div]], [[
      ...mode.get, ...i32.const(1), ...i32.eq,
      ...ifV([[...one.get, ...s.get, ...f32x4.sqrt, ...f32x4.div]], [[...one.get, ...s.get, ...f32x4.div]]),
    ]]),
  ];
}

const ifV = (then: Code[], else_: Code[]): Code => ifValue('v128', then, else_);

interface Common {
  x: Local; C: Local; r: Local; pixels: Local; rowsPer: Local; consts: Local; scratch: Local; sstride: Local; thread: Local; item: Local;
}

/** Per pixel of the item's block: `body(px, row)` with px the pixel's byte offset and row the scratch row (r floats of zeros before it). */
function perPixel(p: Common, f: Func, body: (px: Local, row: Local) => Code): Code {
  const q = f.local(), q1 = f.local(), px = f.local(), row = f.local(), c = f.local(), end = f.local();
  return [
    ...p.scratch.get, ...p.thread.get, ...p.sstride.get, ...i32.mul, ...i32.add, ...row.set,
    // zeros on both sides of the row, once: [−r, 0) and [C, C + r + 4)
    ...forRange(c, i32.const(0), [...p.r.get, ...i32.const(4), ...i32.mul], 4, [[...row.get, ...c.get, ...i32.add, ...i32.const(0), ...i32.store()]]),
    ...p.r.get, ...i32.const(4), ...i32.mul, ...row.get, ...i32.add, ...row.set,
    ...p.C.get, ...p.r.get, ...i32.add, ...i32.const(4), ...i32.add, ...i32.const(4), ...i32.mul, ...end.set,
    ...forRange(c, [...p.C.get, ...i32.const(4), ...i32.mul], end.get, 4, [[...row.get, ...c.get, ...i32.add, ...i32.const(0), ...i32.store()]]),
    ...p.item.get, ...p.rowsPer.get, ...i32.mul, ...q.set,
    ...q.get, ...p.rowsPer.get, ...i32.add, ...q1.set,
    ...q1.get, ...p.pixels.get, ...i32.gt_s, ...if_([[...p.pixels.get, ...q1.set]]),
    ...forRange(q, q.get, q1.get, 1, [[...q.get, ...p.C.get, ...i32.mul, ...i32.const(4), ...i32.mul, ...px.set], body(px, row)]),
  ];
}

/** Σ_{k=0..2r} row[c − r + k] (the row pointer already past its r leading zeros). */
function windowSum(row: Local, c: Local, r: Local, k: Local, acc: Local): Code {
  return [
    ...v128.zero, ...acc.set,
    ...forRange(k, [...i32.const(0), ...r.get, ...i32.sub], [...r.get, ...i32.const(1), ...i32.add], 1, [[
      ...acc.get, ...row.get, ...c.get, ...i32.add, ...k.get, ...i32.const(4), ...i32.mul, ...i32.add, ...v128.load(), ...f32x4.add, ...acc.set,
    ]]),
  ];
}

const params = ['x', 'C', 'r', 'pixels', 'rowsPer', 'consts', 'scratch', 'sstride'];

/** lrn_fwd(x, C, r, pixels, rowsPer, consts, scratch, sstride, y, thread, item): consts = bias, α, mode (i32) */
function forward(): KernelDef {
  return {
    name: 'lrn_fwd',
    params: [...params, 'y', 'thread', 'item'],
    body(f) {
      const p = f.params as unknown as Common & { y: Local };
      const c = f.local(), k = f.local(), mode = f.local();
      const bias = f.local('v128'), alpha = f.local('v128'), one = f.local('v128'), acc = f.local('v128'), s = f.local('v128'), xv = f.local('v128');
      return [
        ...p.consts.get, ...v128.load32_splat(0), ...bias.set, ...p.consts.get, ...v128.load32_splat(4), ...alpha.set,
        ...p.consts.get, ...i32.load(8), ...mode.set, ...f32x4.const(1), ...one.set,
        ...perPixel(p, f, (px, row) => [
          ...forRange(c, i32.const(0), [...p.C.get, ...i32.const(4), ...i32.mul], 16, [[
            ...row.get, ...c.get, ...i32.add, ...p.x.get, ...px.get, ...i32.add, ...c.get, ...i32.add, ...v128.load(), ...xv.tee, ...xv.get, ...f32x4.mul, ...v128.store(),
          ]]),
          ...forRange(c, i32.const(0), [...p.C.get, ...i32.const(4), ...i32.mul], 16, [
            windowSum(row, c, p.r, k, acc),
            [...p.y.get, ...px.get, ...i32.add, ...c.get, ...i32.add,
              ...p.x.get, ...px.get, ...i32.add, ...c.get, ...i32.add, ...v128.load(),
              ...negPow([...alpha.get, ...acc.get, ...f32x4.mul, ...bias.get, ...f32x4.add], mode, one, s),
              ...f32x4.mul, ...v128.store()],
          ]),
        ]),
      ];
    },
  };
}

/**
 * lrn_grad(x, C, r, pixels, rowsPer, consts, scratch, sstride, y, dy, dx, thread, item):
 * consts = bias, α, mode (i32), −2αβ. The scratch holds two rows: dy·y/n, and n^−β.
 */
function grad(): KernelDef {
  return {
    name: 'lrn_grad',
    params: [...params, 'y', 'dy', 'dx', 'thread', 'item'],
    body(f) {
      const p = f.params as unknown as Common & { y: Local; dy: Local; dx: Local };
      const c = f.local(), k = f.local(), mode = f.local(), row2 = f.local(), sq = f.local();
      const bias = f.local('v128'), alpha = f.local('v128'), one = f.local('v128'), m2ab = f.local('v128');
      const acc = f.local('v128'), s = f.local('v128'), xv = f.local('v128'), n = f.local('v128');
      const at = (base: Local, px: Local): Code => [...base.get, ...px.get, ...i32.add, ...c.get, ...i32.add];
      return [
        ...p.consts.get, ...v128.load32_splat(0), ...bias.set, ...p.consts.get, ...v128.load32_splat(4), ...alpha.set,
        ...p.consts.get, ...i32.load(8), ...mode.set, ...p.consts.get, ...v128.load32_splat(12), ...m2ab.set, ...f32x4.const(1), ...one.set,
        ...perPixel(p, f, (px, row) => [
          // the squares into the second half of the scratch (same padding), then per channel n, n^−β, dy·y/n
          ...row.get, ...p.C.get, ...p.r.get, ...i32.const(2), ...i32.mul, ...i32.add, ...i32.const(8), ...i32.add, ...i32.const(4), ...i32.mul, ...i32.add, ...sq.set,
          ...sq.get, ...p.C.get, ...p.r.get, ...i32.const(2), ...i32.mul, ...i32.add, ...i32.const(8), ...i32.add, ...i32.const(4), ...i32.mul, ...i32.add, ...row2.set,
          ...forRange(c, [...i32.const(0), ...p.r.get, ...i32.const(4), ...i32.mul, ...i32.sub], [...p.C.get, ...p.r.get, ...i32.add, ...i32.const(4), ...i32.add, ...i32.const(4), ...i32.mul], 4, [
            // zero padding of the squares' row (it sits where the first row's tail zeros are not)
            [...sq.get, ...c.get, ...i32.add, ...i32.const(0), ...i32.store()],
          ]),
          ...forRange(c, i32.const(0), [...p.C.get, ...i32.const(4), ...i32.mul], 16, [[
            ...sq.get, ...c.get, ...i32.add, ...at(p.x, px), ...v128.load(), ...xv.tee, ...xv.get, ...f32x4.mul, ...v128.store(),
          ]]),
          ...forRange(c, i32.const(0), [...p.C.get, ...i32.const(4), ...i32.mul], 16, [
            windowSum(sq, c, p.r, k, acc),
            [...alpha.get, ...acc.get, ...f32x4.mul, ...bias.get, ...f32x4.add, ...n.set],
            [...row2.get, ...c.get, ...i32.add, ...negPow(n.get, mode, one, s), ...v128.store()],
            [...row.get, ...c.get, ...i32.add, ...at(p.dy, px), ...v128.load(), ...at(p.y, px), ...v128.load(), ...f32x4.mul, ...n.get, ...f32x4.div, ...v128.store()],
          ]),
          ...forRange(c, i32.const(0), [...p.C.get, ...i32.const(4), ...i32.mul], 16, [
            windowSum(row, c, p.r, k, acc),
            [...at(p.dx, px),
              ...at(p.dy, px), ...v128.load(), ...row2.get, ...c.get, ...i32.add, ...v128.load(), ...f32x4.mul,
              ...at(p.x, px), ...v128.load(), ...m2ab.get, ...f32x4.mul, ...acc.get, ...f32x4.mul, ...f32x4.add,
              ...v128.store()],
          ]),
        ]),
      ];
    },
  };
}

export function lrnKernels(): KernelDef[] {
  return [forward(), grad()];
}
