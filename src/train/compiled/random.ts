// Dropout's masks as the tfjs path draws them, so that the compiled step and
// tfjs train to the same losses from the same seed. tfjs's dropout op
// (tf.dropout, which the Dropout layer, drop path's per-example Dropout and
// the attention weights' dropout all call) draws one Math.random() — which the
// engine replaces by the step's seeded stream — turns it into a string, seeds
// seedrandom's Alea with it, and takes one Alea value per element of the
// noise shape in row-major order, rounded to float32; the multiplier is
// floor(u + keep) / keep in float32 arithmetic (keep = 1 − rate as a float32).

/** seedrandom's Alea (Johannes Baagøe's generator), as tfjs's UniformRandom seeds it. */
function alea(seed: string): () => number {
  let n = 0xefc8249d;
  const mash = (data: string): number => {
    for (let i = 0; i < data.length; i++) {
      n += data.charCodeAt(i);
      let h = 0.02519603282416938 * n;
      n = h >>> 0;
      h -= n;
      h *= n;
      n = h >>> 0;
      h -= n;
      n += h * 0x100000000;
    }
    return (n >>> 0) * 2.3283064365386963e-10;
  };
  let c = 1;
  let s0 = mash(' '), s1 = mash(' '), s2 = mash(' ');
  s0 -= mash(seed);
  if (s0 < 0) s0 += 1;
  s1 -= mash(seed);
  if (s1 < 0) s1 += 1;
  s2 -= mash(seed);
  if (s2 < 0) s2 += 1;
  return () => {
    const t = 2091639 * s0 + c * 2.3283064365386963e-10;
    s0 = s1;
    s1 = s2;
    return (s2 = t - (c = t | 0));
  };
}

/**
 * The multipliers of one tf.dropout call with `count` noise values: 0 or
 * 1/keep (float32), drawn as tfjs draws them from `random` (one value of it
 * seeds the call's generator).
 */
export function dropoutMultipliers(random: () => number, rate: number, count: number, out: Float32Array = new Float32Array(count)): Float32Array {
  const next = alea(String(random()));
  const keep = Math.fround(1 - rate), scale = Math.fround(1 / keep);
  for (let i = 0; i < count; i++) out[i] = Math.floor(Math.fround(Math.fround(next()) + keep)) >= 1 ? scale : 0;
  return out;
}
