// Seeded randomness for shuffling, splitting and augmentation: the same seed
// gives the same run, and a resumed run can rebuild any epoch's stream.

/** mulberry32: small, fast, good enough for data order and augmentation. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seed derived from a base seed and a stream name/number (e.g. the epoch). */
export function deriveSeed(seed: number, ...parts: Array<number | string>): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (const p of parts) {
    const s = String(p);
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
    h = Math.imul(h ^ 0xff, 0x01000193) >>> 0;
  }
  return h;
}

/** A seeded Fisher–Yates permutation of 0..n-1. */
export function permutation(n: number, random: () => number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = p[i]!; p[i] = p[j]!; p[j] = t;
  }
  return p;
}
