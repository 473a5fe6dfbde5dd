// Driving the pooling kernels (wasm/pool.ts) from JavaScript, for both the
// tfjs kernels (kernels/pool.ts) and the compiled step (train/compiled/ops.ts),
// so that both paths run the same calls: windows that tile the image (2×2
// stride 2, …) take the _tile kernels (max pooling), any other the general
// ones. Items are output rows (forward) or bands of them (gradient); how many
// never changes a result.
import { poolCovers, poolTiles } from '../wasm/pool.js';
import type { Io } from '../runtime/tensors.js';
import { bandRows, geomBlock, zeroFill, type ConvGeom } from './conv.js';

const small = (g: ConvGeom): boolean => g.N * g.OH * g.OW * g.C * g.FH * g.FW < 1 << 16;

/** y = pool(x) over the windows of g (F = C); returns y, an output of io. */
export function poolForward(io: Io, kind: 'max' | 'avg', g: ConvGeom, x: number): { p: number; view: Float32Array } {
  const rows = g.N * g.OH;
  const y = io.output(rows * g.OW * g.C);
  const rowsPer = Math.max(1, Math.ceil(rows / (8 * io.rt.threads)));
  const kernel = kind === 'max' && poolTiles(g) ? 'maxpool_tile_fwd' : `${kind}pool_fwd`;
  io.rt.parallel(kernel, Math.ceil(rows / rowsPer), [geomBlock(io, g), x, y.p, rowsPer], small(g));
  return y;
}

/** Whether poolBackward can take the gradient of a relu before the pool along (max pooling whose windows tile). */
export function poolFusesRelu(kind: 'max' | 'avg', g: Omit<ConvGeom, 'N'>): boolean {
  return kind === 'max' && poolTiles(g);
}

/**
 * dx of a pool from dy (max pooling: the first maximum of each window, from
 * x and y; average: dy spread over the window's cells inside the image).
 * `relu` (only where poolFusesRelu): x is a relu's output, and dx is the
 * gradient at the relu's input, as relu_grad of the pool's dx would give.
 */
export function poolBackward(io: Io, kind: 'max' | 'avg', g: ConvGeom, x: number, y: number, dy: number, relu = false): { p: number; view: Float32Array } {
  if (relu && !poolFusesRelu(kind, g)) throw new Error('internal: poolBackward fuses a relu only into max pooling whose windows tile');
  const n = g.N * g.H * g.W * g.C;
  const dx = io.output(n);
  const geom = geomBlock(io, g);
  if (kind === 'max' && poolTiles(g)) {
    // each cell of a window written once; cells outside every window stay 0
    if (!poolCovers(g)) zeroFill(io, dx.p, n);
    const rows = g.N * g.OH;
    const rowsPer = Math.max(1, Math.ceil(rows / (8 * io.rt.threads)));
    io.rt.parallel('maxpool_tile_grad', Math.ceil(rows / rowsPer), [geom, x, y, dy, dx.p, rowsPer, relu ? 1 : 0], small(g));
    return dx;
  }
  zeroFill(io, dx.p, n);
  const { bh, nbands } = bandRows(g, 1 << 14);
  const inputs = kind === 'max' ? [x, y, dy] : [dy];
  // max: a "found" mask per channel for each thread
  const extra = kind === 'max' ? [io.temp(io.rt.threads * g.C + 4)] : [];
  for (const phase of [0, 1]) {
    const per = (nbands - phase + 1) >> 1;
    io.rt.parallel(`${kind}pool_grad`, g.N * per, [geom, ...inputs, dx.p, phase, bh, nbands, ...extra], small(g));
  }
  return dx;
}
