// Sums over the rows of a [rows, cols] matrix (the leading axes of a tensor:
// a bias gradient sums dY over N, H, W), in doubles, rows in order. Rows are
// cut into chunks of a size fixed by the problem, not by the thread count;
// each chunk's column sums go to a row of partials, and the partials are
// added in chunk order, so any number of threads gives the same bits — and a
// matrix of one chunk gives exactly the stock kernel's sequential sums.
import { addTo, f32, f64, f64x2, forRange, i32, if_, ret, v128, type Code, type Func, type Local } from './assembler.js';
import type { KernelDef } from './module.js';

/** Columns up to which the sums stay in locals. */
const SMALL = 8;

/**
 * Over rows [item·chunk, …): for each row, `row(rowAddr, accAddr)` per
 * column pair and `tail(rowAddr, accAddr)` for an odd last column.
 */
export function chunkRows(
  f: Func, rows: Local, chunk: Local, item: Local,
  perRow: (r: Local) => Code,
): Code {
  const r = f.local(), r1 = f.local();
  return [
    ...item.get, ...chunk.get, ...i32.mul, ...r.set,
    ...r.get, ...chunk.get, ...i32.add, ...r1.set,
    ...r1.get, ...rows.get, ...i32.gt_s, ...if_([[...rows.get, ...r1.set]]),
    ...forRange(r, r.get, r1.get, 1, [perRow(r)]),
  ];
}

/** colsum_partial(x, rows, cols, chunk, out, thread, item): out[item, c] = Σ over the chunk's rows of x[r, c] (f64). */
function colsumPartial(): KernelDef {
  return {
    name: 'colsum_partial',
    params: ['x', 'rows', 'cols', 'chunk', 'out', 'thread', 'item'],
    body(f) {
      const { x, rows, cols, chunk, out, item } = f.params as Record<string, Local>;
      const acc = f.local(), c = f.local(), src = f.local(), a = f.local(), pairs = f.local();
      // up to SMALL columns (conv1's bias gradient has 6): the sums in locals, not in memory
      const regs = f.locals_(SMALL / 2, 'v128'), tail = f.local('f64');
      const small: Code = [
        ...regs.flatMap((v) => [...v128.zero, ...v.set]), ...f64.const(0), ...tail.set,
        ...chunkRows(f, rows, chunk, item, (r) => [
          ...x.get, ...r.get, ...cols.get, ...i32.mul, ...i32.const(4), ...i32.mul, ...i32.add, ...src.set,
          ...regs.flatMap((v, k) => [...pairs.get, ...i32.const(k), ...i32.gt_u, ...if_([[
            ...v.get, ...src.get, ...v128.load64_zero(8 * k), ...f64x2.promote_low_f32x4, ...f64x2.add, ...v.set,
          ]])]),
          ...cols.get, ...i32.const(1), ...i32.and, ...if_([[
            ...tail.get, ...src.get, ...cols.get, ...i32.const(1), ...i32.sub, ...i32.const(4), ...i32.mul, ...i32.add, ...f32.load(), ...f64.promote_f32, ...f64.add, ...tail.set,
          ]]),
        ]),
        ...regs.flatMap((v, k) => [...pairs.get, ...i32.const(k), ...i32.gt_u, ...if_([[...acc.get, ...v.get, ...v128.store(16 * k)]])]),
        ...cols.get, ...i32.const(1), ...i32.and, ...if_([[...acc.get, ...cols.get, ...i32.const(8), ...i32.mul, ...i32.add, ...i32.const(8), ...i32.sub, ...tail.get, ...f64.store()]]),
      ];
      return [
        ...out.get, ...item.get, ...cols.get, ...i32.mul, ...i32.const(8), ...i32.mul, ...i32.add, ...acc.set,
        ...cols.get, ...i32.const(1), ...i32.shr_u, ...pairs.set,
        ...cols.get, ...i32.const(SMALL), ...i32.le_u, ...if_([small, ret]),
        ...forRange(c, i32.const(0), cols.get, 1, [[...acc.get, ...c.get, ...i32.const(8), ...i32.mul, ...i32.add, ...f64.const(0), ...f64.store()]]),
        ...chunkRows(f, rows, chunk, item, (r) => [
          ...x.get, ...r.get, ...cols.get, ...i32.mul, ...i32.const(4), ...i32.mul, ...i32.add, ...src.set,
          ...acc.get, ...a.set,
          ...forRange(c, i32.const(0), pairs.get, 1, [[
            ...a.get, ...a.get, ...v128.load(), ...src.get, ...v128.load64_zero(), ...f64x2.promote_low_f32x4, ...f64x2.add, ...v128.store(),
          ], addTo(a, 16), addTo(src, 8)]),
          ...cols.get, ...i32.const(1), ...i32.and, ...if_([[
            ...a.get, ...a.get, ...f64.load(), ...src.get, ...f32.load(), ...f64.promote_f32, ...f64.add, ...f64.store(),
          ]]),
        ]),
      ];
    },
  };
}

/** colsum_combine(partials, chunks, cols, y): y[c] = float32(Σ_chunk partials[chunk, c]), chunks in order. */
function colsumCombine(): KernelDef {
  return {
    name: 'colsum_combine',
    params: ['partials', 'chunks', 'cols', 'y'],
    body(f) {
      const { partials, chunks, cols, y } = f.params as Record<string, Local>;
      const c = f.local(), k = f.local(), s = f.local('f64');
      return forRange(c, i32.const(0), cols.get, 1, [
        [...f64.const(0), ...s.set],
        forRange(k, i32.const(0), chunks.get, 1, [[
          ...s.get, ...partials.get, ...k.get, ...cols.get, ...i32.mul, ...c.get, ...i32.add, ...i32.const(8), ...i32.mul, ...i32.add, ...f64.load(), ...f64.add, ...s.set,
        ]]),
        [...y.get, ...c.get, ...i32.const(4), ...i32.mul, ...i32.add, ...s.get, ...f32.demote_f64, ...f32.store()],
      ]);
    },
  };
}

export function reduceKernels(): KernelDef[] {
  return [colsumPartial(), colsumCombine()];
}
