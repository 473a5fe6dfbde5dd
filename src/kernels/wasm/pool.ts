// Max and average pooling over NHWC, with padding (cells outside the image
// take no part) and any window, stride or ceil-mode output size (the caller
// gives OH, OW and the pads). The geometry block is conv's (wasm/im2col.ts),
// with F = C.
//
// Gradients scatter each output cell's dy into its window. Windows overlap
// when the stride is smaller than the window, so items are bands of output
// rows of one image, and bands of one parity (phase) never reach the same
// input row: a phase runs in parallel, even bands before odd ones, and every
// dx sum has a fixed order.
//
// Max pooling follows the stock kernel exactly: the maximum ignores NaN
// (pmax keeps its first operand when the second is NaN), and the gradient
// goes to the first cell of the window, in scan order, that equals it.
// Average pooling sums in doubles in the stock order and counts only the
// cells inside the image (ONNX count_include_pad = 0).
import { f32, f32x4, f64, f64x2, forRange, i32, if_, ifValue, select, v128, type Code, type Func, type Local } from './assembler.js';
import { loadGeom, type Geom } from './im2col.js';
import type { KernelDef } from './module.js';

/** Locals walking one output cell's window inside the image: rows [h0, h1), columns [w0, w1). */
interface Window { h0: Local; h1: Local; w0: Local; w1: Local; h: Local; w: Local }

function windowOf(f: Func, g: Geom, oh: Local, ow: Local): { win: Window; code: Code } {
  const win = { h0: f.local(), h1: f.local(), w0: f.local(), w1: f.local(), h: f.local(), w: f.local() };
  const clamp = (v: Local, lo: Code, hi: Code): Code => [
    ...v.get, ...lo, ...i32.lt_s, ...if_([[...lo, ...v.set]]),
    ...v.get, ...hi, ...i32.gt_s, ...if_([[...hi, ...v.set]]),
  ];
  return {
    win,
    code: [
      ...oh.get, ...g.SH.get, ...i32.mul, ...g.top.get, ...i32.sub, ...win.h0.tee, ...g.FH.get, ...i32.add, ...win.h1.set,
      ...ow.get, ...g.SW.get, ...i32.mul, ...g.left.get, ...i32.sub, ...win.w0.tee, ...g.FW.get, ...i32.add, ...win.w1.set,
      ...clamp(win.h0, i32.const(0), g.H.get), ...clamp(win.h1, i32.const(0), g.H.get),
      ...clamp(win.w0, i32.const(0), g.W.get), ...clamp(win.w1, i32.const(0), g.W.get),
    ],
  };
}

/** for h in [h0, h1), w in [w0, w1): body(cellByteOffset within the image n) */
function eachCell(win: Window, g: Geom, cell: Local, body: Code[]): Code {
  return forRange(win.h, win.h0.get, win.h1.get, 1, [
    forRange(win.w, win.w0.get, win.w1.get, 1, [
      [...win.h.get, ...g.W.get, ...i32.mul, ...win.w.get, ...i32.add, ...g.C.get, ...i32.mul, ...i32.const(4), ...i32.mul, ...cell.set],
      ...body,
    ]),
  ]);
}

/** Output rows [item·rows, …) of all images, counted as n·OH + oh: body(n, oh, ow) per cell. */
function outputRows(f: Func, g: Geom, rowsPer: Local, item: Local, body: (n: Local, oh: Local, ow: Local) => Code): Code {
  const q = f.local(), q1 = f.local(), n = f.local(), oh = f.local(), ow = f.local();
  return [
    ...item.get, ...rowsPer.get, ...i32.mul, ...q.set,
    ...q.get, ...rowsPer.get, ...i32.add, ...q1.set,
    ...q1.get, ...g.N.get, ...g.OH.get, ...i32.mul, ...i32.gt_s, ...if_([[...g.N.get, ...g.OH.get, ...i32.mul, ...q1.set]]),
    ...forRange(q, q.get, q1.get, 1, [
      [...q.get, ...g.OH.get, ...i32.div_u, ...n.set, ...q.get, ...g.OH.get, ...i32.rem_u, ...oh.set],
      forRange(ow, i32.const(0), g.OW.get, 1, [body(n, oh, ow)]),
    ]),
  ];
}

/** One band of one image (see the header): body(n, oh, ow) per output cell. */
function band(f: Func, g: Geom, phase: Local, bh: Local, nbands: Local, item: Local, body: (n: Local, oh: Local, ow: Local) => Code): Code {
  const per = f.local(), n = f.local(), oh = f.local(), oh1 = f.local(), ow = f.local();
  return [
    ...nbands.get, ...phase.get, ...i32.sub, ...i32.const(1), ...i32.add, ...i32.const(1), ...i32.shr_u, ...per.set,
    ...item.get, ...per.get, ...i32.div_u, ...n.set,
    ...item.get, ...per.get, ...i32.rem_u, ...i32.const(2), ...i32.mul, ...phase.get, ...i32.add, ...bh.get, ...i32.mul, ...oh.set,
    ...oh.get, ...bh.get, ...i32.add, ...oh1.set,
    ...oh1.get, ...g.OH.get, ...i32.gt_s, ...if_([[...g.OH.get, ...oh1.set]]),
    ...forRange(oh, oh.get, oh1.get, 1, [forRange(ow, i32.const(0), g.OW.get, 1, [body(n, oh, ow)])]),
  ];
}

/** tailVec: at least 4 channels and not a multiple of 4 (the remainder runs as one vector ending at C, not as floats). */
const tailTo = (g: Geom, tailVec: Local): Code => [
  ...g.C.get, ...i32.const(3), ...i32.and, ...i32.const(0), ...i32.ne, ...g.C.get, ...i32.const(4), ...i32.ge_s, ...i32.and, ...tailVec.set,
];

const imageBytes = (g: Geom): Code => [...g.H.get, ...g.W.get, ...i32.mul, ...g.C.get, ...i32.mul, ...i32.const(4), ...i32.mul];
const outCellAddr = (base: Local, g: Geom, n: Local, oh: Local, ow: Local): Code => [
  ...base.get, ...n.get, ...g.OH.get, ...i32.mul, ...oh.get, ...i32.add, ...g.OW.get, ...i32.mul, ...ow.get, ...i32.add,
  ...g.C.get, ...i32.mul, ...i32.const(4), ...i32.mul, ...i32.add,
];

/** maxpool_fwd(geom, x, y, rowsPer, thread, item) */
function maxForward(): KernelDef {
  return {
    name: 'maxpool_fwd',
    params: ['geom', 'x', 'y', 'rowsPer', 'thread', 'item'],
    body(f) {
      const { geom, x, y, rowsPer, item } = f.params as Record<string, Local>;
      const { g, code } = loadGeom(f, geom);
      const yc = f.local(), xc = f.local(), cell = f.local(), c = f.local(), end4 = f.local(), end = f.local(), tailVec = f.local();
      const vmax: Code = [
        ...yc.get, ...c.get, ...i32.add,
        ...yc.get, ...c.get, ...i32.add, ...v128.load(),
        ...xc.get, ...cell.get, ...i32.add, ...c.get, ...i32.add, ...v128.load(),
        ...f32x4.pmax, ...v128.store(),
      ];
      return [
        ...code,
        ...g.C.get, ...i32.const(-4), ...i32.and, ...i32.const(4), ...i32.mul, ...end4.set,
        ...g.C.get, ...i32.const(4), ...i32.mul, ...end.set,
        ...tailTo(g, tailVec),
        ...outputRows(f, g, rowsPer, item, (n, oh, ow) => {
          const { win, code: wcode } = windowOf(f, g, oh, ow);
          return [
            ...wcode,
            ...outCellAddr(y, g, n, oh, ow), ...yc.set,
            ...forRange(c, i32.const(0), end.get, 4, [[...yc.get, ...c.get, ...i32.add, ...f32.const(-Infinity), ...f32.store()]]),
            ...x.get, ...n.get, ...imageBytes(g), ...i32.mul, ...i32.add, ...xc.set,
            ...eachCell(win, g, cell, [
              forRange(c, i32.const(0), end4.get, 16, [vmax]),
              // the last channels of a count that is not a multiple of 4: one vector ending at C (pmax again over
              // channels already done leaves them as they are), or floats when C < 4
              [...tailVec.get, ...if_([[...end.get, ...i32.const(16), ...i32.sub, ...c.set, ...vmax, ...end.get, ...c.set]])],
              forRange(c, c.get, end.get, 4, [[
                ...yc.get, ...c.get, ...i32.add,
                ...xc.get, ...cell.get, ...i32.add, ...c.get, ...i32.add, ...f32.load(),
                ...yc.get, ...c.get, ...i32.add, ...f32.load(),
                ...xc.get, ...cell.get, ...i32.add, ...c.get, ...i32.add, ...f32.load(),
                ...yc.get, ...c.get, ...i32.add, ...f32.load(), ...f32.gt, ...select,
                ...f32.store(),
              ]]),
            ]),
          ];
        }),
      ];
    },
  };
}

/**
 * maxpool_grad(geom, x, y, dy, dx, phase, bh, nbands, scratch, thread, item):
 * dx (zeroed) += dy at each window's first maximum. Per output cell the
 * window is walked cell by cell, channels innermost, with a "found" mask per
 * channel in the thread's scratch (C i32s at scratch + thread·4C).
 */
function maxGrad(): KernelDef {
  return {
    name: 'maxpool_grad',
    params: ['geom', 'x', 'y', 'dy', 'dx', 'phase', 'bh', 'nbands', 'scratch', 'thread', 'item'],
    body(f) {
      const { geom, x, y, dy, dx, phase, bh, nbands, scratch, thread, item } = f.params as Record<string, Local>;
      const { g, code } = loadGeom(f, geom);
      const yc = f.local(), dyc = f.local(), xc = f.local(), dxc = f.local(), cell = f.local(), c = f.local();
      const end4 = f.local(), end = f.local(), a = f.local(), found = f.local(), fa = f.local();
      const eq = f.local('v128'), fv = f.local('v128'), e1 = f.local();
      const xa = (): Code => [...xc.get, ...cell.get, ...i32.add, ...c.get, ...i32.add];
      const tailVec = f.local();
      const vgrad: Code = [
        ...found.get, ...c.get, ...i32.add, ...fa.tee, ...v128.load(), ...fv.set,
        ...xa(), ...v128.load(), ...yc.get, ...c.get, ...i32.add, ...v128.load(), ...f32x4.eq,
        ...fv.get, ...v128.andnot, ...eq.set,
        ...fa.get, ...fv.get, ...eq.get, ...v128.or, ...v128.store(),
        ...dxc.get, ...cell.get, ...i32.add, ...c.get, ...i32.add, ...a.tee,
        ...a.get, ...v128.load(), ...dyc.get, ...c.get, ...i32.add, ...v128.load(), ...v128.zero, ...eq.get, ...v128.bitselect,
        ...f32x4.add, ...v128.store(),
      ];
      return [
        ...code,
        ...g.C.get, ...i32.const(-4), ...i32.and, ...i32.const(4), ...i32.mul, ...end4.set,
        ...g.C.get, ...i32.const(4), ...i32.mul, ...end.set,
        ...tailTo(g, tailVec),
        ...scratch.get, ...thread.get, ...end.get, ...i32.mul, ...i32.add, ...found.set,
        ...band(f, g, phase, bh, nbands, item, (n, oh, ow) => {
          const { win, code: wcode } = windowOf(f, g, oh, ow);
          return [
            ...wcode,
            ...outCellAddr(y, g, n, oh, ow), ...yc.set,
            ...outCellAddr(dy, g, n, oh, ow), ...dyc.set,
            ...x.get, ...n.get, ...imageBytes(g), ...i32.mul, ...i32.add, ...xc.set,
            ...dx.get, ...n.get, ...imageBytes(g), ...i32.mul, ...i32.add, ...dxc.set,
            ...forRange(c, i32.const(0), end.get, 4, [[...found.get, ...c.get, ...i32.add, ...i32.const(0), ...i32.store()]]),
            ...eachCell(win, g, cell, [
              forRange(c, i32.const(0), end4.get, 16, [vgrad]),
              // the last channels of a count that is not a multiple of 4: one vector ending at C, whose lanes
              // already done find their "found" set and add 0 (dx, a sum from +0, is never −0); floats when C < 4
              [...tailVec.get, ...if_([[...end.get, ...i32.const(16), ...i32.sub, ...c.set, ...vgrad, ...end.get, ...c.set]])],
              forRange(c, c.get, end.get, 4, [[
                ...xa(), ...f32.load(), ...yc.get, ...c.get, ...i32.add, ...f32.load(), ...f32.eq,
                ...found.get, ...c.get, ...i32.add, ...i32.load(), ...i32.eqz, ...i32.and, ...e1.set,
                ...e1.get, ...if_([[
                  ...found.get, ...c.get, ...i32.add, ...i32.const(1), ...i32.store(),
                  ...dxc.get, ...cell.get, ...i32.add, ...c.get, ...i32.add, ...a.tee,
                  ...a.get, ...f32.load(), ...dyc.get, ...c.get, ...i32.add, ...f32.load(), ...f32.add, ...f32.store(),
                ]]),
              ]]),
            ]),
          ];
        }),
      ];
    },
  };
}

/** avgpool_fwd(geom, x, y, rowsPer, thread, item): the mean of the window's cells inside the image, summed in doubles */
function avgForward(): KernelDef {
  return {
    name: 'avgpool_fwd',
    params: ['geom', 'x', 'y', 'rowsPer', 'thread', 'item'],
    body(f) {
      const { geom, x, y, rowsPer, item } = f.params as Record<string, Local>;
      const { g, code } = loadGeom(f, geom);
      const yc = f.local(), xc = f.local(), cell = f.local(), c = f.local(), end2 = f.local(), end = f.local();
      const acc = f.local('v128'), cnt = f.local('v128'), s = f.local('f64'), count = f.local();
      return [
        ...code,
        ...g.C.get, ...i32.const(-2), ...i32.and, ...i32.const(4), ...i32.mul, ...end2.set,
        ...g.C.get, ...i32.const(4), ...i32.mul, ...end.set,
        ...outputRows(f, g, rowsPer, item, (n, oh, ow) => {
          const { win, code: wcode } = windowOf(f, g, oh, ow);
          return [
            ...wcode,
            ...win.h1.get, ...win.h0.get, ...i32.sub, ...win.w1.get, ...win.w0.get, ...i32.sub, ...i32.mul, ...count.set,
            ...count.get, ...f64.convert_i32_s, ...f64x2.splat, ...cnt.set,
            ...outCellAddr(y, g, n, oh, ow), ...yc.set,
            ...x.get, ...n.get, ...imageBytes(g), ...i32.mul, ...i32.add, ...xc.set,
            ...forRange(c, i32.const(0), end2.get, 8, [
              [...v128.zero, ...acc.set],
              eachCell(win, g, cell, [[...acc.get, ...xc.get, ...cell.get, ...i32.add, ...c.get, ...i32.add, ...v128.load64_zero(),
                ...f64x2.promote_low_f32x4, ...f64x2.add, ...acc.set]]),
              [...yc.get, ...c.get, ...i32.add, ...acc.get, ...cnt.get, ...f64x2.div, ...f32x4.demote_f64x2_zero, ...v128.store64_lane(0)],
            ]),
            ...forRange(c, c.get, end.get, 4, [
              [...f64.const(0), ...s.set],
              eachCell(win, g, cell, [[...s.get, ...xc.get, ...cell.get, ...i32.add, ...c.get, ...i32.add, ...f32.load(), ...f64.promote_f32, ...f64.add, ...s.set]]),
              [...yc.get, ...c.get, ...i32.add, ...s.get, ...count.get, ...f64.convert_i32_s, ...f64.div, ...f32.demote_f64, ...f32.store()],
            ]),
          ];
        }),
      ];
    },
  };
}

/** avgpool_grad(geom, dy, dx, phase, bh, nbands, thread, item): dx (zeroed) += dy / (cells inside the image) over each window, in doubles */
function avgGrad(): KernelDef {
  return {
    name: 'avgpool_grad',
    params: ['geom', 'dy', 'dx', 'phase', 'bh', 'nbands', 'thread', 'item'],
    body(f) {
      const { geom, dy, dx, phase, bh, nbands, item } = f.params as Record<string, Local>;
      const { g, code } = loadGeom(f, geom);
      const dyc = f.local(), dxc = f.local(), cell = f.local(), c = f.local(), end2 = f.local(), end = f.local(), a = f.local();
      const inv = f.local('v128'), v = f.local('v128'), w = f.local('f64');
      return [
        ...code,
        ...g.C.get, ...i32.const(-2), ...i32.and, ...i32.const(4), ...i32.mul, ...end2.set,
        ...g.C.get, ...i32.const(4), ...i32.mul, ...end.set,
        ...band(f, g, phase, bh, nbands, item, (n, oh, ow) => {
          const { win, code: wcode } = windowOf(f, g, oh, ow);
          return [
            ...wcode,
            ...f64.const(1), ...win.h1.get, ...win.h0.get, ...i32.sub, ...win.w1.get, ...win.w0.get, ...i32.sub, ...i32.mul,
            ...f64.convert_i32_s, ...f64.div, ...f64x2.splat, ...inv.set,
            ...outCellAddr(dy, g, n, oh, ow), ...dyc.set,
            ...dx.get, ...n.get, ...imageBytes(g), ...i32.mul, ...i32.add, ...dxc.set,
            ...forRange(c, i32.const(0), end2.get, 8, [
              [...dyc.get, ...c.get, ...i32.add, ...v128.load64_zero(), ...f64x2.promote_low_f32x4, ...inv.get, ...f64x2.mul, ...v.set],
              eachCell(win, g, cell, [[
                ...dxc.get, ...cell.get, ...i32.add, ...c.get, ...i32.add, ...a.tee,
                ...a.get, ...v128.load64_zero(), ...f64x2.promote_low_f32x4, ...v.get, ...f64x2.add, ...f32x4.demote_f64x2_zero,
                ...v128.store64_lane(0),
              ]]),
            ]),
            ...forRange(c, c.get, end.get, 4, [
              [...dyc.get, ...c.get, ...i32.add, ...f32.load(), ...f64.promote_f32, ...inv.get, ...f64x2.extract_lane(0), ...f64.mul, ...w.set],
              eachCell(win, g, cell, [[
                ...dxc.get, ...cell.get, ...i32.add, ...c.get, ...i32.add, ...a.tee,
                ...a.get, ...f32.load(), ...f64.promote_f32, ...w.get, ...f64.add, ...f32.demote_f64, ...f32.store(),
              ]]),
            ]),
          ];
        }),
      ];
    },
  };
}

/**
 * Whether a pool's windows tile the image: no padding, stride at least the
 * window each way (windows never overlap) and every window inside the image.
 * Then the _tile kernels apply, which walk each window with running
 * addresses, and whose gradient writes each input cell once (covering: no
 * zero fill first) instead of adding into a zeroed dx band by band.
 */
export interface TileGeom { H: number; W: number; OH: number; OW: number; FH: number; FW: number; SH: number; SW: number; top: number; left: number }
export function poolTiles(g: TileGeom): boolean {
  return g.top === 0 && g.left === 0 && g.SH >= g.FH && g.SW >= g.FW && (g.OH - 1) * g.SH + g.FH <= g.H && (g.OW - 1) * g.SW + g.FW <= g.W;
}

/** …and whether they also cover it (every input cell in a window): the tile gradient needs no zeroed dx. */
export function poolCovers(g: TileGeom): boolean {
  return poolTiles(g) && g.SH === g.FH && g.SW === g.FW && g.OH * g.SH === g.H && g.OW * g.SW === g.W;
}

/**
 * The walk of the tile kernels: output rows [item·rowsPer, …) counted as
 * n·OH + oh; per output cell `cell(xo, yo)` with xo the byte offset of its
 * window's first input cell (in x or dx) and yo its own (in y or dy), then
 * per vector of channels `vec(xo, yo, c)` (c the channel's byte offset;
 * a count of channels that is not a multiple of 4 ends with one vector
 * ending at C, which redoes a few lanes the same way) or per float `one`
 * when C < 4.
 */
function tileWalk(f: Func, g: Geom, rowsPer: Local, item: Local, vec: (xo: Local, c: Local) => Code, one: (xo: Local, c: Local) => Code,
  yo: Local, rowB: Local, cellB: Local): Code {
  const q = f.local(), q1 = f.local(), n = f.local(), oh = f.local(), ow = f.local(), xo = f.local(), c = f.local();
  const end4 = f.local(), stepW = f.local(), tailVec = f.local();
  return [
    ...g.W.get, ...g.C.get, ...i32.mul, ...i32.const(4), ...i32.mul, ...rowB.set,
    ...g.C.get, ...i32.const(4), ...i32.mul, ...cellB.set,
    ...g.SW.get, ...cellB.get, ...i32.mul, ...stepW.set,
    ...g.C.get, ...i32.const(-4), ...i32.and, ...i32.const(4), ...i32.mul, ...end4.set,
    ...tailTo(g, tailVec),
    ...item.get, ...rowsPer.get, ...i32.mul, ...q.set,
    ...q.get, ...rowsPer.get, ...i32.add, ...q1.set,
    ...q1.get, ...g.N.get, ...g.OH.get, ...i32.mul, ...i32.gt_s, ...if_([[...g.N.get, ...g.OH.get, ...i32.mul, ...q1.set]]),
    ...forRange(q, q.get, q1.get, 1, [
      [...q.get, ...g.OH.get, ...i32.div_u, ...n.set, ...q.get, ...g.OH.get, ...i32.rem_u, ...oh.set],
      [...n.get, ...g.H.get, ...i32.mul, ...oh.get, ...g.SH.get, ...i32.mul, ...i32.add, ...rowB.get, ...i32.mul, ...xo.set],
      [...q.get, ...g.OW.get, ...i32.mul, ...cellB.get, ...i32.mul, ...yo.set],
      forRange(ow, i32.const(0), g.OW.get, 1, [
        forRange(c, i32.const(0), end4.get, 16, [vec(xo, c)]),
        [...tailVec.get, ...if_([[...cellB.get, ...i32.const(16), ...i32.sub, ...c.set, ...vec(xo, c), ...cellB.get, ...c.set]])],
        forRange(c, c.get, cellB.get, 4, [one(xo, c)]),
        [...xo.get, ...stepW.get, ...i32.add, ...xo.set, ...yo.get, ...cellB.get, ...i32.add, ...yo.set],
      ]),
    ]),
  ];
}

/** for fh < FH, fw < FW: body(p), p the window cell's address (start at `at`, rows rowB apart, cells cellB) */
function eachTileCell(f: Func, g: Geom, at: Code, rowB: Local, cellB: Local, body: (p: Local) => Code): Code {
  const fh = f.local(), fw = f.local(), r = f.local(), p = f.local();
  return [
    ...at, ...r.set,
    ...forRange(fh, i32.const(0), g.FH.get, 1, [
      [...r.get, ...p.set],
      forRange(fw, i32.const(0), g.FW.get, 1, [body(p), [...p.get, ...cellB.get, ...i32.add, ...p.set]]),
      [...r.get, ...rowB.get, ...i32.add, ...r.set],
    ]),
  ];
}

/** maxpool_tile_fwd(geom, x, y, rowsPer, thread, item): maxpool_fwd where the windows tile the image (poolTiles), the same maxima */
function maxTileForward(): KernelDef {
  return {
    name: 'maxpool_tile_fwd',
    params: ['geom', 'x', 'y', 'rowsPer', 'thread', 'item'],
    body(f) {
      const { geom, x, y, rowsPer, item } = f.params as Record<string, Local>;
      const { g, code } = loadGeom(f, geom);
      const yo = f.local(), rowB = f.local(), cellB = f.local(), v = f.local('v128'), s = f.local('f32'), t = f.local('f32');
      return [
        ...code,
        ...tileWalk(f, g, rowsPer, item,
          (xo, c) => [
            ...f32.const(-Infinity), ...f32x4.splat, ...v.set,
            ...eachTileCell(f, g, [...x.get, ...xo.get, ...i32.add, ...c.get, ...i32.add], rowB, cellB, (p) => [...v.get, ...p.get, ...v128.load(), ...f32x4.pmax, ...v.set]),
            ...y.get, ...yo.get, ...i32.add, ...c.get, ...i32.add, ...v.get, ...v128.store(),
          ],
          (xo, c) => [
            ...f32.const(-Infinity), ...s.set,
            // s = x > s ? x : s, as maxpool_fwd's floats
            ...eachTileCell(f, g, [...x.get, ...xo.get, ...i32.add, ...c.get, ...i32.add], rowB, cellB, (p) => [
              ...p.get, ...f32.load(), ...t.tee, ...s.get, ...t.get, ...s.get, ...f32.gt, ...select, ...s.set]),
            ...y.get, ...yo.get, ...i32.add, ...c.get, ...i32.add, ...s.get, ...f32.store(),
          ],
          yo, rowB, cellB),
      ];
    },
  };
}

/**
 * maxpool_tile_grad(geom, x, y, dy, dx, rowsPer, relu, thread, item): maxpool_grad
 * where the windows tile the image: each window cell's dx written once, dy at
 * the window's first maximum and 0 elsewhere (as +0 + that, the value
 * maxpool_grad's sum into a zeroed dx leaves). Cells outside every window are
 * left alone (zero them first unless poolCovers). `relu` nonzero: x is a
 * relu's output, whose gradient follows as relu_grad computes it
 * (wasm/elementwise.ts: step(x) · that, step 1 where x > 0, x where x is NaN, else 0).
 */
function maxTileGrad(): KernelDef {
  return {
    name: 'maxpool_tile_grad',
    params: ['geom', 'x', 'y', 'dy', 'dx', 'rowsPer', 'relu', 'thread', 'item'],
    body(f) {
      const { geom, x, y, dy, dx, rowsPer, relu, item } = f.params as Record<string, Local>;
      const { g, code } = loadGeom(f, geom);
      const yo = f.local(), rowB = f.local(), cellB = f.local(), d = f.local();
      const yv = f.local('v128'), dyv = f.local('v128'), found = f.local('v128'), eq = f.local('v128');
      const ys = f.local('f32'), dys = f.local('f32'), foundS = f.local(), e = f.local();
      const xv = f.local('v128'), val = f.local('v128'), st = f.local('v128'), one = f.local('v128');
      const xs = f.local('f32'), valS = f.local('f32'), stS = f.local('f32');
      return [
        ...code,
        ...f32.const(1), ...f32x4.splat, ...one.set,
        ...tileWalk(f, g, rowsPer, item,
          (xo, c) => [
            ...y.get, ...yo.get, ...i32.add, ...c.get, ...i32.add, ...v128.load(), ...yv.set,
            ...dy.get, ...yo.get, ...i32.add, ...c.get, ...i32.add, ...v128.load(), ...dyv.set,
            ...v128.zero, ...found.set,
            ...dx.get, ...x.get, ...i32.sub, ...d.set,
            ...eachTileCell(f, g, [...x.get, ...xo.get, ...i32.add, ...c.get, ...i32.add], rowB, cellB, (p) => [
              ...p.get, ...v128.load(), ...xv.tee, ...yv.get, ...f32x4.eq, ...found.get, ...v128.andnot, ...eq.tee,
              ...found.get, ...v128.or, ...found.set,
              ...p.get, ...d.get, ...i32.add,
              ...v128.zero, ...dyv.get, ...v128.zero, ...eq.get, ...v128.bitselect, ...f32x4.add, ...val.set,
              ...relu.get, ...ifValue('v128', [[
                ...one.get, ...v128.zero, ...xv.get, ...v128.zero, ...f32x4.gt, ...v128.bitselect, ...st.set,
                ...xv.get, ...st.get, ...xv.get, ...xv.get, ...f32x4.ne, ...v128.bitselect,
                ...val.get, ...f32x4.mul,
              ]], [val.get]),
              ...v128.store(),
            ]),
          ],
          (xo, c) => [
            ...y.get, ...yo.get, ...i32.add, ...c.get, ...i32.add, ...f32.load(), ...ys.set,
            ...dy.get, ...yo.get, ...i32.add, ...c.get, ...i32.add, ...f32.load(), ...dys.set,
            ...i32.const(0), ...foundS.set,
            ...dx.get, ...x.get, ...i32.sub, ...d.set,
            ...eachTileCell(f, g, [...x.get, ...xo.get, ...i32.add, ...c.get, ...i32.add], rowB, cellB, (p) => [
              ...p.get, ...f32.load(), ...xs.tee, ...ys.get, ...f32.eq, ...foundS.get, ...i32.eqz, ...i32.and, ...e.tee,
              ...foundS.get, ...i32.or, ...foundS.set,
              ...p.get, ...d.get, ...i32.add,
              ...f32.const(0), ...dys.get, ...f32.const(0), ...e.get, ...select, ...f32.add, ...valS.set,
              ...relu.get, ...ifValue('f32', [[
                ...f32.const(1), ...f32.const(0), ...xs.get, ...f32.const(0), ...f32.gt, ...select, ...stS.set,
                ...xs.get, ...stS.get, ...xs.get, ...xs.get, ...f32.ne, ...select,
                ...valS.get, ...f32.mul,
              ]], [valS.get]),
              ...f32.store(),
            ]),
          ],
          yo, rowB, cellB),
      ];
    },
  };
}

export function poolKernels(): KernelDef[] {
  return [maxForward(), maxGrad(), avgForward(), avgGrad(), maxTileForward(), maxTileGrad()];
}

