// Hand-written SVG charts (no dependencies): loss/accuracy curves per epoch
// and a confusion matrix. Plain SVG 1.1 that browsers and image viewers open.

export interface Series {
  name: string;
  /** One value per epoch (epoch 1 first); NaN/missing values leave a gap. */
  values: number[];
}

export interface LineChartOptions {
  title: string;
  yLabel: string;
  xLabel?: string;
  series: Series[];
  /** Fix the y range (e.g. [0, 1] for accuracy); default: fitted to the data. */
  yRange?: [number, number];
  width?: number;
  height?: number;
}

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];
const FONT = 'font-family="Helvetica, Arial, sans-serif"';

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** About `count` round tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

const n2 = (x: number): string => (Math.round(x * 100) / 100).toString();

export function lineChart(o: LineChartOptions): string {
  const W = o.width ?? 640, H = o.height ?? 400;
  const m = { l: 64, r: 150, t: 40, b: 50 };
  const pw = W - m.l - m.r, ph = H - m.t - m.b;
  const epochs = Math.max(1, ...o.series.map((s) => s.values.length));
  const finite = o.series.flatMap((s) => s.values.filter((v) => Number.isFinite(v)));
  let [lo, hi] = o.yRange ?? [Math.min(...finite, Infinity), Math.max(...finite, -Infinity)];
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) [lo, hi] = [0, 1];
  if (hi - lo < 1e-12) { lo -= 0.5; hi += 0.5; }
  if (o.yRange === undefined) { const pad = (hi - lo) * 0.05; lo -= pad; hi += pad; }
  const X = (e: number): number => m.l + (epochs === 1 ? pw / 2 : ((e - 1) / (epochs - 1)) * pw);
  const Y = (v: number): number => m.t + ph - ((v - lo) / (hi - lo)) * ph;

  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${m.l + pw / 2}" y="24" text-anchor="middle" font-size="16" ${FONT}>${escapeXml(o.title)}</text>`);
  // Grid and y ticks.
  for (const t of niceTicks(lo, hi)) {
    if (t < lo || t > hi) continue;
    const y = n2(Y(t));
    parts.push(`<line x1="${m.l}" y1="${y}" x2="${m.l + pw}" y2="${y}" stroke="#e0e0e0"/>`);
    parts.push(`<text x="${m.l - 6}" y="${y}" dy="4" text-anchor="end" font-size="11" ${FONT}>${t}</text>`);
  }
  // x ticks: every epoch when few, else a nice subset.
  const xt = epochs <= 12 ? [...Array(epochs).keys()].map((i) => i + 1) : niceTicks(1, epochs).filter((t) => t >= 1 && Number.isInteger(t));
  for (const e of xt) {
    parts.push(`<text x="${n2(X(e))}" y="${m.t + ph + 16}" text-anchor="middle" font-size="11" ${FONT}>${e}</text>`);
  }
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${m.l + pw / 2}" y="${H - 12}" text-anchor="middle" font-size="12" ${FONT}>${escapeXml(o.xLabel ?? 'epoch')}</text>`);
  parts.push(`<text transform="translate(16 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle" font-size="12" ${FONT}>${escapeXml(o.yLabel)}</text>`);
  o.series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    const pts = s.values.map((v, k) => (Number.isFinite(v) ? `${n2(X(k + 1))},${n2(Y(v))}` : null));
    // One polyline per run of finite values, so a NaN epoch shows as a gap.
    let run: string[] = [];
    const flush = (): void => {
      if (run.length > 1) parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${run.join(' ')}"/>`);
      run = [];
    };
    for (const p of pts) { if (p === null) flush(); else run.push(p); }
    flush();
    for (const p of pts) {
      if (p === null) continue;
      const [cx, cy] = p.split(',');
      parts.push(`<circle cx="${cx}" cy="${cy}" r="3" fill="${color}"><title>${escapeXml(s.name)}</title></circle>`);
    }
    const ly = m.t + 10 + i * 20;
    parts.push(`<line x1="${m.l + pw + 14}" y1="${ly}" x2="${m.l + pw + 38}" y2="${ly}" stroke="${color}" stroke-width="2"/>`);
    parts.push(`<text x="${m.l + pw + 44}" y="${ly}" dy="4" font-size="12" ${FONT}>${escapeXml(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

/** White → dark blue. */
function blue(t: number): string {
  const c = (a: number, b: number): number => Math.round(a + (b - a) * Math.min(1, Math.max(0, t)));
  return `rgb(${c(247, 8)},${c(251, 48)},${c(255, 107)})`;
}

/**
 * The confusion matrix as a heat map: rows are true classes, columns
 * predictions; colour is the row-normalised share (so rare classes are as
 * readable as common ones), the number in each cell the count.
 */
export function confusionMatrixSvg(matrix: number[][], classes: string[], title = 'Confusion matrix'): string {
  const k = matrix.length;
  const cell = Math.max(28, Math.min(60, Math.floor(560 / Math.max(k, 1))));
  const label = Math.min(160, 8 + 7 * Math.max(1, ...classes.map((c) => c.length)));
  const m = { l: label + 30, t: 50, r: 90, b: label + 30 };
  const W = m.l + k * cell + m.r, H = m.t + k * cell + m.b;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${m.l + (k * cell) / 2}" y="28" text-anchor="middle" font-size="16" ${FONT}>${escapeXml(title)}</text>`);
  matrix.forEach((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    row.forEach((v, j) => {
      const share = total > 0 ? v / total : 0;
      const x = m.l + j * cell, y = m.t + i * cell;
      parts.push(`<rect class="cell" x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${blue(share)}" stroke="white"><title>true ${escapeXml(classes[i] ?? String(i))}, predicted ${escapeXml(classes[j] ?? String(j))}: ${v}</title></rect>`);
      const fs = Math.max(8, Math.min(13, cell / 3.2));
      parts.push(`<text x="${x + cell / 2}" y="${y + cell / 2}" dy="${n2(fs / 3)}" text-anchor="middle" font-size="${n2(fs)}" fill="${share > 0.5 ? 'white' : 'black'}" ${FONT}>${v}</text>`);
    });
  });
  classes.slice(0, k).forEach((c, i) => {
    const mid = m.t + i * cell + cell / 2;
    parts.push(`<text x="${m.l - 6}" y="${mid}" dy="4" text-anchor="end" font-size="11" ${FONT}>${escapeXml(c)}</text>`);
    const cx = m.l + i * cell + cell / 2, ty = m.t + k * cell + 6;
    parts.push(`<text transform="translate(${cx} ${ty}) rotate(-45)" text-anchor="end" font-size="11" ${FONT}>${escapeXml(c)}</text>`);
  });
  parts.push(`<text x="${m.l + (k * cell) / 2}" y="${H - 8}" text-anchor="middle" font-size="12" ${FONT}>predicted</text>`);
  parts.push(`<text transform="translate(14 ${m.t + (k * cell) / 2}) rotate(-90)" text-anchor="middle" font-size="12" ${FONT}>true</text>`);
  // Colour scale: share of the true class's examples.
  const sx = m.l + k * cell + 24, sh = k * cell, steps = 20;
  for (let s = 0; s < steps; s++) {
    parts.push(`<rect x="${sx}" y="${n2(m.t + (sh * s) / steps)}" width="16" height="${n2(sh / steps + 0.5)}" fill="${blue(1 - s / steps)}"/>`);
  }
  parts.push(`<rect x="${sx}" y="${m.t}" width="16" height="${sh}" fill="none" stroke="#333"/>`);
  for (const t of [0, 0.5, 1]) {
    parts.push(`<text x="${sx + 20}" y="${n2(m.t + sh * (1 - t))}" dy="4" font-size="10" ${FONT}>${t * 100}%</text>`);
  }
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

export interface EpochRecord {
  loss: number;
  accuracy?: number;
  valLoss?: number;
  valAccuracy?: number;
}

/** The two standard training pictures from a per-epoch history. */
export function historyCharts(history: EpochRecord[]): { loss: string; accuracy: string } {
  const col = (f: (r: EpochRecord) => number | undefined): number[] => history.map((r) => f(r) ?? NaN);
  const has = (f: (r: EpochRecord) => number | undefined): boolean => history.some((r) => f(r) !== undefined);
  const loss: Series[] = [{ name: 'train', values: col((r) => r.loss) }];
  if (has((r) => r.valLoss)) loss.push({ name: 'validation', values: col((r) => r.valLoss) });
  const acc: Series[] = [];
  if (has((r) => r.accuracy)) acc.push({ name: 'train', values: col((r) => r.accuracy) });
  if (has((r) => r.valAccuracy)) acc.push({ name: 'validation', values: col((r) => r.valAccuracy) });
  return {
    loss: lineChart({ title: 'Loss per epoch', yLabel: 'loss', series: loss }),
    accuracy: lineChart({ title: 'Accuracy per epoch', yLabel: 'accuracy', series: acc, yRange: [0, 1] }),
  };
}
