// Text as the diagram prints it: widths from the embedded font's metrics (so a
// box fits its label in the PNG exactly, and in a browser whose fallback font
// is narrower than DejaVu Sans), shapes as 64×56×56, counts with separators.
import { BOLD, REGULAR } from './metrics.js';

const WIDEST_REGULAR = Math.max(...REGULAR.values());
const WIDEST_BOLD = Math.max(...BOLD.values());

/** Width in pixels of `text` at `size` px in DejaVu Sans (bold or regular). */
export function textWidth(text: string, size: number, bold = false): number {
  const table = bold ? BOLD : REGULAR;
  const widest = bold ? WIDEST_BOLD : WIDEST_REGULAR;
  let em = 0;
  for (const ch of text) em += table.get(ch.codePointAt(0)!) ?? widest;
  return em * size;
}

/** `64×56×56`: shapes on edges and in boxes (the brackets of `[64, 56, 56]` add nothing there). */
export function shapeText(shape: readonly number[]): string {
  return shape.length ? shape.join('×') : 'scalar';
}

export const int = (n: number): string => n.toLocaleString('en-US');

/** 11.69 M, 2.35 k: for totals next to the exact count */
export function human(n: number): string {
  for (const [v, p] of [
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ] as const) {
    if (n >= v) return `${(n / v).toFixed(2)} ${p}`;
  }
  return String(n);
}

/** Escape for XML text and attribute values. */
export function xml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

type Value = number | boolean | string | Value[];

/** `VGG19(classes = 1000)`: the network with its parameters as they were set */
export function networkTitle(name: string, params: Record<string, Value>): string {
  const v = (x: Value): string => (Array.isArray(x) ? `[${x.map(v).join(', ')}]` : String(x));
  const list = Object.entries(params).map(([k, x]) => `${k} = ${v(x)}`);
  return list.length ? `${name}(${list.join(', ')})` : name;
}
