// PNG copies of the SVG plots, for viewers that do not show SVG. Rendering
// SVG well needs a real renderer: librsvg's `rsvg-convert` (Debian's
// librsvg2-bin) when it is installed; without it the SVGs stand alone.
import { spawnSync } from 'node:child_process';
import { renameSync, rmSync } from 'node:fs';

let available: boolean | undefined;

export function canRenderPng(): boolean {
  available ??= spawnSync('rsvg-convert', ['--version'], { stdio: 'ignore' }).status === 0;
  return available;
}

/** Render `svgFile` to `pngFile` (atomically); false when no renderer is installed or it failed. */
export function svgToPng(svgFile: string, pngFile: string, width = 900): boolean {
  if (!canRenderPng()) return false;
  const tmp = `${pngFile}.tmp-${process.pid}`;
  const r = spawnSync('rsvg-convert', ['--width', String(width), '--keep-aspect-ratio', '--background-color', 'white', '-o', tmp, svgFile], { stdio: 'ignore' });
  if (r.status !== 0) {
    rmSync(tmp, { force: true });
    return false;
  }
  renameSync(tmp, pngFile);
  return true;
}
