// The pictures: pixels are drawn directly (pngjs) — every activation and
// heat value is one block of screen pixels, nearest-neighbour, no smoothing
// that would invent detail — and wrapped in a small SVG for the titles and
// the colour bar, rendered to PNG in process (resvg, src/util/png.ts). The
// raster is embedded at 1:1, so resvg never resamples it.
import { PNG } from 'pngjs';
import { svgToPngBytes } from '../../util/png.js';
import { INFERNO, VIRIDIS, type ColorMap } from './colormap.js';

/** An RGB raster, white to start with. */
export class Raster {
  readonly data: Uint8Array;
  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.data = new Uint8Array(width * height * 4).fill(255);
  }
  /** fill an s × s block (clipped) */
  block(x: number, y: number, s: number, rgb: readonly number[]): void {
    for (let yy = y; yy < Math.min(y + s, this.height); yy++)
      for (let xx = x; xx < Math.min(x + s, this.width); xx++) {
        const o = 4 * (yy * this.width + xx);
        this.data[o] = rgb[0]!;
        this.data[o + 1] = rgb[1]!;
        this.data[o + 2] = rgb[2]!;
      }
  }
  png(): Uint8Array {
    const png = new PNG({ width: this.width, height: this.height });
    png.data = Buffer.from(this.data.buffer, this.data.byteOffset, this.data.byteLength);
    return new Uint8Array(PNG.sync.write(png, { colorType: 2 }));
  }
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const FONT = "font-family=\"DejaVu Sans, sans-serif\"";
const MARGIN = 16;

function imageTag(r: Raster, x: number, y: number): string {
  const b64 = Buffer.from(r.png()).toString('base64');
  return `<image x="${x}" y="${y}" width="${r.width}" height="${r.height}" style="image-rendering:optimizeSpeed" href="data:image/png;base64,${b64}"/>`;
}

function colorBar(map: { stops: readonly string[] }, id: string, x: number, y: number, w: number, low: string, high: string): string {
  const stops = map.stops.map((c, i) => `<stop offset="${(i / (map.stops.length - 1)).toFixed(3)}" stop-color="${c}"/>`).join('');
  return (
    `<defs><linearGradient id="${id}">${stops}</linearGradient></defs>` +
    `<rect x="${x}" y="${y}" width="${w}" height="10" fill="url(#${id})" stroke="#888" stroke-width="0.5"/>` +
    `<text x="${x}" y="${y + 24}" font-size="11" fill="#555" ${FONT}>${esc(low)}</text>` +
    `<text x="${x + w}" y="${y + 24}" font-size="11" fill="#555" text-anchor="end" ${FONT}>${esc(high)}</text>`
  );
}

async function page(width: number, height: number, body: string): Promise<Uint8Array> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${body}</svg>`;
  return (await svgToPngBytes(svg, { systemFonts: true })).png;
}

/** ~6.5 px per character at 12 px DejaVu Sans: where a subtitle has to break */
const CHAR_W = 6.6;

/** Break a subtitle at its '; ' joints into lines that fit `width` pixels. */
export function wrap(text: string, width: number): string[] {
  const max = Math.max(20, Math.floor(width / CHAR_W));
  const lines: string[] = [];
  let line = '';
  for (const part of text.split('; ')) {
    const next = line ? `${line}; ${part}` : part;
    if (line && next.length > max) {
      lines.push(line + ';');
      line = part;
    } else line = next;
  }
  if (line) lines.push(line);
  return lines;
}

/** The title and the subtitle's lines; returns the SVG and the height they take. */
function titleBlock(title: string, subtitle: string, width: number): { svg: string; height: number } {
  const lines = wrap(subtitle, width - 2 * MARGIN);
  const svg =
    `<text x="${MARGIN}" y="${MARGIN + 16}" font-size="17" font-weight="bold" fill="#222" ${FONT}>${esc(title)}</text>` +
    lines.map((l, i) => `<text x="${MARGIN}" y="${MARGIN + 38 + 16 * i}" font-size="12" fill="#555" ${FONT}>${esc(l)}</text>`).join('');
  return { svg, height: 44 + 16 * lines.length };
}

// ---------------------------------------------------------------- feature maps

/** Box-average a map by an integer factor (for maps larger than a grid cell should be). */
function shrink(v: Float32Array, h: number, w: number, f: number): { v: Float32Array; h: number; w: number } {
  if (f === 1) return { v, h, w };
  const oh = Math.ceil(h / f), ow = Math.ceil(w / f);
  const out = new Float32Array(oh * ow);
  for (let y = 0; y < oh; y++)
    for (let x = 0; x < ow; x++) {
      let s = 0, n = 0;
      for (let yy = y * f; yy < Math.min((y + 1) * f, h); yy++) for (let xx = x * f; xx < Math.min((x + 1) * f, w); xx++) (s += v[yy * w + xx]!), n++;
      out[y * ow + x] = s / n;
    }
  return { v: out, h: oh, w: ow };
}

export interface GridLayout {
  cols: number;
  rows: number;
  /** screen pixels per map value */
  scale: number;
  /** box-average factor applied first */
  shrink: number;
  cell: { w: number; h: number };
  gap: number;
}

/**
 * Cells of about 140 px for a few maps, 112 for dozens, 84 for hundreds —
 * but at most 16 px per value, so 1×1 maps stay small squares — at most
 * ~1600 px across, and never less than one pixel per value.
 */
export function gridLayout(c: number, h: number, w: number, maxWidth = 1600): GridLayout {
  const f = Math.max(1, Math.ceil(Math.max(h, w) / 128));
  const hs = Math.ceil(h / f), ws = Math.ceil(w / f);
  const cols = Math.max(1, Math.ceil(Math.sqrt((c * hs) / ws)));
  const rows = Math.ceil(c / cols);
  const gap = c > 256 ? 1 : 2;
  const target = Math.min(c <= 16 ? 140 : c <= 64 ? 112 : 84, 16 * Math.max(hs, ws));
  let scale = Math.max(1, Math.floor(target / Math.max(hs, ws)));
  while (scale > 1 && cols * (ws * scale + gap) > maxWidth) scale--;
  return { cols, rows, scale, shrink: f, cell: { w: ws * scale, h: hs * scale }, gap };
}

/**
 * A grid of one stage's maps (C × H × W values): each map scaled from its own
 * minimum to its maximum (viridis); a constant map — every 1×1 map — is drawn
 * on the stage's common scale instead, so it still says something.
 */
export async function featureGridPng(values: Float32Array, shape: readonly [number, number, number], title: string): Promise<Uint8Array> {
  const [c, h, w] = shape;
  const L = gridLayout(c, h, w);
  const gw = L.cols * (L.cell.w + L.gap) - L.gap, gh = L.rows * (L.cell.h + L.gap) - L.gap;
  const grid = new Raster(gw, gh);
  let lo = Infinity, hi = -Infinity;
  for (const v of values) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
  let constant = 0;
  for (let k = 0; k < c; k++) {
    const m = shrink(values.subarray(k * h * w, (k + 1) * h * w), h, w, L.shrink);
    let a = Infinity, b = -Infinity;
    for (const v of m.v) (a = Math.min(a, v)), (b = Math.max(b, v));
    const flat = !(b - a > 1e-6 * Math.max(1, Math.abs(a), Math.abs(b)));
    if (flat) [a, b] = [lo, hi], constant++;
    const span = b - a || 1;
    const x0 = (k % L.cols) * (L.cell.w + L.gap), y0 = Math.floor(k / L.cols) * (L.cell.h + L.gap);
    for (let y = 0; y < m.h; y++) for (let x = 0; x < m.w; x++) grid.block(x0 + x * L.scale, y0 + y * L.scale, L.scale, VIRIDIS.map((m.v[y * m.w + x]! - a) / span));
  }
  const scaleNote = constant === c ? `all maps on one scale, ${fmt(lo)} (dark) … ${fmt(hi)} (bright)` : `each map from its own minimum (dark) to its maximum (bright)${constant ? `; ${constant} constant maps on the stage's scale` : ''}`;
  const range = constant === c ? '' : `; values ${fmt(lo)} … ${fmt(hi)}`;
  const subtitle = `${c} map${c === 1 ? '' : 's'} of ${h}×${w}${L.shrink > 1 ? ` (averaged ${L.shrink}×${L.shrink} to fit)` : ''}; ${scaleNote}${range}`;
  const width = Math.max(gw + 2 * MARGIN, 560);
  const head = titleBlock(title, subtitle, width);
  const top = head.height + MARGIN;
  const body = head.svg + imageTag(grid, MARGIN, top) + colorBar(VIRIDIS, 'v', MARGIN, top + gh + 10, 160, 'low', 'high');
  return page(width, top + gh + 50, body);
}

const fmt = (x: number): string => (Math.abs(x) >= 1000 || (Math.abs(x) < 0.01 && x !== 0) ? x.toExponential(2) : x.toFixed(2));

// ---------------------------------------------------------------- the input and heat maps

/** The input as the network sees it (after resizing), grey or RGB, each value an s × s block. */
export function inputRaster(raw: Uint8Array, c: number, h: number, w: number, s: number): Raster {
  const r = new Raster(w * s, h * s);
  const plane = h * w;
  for (let p = 0; p < plane; p++) {
    const rgb = c === 3 ? [raw[p]!, raw[plane + p]!, raw[2 * plane + p]!] : [raw[p]!, raw[p]!, raw[p]!];
    r.block((p % w) * s, Math.floor(p / w) * s, s, rgb);
  }
  return r;
}

/** Screen pixels per input pixel: small inputs (28×28) are enlarged to about 224 px. */
export function inputScale(h: number, w: number): number {
  return Math.max(1, Math.floor(224 / Math.max(h, w)));
}

function heatRaster(heat: Float32Array, h: number, w: number, s: number, map: ColorMap): Raster {
  const r = new Raster(w * s, h * s);
  for (let p = 0; p < h * w; p++) r.block((p % w) * s, Math.floor(p / w) * s, s, map(heat[p]!));
  return r;
}

/** The heat over a dimmed grey copy of the input: opacity follows the heat, so cold regions show the image. */
function overlayRaster(raw: Uint8Array, c: number, heat: Float32Array, h: number, w: number, s: number, map: ColorMap): Raster {
  const r = new Raster(w * s, h * s);
  const plane = h * w;
  for (let p = 0; p < plane; p++) {
    const g = c === 3 ? 0.299 * raw[p]! + 0.587 * raw[plane + p]! + 0.114 * raw[2 * plane + p]! : raw[p]!;
    const base = 40 + 0.6 * g;
    const t = Math.min(Math.max(heat[p]!, 0), 1);
    const a = 0.85 * Math.sqrt(t);
    const col = map(t);
    r.block((p % w) * s, Math.floor(p / w) * s, s, [0, 1, 2].map((i) => Math.round((1 - a) * base + a * col[i]!)));
  }
  return r;
}

export async function inputPng(raw: Uint8Array, shape: readonly [number, number, number]): Promise<Uint8Array> {
  const [c, h, w] = shape;
  return inputRaster(raw, c, h, w, inputScale(h, w)).png();
}

/**
 * Three panels: the input, the heat map (values in 0..1, inferno) and the
 * overlay, with a title, a subtitle and captions.
 */
export async function heatPanelsPng(opts: { raw: Uint8Array; shape: readonly [number, number, number]; heat: Float32Array; title: string; subtitle: string; heatCaption: string; low: string; high: string }): Promise<Uint8Array> {
  const [c, h, w] = opts.shape;
  const s = inputScale(h, w);
  const pw = w * s, ph = h * s, gap = 24;
  const panels = [inputRaster(opts.raw, c, h, w, s), heatRaster(opts.heat, h, w, s, INFERNO.map), overlayRaster(opts.raw, c, opts.heat, h, w, s, INFERNO.map)];
  const captions = ['input (as the network sees it)', opts.heatCaption, 'overlay'];
  const width = Math.max(MARGIN * 2 + 3 * pw + 2 * gap, 640);
  const head = titleBlock(opts.title, opts.subtitle, width);
  const top = head.height + MARGIN + 18;
  let body = head.svg;
  panels.forEach((p, i) => {
    const x = MARGIN + i * (pw + gap);
    body += `<text x="${x}" y="${top - 6}" font-size="12" fill="#333" ${FONT}>${esc(captions[i]!)}</text>` + imageTag(p, x, top);
  });
  body += colorBar(INFERNO, 'i', MARGIN + pw + gap, top + ph + 10, Math.min(pw, 200), opts.low, opts.high);
  return page(width, top + ph + 50, body);
}
