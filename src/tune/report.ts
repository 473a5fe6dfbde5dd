// The results of a search: the table (terminal and results.csv), the plot of
// the score against each parameter (scores.svg, and scores.png through
// resvg), and the ranking that picks the best trial.
import { escapeXml, niceTicks } from '../train/report/svg.js';
import type { Dimension } from './space.js';
import { score, type SearchState, type TrialState } from './state.js';

const pct = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '–' : `${(100 * x).toFixed(2)}%`);

/** Finished trials by score (ties: lower validation loss, then the earlier trial), then stopped ones, then the rest. */
export function ranked(trials: readonly TrialState[]): TrialState[] {
  const tier = (t: TrialState): number => (t.status === 'done' ? 0 : t.status === 'stopped' ? 1 : 2);
  const last = (xs: number[]): number => xs[xs.length - 1] ?? NaN;
  return [...trials].sort(
    (a, b) =>
      tier(a) - tier(b) ||
      (score(b) ?? -1) - (score(a) ?? -1) ||
      (last(a.valLoss) || Infinity) - (last(b.valLoss) || Infinity) ||
      a.id.localeCompare(b.id),
  );
}

/** The best finished trial. */
export function best(trials: readonly TrialState[]): TrialState | undefined {
  const r = ranked(trials)[0];
  return r && r.status === 'done' && score(r) !== undefined ? r : undefined;
}

export function table(state: SearchState): string {
  const names = state.dims.map((d) => d.name);
  const head = ['rank', 'trial', ...names, 'status', 'epochs', 'val_acc', 'val_loss', 'test_acc', 'seconds'];
  const rows = ranked(state.trials).map((t, i) => [
    t.status === 'done' ? String(i + 1) : '',
    t.id,
    ...names.map((n) => t.params[n]!),
    t.status,
    String(t.valAccuracy.length),
    pct(score(t)),
    t.valLoss.length ? t.valLoss[t.valLoss.length - 1]!.toFixed(4) : '–',
    pct(t.testAccuracy),
    t.seconds === undefined ? '–' : t.seconds.toFixed(1),
  ]);
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (r: string[]): string => r.map((x, c) => (c >= head.length - 5 || c === 0 ? x.padStart(widths[c]!) : x.padEnd(widths[c]!))).join('  ').trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}

function csvField(v: string): string {
  return /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** One row per trial in trial order; accuracies as fractions, blank where unknown. */
export function csv(state: SearchState): string {
  const names = state.dims.map((d) => d.name);
  const rank = new Map(ranked(state.trials).filter((t) => t.status === 'done').map((t, i) => [t, i + 1]));
  const num = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '' : String(x));
  const rows = state.trials.map((t) => [
    t.id,
    ...names.map((n) => t.params[n]!),
    t.status,
    String(t.valAccuracy.length),
    num(score(t)),
    num(t.valLoss[t.valLoss.length - 1]),
    num(t.testAccuracy),
    num(t.seconds),
    rank.has(t) ? String(rank.get(t)) : '',
    `trials/${t.id}`,
    t.note ?? '',
  ]);
  const head = ['trial', ...names, 'status', 'epochs', 'val_accuracy', 'val_loss', 'test_accuracy', 'seconds', 'rank', 'run_dir', 'note'];
  return [head, ...rows].map((r) => r.map(csvField).join(',')).join('\n') + '\n';
}

// ---------------------------------------------------------------- the plot

const FONT = 'font-family="Helvetica, Arial, sans-serif"';

/** How a dimension's values sit on the x axis: numbers on a linear or log scale, anything else as categories. */
function axis(d: Dimension, values: string[]): { pos: (v: string) => number; ticks: Array<{ at: number; label: string }>; log: boolean } {
  const nums = values.map(Number);
  const numeric = values.length > 0 && nums.every((x) => Number.isFinite(x)) && !d.values?.some((v) => !Number.isFinite(Number(v)));
  if (!numeric) {
    const cats = d.values ?? [...new Set(values)].sort();
    return { pos: (v) => (cats.indexOf(v) + 0.5) / cats.length, ticks: cats.map((c, i) => ({ at: (i + 0.5) / cats.length, label: c })), log: false };
  }
  const all = [...nums, ...(d.values ?? []).map(Number), ...(d.distribution ? [d.distribution.lo, d.distribution.hi] : [])];
  let lo = Math.min(...all);
  let hi = Math.max(...all);
  const log = lo > 0 && hi / lo >= 10;
  const f = (x: number): number => (log ? Math.log10(x) : x);
  if (hi === lo) {
    lo -= 0.5;
    hi += 0.5;
  }
  const [a, b] = [f(lo), f(hi)];
  const pad = (b - a) * 0.08;
  const pos = (x: number): number => (f(x) - a + pad) / (b - a + 2 * pad);
  const listed = d.values && d.values.length <= 8 ? d.values.map(Number) : undefined;
  const ticks = listed
    ? listed.map((x) => ({ at: pos(x), label: String(x) }))
    : log
    ? Array.from({ length: Math.floor(b) - Math.ceil(a) + 1 }, (_, i) => 10 ** (Math.ceil(a) + i)).map((x) => ({ at: pos(x), label: String(Number(x.toPrecision(3))) }))
    : niceTicks(lo, hi, 4).filter((x) => x >= lo && x <= hi).map((x) => ({ at: pos(x), label: String(x) }));
  if (ticks.length < 2) for (const v of [...new Set(nums)]) ticks.push({ at: pos(v), label: String(v) });
  return { pos: (v) => pos(Number(v)), ticks, log };
}

/** Validation accuracy against each parameter, one panel per parameter; stopped trials hollow. */
export function scoresSvg(state: SearchState): string {
  const dims = state.dims;
  const scored = state.trials.filter((t) => score(t) !== undefined && Number.isFinite(score(t)!));
  const PW = 300;
  const PH = 240;
  const m = { l: 60, r: 20, t: 50, b: 60 };
  const cols = Math.min(3, Math.max(1, dims.length));
  const rows = Math.ceil(dims.length / cols);
  const W = cols * (PW + m.l + m.r);
  const H = rows * (PH + m.t + m.b) + 30;
  const ys = scored.map((t) => score(t)!);
  let lo = ys.length ? Math.min(...ys) : 0;
  let hi = ys.length ? Math.max(...ys) : 1;
  if (hi - lo < 0.01) {
    lo -= 0.005;
    hi += 0.005;
  }
  const padY = (hi - lo) * 0.1;
  lo = Math.max(0, lo - padY);
  hi = Math.min(1, hi + padY);
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">`, `<rect width="${W}" height="${H}" fill="white"/>`];
  parts.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="16" ${FONT}>${escapeXml(`${state.network}: validation accuracy of ${scored.length} trials (hollow: stopped early)`)}</text>`);
  dims.forEach((d, k) => {
    const ox = (k % cols) * (PW + m.l + m.r) + m.l;
    const oy = Math.floor(k / cols) * (PH + m.t + m.b) + m.t + 10;
    const ax = axis(d, scored.map((t) => t.params[d.name]!));
    const X = (f: number): number => ox + f * PW;
    const Y = (v: number): number => oy + PH - ((v - lo) / (hi - lo)) * PH;
    for (const t of niceTicks(lo, hi, 4)) {
      if (t < lo || t > hi) continue;
      parts.push(`<line x1="${ox}" y1="${Y(t).toFixed(1)}" x2="${ox + PW}" y2="${Y(t).toFixed(1)}" stroke="#e0e0e0"/>`);
      parts.push(`<text x="${ox - 6}" y="${Y(t).toFixed(1)}" dy="4" text-anchor="end" font-size="11" ${FONT}>${(100 * t).toFixed(1)}%</text>`);
    }
    for (const t of ax.ticks) parts.push(`<text x="${X(t.at).toFixed(1)}" y="${oy + PH + 16}" text-anchor="middle" font-size="11" ${FONT}>${escapeXml(t.label)}</text>`);
    parts.push(`<rect x="${ox}" y="${oy}" width="${PW}" height="${PH}" fill="none" stroke="#333"/>`);
    parts.push(`<text x="${ox + PW / 2}" y="${oy + PH + 38}" text-anchor="middle" font-size="12" ${FONT}>${escapeXml(d.name + (ax.log ? ' (log scale)' : ''))}</text>`);
    parts.push(`<text transform="translate(${ox - 46} ${oy + PH / 2}) rotate(-90)" text-anchor="middle" font-size="12" ${FONT}>validation accuracy</text>`);
    for (const t of scored) {
      const cx = X(ax.pos(t.params[d.name]!)).toFixed(1);
      const cy = Y(score(t)!).toFixed(1);
      const fill = t.status === 'done' ? '#1f77b4' : 'white';
      parts.push(`<circle class="trial" cx="${cx}" cy="${cy}" r="5" fill="${fill}" stroke="#1f77b4" stroke-width="1.5"><title>trial ${t.id}: ${escapeXml(Object.entries(t.params).map(([a, b]) => `${a}=${b}`).join(', '))}, ${pct(score(t))}</title></circle>`);
    }
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
