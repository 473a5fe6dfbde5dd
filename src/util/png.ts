// SVG → PNG in process, with resvg (@resvg/resvg-js: a Rust SVG renderer,
// prebuilt for every platform npm serves; no system tool needed). Text is set
// in the DejaVu Sans subset that ships in src/fonts (ASCII, Latin-1, arrows:
// what alexnetc writes), so a PNG looks the same on every machine, including
// one without any font installed; `systemFonts` adds the machine's fonts for
// text outside the subset (class names from image folders).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// src/util/png.ts and dist/util/png.js are equally deep: both find src/fonts
export const FONT_FILES = ['DejaVuSans.subset.ttf', 'DejaVuSans-Bold.subset.ttf'].map((f) => fileURLToPath(new URL(`../../src/fonts/${f}`, import.meta.url)));

export interface PngOptions {
  /** output width in pixels (the height follows the aspect ratio); else `scale` */
  width?: number;
  /** device pixels per SVG pixel (default 1) */
  scale?: number;
  /** default white: PNG viewers show transparency as black or checkers */
  background?: string;
  /** also use the machine's fonts, for characters the embedded subset lacks */
  systemFonts?: boolean;
}

export async function svgToPngBytes(svg: string, opts: PngOptions = {}): Promise<{ png: Buffer; width: number; height: number }> {
  const missing = FONT_FILES.filter((f) => !existsSync(f));
  if (missing.length) throw new Error(`alexnetc's font is missing from this installation (${missing.join(', ')})`);
  const { Resvg } = await import('@resvg/resvg-js');
  const r = new Resvg(svg, {
    background: opts.background ?? '#ffffff',
    fitTo: opts.width ? { mode: 'width', value: opts.width } : { mode: 'zoom', value: opts.scale ?? 1 },
    font: { loadSystemFonts: opts.systemFonts === true, fontFiles: FONT_FILES, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
    shapeRendering: 2,
    textRendering: 1,
    logLevel: 'off',
  });
  const img = r.render();
  return { png: img.asPng(), width: img.width, height: img.height };
}
