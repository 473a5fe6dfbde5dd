// Driving the layer-norm kernels (ln_fwd_rows, ln_grad_rows of wasm/transformer.ts)
// from JavaScript, for both the tfjs kernel (kernels/layernorm.ts) and the compiled
// step (train/compiled/tokens.ts), so that both paths compute the same numbers:
// blocks of rows over the threads, a block's size fixed by the row length (never by
// the thread count); gamma's and beta's gradients as per-block sums in doubles,
// added in block order.
import type { Io } from '../runtime/tensors.js';

/** Rows per layer-norm item: fixed by the row length, so that results never depend on the thread count. */
const lnRows = (D: number): number => Math.max(1, Math.ceil(4096 / D));

/** Too little work to wake the second thread. */
const serial = (rows: number, D: number): boolean => rows * D < 1 << 14;

/**
 * y = (x − mean) · rstd · gamma + beta over each of `rows` rows of D floats at x,
 * keeping each row's mean and 1/σ; `eps` is the address of ε as a double (8-aligned).
 */
export function layerNormRows(io: Io, x: number, y: number, mean: number, rstd: number, gamma: number, beta: number, rows: number, D: number, eps: number): void {
  const per = lnRows(D);
  io.rt.parallel('ln_fwd_rows', Math.ceil(rows / per), [x, y, mean, rstd, gamma, beta, rows, D, eps, per], serial(rows, D));
}

/** Layer norm's gradient: dx (address, or 0 for none) and gamma's and beta's gradients into dgamma and dbeta. */
export function layerNormGradRows(io: Io, x: number, dy: number, gamma: number, mean: number, rstd: number, dx: number, rows: number, D: number, dgamma: Float32Array, dbeta: Float32Array): void {
  const per = lnRows(D), items = Math.ceil(rows / per);
  const partials = (io.temp(items * 4 * D + 2) + 7) & ~7;
  io.rt.parallel('ln_grad_rows', items, [x, dy, gamma, mean, rstd, dx, partials, rows, D, per], serial(rows, D));
  // the items' Σ dy·x̂ and Σ dy per column (doubles), added in item order
  const f64 = new Float64Array(io.heap.f32.buffer, partials, items * 2 * D);
  for (let j = 0; j < D; j++) {
    let sg = 0, sb = 0;
    for (let k = 0; k < items; k++) {
      sg += f64[k * 2 * D + j]!;
      sb += f64[k * 2 * D + D + j]!;
    }
    dgamma[j] = sg;
    dbeta[j] = sb;
  }
}
