// The matrix multiply every convolution and dense layer runs on:
//   C[M, N] (+)= A[M, K] · B[K, N]   (+ bias[N]) (then max(·, 0))
// B is first packed into panels of 8 columns, [N/8][K][8], so that one k step
// of a panel is two aligned vector loads; A is read where it lies, either row
// by row (A[i, k] at a + i·rs + 4k: "row") or column by column (A[i, k] at
// a + 4i + k·cs: "col", e.g. the transposed im2col matrix of a filter
// gradient). A 4×8 tile of C lives in eight f32x4 registers; each k step
// broadcasts four A values (v128.load32_splat) and does 32 multiply-adds.
// Measured on this machine's Zen 5: ~50 GFLOP/s on one core, twice the
// previous unpacked kernel. Fused multiply-add (relaxed SIMD) measured no
// faster: Zen's separate multiply and add pipes already give the same peak.
//
// gemm_packed is the same item with A first packed by the item, a K block at
// a time, into the thread's scratch (pack_a: tiles of four rows, [kc][4]):
// for a column-major A, whose k steps otherwise fall a multiple of 1 KiB
// apart into a few L1 sets, 24 → 45 GFLOP/s at [3072, 200] · [200, 768].
//
// The reduction is blocked along K (KC at a time, so a panel's block stays in
// L1): the first block's sums start from zero (or the bias), later blocks are
// added to C. Every C element therefore gets the same float32 operations in
// the same order however the rows and panels are shared among threads.
import {
  addTo, block, br, br_if, f32, f32x4, forRange, i32, i32x4_shuffle, if_, ifValue, loop, v128, type Code, type Func, type Local,
} from './assembler.js';
import type { KernelDef } from './module.js';

/** K block: a panel's 256 × 8 floats are 8 KiB. */
export const KC = 256;
/** C tile rows. */
export const MR = 4;
/** Panel width (columns of C per tile). */
export const NR = 8;
/**
 * Bytes after each packed A tile (pack_a): without them a column-major
 * block's tiles lie a multiple of 4 KiB apart and packing a column stores to
 * one L1 set.
 */
export const TILE_PAD = 64;

export const FLAG_ADD = 1; // C += A·B instead of C = A·B
export const FLAG_RELU = 2; // max(·, 0) after the last K block

type Variant = 'row' | 'col';

/**
 * Stores `val` at `addr` keeping only the first `lanes` floats when fewer
 * than 4 are valid (the last panel of a width that is not a multiple of 8).
 */
function storeLanes(addr: Code, val: Local, lanes: Local): Code {
  return [
    ...lanes.get, ...i32.const(4), ...i32.ge_s,
    ...if_([[...addr, ...val.get, ...v128.store()]], [
      [...lanes.get, ...i32.const(1), ...i32.ge_s, ...if_([[...addr, ...val.get, ...v128.store32_lane(0)]])],
      [...lanes.get, ...i32.const(2), ...i32.ge_s, ...if_([[...addr, ...val.get, ...v128.store32_lane(1, 4)]])],
      [...lanes.get, ...i32.const(3), ...i32.ge_s, ...if_([[...addr, ...val.get, ...v128.store32_lane(2, 8)]])],
    ]),
  ];
}

/**
 * The micro-kernels' epilogue (plain and packed-A alike): rows i … i + R − 1
 * of the tile in acc (two vectors a row) to C at c + row·ldc + col, plus C
 * when adding, then relu, keeping the valid lanes of a narrow last panel.
 */
function storeTile(R: number, l: Record<'c' | 'i' | 'ldc' | 'col' | 'ci' | 'add' | 'relu' | 'lanes0' | 'lanes1', Local>, acc: Local[]): Code {
  const code: Code = [];
  for (let r = 0; r < R; r++) {
    code.push(...l.c.get, ...l.i.get, ...i32.const(r), ...i32.add, ...l.ldc.get, ...i32.mul, ...i32.add, ...l.col.get, ...i32.add, ...l.ci.set);
    for (let v = 0; v < 2; v++) {
      const x = acc[2 * r + v]!;
      code.push(...l.add.get, ...if_([[...x.get, ...l.ci.get, ...v128.load(16 * v), ...f32x4.add, ...x.set]]));
      code.push(...l.relu.get, ...if_([[...x.get, ...v128.zero, ...f32x4.pmax, ...x.set]]));
      code.push(...storeLanes([...l.ci.get, ...(v === 0 ? [] : [...i32.const(16), ...i32.add])], x, v === 0 ? l.lanes0 : l.lanes1));
    }
  }
  return code;
}

/**
 * gemm_tiles_<variant>(a, rs, cs, bp, kp, c, ldc, bias, i0, i1, p0, p1, k0, kc, n, flags):
 * rows [i0, i1) × panels [p0, p1) of C, for the K range [k0, k0 + kc).
 * bp: packed B, kp its panel height (K); bias: 0 or a row of n floats (used
 * on the first block only: FLAG_ADD clear); n: C's width.
 */
function tilesKernel(variant: Variant): KernelDef {
  return {
    name: `gemm_tiles_${variant}`,
    params: ['a', 'rs', 'cs', 'bp', 'kp', 'c', 'ldc', 'bias', 'i0', 'i1', 'p0', 'p1', 'k0', 'kc', 'n', 'flags'],
    body(f: Func) {
      const { a, rs, cs, bp, kp, c, ldc, bias, i0, i1, p0, p1, k0, kc, n, flags } = f.params as Record<string, Local>;
      const p = f.local(), i = f.local(), rows = f.local(), pb0 = f.local(), col = f.local();
      const lanes0 = f.local(), lanes1 = f.local(), pa = f.local(), pb = f.local(), kk = f.local();
      const rs2 = f.local(), rs3 = f.local(), ci = f.local(), add = f.local(), relu = f.local();
      const rowp = [pa, f.local(), f.local(), f.local()];
      const acc = f.locals_(MR * 2, 'v128');
      const b0 = f.local('v128'), b1 = f.local('v128'), av = f.local('v128');
      const useBias = f.local(), bcol = f.local();

      /** The R×8 tile at rows i.., panel p. */
      const tile = (R: number): Code => {
        const code: Code = [];
        // the accumulators start from the bias on a first block, else from zero (nothing else may stay
        // in a vector register across the k loop: 8 accumulators + 3 operands use 11 of the 16)
        const start = (from: (v: number) => Code): Code => {
          const init: Code = [];
          for (let r = 0; r < R; r++) for (let v = 0; v < 2; v++) init.push(...from(v), ...acc[2 * r + v]!.set);
          return init;
        };
        code.push(...useBias.get, ...if_([start((v) => [...bcol.get, ...v128.load(16 * v)])], [start(() => v128.zero)]));
        // pa = a + i·rs + k0·cs (row: cs = 4; col: rs = 4)
        if (variant === 'row') code.push(...a.get, ...i.get, ...rs.get, ...i32.mul, ...i32.add, ...k0.get, ...i32.const(4), ...i32.mul, ...i32.add, ...pa.set);
        else code.push(...a.get, ...i.get, ...i32.const(4), ...i32.mul, ...i32.add, ...k0.get, ...cs.get, ...i32.mul, ...i32.add, ...pa.set);
        code.push(...pb0.get, ...pb.set, ...kc.get, ...kk.set);
        // row: a pointer per row, each stepped by 4 (measured 4 % faster than adding row offsets per k)
        if (variant === 'row') {
          for (let r = 1; r < R; r++) code.push(...pa.get, ...(r === 1 ? rs.get : r === 2 ? rs2.get : rs3.get), ...i32.add, ...rowp[r]!.set);
        }
        const rowAddr = (r: number): Code => (variant === 'col' || r === 0 ? pa.get : rowp[r]!.get);
        const step: Code = [...pb.get, ...v128.load(0), ...b0.set, ...pb.get, ...v128.load(16), ...b1.set];
        for (let r = 0; r < R; r++) {
          step.push(...rowAddr(r), ...v128.load32_splat(variant === 'col' ? 4 * r : 0), ...av.set);
          for (let v = 0; v < 2; v++) {
            const x = acc[2 * r + v]!;
            step.push(...x.get, ...av.get, ...(v === 0 ? b0 : b1).get, ...f32x4.mul, ...f32x4.add, ...x.set);
          }
        }
        code.push(...loop(
          step,
          variant === 'row' ? [...addTo(pa, 4), ...Array.from({ length: R - 1 }, (_, r) => addTo(rowp[r + 1]!, 4)).flat()] : [...pa.get, ...cs.get, ...i32.add, ...pa.set],
          addTo(pb, 32),
          kk.get, i32.const(1), i32.sub, kk.tee, br_if(0),
        ));
        code.push(...storeTile(R, { c, i, ldc, col, ci, add, relu, lanes0, lanes1 }, acc));
        return code;
      };

      return [
        ...rs.get, ...i32.const(2), ...i32.mul, ...rs2.set,
        ...rs.get, ...i32.const(3), ...i32.mul, ...rs3.set,
        ...flags.get, ...i32.const(FLAG_ADD), ...i32.and, ...add.set,
        ...flags.get, ...i32.const(FLAG_RELU), ...i32.and, ...relu.set,
        ...add.get, ...i32.eqz, ...bias.get, ...i32.const(0), ...i32.ne, ...i32.and, ...useBias.set,
        ...forRange(p, p0.get, p1.get, 1, [
          // the panel's columns, and how many of them are real
          [...p.get, ...i32.const(NR * 4), ...i32.mul, ...col.set],
          [...n.get, ...p.get, ...i32.const(NR), ...i32.mul, ...i32.sub, ...lanes0.set],
          [...lanes0.get, ...i32.const(4), ...i32.sub, ...lanes1.set],
          [...bp.get, ...p.get, ...kp.get, ...i32.mul, ...k0.get, ...i32.add, ...i32.const(NR * 4), ...i32.mul, ...i32.add, ...pb0.set],
          [...bias.get, ...col.get, ...i32.add, ...bcol.set],
          ...(((): Code[] => {
            const body: Code[] = [];
            body.push([...i0.get, ...i.set]);
            body.push(block(loop(
              [...i1.get, ...i.get, ...i32.sub, ...rows.tee, ...i32.const(1), ...i32.lt_s, ...br_if(1)],
              [...kc.get, ...i32.eqz, ...br_if(1)],
              [...rows.get, ...i32.const(4), ...i32.ge_s, ...if_([tile(4)], [
                [...rows.get, ...i32.const(3), ...i32.eq, ...if_([tile(3)], [
                  [...rows.get, ...i32.const(2), ...i32.eq, ...if_([tile(2)], [tile(1)])],
                ])],
              ])],
              addTo(i, MR),
              br(0),
            )));
            return body;
          })()),
        ]),
      ];
    },
  };
}

/**
 * gemm_run_<variant>(a, rs, cs, bp, K, c, ldc, bias, i0, i1, p0, p1, n, flags):
 * rows [i0, i1) × panels [p0, p1) of C over all of K, in KC blocks.
 */
function runKernel(variant: Variant): KernelDef {
  return {
    name: `gemm_run_${variant}`,
    params: ['a', 'rs', 'cs', 'bp', 'K', 'c', 'ldc', 'bias', 'i0', 'i1', 'p0', 'p1', 'n', 'flags'],
    body(f, link) {
      const { a, rs, cs, bp, K, c, ldc, bias, i0, i1, p0, p1, n, flags } = f.params as Record<string, Local>;
      const k0 = f.local(), kc = f.local(), fl = f.local();
      return [
        ...K.get, ...i32.eqz, ...if_([[
          // an empty sum: C = bias (or 0), or C unchanged when adding
          ...flags.get, ...i32.const(FLAG_ADD), ...i32.and, ...i32.eqz, ...if_([[
            ...a.get, ...rs.get, ...cs.get, ...bp.get, ...K.get, ...c.get, ...ldc.get, ...bias.get,
            ...i0.get, ...i1.get, ...p0.get, ...p1.get, ...i32.const(0), ...i32.const(0), ...n.get, ...flags.get,
            ...link.call('gemm_zero'),
          ]]),
        ]]),
        ...forRange(k0, i32.const(0), K.get, KC, [
          [...K.get, ...k0.get, ...i32.sub, ...kc.set],
          [...kc.get, ...i32.const(KC), ...i32.gt_s, ...if_([[...i32.const(KC), ...kc.set]])],
          // later blocks add to C; relu only once everything is summed
          [...flags.get, ...i32.const(FLAG_ADD), ...i32.and, ...k0.get, ...i32.const(0), ...i32.gt_s, ...i32.or, ...fl.set],
          [...k0.get, ...kc.get, ...i32.add, ...K.get, ...i32.ge_s, ...if_([[...flags.get, ...i32.const(FLAG_RELU), ...i32.and, ...fl.get, ...i32.or, ...fl.set]])],
          [...a.get, ...rs.get, ...cs.get, ...bp.get, ...K.get, ...c.get, ...ldc.get, ...bias.get,
            ...i0.get, ...i1.get, ...p0.get, ...p1.get, ...k0.get, ...kc.get, ...n.get, ...fl.get,
            ...link.call(`gemm_tiles_${variant}`)],
        ]),
      ];
    },
  };
}

/**
 * gemm_<variant>(M, N, K, a, rs, cs, bp, c, ldc, bias, flags, mb, nb, ncb, thread, item):
 * one item of a parallel GEMM over packed B: rows [ib·mb, …) and panels
 * [jb·nb, …) with item = ib·ncb + jb.
 */
function itemKernel(variant: Variant): KernelDef {
  return {
    name: `gemm_${variant}`,
    params: ['M', 'N', 'K', 'a', 'rs', 'cs', 'bp', 'c', 'ldc', 'bias', 'flags', 'mb', 'nb', 'ncb', 'thread', 'item'],
    body(f, link) {
      const { M, N, K, a, rs, cs, bp, c, ldc, bias, flags, mb, nb, ncb, item } = f.params as Record<string, Local>;
      const i0 = f.local(), i1 = f.local(), p0 = f.local(), p1 = f.local(), panels = f.local();
      return [
        ...N.get, ...i32.const(NR - 1), ...i32.add, ...i32.const(NR), ...i32.div_u, ...panels.set,
        ...item.get, ...ncb.get, ...i32.div_u, ...mb.get, ...i32.mul, ...i0.set,
        ...i0.get, ...mb.get, ...i32.add, ...i1.set,
        ...i1.get, ...M.get, ...i32.gt_s, ...if_([[...M.get, ...i1.set]]),
        ...item.get, ...ncb.get, ...i32.rem_u, ...nb.get, ...i32.mul, ...p0.set,
        ...p0.get, ...nb.get, ...i32.add, ...p1.set,
        ...p1.get, ...panels.get, ...i32.gt_s, ...if_([[...panels.get, ...p1.set]]),
        ...a.get, ...rs.get, ...cs.get, ...bp.get, ...K.get, ...c.get, ...ldc.get, ...bias.get,
        ...i0.get, ...i1.get, ...p0.get, ...p1.get, ...N.get, ...flags.get,
        ...link.call(`gemm_run_${variant}`),
      ];
    },
  };
}

/** gemm_zero(…same as tiles…): C = bias (or 0) over the rows and panels, for K = 0. */
function zeroKernel(): KernelDef {
  return {
    name: 'gemm_zero',
    params: ['a', 'rs', 'cs', 'bp', 'kp', 'c', 'ldc', 'bias', 'i0', 'i1', 'p0', 'p1', 'k0', 'kc', 'n', 'flags'],
    body(f) {
      const { c, ldc, bias, i0, i1, p0, p1, n, flags } = f.params as Record<string, Local>;
      const i = f.local(), j = f.local(), v = f.local('f32');
      return forRange(i, i0.get, i1.get, 1, [
        forRange(j, [...p0.get, ...i32.const(NR), ...i32.mul], [...p1.get, ...i32.const(NR), ...i32.mul], 1, [
          [...j.get, ...n.get, ...i32.lt_s, ...if_([[
            ...f32.const(0), ...v.set,
            ...bias.get, ...i32.const(0), ...i32.ne, ...if_([[...bias.get, ...j.get, ...i32.const(4), ...i32.mul, ...i32.add, ...f32.load(), ...v.set]]),
            ...flags.get, ...i32.const(FLAG_RELU), ...i32.and, ...if_([[...v.get, ...f32.const(0), ...f32.max, ...v.set]]),
            ...c.get, ...i.get, ...ldc.get, ...i32.mul, ...i32.add, ...j.get, ...i32.const(4), ...i32.mul, ...i32.add, ...v.get, ...f32.store(),
          ]])],
        ]),
      ]);
    },
  };
}


/** r0…r3 (four rows of four floats) → their columns, in place (t: four temporaries). */
function transpose4(r: Local[], t: Local[]): Code {
  const sh = (x: Local, y: Local, l: [number, number, number, number], to: Local): Code =>
    [...x.get, ...y.get, ...i32x4_shuffle(...l), ...to.set];
  return [
    ...sh(r[0]!, r[1]!, [0, 4, 1, 5], t[0]!), ...sh(r[0]!, r[1]!, [2, 6, 3, 7], t[1]!),
    ...sh(r[2]!, r[3]!, [0, 4, 1, 5], t[2]!), ...sh(r[2]!, r[3]!, [2, 6, 3, 7], t[3]!),
    ...sh(t[0]!, t[2]!, [0, 1, 4, 5], r[0]!), ...sh(t[0]!, t[2]!, [2, 3, 6, 7], r[1]!),
    ...sh(t[1]!, t[3]!, [0, 1, 4, 5], r[2]!), ...sh(t[1]!, t[3]!, [2, 3, 6, 7], r[3]!),
  ];
}

/**
 * pack_b(src, ld, trans, K, N, dst, thread, item): panel `item` of B into
 * dst ([N/8][K][8], zero past column N). B[k, j] is at src + k·ld + 4j, or
 * (trans) at src + j·ld + 4k.
 */
function packKernel(): KernelDef {
  return {
    name: 'pack_b',
    params: ['src', 'ld', 'trans', 'K', 'N', 'dst', 'thread', 'item'],
    body(f) {
      const { src, ld, trans, K, N, dst, item } = f.params as Record<string, Local>;
      const k = f.local(), j = f.local(), valid = f.local(), d = f.local(), s = f.local(), k0 = f.local();
      const rp = f.locals_(NR), rv = f.locals_(NR, 'v128'), tv = f.locals_(4, 'v128');
      return [
        ...i32.const(0), ...k0.set,
        ...N.get, ...item.get, ...i32.const(NR), ...i32.mul, ...i32.sub, ...valid.set,
        ...valid.get, ...i32.const(NR), ...i32.gt_s, ...if_([[...i32.const(NR), ...valid.set]]),
        ...dst.get, ...item.get, ...K.get, ...i32.mul, ...i32.const(NR * 4), ...i32.mul, ...i32.add, ...d.set,
        ...trans.get, ...i32.eqz, ...valid.get, ...i32.const(NR), ...i32.eq, ...i32.and,
        ...if_([
          // the common case: eight real columns, two vector copies per row
          [...src.get, ...item.get, ...i32.const(NR * 4), ...i32.mul, ...i32.add, ...s.set],
          forRange(k, i32.const(0), K.get, 1, [
            [...d.get, ...s.get, ...v128.load(0), ...v128.store(0)],
            [...d.get, ...s.get, ...v128.load(16), ...v128.store(16)],
            addTo(d, NR * 4), [...s.get, ...ld.get, ...i32.add, ...s.set],
          ]),
        ], [
          // transposed, eight real columns: four k of each of the eight source rows, transposed in registers
          [...trans.get, ...valid.get, ...i32.const(NR), ...i32.eq, ...i32.and],
          if_([
            rp.flatMap((p, q) => [...src.get, ...item.get, ...i32.const(NR), ...i32.mul, ...i32.const(q), ...i32.add, ...ld.get, ...i32.mul, ...i32.add, ...p.set]),
            forRange(k0, i32.const(0), [...K.get, ...i32.const(3), ...i32.sub], 4, [
              rv.flatMap((v, q) => [...rp[q]!.get, ...v128.load(), ...v.set, ...addTo(rp[q]!, 16)]),
              transpose4(rv.slice(0, 4), tv), transpose4(rv.slice(4), tv),
              [0, 1, 2, 3].flatMap((q) => [...d.get, ...rv[q]!.get, ...v128.store(NR * 4 * q), ...d.get, ...rv[4 + q]!.get, ...v128.store(NR * 4 * q + 16)]),
              addTo(d, 4 * NR * 4),
            ]),
          ]),
          // the rest one float at a time
          forRange(k, k0.get, K.get, 1, [
            forRange(j, i32.const(0), i32.const(NR), 1, [
              [...j.get, ...valid.get, ...i32.lt_s],
              if_([[
                ...trans.get,
                ...if_([[...src.get, ...item.get, ...i32.const(NR), ...i32.mul, ...j.get, ...i32.add, ...ld.get, ...i32.mul, ...i32.add, ...k.get, ...i32.const(4), ...i32.mul, ...i32.add, ...s.set]],
                  [[...src.get, ...k.get, ...ld.get, ...i32.mul, ...i32.add, ...item.get, ...i32.const(NR), ...i32.mul, ...j.get, ...i32.add, ...i32.const(4), ...i32.mul, ...i32.add, ...s.set]]),
                ...d.get, ...j.get, ...i32.const(4), ...i32.mul, ...i32.add, ...s.get, ...f32.load(), ...f32.store(),
              ]], [[...d.get, ...j.get, ...i32.const(4), ...i32.mul, ...i32.add, ...f32.const(0), ...f32.store()]]),
            ]),
            addTo(d, NR * 4),
          ]),
        ]),
      ];
    },
  };
}

/**
 * pack_a(a, rs, cs, i0, i1, k0, kc, dst): rows [i0, i1) of A, columns
 * [k0, k0 + kc), into tiles of MR rows: dst[t][k][r] = A[i0 + 4t + r, k0 + k]
 * (A[i, k] at a + i·rs + k·cs), rows past i1 zero, tiles kc·16 + TILE_PAD
 * bytes apart. A column-major A (a
 * gradient's Xᵀ) is read a column at a time: its k steps are rows of X,
 * whose stride (3 KiB, 12 KiB) maps every step of a tile to the same few L1
 * sets, so that unpacked, each panel read them from L2 again.
 */
function packAKernel(): KernelDef {
  return {
    name: 'pack_a',
    params: ['a', 'rs', 'cs', 'i0', 'i1', 'k0', 'kc', 'dst'],
    body(f) {
      const { a, rs, cs, i0, i1, k0, kc, dst } = f.params as Record<string, Local>;
      const i = f.local(), k = f.local(), r = f.local(), rows = f.local(), base = f.local(), d = f.local(), kc4 = f.local();
      const full = f.local(), tstride = f.local();
      const rp = f.locals_(MR), rv = f.locals_(MR, 'v128'), tv = f.locals_(MR, 'v128');
      /** one tile (rows i …) one float at a time, zero past i1 */
      const scalarTile: Code = forRange(k, i32.const(0), kc.get, 1, [
        forRange(r, i32.const(0), i32.const(MR), 1, [
          [...d.get, ...r.get, ...i32.const(4), ...i32.mul, ...i32.add],
          [...r.get, ...rows.get, ...i32.lt_s],
          ifValue('f32', [[...base.get, ...r.get, ...rs.get, ...i32.mul, ...i32.add, ...k.get, ...cs.get, ...i32.mul, ...i32.add, ...f32.load()]],
            [f32.const(0)]),
          f32.store(),
        ]),
        addTo(d, 16),
      ]);
      return [
        ...kc.get, ...i32.const(-4), ...i32.and, ...kc4.set,
        ...kc.get, ...i32.const(MR * 4), ...i32.mul, ...i32.const(TILE_PAD), ...i32.add, ...tstride.set,
        ...rs.get, ...i32.const(4), ...i32.eq, ...cs.get, ...i32.const(4), ...i32.ne, ...i32.and,
        ...if_([
          // column-major: along each column of the block, a tile's four rows are one run
          [...i1.get, ...i0.get, ...i32.sub, ...i32.const(-4), ...i32.and, ...i0.get, ...i32.add, ...full.set],
          forRange(k, i32.const(0), kc.get, 1, [
            [...a.get, ...i0.get, ...i32.const(4), ...i32.mul, ...i32.add, ...k0.get, ...k.get, ...i32.add, ...cs.get, ...i32.mul, ...i32.add, ...base.set],
            [...dst.get, ...k.get, ...i32.const(16), ...i32.mul, ...i32.add, ...d.set],
            forRange(i, i0.get, full.get, MR, [
              [...d.get, ...base.get, ...v128.load(), ...v128.store()],
              addTo(base, 16), addTo(d, tstride.get),
            ]),
            // the last tile's rows past i1 are zero
            [...full.get, ...i1.get, ...i32.lt_s],
            if_([forRange(r, i32.const(0), i32.const(MR), 1, [
              [...d.get, ...r.get, ...i32.const(4), ...i32.mul, ...i32.add],
              [...full.get, ...r.get, ...i32.add, ...i1.get, ...i32.lt_s],
              ifValue('f32', [[...base.get, ...r.get, ...i32.const(4), ...i32.mul, ...i32.add, ...f32.load()]], [f32.const(0)]),
              f32.store(),
            ])]),
          ]),
        ], [
          forRange(i, i0.get, i1.get, MR, [
            [...i1.get, ...i.get, ...i32.sub, ...rows.set],
            [...a.get, ...i.get, ...rs.get, ...i32.mul, ...i32.add, ...k0.get, ...cs.get, ...i32.mul, ...i32.add, ...base.set],
            [...dst.get, ...i.get, ...i0.get, ...i32.sub, ...i32.const(MR), ...i32.div_u, ...tstride.get, ...i32.mul, ...i32.add, ...d.set],
            [...rows.get, ...i32.const(MR), ...i32.ge_s, ...cs.get, ...i32.const(4), ...i32.eq, ...i32.and],
            if_([
              // row-major: four k of each row, transposed in registers
              rp.flatMap((p, q) => [...base.get, ...rs.get, ...i32.const(q), ...i32.mul, ...i32.add, ...p.set]),
              forRange(k, i32.const(0), kc4.get, 4, [
                rv.flatMap((v, q) => [...rp[q]!.get, ...v128.load(), ...v.set, ...addTo(rp[q]!, 16)]),
                transpose4(rv, tv),
                rv.flatMap((v, q) => [...d.get, ...v.get, ...v128.store(16 * q)]),
                addTo(d, 64),
              ]),
              forRange(k, kc4.get, kc.get, 1, [
                rp.flatMap((p, q) => [...d.get, ...p.get, ...f32.load(), ...f32.store(4 * q), ...addTo(p, 4)]),
                addTo(d, 16),
              ]),
            ], [scalarTile]),
          ]),
        ]),
      ];
    },
  };
}

/**
 * gemm_tiles_packed(ap, bp, kp, c, ldc, bias, i0, i1, p0, p1, k0, kc, n, flags):
 * gemm_tiles_<variant> with rows [i0, i1) of A's K block packed at ap
 * (pack_a): one A pointer stepping 16 bytes, always four rows computed (the
 * padding rows are not stored).
 */
function packedTilesKernel(): KernelDef {
  return {
    name: 'gemm_tiles_packed',
    params: ['ap', 'bp', 'kp', 'c', 'ldc', 'bias', 'i0', 'i1', 'p0', 'p1', 'k0', 'kc', 'n', 'flags'],
    body(f: Func) {
      const { ap, bp, kp, c, ldc, bias, i0, i1, p0, p1, k0, kc, n, flags } = f.params as Record<string, Local>;
      const p = f.local(), i = f.local(), rows = f.local(), pb0 = f.local(), col = f.local(), pa0 = f.local();
      const lanes0 = f.local(), lanes1 = f.local(), pa = f.local(), pb = f.local(), kk = f.local();
      const ci = f.local(), add = f.local(), relu = f.local(), useBias = f.local(), bcol = f.local(), tstride = f.local();
      const acc = f.locals_(MR * 2, 'v128');
      const b0 = f.local('v128'), b1 = f.local('v128'), av = f.local('v128');

      const start = (from: (v: number) => Code): Code => {
        const init: Code = [];
        for (let r = 0; r < MR; r++) for (let v = 0; v < 2; v++) init.push(...from(v), ...acc[2 * r + v]!.set);
        return init;
      };
      const step: Code = [...pb.get, ...v128.load(0), ...b0.set, ...pb.get, ...v128.load(16), ...b1.set];
      for (let r = 0; r < MR; r++) {
        step.push(...pa.get, ...v128.load32_splat(4 * r), ...av.set);
        for (let v = 0; v < 2; v++) {
          const x = acc[2 * r + v]!;
          step.push(...x.get, ...av.get, ...(v === 0 ? b0 : b1).get, ...f32x4.mul, ...f32x4.add, ...x.set);
        }
      }
      const store = (R: number): Code => storeTile(R, { c, i, ldc, col, ci, add, relu, lanes0, lanes1 }, acc);
      return [
        ...flags.get, ...i32.const(FLAG_ADD), ...i32.and, ...add.set,
        ...flags.get, ...i32.const(FLAG_RELU), ...i32.and, ...relu.set,
        ...add.get, ...i32.eqz, ...bias.get, ...i32.const(0), ...i32.ne, ...i32.and, ...useBias.set,
        ...kc.get, ...i32.const(MR * 4), ...i32.mul, ...i32.const(TILE_PAD), ...i32.add, ...tstride.set,
        ...forRange(p, p0.get, p1.get, 1, [
          [...p.get, ...i32.const(NR * 4), ...i32.mul, ...col.set],
          [...n.get, ...p.get, ...i32.const(NR), ...i32.mul, ...i32.sub, ...lanes0.set],
          [...lanes0.get, ...i32.const(4), ...i32.sub, ...lanes1.set],
          [...bp.get, ...p.get, ...kp.get, ...i32.mul, ...k0.get, ...i32.add, ...i32.const(NR * 4), ...i32.mul, ...i32.add, ...pb0.set],
          [...bias.get, ...col.get, ...i32.add, ...bcol.set],
          [...ap.get, ...pa0.set],
          forRange(i, i0.get, i1.get, MR, [
            [...useBias.get, ...if_([start((v) => [...bcol.get, ...v128.load(16 * v)])], [start(() => v128.zero)])],
            [...pa0.get, ...pa.set, ...pb0.get, ...pb.set, ...kc.get, ...kk.set],
            loop(step, addTo(pa, MR * 4), addTo(pb, NR * 4), kk.get, i32.const(1), i32.sub, kk.tee, br_if(0)),
            [...i1.get, ...i.get, ...i32.sub, ...rows.tee, ...i32.const(4), ...i32.ge_s, ...if_([store(4)], [
              [...rows.get, ...i32.const(3), ...i32.eq, ...if_([store(3)], [
                [...rows.get, ...i32.const(2), ...i32.eq, ...if_([store(2)], [store(1)])],
              ])],
            ])],
            addTo(pa0, tstride.get),
          ]),
        ]),
      ];
    },
  };
}

/**
 * gemm_packed(M, N, K, a, rs, cs, bp, c, ldc, bias, flags, mb, nb, ncb, scratch, sstride, thread, item):
 * gemm_<variant>'s item with A read through the thread's scratch (sstride
 * bytes, mb × KC floats): each K block of the item's rows is packed
 * (pack_a), then its panels run over the packed block. The same sums in the
 * same order as gemm_<variant>: only where A is read from changes.
 */
function packedItemKernel(): KernelDef {
  return {
    name: 'gemm_packed',
    params: ['M', 'N', 'K', 'a', 'rs', 'cs', 'bp', 'c', 'ldc', 'bias', 'flags', 'mb', 'nb', 'ncb', 'scratch', 'sstride', 'thread', 'item'],
    body(f, link) {
      const { M, N, K, a, rs, cs, bp, c, ldc, bias, flags, mb, nb, ncb, scratch, sstride, thread, item } = f.params as Record<string, Local>;
      const i0 = f.local(), i1 = f.local(), p0 = f.local(), p1 = f.local(), panels = f.local();
      const k0 = f.local(), kc = f.local(), fl = f.local(), ap = f.local();
      return [
        ...N.get, ...i32.const(NR - 1), ...i32.add, ...i32.const(NR), ...i32.div_u, ...panels.set,
        ...item.get, ...ncb.get, ...i32.div_u, ...mb.get, ...i32.mul, ...i0.set,
        ...i0.get, ...mb.get, ...i32.add, ...i1.set,
        ...i1.get, ...M.get, ...i32.gt_s, ...if_([[...M.get, ...i1.set]]),
        ...item.get, ...ncb.get, ...i32.rem_u, ...nb.get, ...i32.mul, ...p0.set,
        ...p0.get, ...nb.get, ...i32.add, ...p1.set,
        ...p1.get, ...panels.get, ...i32.gt_s, ...if_([[...panels.get, ...p1.set]]),
        ...scratch.get, ...thread.get, ...sstride.get, ...i32.mul, ...i32.add, ...ap.set,
        ...K.get, ...i32.eqz, ...if_([[
          ...flags.get, ...i32.const(FLAG_ADD), ...i32.and, ...i32.eqz, ...if_([[
            ...a.get, ...rs.get, ...cs.get, ...bp.get, ...K.get, ...c.get, ...ldc.get, ...bias.get,
            ...i0.get, ...i1.get, ...p0.get, ...p1.get, ...i32.const(0), ...i32.const(0), ...N.get, ...flags.get,
            ...link.call('gemm_zero'),
          ]]),
        ]]),
        ...forRange(k0, i32.const(0), K.get, KC, [
          [...K.get, ...k0.get, ...i32.sub, ...kc.set],
          [...kc.get, ...i32.const(KC), ...i32.gt_s, ...if_([[...i32.const(KC), ...kc.set]])],
          [...flags.get, ...i32.const(FLAG_ADD), ...i32.and, ...k0.get, ...i32.const(0), ...i32.gt_s, ...i32.or, ...fl.set],
          [...k0.get, ...kc.get, ...i32.add, ...K.get, ...i32.ge_s, ...if_([[...flags.get, ...i32.const(FLAG_RELU), ...i32.and, ...fl.get, ...i32.or, ...fl.set]])],
          [...a.get, ...rs.get, ...cs.get, ...i0.get, ...i1.get, ...k0.get, ...kc.get, ...ap.get, ...link.call('pack_a')],
          [...ap.get, ...bp.get, ...K.get, ...c.get, ...ldc.get, ...bias.get,
            ...i0.get, ...i1.get, ...p0.get, ...p1.get, ...k0.get, ...kc.get, ...N.get, ...fl.get,
            ...link.call('gemm_tiles_packed')],
        ]),
      ];
    },
  };
}

export function gemmKernels(): KernelDef[] {
  return [
    tilesKernel('row'), tilesKernel('col'), zeroKernel(), runKernel('row'), runKernel('col'),
    itemKernel('row'), itemKernel('col'), packKernel(),
    packAKernel(), packedTilesKernel(), packedItemKernel(),
  ];
}
