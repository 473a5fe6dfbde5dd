// PNG copies of the SVG plots, for viewers that do not show SVG, rendered in
// process (src/util/png.ts) and written atomically.
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../../util/atomic.js';
import { svgToPngBytes } from '../../util/png.js';

/** Render `svgFile` to `pngFile` at `width` pixels. */
export async function svgToPng(svgFile: string, pngFile: string, width = 900): Promise<void> {
  writeFileAtomic(pngFile, (await svgToPngBytes(readFileSync(svgFile, 'utf8'), { width, systemFonts: true })).png);
}
