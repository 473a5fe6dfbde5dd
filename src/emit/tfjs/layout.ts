// Weight layouts: canonical (ONNX / PyTorch) ↔ tfjs. Pure JS, no tfjs needed,
// so reading a saved model's weights into an ONNX file does not load tfjs.
import type { TfjsLayout } from '../../layers/types.js';

/** The tfjs shape of a canonical weight. */
export function tfjsShape(canonical: readonly number[], layout: TfjsLayout): number[] {
  switch (layout) {
    case 'same':
      return [...canonical];
    case 'flat':
      return [canonical.reduce((a, b) => a * b, 1)];
    case 'hwc':
      return [1, 1, canonical.reduce((a, b) => a * b, 1)];
    case 'oihw': {
      const [o, i, h, w] = canonical as [number, number, number, number];
      return [h, w, i, o];
    }
    case 'oi': {
      const [o, i] = canonical as [number, number];
      return [i, o];
    }
    default: {
      const never: never = layout;
      throw new Error(`unhandled layout ${String(never)}`);
    }
  }
}

/** Canonical values → tfjs values. */
export function toTfjs(data: Float32Array, canonical: readonly number[], layout: TfjsLayout): Float32Array {
  return convert(data, canonical, layout, true);
}

/** tfjs values → canonical values (`canonical` is the canonical shape). */
export function fromTfjs(data: Float32Array, canonical: readonly number[], layout: TfjsLayout): Float32Array {
  return convert(data, canonical, layout, false);
}

function convert(data: Float32Array, canonical: readonly number[], layout: TfjsLayout, forward: boolean): Float32Array {
  if (layout === 'same' || layout === 'flat' || layout === 'hwc') return data;
  const out = new Float32Array(data.length);
  if (layout === 'oi') {
    const [o, i] = canonical as [number, number];
    // canonical [o, i] index a*i + b ↔ tfjs [i, o] index b*o + a
    for (let a = 0; a < o; a++)
      for (let b = 0; b < i; b++) {
        if (forward) out[b * o + a] = data[a * i + b]!;
        else out[a * i + b] = data[b * o + a]!;
      }
    return out;
  }
  const [O, I, H, W] = canonical as [number, number, number, number];
  for (let o = 0; o < O; o++)
    for (let i = 0; i < I; i++)
      for (let h = 0; h < H; h++)
        for (let w = 0; w < W; w++) {
          const c = ((o * I + i) * H + h) * W + w;
          const t = ((h * W + w) * I + i) * O + o;
          if (forward) out[t] = data[c]!;
          else out[c] = data[t]!;
        }
  return out;
}
