// The Winograd transforms' constants (src/kernels/wasm/winograd.ts)
// satisfy the identity they stand for, in float64 where only rounding at
// 1e-15 remains: for any α×α input tile d and r×r filter g,
//   Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A = the m×m valid correlation of d with g.
// A wrong constant anywhere makes some output differ by O(1).
import { describe, expect, it } from 'vitest';
import { WINO3, WINO43, WINO5, type WinoSpec } from '../../src/kernels/wasm/winograd.js';
import { randomStream } from './random.js';

type M = number[][];
const mul = (a: M, b: M): M => a.map((row) => b[0]!.map((_, j) => row.reduce((s, v, k) => s + v * b[k]![j]!, 0)));
const tr = (a: M): M => a[0]!.map((_, j) => a.map((row) => row[j]!));

describe.each([WINO3, WINO43, WINO5].map((s) => ({ name: `F(${s.m}×${s.m}, ${s.r}×${s.r})`, spec: s })))('$name', ({ spec }: { spec: WinoSpec }) => {
  it('has the shapes of its m, r and α', () => {
    expect(spec.alpha).toBe(spec.m + spec.r - 1);
    expect([spec.BT.length, spec.BT[0]!.length]).toEqual([spec.alpha, spec.alpha]);
    expect([spec.G.length, spec.G[0]!.length]).toEqual([spec.alpha, spec.r]);
    expect([spec.AT.length, spec.AT[0]!.length]).toEqual([spec.m, spec.alpha]);
  });
  it('computes the valid correlation of a tile', () => {
    const { rand } = randomStream(spec.m * 10 + spec.r);
    for (let trial = 0; trial < 20; trial++) {
      const d: M = Array.from({ length: spec.alpha }, () => Array.from(rand(spec.alpha)));
      const g: M = Array.from({ length: spec.r }, () => Array.from(rand(spec.r)));
      const U = mul(mul(spec.G, g), tr(spec.G));
      const V = mul(mul(spec.BT, d), tr(spec.BT));
      const Y = mul(mul(spec.AT, U.map((row, i) => row.map((u, j) => u * V[i]![j]!))), tr(spec.AT));
      for (let i = 0; i < spec.m; i++) {
        for (let j = 0; j < spec.m; j++) {
          let want = 0;
          for (let p = 0; p < spec.r; p++) for (let q = 0; q < spec.r; q++) want += d[i + p]![j + q]! * g[p]![q]!;
          expect(Math.abs(Y[i]![j]! - want)).toBeLessThan(1e-12);
        }
      }
    }
  });
});
