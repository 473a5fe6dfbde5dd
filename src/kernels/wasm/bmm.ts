// A batch of small matrix products, one product per item: attention's
// Q·Kᵀ and weights·V ([N·heads] products of [T, dh] and [T, T]) and their
// gradients. The GEMM of ops/gemm.ts packs its right operand and splits each
// product among the threads, which for a 50 × 16 × 50 product costs more than
// the product; here each thread takes whole products, A row by row:
// C[i, :] = Σ_k A[i, k] · B[k, :], k in order, sixteen columns of C at a time
// in registers, the rest of the row in memory.
//   bmm_nn(a, b, c, M, N, K, thread, item): A [M, K], B [K, N], C [M, N], row-major,
//   the item-th of each
//   bmm_tn(a, b, c, M, N, K, thread, item): the same with A stored [K, M]
//   (C = Aᵀ·B: attention's gradients dV = Pᵀ·dO and dK = dSᵀ·Q), A read down
//   its columns instead of a transpose first; the same sums in the same order.
import { f32, f32x4, forRange, i32, if_, v128, type Code, type Local } from './assembler.js';
import type { KernelDef } from './module.js';

function bmm(name: 'bmm_nn' | 'bmm_tn'): KernelDef {
  const transA = name === 'bmm_tn';
  return {
    name,
    params: ['a', 'b', 'c', 'M', 'N', 'K', 'thread', 'item'],
    body: (f) => {
      const { a, b, c, M, N, K, item } = f.params as Record<string, Local>;
      const ab = f.local(), bb = f.local(), cb = f.local(), i = f.local(), k = f.local(), j = f.local();
      const nb = f.local(), nv = f.local(), crow = f.local(), brow = f.local(), arow = f.local(), mb = f.local();
      const s = f.local('v128'), sf = f.local('f32'), n16 = f.local(), j0 = f.local();
      const acc = f.locals_(4, 'v128');
      /** A[i, k]'s address; arow: where A's row i starts (bmm_tn: stored column i) */
      const aAt: Code = transA ? [...arow.get, ...k.get, ...mb.get, ...i32.mul, ...i32.add] : [...arow.get, ...k.get, ...i32.const(4), ...i32.mul, ...i32.add];
      return [
        ...N.get, ...i32.const(4), ...i32.mul, ...nb.set,
        ...M.get, ...i32.const(4), ...i32.mul, ...mb.set,
        ...N.get, ...i32.const(-4), ...i32.and, ...i32.const(4), ...i32.mul, ...nv.set,
        ...a.get, ...item.get, ...M.get, ...i32.mul, ...K.get, ...i32.mul, ...i32.const(4), ...i32.mul, ...i32.add, ...ab.set,
        ...b.get, ...item.get, ...K.get, ...i32.mul, ...N.get, ...i32.mul, ...i32.const(4), ...i32.mul, ...i32.add, ...bb.set,
        ...c.get, ...item.get, ...M.get, ...i32.mul, ...N.get, ...i32.mul, ...i32.const(4), ...i32.mul, ...i32.add, ...cb.set,
        ...N.get, ...i32.const(-16), ...i32.and, ...i32.const(4), ...i32.mul, ...n16.set,
        ...forRange(i, i32.const(0), M.get, 1, [[
          ...cb.get, ...i.get, ...nb.get, ...i32.mul, ...i32.add, ...crow.set,
          ...ab.get, ...i.get, ...(transA ? [] : [...K.get, ...i32.mul]), ...i32.const(4), ...i32.mul, ...i32.add, ...arow.set,
          // blocks of 16 columns: four vectors of C in registers over the whole k loop
          ...forRange(j0, i32.const(0), n16.get, 64, [[
            ...acc.flatMap((v) => [...v128.zero, ...v.set]),
            ...bb.get, ...j0.get, ...i32.add, ...brow.set,
            ...forRange(k, i32.const(0), K.get, 1, [[
              ...aAt, ...v128.load32_splat(), ...s.set,
              ...acc.flatMap((v, q) => [...v.get, ...s.get, ...brow.get, ...v128.load(16 * q), ...f32x4.mul, ...f32x4.add, ...v.set]),
              ...brow.get, ...nb.get, ...i32.add, ...brow.set,
            ]]),
            ...acc.flatMap((v, q) => [...crow.get, ...j0.get, ...i32.add, ...v.get, ...v128.store(16 * q)]),
          ]]),
          // the rest of the row: C in memory
          ...forRange(j, n16.get, nv.get, 16, [[...crow.get, ...j.get, ...i32.add, ...v128.zero, ...v128.store()]]),
          ...forRange(j, j.get, nb.get, 4, [[...crow.get, ...j.get, ...i32.add, ...f32.const(0), ...f32.store()]]),
          // the columns past the blocks of 16, when there are any
          ...n16.get, ...nb.get, ...i32.ne, ...if_([forRange(k, i32.const(0), K.get, 1, [[
            ...aAt, ...f32.load(), ...sf.tee, ...f32x4.splat, ...s.set,
            ...bb.get, ...k.get, ...nb.get, ...i32.mul, ...i32.add, ...brow.set,
            ...forRange(j, n16.get, nv.get, 16, [[
              ...crow.get, ...j.get, ...i32.add,
              ...crow.get, ...j.get, ...i32.add, ...v128.load(),
              ...s.get, ...brow.get, ...j.get, ...i32.add, ...v128.load(), ...f32x4.mul, ...f32x4.add,
              ...v128.store(),
            ]]),
            ...forRange(j, j.get, nb.get, 4, [[
              ...crow.get, ...j.get, ...i32.add,
              ...crow.get, ...j.get, ...i32.add, ...f32.load(),
              ...sf.get, ...brow.get, ...j.get, ...i32.add, ...f32.load(), ...f32.mul, ...f32.add,
              ...f32.store(),
            ]]),
          ]])]),
        ]]),
      ];
    },
  };
}

export function bmmKernels(): KernelDef[] {
  return [bmm('bmm_nn'), bmm('bmm_tn')];
}
