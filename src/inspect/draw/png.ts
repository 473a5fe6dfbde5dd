// SVG → PNG in process with resvg (no rsvg-convert, no system fonts): the
// diagram's text is set in the DejaVu Sans subset that ships beside this file,
// the same font its boxes were measured with, so a PNG looks the same on
// every machine, including one with no font installed at all.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// src/inspect/draw/png.ts and dist/inspect/draw/png.js are equally deep: both find src/inspect/draw/fonts
export const FONT_FILES = ['DejaVuSans.subset.ttf', 'DejaVuSans-Bold.subset.ttf'].map((f) => fileURLToPath(new URL(`../../../src/inspect/draw/fonts/${f}`, import.meta.url)));

/** More pixels than this is no longer a picture anyone opens; the scale is lowered to fit. */
export const MAX_PIXELS = 16e6;

export interface PngOptions {
  /** device pixels per SVG pixel (default 2: sharp on high-density screens) */
  scale?: number;
}

export async function svgToPng(svg: string, opts: PngOptions = {}): Promise<{ png: Buffer; width: number; height: number; scale: number }> {
  const missing = FONT_FILES.filter((f) => !existsSync(f));
  if (missing.length) throw new Error(`the diagram font is missing from this installation (${missing.join(', ')})`);
  const { Resvg } = await import('@resvg/resvg-js');
  const size = /<svg[^>]*\swidth="([\d.]+)"[^>]*\sheight="([\d.]+)"/.exec(svg);
  const w = size ? Number(size[1]) : 1;
  const h = size ? Number(size[2]) : 1;
  let scale = opts.scale ?? 2;
  if (w * h * scale * scale > MAX_PIXELS) scale = Math.max(0.25, Math.floor(Math.sqrt(MAX_PIXELS / (w * h)) * 100) / 100);
  const r = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    font: { loadSystemFonts: false, fontFiles: FONT_FILES, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
    background: '#ffffff',
    shapeRendering: 2,
    textRendering: 1,
    logLevel: 'off',
  });
  const img = r.render();
  return { png: img.asPng(), width: img.width, height: img.height, scale };
}
