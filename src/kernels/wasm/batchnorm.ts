// Batch normalisation over the channels of an NHWC tensor viewed as
// [rows, C], in two passes each way instead of the dozen generic kernels
// (Mean, SquaredDifference, Tile, Multiply, …) tfjs runs:
//   forward   stats: per channel Σx, Σx² (doubles)      then y = (x − mean)·s + β
//   backward  stats: Σdy, Σdy·(x − mean) (doubles)       then dx = k1·(dy − k2 − (x − mean)·k3)
// with s = γ/√(var + ε) and the k's per channel (see ops/batchnorm.ts).
// The statistics are summed chunk by chunk (chunks fixed by the problem size,
// combined in order), so they do not depend on the thread count.
// The _relu variants fuse a relu after the normalisation (the compiled
// step's batch norm | relu): the forward pass clamps y as the relu kernel
// does, the backward ones take dy only where the output y is positive (the
// relu's gradient, as relu_grad's mask; a masked value is +0 where relu_grad
// gives ±0), so each direction stays two passes.
import { f32, f32x4, f64, f64x2, forRange, i32, if_, ifValue, v128, type Code, type Func, type Local } from './assembler.js';
import { chunkRows } from './reduce.js';
import type { KernelDef } from './module.js';

/** For each pair of channels (and an odd last one) of a row: `pair(c2)`, `single(c)`; c2, c byte offsets of a float. */
function channelPairs(f: Func, C: Local, pair: (off: Local) => Code, single: (off: Local) => Code): Code {
  const c = f.local(), end = f.local();
  return [
    ...C.get, ...i32.const(-2), ...i32.and, ...i32.const(4), ...i32.mul, ...end.set,
    ...forRange(c, i32.const(0), end.get, 8, [pair(c)]),
    ...C.get, ...i32.const(1), ...i32.and, ...if_([single(end)]),
  ];
}

/**
 * A partial kernel's two per-channel sums for its item, zeroed: s = out + item·16·C
 * (C doubles) and q = s + 8·C (C doubles), the layout the combining pass reads.
 */
function itemSums(out: Local, item: Local, C: Local, s: Local, q: Local, c: Local): Code {
  return [
    ...out.get, ...item.get, ...C.get, ...i32.mul, ...i32.const(16), ...i32.mul, ...i32.add, ...s.set,
    ...s.get, ...C.get, ...i32.const(8), ...i32.mul, ...i32.add, ...q.set,
    ...forRange(c, i32.const(0), [...C.get, ...i32.const(16), ...i32.mul], 8, [[...s.get, ...c.get, ...i32.add, ...f64.const(0), ...f64.store()]]),
  ];
}

/** bn_stats_partial(x, rows, C, chunk, out, thread, item): out[item] = [Σx (C doubles), Σx² (C doubles)] over the chunk. */
function statsPartial(): KernelDef {
  return {
    name: 'bn_stats_partial',
    params: ['x', 'rows', 'C', 'chunk', 'out', 'thread', 'item'],
    body(f) {
      const { x, rows, C, chunk, out, item } = f.params as Record<string, Local>;
      const s = f.local(), q = f.local(), row = f.local(), c = f.local(), v = f.local('v128'), w = f.local('f64');
      return [
        ...itemSums(out, item, C, s, q, c),
        ...chunkRows(f, rows, chunk, item, (r) => [
          ...x.get, ...r.get, ...C.get, ...i32.mul, ...i32.const(4), ...i32.mul, ...i32.add, ...row.set,
          ...channelPairs(f, C, (off) => [
            ...row.get, ...off.get, ...i32.add, ...v128.load64_zero(), ...f64x2.promote_low_f32x4, ...v.set,
            // off is a float offset (4 per channel); the sums are doubles (8 per channel)
            ...s.get, ...off.get, ...i32.const(2), ...i32.mul, ...i32.add, ...c.tee, ...c.get, ...v128.load(), ...v.get, ...f64x2.add, ...v128.store(),
            ...q.get, ...off.get, ...i32.const(2), ...i32.mul, ...i32.add, ...c.tee, ...c.get, ...v128.load(), ...v.get, ...v.get, ...f64x2.mul, ...f64x2.add, ...v128.store(),
          ], (off) => [
            ...row.get, ...off.get, ...i32.add, ...f32.load(), ...f64.promote_f32, ...w.set,
            ...s.get, ...off.get, ...i32.const(2), ...i32.mul, ...i32.add, ...c.tee, ...c.get, ...f64.load(), ...w.get, ...f64.add, ...f64.store(),
            ...q.get, ...off.get, ...i32.const(2), ...i32.mul, ...i32.add, ...c.tee, ...c.get, ...f64.load(), ...w.get, ...w.get, ...f64.mul, ...f64.add, ...f64.store(),
          ]),
        ]),
      ];
    },
  };
}

/**
 * bn_grad_partial(x, dy, mean, rows, C, chunk, out, thread, item): out[item] = [Σdy, Σdy·(x − mean)] over the chunk (doubles);
 * bn_grad_partial_relu(x, y, dy, …): the same of dy where y > 0.
 */
function gradPartial(relu: boolean): KernelDef {
  return {
    name: relu ? 'bn_grad_partial_relu' : 'bn_grad_partial',
    params: relu ? ['x', 'y', 'dy', 'mean', 'rows', 'C', 'chunk', 'out', 'thread', 'item'] : ['x', 'dy', 'mean', 'rows', 'C', 'chunk', 'out', 'thread', 'item'],
    body(f) {
      const { x, y, dy, mean, rows, C, chunk, out, item } = f.params as Record<string, Local>;
      const s = f.local(), q = f.local(), row = f.local(), drow = f.local(), yrow = f.local(), c = f.local();
      const g = f.local('v128'), d = f.local('v128'), gs = f.local('f64'), ds = f.local('f64');
      // dy's floats at a row offset, masked by y > 0 for the relu variant
      const dyVec = (off: Local): Code => relu
        ? [...drow.get, ...off.get, ...i32.add, ...v128.load64_zero(), ...yrow.get, ...off.get, ...i32.add, ...v128.load64_zero(), ...v128.zero, ...f32x4.gt, ...v128.and]
        : [...drow.get, ...off.get, ...i32.add, ...v128.load64_zero()];
      const dyOne = (off: Local): Code => relu
        ? [...yrow.get, ...off.get, ...i32.add, ...f32.load(), ...f32.const(0), ...f32.gt,
          ...ifValue('f32', [[...drow.get, ...off.get, ...i32.add, ...f32.load()]], [f32.const(0)])]
        : [...drow.get, ...off.get, ...i32.add, ...f32.load()];
      return [
        ...itemSums(out, item, C, s, q, c),
        ...chunkRows(f, rows, chunk, item, (r) => [
          ...x.get, ...r.get, ...C.get, ...i32.mul, ...i32.const(4), ...i32.mul, ...i32.add, ...row.set,
          ...dy.get, ...r.get, ...C.get, ...i32.mul, ...i32.const(4), ...i32.mul, ...i32.add, ...drow.set,
          ...(relu ? [...y!.get, ...r.get, ...C.get, ...i32.mul, ...i32.const(4), ...i32.mul, ...i32.add, ...yrow.set] : []),
          ...channelPairs(f, C, (off) => [
            ...dyVec(off), ...f64x2.promote_low_f32x4, ...g.set,
            ...row.get, ...off.get, ...i32.add, ...v128.load64_zero(), ...f64x2.promote_low_f32x4,
            ...mean.get, ...off.get, ...i32.add, ...v128.load64_zero(), ...f64x2.promote_low_f32x4, ...f64x2.sub, ...d.set,
            ...s.get, ...off.get, ...i32.const(2), ...i32.mul, ...i32.add, ...c.tee, ...c.get, ...v128.load(), ...g.get, ...f64x2.add, ...v128.store(),
            ...q.get, ...off.get, ...i32.const(2), ...i32.mul, ...i32.add, ...c.tee, ...c.get, ...v128.load(), ...g.get, ...d.get, ...f64x2.mul, ...f64x2.add, ...v128.store(),
          ], (off) => [
            ...dyOne(off), ...f64.promote_f32, ...gs.set,
            ...row.get, ...off.get, ...i32.add, ...f32.load(), ...f64.promote_f32,
            ...mean.get, ...off.get, ...i32.add, ...f32.load(), ...f64.promote_f32, ...f64.sub, ...ds.set,
            ...s.get, ...off.get, ...i32.const(2), ...i32.mul, ...i32.add, ...c.tee, ...c.get, ...f64.load(), ...gs.get, ...f64.add, ...f64.store(),
            ...q.get, ...off.get, ...i32.const(2), ...i32.mul, ...i32.add, ...c.tee, ...c.get, ...f64.load(), ...gs.get, ...ds.get, ...f64.mul, ...f64.add, ...f64.store(),
          ]),
        ]),
      ];
    },
  };
}

/**
 * Row blocks of `rowsPer` rows, channels four at a time then one at a time:
 * `vec(rowOff, c)` / `one(rowOff, c)` with rowOff the row's byte offset and c
 * the channel's byte offset.
 */
function rowsByChannel(
  f: Func, rows: Local, C: Local, rowsPer: Local, item: Local,
  vec: (row: Local, c: Local) => Code, one: (row: Local, c: Local) => Code,
): Code {
  const r = f.local(), r1 = f.local(), row = f.local(), c = f.local(), end4 = f.local(), end = f.local();
  return [
    ...C.get, ...i32.const(-4), ...i32.and, ...i32.const(4), ...i32.mul, ...end4.set,
    ...C.get, ...i32.const(4), ...i32.mul, ...end.set,
    ...item.get, ...rowsPer.get, ...i32.mul, ...r.set,
    ...r.get, ...rowsPer.get, ...i32.add, ...r1.set,
    ...r1.get, ...rows.get, ...i32.gt_s, ...if_([[...rows.get, ...r1.set]]),
    ...forRange(r, r.get, r1.get, 1, [
      [...r.get, ...end.get, ...i32.mul, ...row.set],
      forRange(c, i32.const(0), end4.get, 16, [vec(row, c)]),
      forRange(c, c.get, end.get, 4, [one(row, c)]),
    ]),
  ];
}

const addr = (base: Local, row: Local | null, c: Local): Code =>
  row === null ? [...base.get, ...c.get, ...i32.add] : [...base.get, ...row.get, ...i32.add, ...c.get, ...i32.add];

/**
 * bn_fwd_apply(x, y, mean, scale, beta, rows, C, rowsPer, thread, item): y = (x − mean)·scale + beta;
 * bn_fwd_apply_relu: then relu, as the relu kernel (pmax(0, y), NaN kept).
 */
function forwardApply(relu: boolean): KernelDef {
  return {
    name: relu ? 'bn_fwd_apply_relu' : 'bn_fwd_apply',
    params: ['x', 'y', 'mean', 'scale', 'beta', 'rows', 'C', 'rowsPer', 'thread', 'item'],
    body(f) {
      const { x, y, mean, scale, beta, rows, C, rowsPer, item } = f.params as Record<string, Local>;
      const v = f.local('v128');
      const vrelu: Code = relu ? [...v.set, ...v.get, ...v128.zero, ...v.get, ...f32x4.pmax, ...v.get, ...v.get, ...f32x4.ne, ...v128.bitselect] : [];
      const srelu: Code = relu ? [...f32.const(0), ...f32.max] : [];
      return rowsByChannel(f, rows, C, rowsPer, item,
        (row, c) => [...addr(y, row, c), ...addr(x, row, c), ...v128.load(), ...addr(mean, null, c), ...v128.load(), ...f32x4.sub,
          ...addr(scale, null, c), ...v128.load(), ...f32x4.mul, ...addr(beta, null, c), ...v128.load(), ...f32x4.add, ...vrelu, ...v128.store()],
        (row, c) => [...addr(y, row, c), ...addr(x, row, c), ...f32.load(), ...addr(mean, null, c), ...f32.load(), ...f32.sub,
          ...addr(scale, null, c), ...f32.load(), ...f32.mul, ...addr(beta, null, c), ...f32.load(), ...f32.add, ...srelu, ...f32.store()]);
    },
  };
}

/**
 * bn_bwd_apply(x, dy, dx, mean, k1, k2, k3, rows, C, rowsPer, thread, item): dx = k1·(dy − k2 − (x − mean)·k3);
 * bn_bwd_apply_relu(x, y, dy, dx, …): with dy taken where y > 0.
 */
function backwardApply(relu: boolean): KernelDef {
  return {
    name: relu ? 'bn_bwd_apply_relu' : 'bn_bwd_apply',
    params: relu ? ['x', 'y', 'dy', 'dx', 'mean', 'k1', 'k2', 'k3', 'rows', 'C', 'rowsPer', 'thread', 'item']
      : ['x', 'dy', 'dx', 'mean', 'k1', 'k2', 'k3', 'rows', 'C', 'rowsPer', 'thread', 'item'],
    body(f) {
      const { x, y, dy, dx, mean, k1, k2, k3, rows, C, rowsPer, item } = f.params as Record<string, Local>;
      const dyVec = (row: Local, c: Local): Code => relu
        ? [...addr(dy, row, c), ...v128.load(), ...addr(y!, row, c), ...v128.load(), ...v128.zero, ...f32x4.gt, ...v128.and]
        : [...addr(dy, row, c), ...v128.load()];
      const dyOne = (row: Local, c: Local): Code => relu
        ? [...addr(y!, row, c), ...f32.load(), ...f32.const(0), ...f32.gt, ...ifValue('f32', [[...addr(dy, row, c), ...f32.load()]], [f32.const(0)])]
        : [...addr(dy, row, c), ...f32.load()];
      return rowsByChannel(f, rows, C, rowsPer, item,
        (row, c) => [...addr(dx, row, c),
          ...dyVec(row, c), ...addr(k2, null, c), ...v128.load(), ...f32x4.sub,
          ...addr(x, row, c), ...v128.load(), ...addr(mean, null, c), ...v128.load(), ...f32x4.sub, ...addr(k3, null, c), ...v128.load(), ...f32x4.mul,
          ...f32x4.sub, ...addr(k1, null, c), ...v128.load(), ...f32x4.mul, ...v128.store()],
        (row, c) => [...addr(dx, row, c),
          ...dyOne(row, c), ...addr(k2, null, c), ...f32.load(), ...f32.sub,
          ...addr(x, row, c), ...f32.load(), ...addr(mean, null, c), ...f32.load(), ...f32.sub, ...addr(k3, null, c), ...f32.load(), ...f32.mul,
          ...f32.sub, ...addr(k1, null, c), ...f32.load(), ...f32.mul, ...f32.store()]);
    },
  };
}

export function batchNormKernels(): KernelDef[] {
  return [statsPartial(), gradPartial(false), gradPartial(true), forwardApply(false), forwardApply(true), backwardApply(false), backwardApply(true)];
}

