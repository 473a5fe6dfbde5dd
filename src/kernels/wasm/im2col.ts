// Patch extraction for NHWC convolutions, with the padding inside: taps that
// fall outside the image read as zero (im2col) or are dropped (col2im), so no
// padded copy of the input is ever made. Row m = (n, oh, ow) of the patch
// matrix, column k = (r, s, c): the order of a flattened [FH, FW, C/g, F]
// filter, so the filter needs no reshuffle. A group g takes the channels
// [g·cg, (g+1)·cg).
//
// The convolution's geometry is a block of i32s in the heap (see GEOM), read
// once per call: it is the same for every row block, and passing 19 numbers
// through every call and every worker would only add noise.
import { f32, f32x4, forRange, i32, if_, v128, type Code, type Func, type Local } from './assembler.js';
import type { KernelDef } from './module.js';

/** Field indexes of the geometry block (i32 each). */
export const GEOM = {
  N: 0, H: 1, W: 2, C: 3, OH: 4, OW: 5, FH: 6, FW: 7, SH: 8, SW: 9, DH: 10, DW: 11,
  top: 12, left: 13, groups: 14, cg: 15, F: 16, fg: 17, K: 18,
} as const;
export const GEOM_FIELDS = 19;

export type Geom = Record<keyof typeof GEOM, Local>;

/** Locals holding every geometry field, loaded from the block at `geom`. */
export function loadGeom(f: Func, geom: Local): { g: Geom; code: Code } {
  const g = {} as Geom;
  const code: Code = [];
  for (const [name, idx] of Object.entries(GEOM) as Array<[keyof typeof GEOM, number]>) {
    g[name] = f.local();
    code.push(...geom.get, ...i32.load(4 * idx), ...g[name].set);
  }
  return { g, code };
}

/**
 * The walk over the patch rows [m0, m1) shared by im2col and col2im: for each
 * tap run, `inside(xAddr, colAddr, floats)` or `outside(colAddr, floats)`.
 * Whole filter rows inside the image with dilation 1 and all channels are
 * one run of FW·C floats; otherwise one run per tap of cg floats.
 */
function patchWalk(
  f: Func, g: Geom, x: Local, grp: Local, m0: Local, m1: Local, col: Local, ld: Local,
  inside: (xAddr: Code, colAddr: Code, n: Code, last: Local) => Code, outside: (colAddr: Code, n: Code, last: Local) => Code,
  short?: (xAddr: Local, colAddr: Local, rowRun: Local, rowB: Local) => Code,
): Code {
  const last = f.local();
  const m = f.local(), n = f.local(), rem = f.local(), oh = f.local(), ow = f.local(), d = f.local();
  const xn = f.local(), xr = f.local(), ih0 = f.local(), iw0 = f.local(), ih = f.local(), iw = f.local();
  const r = f.local(), s = f.local(), ohw = f.local(), c0 = f.local(), rowRun = f.local(), tapRun = f.local();
  const img = f.local(), rowB = f.local(), whole = f.local(), rowStart = f.local(), fast = f.local(), xs = f.local();
  // the whole patch inside the image in runs of 2 to 8 floats (a filter row of one or a few channels):
  // `short` copies it without the per-run bookkeeping
  const walk = (rows: Code[]): Code[] => (short === undefined ? rows : [[
    ...fast.get, ...ih0.get, ...i32.const(0), ...i32.ge_s, ...i32.and,
    ...ih0.get, ...g.FH.get, ...i32.const(1), ...i32.sub, ...g.DH.get, ...i32.mul, ...i32.add, ...g.H.get, ...i32.lt_s, ...i32.and,
    ...iw0.get, ...i32.const(0), ...i32.ge_s, ...i32.and, ...iw0.get, ...g.FW.get, ...i32.add, ...g.W.get, ...i32.le_s, ...i32.and,
    ...if_([[
      ...xn.get, ...ih0.get, ...rowB.get, ...i32.mul, ...i32.add, ...iw0.get, ...g.C.get, ...i32.mul, ...i32.const(4), ...i32.mul, ...i32.add, ...xs.set,
      ...short(xs, d, rowRun, rowB),
    ]], rows),
  ]]);
  return [
    ...g.OH.get, ...g.OW.get, ...i32.mul, ...ohw.set,
    ...grp.get, ...g.cg.get, ...i32.mul, ...c0.set,
    ...g.FW.get, ...g.cg.get, ...i32.mul, ...rowRun.set, // floats per filter row of one group
    ...g.cg.get, ...i32.const(4), ...i32.mul, ...tapRun.set, // bytes per tap
    ...g.H.get, ...g.W.get, ...i32.mul, ...g.C.get, ...i32.mul, ...i32.const(4), ...i32.mul, ...img.set,
    ...g.W.get, ...g.C.get, ...i32.mul, ...i32.const(4), ...i32.mul, ...rowB.set,
    // whole filter rows are contiguous in x only with dilation 1 and every channel
    ...g.DW.get, ...i32.const(1), ...i32.eq, ...g.cg.get, ...g.C.get, ...i32.eq, ...i32.and, ...whole.set,
    // short runs, and image rows of at least 4 floats (a run's vector loads stay inside x)
    ...whole.get, ...rowRun.get, ...i32.const(2), ...i32.ge_s, ...i32.and, ...rowRun.get, ...i32.const(8), ...i32.le_s, ...i32.and,
    ...rowB.get, ...g.DH.get, ...i32.mul, ...i32.const(16), ...i32.ge_s, ...i32.and, ...fast.set,
    // the first row's position; later rows step it (divisions cost more than the copies of a small row)
    ...m0.get, ...ohw.get, ...i32.div_u, ...n.set,
    ...m0.get, ...ohw.get, ...i32.rem_u, ...rem.set,
    ...rem.get, ...g.OW.get, ...i32.div_u, ...oh.set,
    ...rem.get, ...g.OW.get, ...i32.rem_u, ...ow.set,
    ...x.get, ...n.get, ...img.get, ...i32.mul, ...i32.add, ...xn.set,
    ...oh.get, ...g.SH.get, ...i32.mul, ...g.top.get, ...i32.sub, ...ih0.set,
    ...ow.get, ...g.SW.get, ...i32.mul, ...g.left.get, ...i32.sub, ...iw0.set,
    ...col.get, ...d.set,
    ...forRange(m, m0.get, m1.get, 1, [
      [...d.get, ...rowStart.set],
      ...walk([forRange(r, i32.const(0), g.FH.get, 1, [
        [...ih0.get, ...r.get, ...g.DH.get, ...i32.mul, ...i32.add, ...ih.set],
        [...r.get, ...g.FH.get, ...i32.const(1), ...i32.sub, ...i32.eq, ...last.set],
        [...ih.get, ...i32.const(0), ...i32.lt_s, ...ih.get, ...g.H.get, ...i32.ge_s, ...i32.or],
        if_([
          outside(d.get, rowRun.get, last),
        ], [
          [...xn.get, ...ih.get, ...rowB.get, ...i32.mul, ...i32.add, ...xr.set],
          [...whole.get, ...iw0.get, ...i32.const(0), ...i32.ge_s, ...i32.and,
            ...iw0.get, ...g.FW.get, ...i32.add, ...g.W.get, ...i32.le_s, ...i32.and],
          if_([
            inside([...xr.get, ...iw0.get, ...g.C.get, ...i32.mul, ...i32.const(4), ...i32.mul, ...i32.add], d.get, rowRun.get, last),
          ], [
            forRange(s, i32.const(0), g.FW.get, 1, [
              [...iw0.get, ...s.get, ...g.DW.get, ...i32.mul, ...i32.add, ...iw.set],
              [...r.get, ...g.FH.get, ...i32.const(1), ...i32.sub, ...i32.eq, ...s.get, ...g.FW.get, ...i32.const(1), ...i32.sub, ...i32.eq, ...i32.and, ...last.set],
              [...iw.get, ...i32.const(0), ...i32.lt_s, ...iw.get, ...g.W.get, ...i32.ge_s, ...i32.or],
              if_([outside([...d.get, ...s.get, ...tapRun.get, ...i32.mul, ...i32.add], g.cg.get, last)], [
                inside(
                  [...xr.get, ...iw.get, ...g.C.get, ...i32.mul, ...c0.get, ...i32.add, ...i32.const(4), ...i32.mul, ...i32.add],
                  [...d.get, ...s.get, ...tapRun.get, ...i32.mul, ...i32.add],
                  g.cg.get,
                  last,
                ),
              ]),
            ]),
          ]),
        ]),
        [...d.get, ...rowRun.get, ...i32.const(4), ...i32.mul, ...i32.add, ...d.set],
      ])]),
      // the next row: ld bytes on in the patch matrix, one output column on in the image
      [...rowStart.get, ...ld.get, ...i32.add, ...d.set],
      [...ow.get, ...i32.const(1), ...i32.add, ...ow.tee, ...g.OW.get, ...i32.eq],
      if_([[
        ...i32.const(0), ...ow.set, ...i32.const(0), ...g.left.get, ...i32.sub, ...iw0.set,
        ...oh.get, ...i32.const(1), ...i32.add, ...oh.tee, ...g.OH.get, ...i32.eq,
        ...if_([[
          ...i32.const(0), ...oh.set, ...i32.const(0), ...g.top.get, ...i32.sub, ...ih0.set,
          ...xn.get, ...img.get, ...i32.add, ...xn.set,
        ]], [[...ih0.get, ...g.SH.get, ...i32.add, ...ih0.set]]),
      ]], [[...iw0.get, ...g.SW.get, ...i32.add, ...iw0.set]]),
    ]),
  ];
}

/**
 * Inline loops over a run of n floats, four at a time. `exact` (a local,
 * nonzero for the last run of a patch row) adds a one-float tail instead of a
 * last whole vector: other runs may write up to 12 bytes past their end,
 * which the next run of the same row overwrites, so a row never spills into
 * the next one (another thread's, in a shared buffer).
 */
function runLoop(f: Func, n: Code, exact: Local | null, vec: (t: Local) => Code, one: (t: Local) => Code): Code {
  const t = f.local(), end = f.local();
  const exactLoops = [
    ...forRange(t, i32.const(0), [...end.get, ...i32.const(15), ...i32.sub], 16, [vec(t)]),
    ...forRange(t, t.get, end.get, 4, [one(t)]),
  ];
  return [
    ...n, ...i32.const(4), ...i32.mul, ...end.set,
    ...(exact === null ? exactLoops : [...exact.get, ...if_([exactLoops], [forRange(t, i32.const(0), end.get, 16, [vec(t)])])]),
  ];
}

/** im2col_rows(geom, x, grp, m0, m1, dst, ld): patch rows [m0, m1) of group grp into dst (rows ld bytes apart). */
function im2colRows(): KernelDef {
  return {
    name: 'im2col_rows',
    params: ['geom', 'x', 'grp', 'm0', 'm1', 'dst', 'ld'],
    body(f) {
      const { geom, x, grp, m0, m1, dst, ld } = f.params as Record<string, Local>;
      const { g, code } = loadGeom(f, geom);
      return [
        ...code,
        ...patchWalk(f, g, x, grp, m0, m1, dst, ld,
          (xa, ca, n, last) => {
            const s = f.local(), d = f.local();
            return [...xa, ...s.set, ...ca, ...d.set, ...runLoop(f, n, last,
              (t) => [...d.get, ...t.get, ...i32.add, ...s.get, ...t.get, ...i32.add, ...v128.load(), ...v128.store()],
              (t) => [...d.get, ...t.get, ...i32.add, ...s.get, ...t.get, ...i32.add, ...f32.load(), ...f32.store()])];
          },
          (ca, n, last) => {
            const d = f.local();
            return [...ca, ...d.set, ...runLoop(f, n, last,
              (t) => [...d.get, ...t.get, ...i32.add, ...v128.zero, ...v128.store()],
              (t) => [...d.get, ...t.get, ...i32.add, ...f32.const(0), ...f32.store()])];
          },
          (xs, col, rowRun, rowB) => {
            // FH − 1 runs of one or two whole vectors (the ≤ 3 floats past a run are the next run's,
            // rewritten by it; the loads stay within the next image row), then the last run exactly
            const r = f.local(), s = f.local(), d = f.local(), two = f.local(), step = f.local(), t = f.local(), end = f.local();
            return [
              ...xs.get, ...s.set, ...col.get, ...d.set,
              ...rowRun.get, ...i32.const(4), ...i32.gt_s, ...two.set,
              ...rowB.get, ...g.DH.get, ...i32.mul, ...step.set,
              ...forRange(r, i32.const(1), g.FH.get, 1, [
                [...d.get, ...s.get, ...v128.load(), ...v128.store()],
                [...two.get, ...if_([[...d.get, ...s.get, ...v128.load(16), ...v128.store(16)]])],
                [...s.get, ...step.get, ...i32.add, ...s.set],
                [...d.get, ...rowRun.get, ...i32.const(4), ...i32.mul, ...i32.add, ...d.set],
              ]),
              ...rowRun.get, ...i32.const(4), ...i32.mul, ...end.set,
              ...forRange(t, i32.const(0), [...end.get, ...i32.const(15), ...i32.sub], 16, [[...d.get, ...t.get, ...i32.add, ...s.get, ...t.get, ...i32.add, ...v128.load(), ...v128.store()]]),
              ...forRange(t, t.get, end.get, 4, [[...d.get, ...t.get, ...i32.add, ...s.get, ...t.get, ...i32.add, ...f32.load(), ...f32.store()]]),
            ];
          }),
      ];
    },
  };
}

/** col2im_rows(geom, src, ld, grp, m0, m1, dx): dx += the patch rows [m0, m1) of group grp (the adjoint of im2col). */
function col2imRows(): KernelDef {
  return {
    name: 'col2im_rows',
    params: ['geom', 'src', 'ld', 'grp', 'm0', 'm1', 'dx'],
    body(f) {
      const { geom, src, ld, grp, m0, m1, dx } = f.params as Record<string, Local>;
      const { g, code } = loadGeom(f, geom);
      return [
        ...code,
        ...patchWalk(f, g, dx, grp, m0, m1, src, ld,
          (xa, ca, n) => {
            const s = f.local(), d = f.local();
            // adds into dx must stop exactly at the run's end
            return [...ca, ...s.set, ...xa, ...d.set, ...runLoop(f, n, null,
              (t) => [...d.get, ...t.get, ...i32.add, ...d.get, ...t.get, ...i32.add, ...v128.load(), ...s.get, ...t.get, ...i32.add, ...v128.load(), ...f32x4.add, ...v128.store()],
              (t) => [...d.get, ...t.get, ...i32.add, ...d.get, ...t.get, ...i32.add, ...f32.load(), ...s.get, ...t.get, ...i32.add, ...f32.load(), ...f32.add, ...f32.store()])];
          },
          () => []),
      ];
    },
  };
}

export function im2colKernels(): KernelDef[] {
  return [im2colRows(), col2imRows()];
}
