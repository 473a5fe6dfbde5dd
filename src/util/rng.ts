// The project's one source of seeded randomness: sfc32 streams keyed by
// (seed, key). Weight initialisation gives every weight tensor its own stream,
// so tensors can be generated one at a time, in any order, by any back end,
// and still come out bit-identical; training derives its data order,
// validation split, augmentation and dropout streams the same way, so a run
// is a function of its seed and can be replayed from any (epoch, step).
import type { WeightSpec } from '../layers/types.js';

/** A stream of uniformly distributed 32-bit unsigned integers. */
export interface Rng {
  /** next uint32 */
  nextU32(): number;
  /** next float in [0, 1) with 24 random bits (exactly representable in float32) */
  next(): number;
}

const utf8 = new TextEncoder();

/**
 * 128-bit hash of (seed, key), cyrb128-style: four independent 32-bit
 * murmur-like lanes over the UTF-8 bytes of the key, mixed with both halves
 * of the seed. Not cryptographic; it only has to decorrelate streams.
 */
function hash128(seed: number, key: string): [number, number, number, number] {
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 0x1_0000_0000) >>> 0;
  let h1 = 0x6a09e667 ^ lo;
  let h2 = 0xbb67ae85 ^ hi;
  let h3 = 0x3c6ef372 ^ lo;
  let h4 = 0xa54ff53a ^ hi;
  for (const b of utf8.encode(key)) {
    h1 = h2 ^ Math.imul(h1 ^ b, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ b, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ b, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ b, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}

/** sfc32 (Chris Doty-Humphrey's small fast chaotic PRNG): fast, passes PractRand, 32-bit integer ops only. */
export function createRng(seed: number, key: string): Rng {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be a non-negative integer, got ${seed}`);
  let [a, b, c, d] = hash128(seed, key);
  const nextU32 = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  // A few rounds so that nearby keys do not start from correlated states.
  for (let i = 0; i < 15; i++) nextU32();
  return { nextU32, next: () => (nextU32() >>> 8) / 0x100_0000 };
}

/** Number of elements of a tensor of this shape. */
export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * The initial value of one weight tensor. `key` is `${path}.${weightName}`,
 * e.g. `stage2/conv1.weight`; the stream depends only on (seed, key).
 */
export function initWeight(spec: WeightSpec, seed: number, key: string): Float32Array {
  const out = new Float32Array(sizeOf(spec.shape));
  const init = spec.init;
  switch (init.kind) {
    case 'zeros':
      break;
    case 'ones':
      out.fill(1);
      break;
    case 'constant':
      out.fill(init.value);
      break;
    case 'he_uniform': {
      const limit = Math.sqrt(6 / init.fanIn);
      const rng = createRng(seed, key);
      for (let i = 0; i < out.length; i++) out[i] = limit * (2 * rng.next() - 1);
      break;
    }
    case 'normal': {
      // Box–Muller: two uniforms in (0, 1] give two independent normals
      const rng = createRng(seed, key);
      for (let i = 0; i < out.length; i += 2) {
        const r = Math.sqrt(-2 * Math.log(1 - rng.next()));
        const a = 2 * Math.PI * rng.next();
        out[i] = init.std * r * Math.cos(a);
        if (i + 1 < out.length) out[i + 1] = init.std * r * Math.sin(a);
      }
      break;
    }
    default: {
      const never: never = init;
      throw new Error(`unhandled weight init ${(never as { kind: string }).kind}`);
    }
  }
  return out;
}

/** A stream of floats in [0, 1) for a 32-bit seed (e.g. from deriveSeed). */
export function rng(seed: number): () => number {
  return createRng(seed >>> 0, '').next;
}

/** A 32-bit seed derived from a base seed and a stream name/number (e.g. the epoch). */
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
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}
