// The three convolution passes as parallel items, each an im2col block (in
// the thread's own scratch, so it stays in cache and memory stays bounded)
// followed by the GEMM on it, without going back to JavaScript in between:
//   forward      Y[M, F]     = cols[M, K] · W[K, F]          items: row blocks
//   input grad   dcols[M, K] = dY[M, F] · Wᵀ, then col2im     items: bands of output rows
//   filter grad  dW[K, F]   += colsᵀ · dY, chunk by chunk     (prep items here; the GEMM is gemm_col)
// (M = N·OH·OW output positions, K = FH·FW·C/g taps; per group g.)
import { forRange, i32, if_, select, type Local } from './assembler.js';
import { NR } from './gemm.js';
import { loadGeom } from './im2col.js';
import type { KernelDef } from './module.js';

/** Bytes of one group's packed filter: ⌈fg/8⌉ panels of K × 8 floats. */
const groupPack = (K: Local, fg: Local) => [...fg.get, ...i32.const(NR - 1), ...i32.add, ...i32.const(NR), ...i32.div_u,
  ...K.get, ...i32.mul, ...i32.const(NR * 4), ...i32.mul];

/**
 * conv_fwd(geom, x, bp, y, bias, flags, mb, scratch, sstride, thread, item):
 * output rows [item·mb, …) of every group; bp holds each group's packed
 * filter one after the other. A 1×1, stride-1, unpadded, ungrouped
 * convolution multiplies x itself.
 */
function forward(): KernelDef {
  return {
    name: 'conv_fwd',
    params: ['geom', 'x', 'bp', 'y', 'bias', 'flags', 'mb', 'scratch', 'sstride', 'thread', 'item'],
    body(f, link) {
      const { geom, x, bp, y, bias, flags, mb, scratch, sstride, thread, item } = f.params as Record<string, Local>;
      const { g, code } = loadGeom(f, geom);
      const M = f.local(), m0 = f.local(), m1 = f.local(), grp = f.local(), a = f.local(), rs = f.local();
      const direct = f.local(), pack = f.local(), panels = f.local();
      return [
        ...code,
        ...g.N.get, ...g.OH.get, ...i32.mul, ...g.OW.get, ...i32.mul, ...M.set,
        ...item.get, ...mb.get, ...i32.mul, ...m0.set,
        ...m0.get, ...mb.get, ...i32.add, ...m1.set,
        ...m1.get, ...M.get, ...i32.gt_s, ...if_([[...M.get, ...m1.set]]),
        ...g.FH.get, ...g.FW.get, ...i32.mul, ...i32.const(1), ...i32.eq,
        ...g.SH.get, ...g.SW.get, ...i32.mul, ...i32.const(1), ...i32.eq, ...i32.and,
        ...g.top.get, ...g.left.get, ...i32.or, ...i32.eqz, ...i32.and,
        ...g.groups.get, ...i32.const(1), ...i32.eq, ...i32.and,
        ...g.OH.get, ...g.H.get, ...i32.eq, ...i32.and, ...g.OW.get, ...g.W.get, ...i32.eq, ...i32.and, ...direct.set,
        ...groupPack(g.K, g.fg), ...pack.set,
        ...g.fg.get, ...i32.const(NR - 1), ...i32.add, ...i32.const(NR), ...i32.div_u, ...panels.set,
        ...forRange(grp, i32.const(0), g.groups.get, 1, [
          [...direct.get, ...if_([[
            ...x.get, ...m0.get, ...g.C.get, ...i32.mul, ...i32.const(4), ...i32.mul, ...i32.add, ...a.set,
            ...g.C.get, ...i32.const(4), ...i32.mul, ...rs.set,
          ]], [[
            ...scratch.get, ...thread.get, ...sstride.get, ...i32.mul, ...i32.add, ...a.set,
            ...g.K.get, ...i32.const(4), ...i32.mul, ...rs.set,
            ...geom.get, ...x.get, ...grp.get, ...m0.get, ...m1.get, ...a.get, ...rs.get, ...link.call('im2col_rows'),
          ]])],
          [...a.get, ...rs.get, ...i32.const(4),
            ...bp.get, ...grp.get, ...pack.get, ...i32.mul, ...i32.add,
            ...g.K.get,
            ...y.get, ...m0.get, ...g.F.get, ...i32.mul, ...grp.get, ...g.fg.get, ...i32.mul, ...i32.add, ...i32.const(4), ...i32.mul, ...i32.add,
            ...g.F.get, ...i32.const(4), ...i32.mul,
            // the group's bias, or none
            ...bias.get, ...grp.get, ...g.fg.get, ...i32.mul, ...i32.const(4), ...i32.mul, ...i32.add, ...i32.const(0), ...bias.get, ...select,
            ...i32.const(0), ...m1.get, ...m0.get, ...i32.sub,
            ...i32.const(0), ...panels.get, ...g.fg.get, ...flags.get,
            ...link.call('gemm_run_row')],
        ]),
      ];
    },
  };
}

/**
 * conv_bwd_input(geom, dy, bpt, dx, phase, bh, nbands, scratch, sstride, thread, item):
 * one band of bh output rows of one image: dcols = dY · Wᵀ into the thread's
 * scratch, then added into dx. Bands of the same parity never touch the same
 * dx rows (bh is chosen so), so a phase's items run in parallel; even bands
 * (phase 0) run before odd ones, which fixes the order of every sum.
 * bpt: each group's packed Wᵀ (K wide, fg deep), one after the other.
 */
function backpropInput(): KernelDef {
  return {
    name: 'conv_bwd_input',
    params: ['geom', 'dy', 'bpt', 'dx', 'phase', 'bh', 'nbands', 'scratch', 'sstride', 'thread', 'item'],
    body(f, link) {
      const { geom, dy, bpt, dx, phase, bh, nbands, scratch, sstride, thread, item } = f.params as Record<string, Local>;
      const { g, code } = loadGeom(f, geom);
      const per = f.local(), n = f.local(), b = f.local(), oh0 = f.local(), oh1 = f.local(), m0 = f.local(), m1 = f.local();
      const grp = f.local(), d = f.local(), pack = f.local(), panels = f.local();
      return [
        ...code,
        ...nbands.get, ...phase.get, ...i32.sub, ...i32.const(1), ...i32.add, ...i32.const(1), ...i32.shr_u, ...per.set,
        ...item.get, ...per.get, ...i32.div_u, ...n.set,
        ...item.get, ...per.get, ...i32.rem_u, ...i32.const(2), ...i32.mul, ...phase.get, ...i32.add, ...b.set,
        ...b.get, ...bh.get, ...i32.mul, ...oh0.set,
        ...oh0.get, ...bh.get, ...i32.add, ...oh1.set,
        ...oh1.get, ...g.OH.get, ...i32.gt_s, ...if_([[...g.OH.get, ...oh1.set]]),
        ...n.get, ...g.OH.get, ...i32.mul, ...oh0.get, ...i32.add, ...g.OW.get, ...i32.mul, ...m0.set,
        ...n.get, ...g.OH.get, ...i32.mul, ...oh1.get, ...i32.add, ...g.OW.get, ...i32.mul, ...m1.set,
        ...scratch.get, ...thread.get, ...sstride.get, ...i32.mul, ...i32.add, ...d.set,
        // Wᵀ of a group: K wide, fg deep
        ...g.K.get, ...i32.const(NR - 1), ...i32.add, ...i32.const(NR), ...i32.div_u, ...panels.set,
        ...panels.get, ...g.fg.get, ...i32.mul, ...i32.const(NR * 4), ...i32.mul, ...pack.set,
        ...forRange(grp, i32.const(0), g.groups.get, 1, [
          [...dy.get, ...m0.get, ...g.F.get, ...i32.mul, ...grp.get, ...g.fg.get, ...i32.mul, ...i32.add, ...i32.const(4), ...i32.mul, ...i32.add,
            ...g.F.get, ...i32.const(4), ...i32.mul, ...i32.const(4),
            ...bpt.get, ...grp.get, ...pack.get, ...i32.mul, ...i32.add,
            ...g.fg.get,
            ...d.get, ...g.K.get, ...i32.const(4), ...i32.mul, ...i32.const(0),
            ...i32.const(0), ...m1.get, ...m0.get, ...i32.sub, ...i32.const(0), ...panels.get, ...g.K.get, ...i32.const(0),
            ...link.call('gemm_run_row')],
          [...geom.get, ...d.get, ...g.K.get, ...i32.const(4), ...i32.mul, ...grp.get, ...m0.get, ...m1.get, ...dx.get, ...link.call('col2im_rows')],
        ]),
      ];
    },
  };
}

/**
 * conv_bwd_filter_prep(geom, x, dy, grp, c0, c1, cols, dyp, mb, nim, thread, item):
 * the operands of one chunk [c0, c1) of output positions for the filter
 * gradient of group grp: items [0, nim) im2col row blocks of mb rows into
 * cols, the rest pack dY's group columns into panels at dyp.
 */
function backpropFilterPrep(): KernelDef {
  return {
    name: 'conv_bwd_filter_prep',
    params: ['geom', 'x', 'dy', 'grp', 'c0', 'c1', 'cols', 'dyp', 'mb', 'nim', 'thread', 'item'],
    body(f, link) {
      const { geom, x, dy, grp, c0, c1, cols, dyp, mb, nim, thread, item } = f.params as Record<string, Local>;
      const { g, code } = loadGeom(f, geom);
      const m0 = f.local(), m1 = f.local();
      return [
        ...code,
        ...item.get, ...nim.get, ...i32.lt_s,
        ...if_([[
          ...c0.get, ...item.get, ...mb.get, ...i32.mul, ...i32.add, ...m0.set,
          ...m0.get, ...mb.get, ...i32.add, ...m1.set,
          ...m1.get, ...c1.get, ...i32.gt_s, ...if_([[...c1.get, ...m1.set]]),
          ...geom.get, ...x.get, ...grp.get, ...m0.get, ...m1.get,
          ...cols.get, ...m0.get, ...c0.get, ...i32.sub, ...g.K.get, ...i32.mul, ...i32.const(4), ...i32.mul, ...i32.add,
          ...g.K.get, ...i32.const(4), ...i32.mul,
          ...link.call('im2col_rows'),
        ]], [[
          ...dy.get, ...c0.get, ...g.F.get, ...i32.mul, ...grp.get, ...g.fg.get, ...i32.mul, ...i32.add, ...i32.const(4), ...i32.mul, ...i32.add,
          ...g.F.get, ...i32.const(4), ...i32.mul, ...i32.const(0), ...c1.get, ...c0.get, ...i32.sub, ...g.fg.get, ...dyp.get,
          ...thread.get, ...item.get, ...nim.get, ...i32.sub,
          ...link.call('pack_b'),
        ]]),
      ];
    },
  };
}

export function convKernels(): KernelDef[] {
  return [forward(), backpropInput(), backpropFilterPrep()];
}
