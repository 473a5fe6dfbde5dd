// Diagrams as PNG: the SVG rendered in process (src/util/png.ts) with the
// embedded DejaVu Sans subset only — the font the boxes were measured with
// (metrics.ts) — so a PNG looks the same on every machine.
import { svgToPngBytes } from '../../util/png.js';

/** More pixels than this is no longer a picture anyone opens; the scale is lowered to fit. */
export const MAX_PIXELS = 16e6;

export interface PngOptions {
  /** device pixels per SVG pixel (default 2: sharp on high-density screens) */
  scale?: number;
}

export async function svgToPng(svg: string, opts: PngOptions = {}): Promise<{ png: Buffer; width: number; height: number; scale: number }> {
  const size = /<svg[^>]*\swidth="([\d.]+)"[^>]*\sheight="([\d.]+)"/.exec(svg);
  const w = size ? Number(size[1]) : 1;
  const h = size ? Number(size[2]) : 1;
  let scale = opts.scale ?? 2;
  if (w * h * scale * scale > MAX_PIXELS) scale = Math.max(0.25, Math.floor(Math.sqrt(MAX_PIXELS / (w * h)) * 100) / 100);
  return { ...(await svgToPngBytes(svg, { scale })), scale };
}
