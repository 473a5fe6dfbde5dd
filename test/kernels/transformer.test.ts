// The compiled step's transformer kernels (src/kernels/wasm/transformer.ts)
// against plain references of the arithmetic they promise, on odd sizes:
// bmm_tn against Aᵀ·B summed k in order in float32 (bit for bit, as bmm_nn
// sums), softmax_grad_rows against the tfjs path's float32 loop (bit for
// bit), layer norm forward and gradient against the double-precision loops
// of src/kernels/layernorm.ts (to the last float32 ulp).
import { describe, expect, it } from 'vitest';
import { runtime, type Runtime } from '../../src/kernels/runtime/index.js';
import { createRng } from '../../src/util/rng.js';
import { skipping } from '../skip.js';

const fr = Math.fround;

function values(n: number, key: string): Float32Array {
  const r = createRng(7, key);
  return Float32Array.from({ length: n }, () => fr(2 * r.next() - 1));
}

/** Blocks of the heap holding these arrays (and empty ones of these sizes); freed after f. */
function onHeap<T>(rt: Runtime, arrays: Array<Float32Array | number>, f: (ps: number[]) => T): T {
  const ps = arrays.map((a) => rt.heap.allocF32(typeof a === 'number' ? a : a.length));
  arrays.forEach((a, i) => { if (typeof a !== 'number') rt.heap.f32.set(a, ps[i]! / 4); });
  try {
    return f(ps);
  } finally {
    for (const p of ps) rt.heap.free_(p);
  }
}

const read = (rt: Runtime, p: number, n: number): Float32Array => rt.heap.f32.slice(p / 4, p / 4 + n);

describe.skipIf(skipping('transformer kernels', runtime() === null && 'the WebAssembly kernels could not start in this process'))('transformer kernels', () => {
  const rt = runtime()!;

  for (const [M, N, K] of [[50, 16, 50], [7, 37, 5], [10, 4, 10], [3, 33, 1]] as const) {
    it(`bmm_tn: [${K}, ${M}]ᵀ · [${K}, ${N}] bit for bit`, () => {
      const batch = 3, a = values(batch * K * M, 'a'), b = values(batch * K * N, 'b');
      const want = new Float32Array(batch * M * N);
      for (let t = 0; t < batch; t++) {
        for (let i = 0; i < M; i++) {
          for (let j = 0; j < N; j++) {
            let s = 0;
            for (let k = 0; k < K; k++) s = fr(s + fr(a[t * K * M + k * M + i]! * b[t * K * N + k * N + j]!));
            want[(t * M + i) * N + j] = s;
          }
        }
      }
      const got = onHeap(rt, [a, b, batch * M * N], ([pa, pb, pc]) => {
        rt.parallel('bmm_tn', batch, [pa!, pb!, pc!, M, N, K]);
        return read(rt, pc!, batch * M * N);
      });
      expect(Array.from(got)).toEqual(Array.from(want));
    });
  }

  for (const n of [50, 9, 4, 3]) {
    it(`softmax_grad_rows: rows of ${n} bit for bit`, () => {
      const rows = 37, y = values(rows * n, 'y'), dy = values(rows * n, 'dy');
      const want = new Float32Array(rows * n);
      for (let r = 0; r < rows * n; r += n) {
        let dot = 0;
        for (let i = r; i < r + n; i++) dot = fr(dot + fr(dy[i]! * y[i]!));
        for (let i = r; i < r + n; i++) want[i] = fr(fr(dy[i]! * y[i]!) - fr(dot * y[i]!));
      }
      const got = onHeap(rt, [y, dy, rows * n], ([py, pd, px]) => {
        rt.parallel('softmax_grad_rows', Math.ceil(rows / 5), [py!, pd!, px!, rows, n, 5]);
        return read(rt, px!, rows * n);
      });
      expect(Array.from(got)).toEqual(Array.from(want));
    });
  }

  for (const D of [64, 9, 1]) {
    it(`layer norm over rows of ${D}: forward and gradient as the fast kernel's doubles`, () => {
      const rows = 23, eps = 1e-6, rowsPer = 4, items = Math.ceil(rows / rowsPer);
      const x = values(rows * D, 'x'), g = values(D, 'g'), b = values(D, 'b'), dy = values(rows * D, 'dy');
      const epsBlock = new Float32Array(new Float64Array([eps]).buffer);
      const wantY = new Float32Array(rows * D), mean = new Float32Array(rows), rstd = new Float32Array(rows);
      const wantDx = new Float32Array(rows * D), sg = new Float64Array(D), sb = new Float64Array(D);
      for (let r = 0; r < rows; r++) {
        const o = r * D;
        let s = 0, q = 0;
        for (let j = 0; j < D; j++) s += x[o + j]!;
        const m = s / D;
        for (let j = 0; j < D; j++) q += (x[o + j]! - m) ** 2;
        const inv = 1 / Math.sqrt(q / D + eps);
        mean[r] = m;
        rstd[r] = inv;
        for (let j = 0; j < D; j++) wantY[o + j] = (x[o + j]! - m) * inv * g[j]! + b[j]!;
        const m32 = mean[r]!, inv32 = rstd[r]!;
        let s1 = 0, s2 = 0;
        for (let j = 0; j < D; j++) {
          const xh = (x[o + j]! - m32) * inv32, gh = dy[o + j]! * g[j]!;
          s1 += gh;
          s2 += gh * xh;
          sg[j] += dy[o + j]! * xh;
          sb[j] += dy[o + j]!;
        }
        for (let j = 0; j < D; j++) wantDx[o + j] = inv32 * (dy[o + j]! * g[j]! - s1 / D - (x[o + j]! - m32) * inv32 * (s2 / D));
      }
      const [y, mu, rs, dx, dg, db] = onHeap(rt, [x, g, b, dy, epsBlock, rows * D, rows, rows, rows * D, items * 4 * D + 4],
        ([px, pg, pb, pdy, pe, py, pm, pr, pdx, pp]) => {
          rt.parallel('ln_fwd_rows', items, [px!, py!, pm!, pr!, pg!, pb!, rows, D, pe!, rowsPer]);
          rt.parallel('ln_grad_rows', items, [px!, pdy!, pg!, pm!, pr!, pdx!, pp!, rows, D, rowsPer]);
          const partials = new Float64Array(rt.heap.f32.buffer, pp!, items * 2 * D);
          const dgs = new Float32Array(D), dbs = new Float32Array(D);
          for (let j = 0; j < D; j++) {
            let u = 0, v = 0;
            for (let k = 0; k < items; k++) {
              u += partials[k * 2 * D + j]!;
              v += partials[k * 2 * D + D + j]!;
            }
            dgs[j] = u;
            dbs[j] = v;
          }
          return [read(rt, py!, rows * D), read(rt, pm!, rows), read(rt, pr!, rows), read(rt, pdx!, rows * D), dgs, dbs];
        });
      const ulps = (got: Float32Array, want: Float32Array | Float64Array): number => {
        let worst = 0;
        for (let i = 0; i < want.length; i++) {
          const w = fr(want[i]!), ulp = Math.max(Math.abs(w) * 2 ** -23, 2 ** -126);
          worst = Math.max(worst, Math.abs(got[i]! - w) / ulp);
        }
        return worst;
      };
      expect(ulps(mu!, mean)).toBeLessThanOrEqual(1);
      expect(ulps(rs!, rstd)).toBeLessThanOrEqual(1);
      expect(ulps(y!, wantY)).toBeLessThanOrEqual(1);
      expect(ulps(dx!, wantDx)).toBeLessThanOrEqual(1);
      expect(ulps(dg!, sg)).toBeLessThanOrEqual(1);
      expect(ulps(db!, sb)).toBeLessThanOrEqual(1);
    });
  }
});
