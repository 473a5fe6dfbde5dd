// Moving floats: short runs, parallel fills, batched 2-D transposes, and
// strided rows (the copies behind Concat, SplitV and Transpose).
import { addTo, f32, forRange, i32, i32x4, if_, v128, type Local } from './assembler.js';
import type { KernelDef } from './module.js';

/** copy_f32(dst, src, n): n floats, four at a time then one at a time; exact, no overrun. */
function copy(): KernelDef {
  return {
    name: 'copy_f32',
    params: ['dst', 'src', 'n'],
    body(f) {
      const { dst, src, n } = f.params as Record<string, Local>;
      const t = f.local(), end = f.local();
      return [
        ...n.get, ...i32.const(4), ...i32.mul, ...end.set,
        ...forRange(t, i32.const(0), [...end.get, ...i32.const(15), ...i32.sub], 16, [
          [...dst.get, ...t.get, ...i32.add, ...src.get, ...t.get, ...i32.add, ...v128.load(), ...v128.store()],
        ]),
        ...forRange(t, t.get, end.get, 4, [
          [...dst.get, ...t.get, ...i32.add, ...src.get, ...t.get, ...i32.add, ...f32.load(), ...f32.store()],
        ]),
      ];
    },
  };
}

/**
 * fill_f32(dst, n, bits, thread, item): item-th block of 16384 floats of
 * dst[0, n) set to the float with these bits (zeroing large outputs in parallel).
 */
function fill(): KernelDef {
  return {
    name: 'fill_f32',
    params: ['dst', 'n', 'bits', 'thread', 'item'],
    body(f) {
      const { dst, n, bits, item } = f.params as Record<string, Local>;
      const t = f.local(), end = f.local(), v = f.local('v128'), p = f.local();
      return [
        ...bits.get, ...i32x4.splat, ...v.set,
        ...item.get, ...i32.const(BLOCK * 4), ...i32.mul, ...t.set,
        ...t.get, ...i32.const(BLOCK * 4), ...i32.add, ...end.set,
        ...end.get, ...n.get, ...i32.const(4), ...i32.mul, ...i32.gt_s, ...if_([[...n.get, ...i32.const(4), ...i32.mul, ...end.set]]),
        ...dst.get, ...t.get, ...i32.add, ...p.set,
        ...forRange(t, t.get, [...end.get, ...i32.const(15), ...i32.sub], 16, [[...p.get, ...v.get, ...v128.store()], addTo(p, 16)]),
        ...forRange(t, t.get, end.get, 4, [[...p.get, ...v.get, ...v128.store32_lane(0)], addTo(p, 4)]),
      ];
    },
  };
}

/**
 * transpose_2d(src, dst, rows, cols, rowBlocks, thread, item): one block of
 * TR rows of one matrix of a batch: dst[b, c, r] = src[b, r, c]. Reads run
 * along a source row, writes along TR-float runs of destination rows.
 */
function transpose(): KernelDef {
  return {
    name: 'transpose_2d',
    params: ['src', 'dst', 'rows', 'cols', 'rowBlocks', 'thread', 'item'],
    body(f) {
      const { src, dst, rows, cols, rowBlocks, item } = f.params as Record<string, Local>;
      const b = f.local(), r0 = f.local(), r1 = f.local(), r = f.local(), c = f.local(), sb = f.local(), db = f.local(), s = f.local();
      return [
        ...item.get, ...rowBlocks.get, ...i32.div_u, ...b.set,
        ...item.get, ...rowBlocks.get, ...i32.rem_u, ...i32.const(TR), ...i32.mul, ...r0.set,
        ...r0.get, ...i32.const(TR), ...i32.add, ...r1.set,
        ...r1.get, ...rows.get, ...i32.gt_s, ...if_([[...rows.get, ...r1.set]]),
        ...b.get, ...rows.get, ...i32.mul, ...cols.get, ...i32.mul, ...i32.const(4), ...i32.mul, ...sb.set,
        ...dst.get, ...sb.get, ...i32.add, ...db.set,
        ...src.get, ...sb.get, ...i32.add, ...sb.set,
        ...forRange(r, r0.get, r1.get, 1, [
          [...sb.get, ...r.get, ...cols.get, ...i32.mul, ...i32.const(4), ...i32.mul, ...i32.add, ...s.set],
          forRange(c, i32.const(0), cols.get, 1, [[
            ...db.get, ...c.get, ...rows.get, ...i32.mul, ...r.get, ...i32.add, ...i32.const(4), ...i32.mul, ...i32.add,
            ...s.get, ...f32.load(), ...f32.store(),
          ], addTo(s, 4)]),
        ]),
      ];
    },
  };
}

/**
 * copy_rows(src, srcStride, dst, dstStride, run, rows, rowsPer, thread, item):
 * rows [item·rowsPer, …) of `run` floats each, from rows srcStride bytes
 * apart to rows dstStride bytes apart (concat and split along an axis).
 */
function copyRows(): KernelDef {
  return {
    name: 'copy_rows',
    params: ['src', 'srcStride', 'dst', 'dstStride', 'run', 'rows', 'rowsPer', 'thread', 'item'],
    body(f, link) {
      const { src, srcStride, dst, dstStride, run, rows, rowsPer, item } = f.params as Record<string, Local>;
      const r = f.local(), r1 = f.local();
      return [
        ...item.get, ...rowsPer.get, ...i32.mul, ...r.set,
        ...r.get, ...rowsPer.get, ...i32.add, ...r1.set,
        ...r1.get, ...rows.get, ...i32.gt_s, ...if_([[...rows.get, ...r1.set]]),
        ...forRange(r, r.get, r1.get, 1, [[
          ...dst.get, ...r.get, ...dstStride.get, ...i32.mul, ...i32.add,
          ...src.get, ...r.get, ...srcStride.get, ...i32.mul, ...i32.add,
          ...run.get, ...link.call('copy_f32'),
        ]]),
      ];
    },
  };
}

/** Rows per transpose_2d item. */
export const TR = 16;

/** Floats per fill_f32 item. */
export const BLOCK = 16384;

export function copyKernels(): KernelDef[] {
  return [copy(), fill(), transpose(), copyRows()];
}
