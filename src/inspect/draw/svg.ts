// Positions → one self-contained SVG: a header (network, input → output,
// totals), the graph (groups behind, then edges, then nodes), and a legend of
// the layer kinds present with the totals. Every stage carries its path in
// `data-path` and a <title> (the browser's tooltip), so a diagram can be
// matched back to `alexnetc summary` and to weight names.
import type { Diagram } from './graph.js';
import { METRICS as M, type Layout, type PlacedEdge, type PlacedGroup, type PlacedNode, type Point } from './layout.js';
import { ASCENT } from './metrics.js';
import { CATEGORY_ORDER, COLOURS, GROUP_FILLS, GROUP_STROKE, type Category } from './style.js';
import { human, int, networkTitle, shapeText, textWidth, xml } from './text.js';

/** DejaVu Sans is what the boxes are measured with (and what PNGs embed); the fallbacks are narrower, so text still fits. */
export const FONT_FAMILY = "'DejaVu Sans', 'Bitstream Vera Sans', Verdana, Helvetica, Arial, sans-serif";

const MARGIN = 24;
const HEAD_TITLE = 20;
const HEAD_SUB = 12;
const HEAD_H = HEAD_TITLE + 8 + HEAD_SUB + 22;
const LEGEND_GAP = 36;
const LEGEND_ROW = 20;
const INK = '#1c2630';
const MUTED = '#52616b';
const EDGE = '#7d8b94';

export interface Totals {
  title: string;
  subtitle: string;
  rows: [string, string][];
}

export function totals(d: Diagram, layout: Pick<Layout, 'nodes'>): Totals {
  const stages = d.expanded ? layout.nodes.filter((n) => n.kind === 'layer').length : undefined;
  const rows: [string, string][] = [
    ['parameters', int(d.totalParams)],
    ['', `${human(d.totalParams)}, ${((d.totalParams + d.nonTrainableParams) * 4 / 2 ** 20).toFixed(1)} MiB as float32`],
  ];
  if (d.nonTrainableParams) rows.push(['not trained', `${int(d.nonTrainableParams)} (batch-norm statistics)`]);
  rows.push(['MACs', `${int(d.totalMacs)} (${human(d.totalMacs)})`]);
  if (stages !== undefined) rows.push(['layers', int(stages)]);
  return {
    title: networkTitle(d.network, d.params),
    subtitle: `input ${shapeText(d.input)} → output ${shapeText(d.output)} · ${int(d.totalParams)} parameters · ${human(d.totalMacs)} MACs per example`,
    rows,
  };
}

export function renderSvg(d: Diagram, layout: Layout): string {
  const t = totals(d, layout);
  const used = new Set<Category>(layout.nodes.map((n) => n.category));
  const kinds = CATEGORY_ORDER.filter((c) => used.has(c));

  const legendRowsW = Math.max(...t.rows.map(([k, v]) => textWidth(k, 11, true) + 12 + textWidth(v, 11)), ...kinds.map((k) => 30 + textWidth(COLOURS[k].label, 11)), textWidth('Totals', 12, true));
  const legendW = Math.ceil(legendRowsW + 28);
  const extras = { groups: d.groups.length > 0, identity: layout.edges.some((e) => e.identity) };
  const legendH = 16 + 20 + (kinds.length + Number(extras.groups) + Number(extras.identity)) * LEGEND_ROW + 12 + 20 + t.rows.length * 17 + 8;
  const headW = Math.max(textWidth(t.title, HEAD_TITLE, true), textWidth(t.subtitle, HEAD_SUB));
  const graphX = MARGIN;
  const graphY = MARGIN + HEAD_H;
  const legendX = graphX + layout.width + LEGEND_GAP;
  const width = Math.ceil(Math.max(legendX + legendW, MARGIN + headW) + MARGIN);
  const height = Math.ceil(graphY + Math.max(layout.height, legendH) + MARGIN);

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${xml(FONT_FAMILY)}">`,
    `<title>${xml(`${t.title}: ${t.subtitle}`)}</title>`,
    '<defs>',
    `<marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" markerUnits="userSpaceOnUse" orient="auto"><path d="M0,1 L9,5 L0,9 z" fill="${EDGE}"/></marker>`,
    '</defs>',
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<g class="header"><text x="${MARGIN}" y="${MARGIN + HEAD_TITLE * ASCENT}" font-size="${HEAD_TITLE}" font-weight="bold" fill="${INK}">${xml(t.title)}</text>`,
    `<text x="${MARGIN}" y="${MARGIN + HEAD_TITLE + 8 + HEAD_SUB * ASCENT}" font-size="${HEAD_SUB}" fill="${MUTED}">${xml(t.subtitle)}</text></g>`,
    `<g class="graph" transform="translate(${graphX} ${graphY})">`,
  );
  for (const g of [...layout.groups].sort((a, b) => a.depth - b.depth)) out.push(group(g));
  for (const e of layout.edges) out.push(edge(e));
  for (const e of layout.edges) if (e.label) out.push(edgeLabel(e));
  for (const n of layout.nodes) out.push(node(n));
  out.push('</g>');
  out.push(legend(legendX, graphY, legendW, legendH, kinds, t, extras));
  out.push('</svg>');
  return out.join('\n') + '\n';
}

function f(n: number): string {
  return String(Math.round(n * 100) / 100);
}

function textAt(x: number, top: number, size: number, s: string, attrs = ''): string {
  return `<text x="${f(x)}" y="${f(top + size * ASCENT)}" font-size="${size}"${attrs}>${xml(s)}</text>`;
}

function tooltip(n: PlacedNode): string {
  const lines = [n.path || n.title, n.title];
  if (n.inShape) lines.push(`${shapeText(n.inShape)} → ${shapeText(n.outShape)}`);
  else lines.push(shapeText(n.outShape));
  if (n.kind === 'layer' || n.kind === 'block') lines.push(`${int(n.params)} parameters, ${int(n.macs)} MACs`);
  return `<title>${xml(lines.join('\n'))}</title>`;
}

function node(n: PlacedNode): string {
  const c = COLOURS[n.category];
  const dark = n.category === 'input';
  const ink = dark ? '#ffffff' : INK;
  const sub = dark ? '#cfd8dc' : MUTED;
  const rx = n.kind === 'merge' || n.kind === 'input' || n.kind === 'output' ? n.h / 2 : 6;
  const parts = [`<g class="node ${n.kind} ${n.category}" data-path="${xml(n.path)}">`, tooltip(n)];
  parts.push(`<rect x="${f(n.x)}" y="${f(n.y)}" width="${f(n.w)}" height="${f(n.h)}" rx="${f(rx)}" fill="${c.fill}" stroke="${c.stroke}" stroke-width="${n.kind === 'merge' ? 1.6 : 1.2}"/>`);
  // a collapsed block looks like a stack: there is more inside (--expand)
  if (n.kind === 'block') parts.push(`<rect x="${f(n.x + 3)}" y="${f(n.y + 3)}" width="${f(n.w - 6)}" height="${f(n.h - 6)}" rx="4" fill="none" stroke="${c.stroke}" stroke-width="0.8" stroke-opacity="0.6"/>`);
  const cx = n.x + n.w / 2;
  parts.push(textAt(cx, n.y + M.padY, M.title, n.title, ` font-weight="bold" text-anchor="middle" fill="${ink}"`));
  parts.push(textAt(cx, n.y + M.padY + M.title + M.lineGap, M.detail, n.detail, ` text-anchor="middle" fill="${sub}"`));
  parts.push('</g>');
  return parts.join('');
}

/** a rim of the background colour around text, so an edge passing behind it does not cut through the letters */
function halo(colour: string): string {
  return ` stroke="${colour}" stroke-width="3" stroke-linejoin="round" paint-order="stroke"`;
}

function group(g: PlacedGroup): string {
  const fill = GROUP_FILLS[Math.min(g.depth, GROUP_FILLS.length - 1)]!;
  return (
    `<g class="group" data-path="${xml(g.path)}"><title>${xml(`${g.path}\n${g.title}\n${g.detail}`)}</title>` +
    `<rect x="${f(g.x)}" y="${f(g.y)}" width="${f(g.w)}" height="${f(g.h)}" rx="9" fill="${fill}" stroke="${GROUP_STROKE}" stroke-width="1.2"/>` +
    textAt(g.x + M.groupPad, g.y + M.groupPad, M.groupTitle, g.title, ` font-weight="bold" fill="#1f6f68"${halo(fill)}`) +
    textAt(g.x + M.groupPad, g.y + M.groupPad + M.groupTitle + M.lineGap, M.groupDetail, g.detail, ` fill="${MUTED}"${halo(fill)}`) +
    '</g>'
  );
}

/** An orthogonal polyline with its corners rounded a little. */
function pathOf(points: readonly Point[]): string {
  if (points.length < 2) return '';
  const r = 5;
  let d = `M${f(points[0]!.x)},${f(points[0]!.y)}`;
  for (let i = 1; i < points.length - 1; i++) {
    const p = points[i - 1]!;
    const q = points[i]!;
    const s = points[i + 1]!;
    const l1 = Math.hypot(q.x - p.x, q.y - p.y);
    const l2 = Math.hypot(s.x - q.x, s.y - q.y);
    const k = Math.min(r, l1 / 2, l2 / 2);
    if (k < 0.5) {
      d += ` L${f(q.x)},${f(q.y)}`;
      continue;
    }
    const a = { x: q.x - ((q.x - p.x) / l1) * k, y: q.y - ((q.y - p.y) / l1) * k };
    const b = { x: q.x + ((s.x - q.x) / l2) * k, y: q.y + ((s.y - q.y) / l2) * k };
    d += ` L${f(a.x)},${f(a.y)} Q${f(q.x)},${f(q.y)} ${f(b.x)},${f(b.y)}`;
  }
  const last = points[points.length - 1]!;
  return `${d} L${f(last.x)},${f(last.y)}`;
}

function edge(e: PlacedEdge): string {
  const dash = e.identity ? ' stroke-dasharray="5 3"' : '';
  return `<path class="edge${e.identity ? ' identity' : ''}" d="${pathOf(e.points)}" fill="none" stroke="${EDGE}" stroke-width="1.3"${dash} marker-end="url(#arrow)"/>`;
}

function edgeLabel(e: PlacedEdge): string {
  const l = e.label!;
  return `<text class="shape" x="${f(l.x + l.w / 2)}" y="${f(l.y + (l.h - M.edgeLabel) / 2 + M.edgeLabel * ASCENT)}" font-size="${M.edgeLabel}" text-anchor="middle" fill="${MUTED}"${halo('#ffffff')}>${xml(l.text)}</text>`;
}

function legend(x: number, y: number, w: number, h: number, kinds: readonly Category[], t: Totals, extras: { groups: boolean; identity: boolean }): string {
  const out = [`<g class="legend"><rect x="${x}" y="${y}" width="${w}" height="${h}" rx="8" fill="#fafbfc" stroke="#d5dbe0"/>`];
  let cy = y + 16;
  out.push(textAt(x + 14, cy, 12, 'Layer kinds', ` font-weight="bold" fill="${INK}"`));
  cy += 20;
  for (const k of kinds) {
    const c = COLOURS[k];
    out.push(`<rect x="${x + 14}" y="${cy}" width="20" height="13" rx="${k === 'merge' || k === 'input' ? 6.5 : 3}" fill="${c.fill}" stroke="${c.stroke}"/>`);
    out.push(textAt(x + 44, cy, 11, c.label, ` fill="${INK}"`));
    cy += LEGEND_ROW;
  }
  if (extras.groups) {
    out.push(`<rect x="${x + 14}" y="${cy}" width="20" height="13" rx="3" fill="${GROUP_FILLS[0]}" stroke="${GROUP_STROKE}"/>`);
    out.push(textAt(x + 44, cy, 11, 'block call (expanded)', ` fill="${INK}"`));
    cy += LEGEND_ROW;
  }
  if (extras.identity) {
    out.push(`<line x1="${x + 14}" y1="${cy + 6}" x2="${x + 34}" y2="${cy + 6}" stroke="${EDGE}" stroke-width="1.3" stroke-dasharray="5 3"/>`);
    out.push(textAt(x + 44, cy, 11, 'identity shortcut', ` fill="${INK}"`));
    cy += LEGEND_ROW;
  }
  cy += 12;
  out.push(textAt(x + 14, cy, 12, 'Totals', ` font-weight="bold" fill="${INK}"`));
  cy += 20;
  for (const [k, v] of t.rows) {
    if (k) out.push(textAt(x + 14, cy, 11, k, ` font-weight="bold" fill="${INK}"`));
    out.push(textAt(x + 14 + (k ? textWidth(k, 11, true) + 8 : 0), cy, 11, v, ` fill="${MUTED}"`));
    cy += 17;
  }
  out.push('</g>');
  return out.join('');
}
