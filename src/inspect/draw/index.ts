// `alexnetc draw`'s library: a checked network → an architecture diagram as
// SVG (laid out by ELK), PNG (the SVG rendered by resvg) or Graphviz DOT.
import type { StageInfo } from '../../check/checker.js';
import type { CompileResult } from '../../compile.js';
import type { Stage } from '../../syntax/ast.js';
import { allStages } from '../../syntax/walk.js';
import type { Network } from '../../check/ir.js';
import { UserError } from '../../util/errors.js';
import { buildDiagram, type Diagram } from './graph.js';

export { buildDiagram, type Diagram, type DiagramOptions } from './graph.js';

export type DrawFormat = 'svg' | 'png' | 'dot';

/**
 * The most boxes laid out: past this a diagram is a scroll no one reads, the
 * layout takes tens of seconds, and ELK's recursion overflows the stack
 * (at about 2,000 in a chain). DOT, laid out elsewhere, has no limit.
 */
export const MAX_BOXES = 1000;
export const DRAW_FORMATS: readonly DrawFormat[] = ['svg', 'png', 'dot'];

export interface DrawOptions {
  format?: DrawFormat;
  expand?: boolean;
  /** block-call path → the call as written; from callLabels() */
  calls?: ReadonlyMap<string, string>;
  /** PNG only: device pixels per diagram pixel (default 2) */
  scale?: number;
}

export interface Drawing {
  format: DrawFormat;
  data: string | Buffer;
  diagram: Diagram;
  /** pixels (PNG) or diagram units (SVG); absent for DOT, which Graphviz lays out */
  width?: number;
  height?: number;
}

export async function drawNetwork(net: Network, opts: DrawOptions = {}): Promise<Drawing> {
  const format = opts.format ?? 'svg';
  const diagram = buildDiagram(net, { expand: opts.expand, calls: opts.calls });
  if (format === 'dot') {
    const { renderDot } = await import('./dot.js');
    return { format, data: renderDot(diagram), diagram };
  }
  const boxes = diagram.nodes.length - 2;
  if (boxes > MAX_BOXES) {
    throw new UserError(
      `${net.name} drawn ${diagram.expanded ? 'expanded' : 'collapsed'} has ${boxes.toLocaleString('en-US')} boxes, more than the ${MAX_BOXES.toLocaleString('en-US')} a diagram is laid out with` +
        `${diagram.expanded ? '; draw it without --expand, or' : ';'} write --format dot and lay it out with Graphviz`,
    );
  }
  const [{ layoutDiagram }, { renderSvg }] = await Promise.all([import('./layout.js'), import('./svg.js')]);
  const svg = renderSvg(diagram, await layoutDiagram(diagram));
  if (format === 'svg') {
    const size = /<svg[^>]*\swidth="([\d.]+)"[^>]*\sheight="([\d.]+)"/.exec(svg)!;
    return { format, data: svg, diagram, width: Number(size[1]), height: Number(size[2]) };
  }
  const { svgToPng } = await import('./png.js');
  const png = await svgToPng(svg, { scale: opts.scale });
  return { format, data: png.png, diagram, width: png.width, height: png.height };
}

/**
 * Block calls as the source writes them (`inception(64, 96, 128, 16, 32, 32)`),
 * by path, for the titles of collapsed blocks and groups. The IR keeps only
 * the paths; the checker's per-stage info keeps the call syntax.
 */
export function callLabels(stageInfo: readonly StageInfo[], network: string, text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const s of stageInfo) {
    if (s.network !== network || s.stage.kind !== 'call' || s.layer) continue;
    const args = s.stage.args.map((a) => text.slice(a.span.start, a.span.end).replace(/\s+/g, ' '));
    out.set(s.path, s.stage.hasParens ? `${s.stage.callee.name}(${args.join(', ')})` : s.stage.callee.name);
  }
  return out;
}

/**
 * callLabels over a whole compile result: each call is read from the text of
 * the file it is written in — a call inside a block of an imported file from
 * that file, not from the file being drawn.
 */
export function callLabelsIn(result: Pick<CompileResult, 'stageInfo' | 'program' | 'files'>, network: string, text: string): Map<string, string> {
  const fileOf = new Map<Stage, string>();
  const texts = new Map<string, string>([['', text]]);
  const mark = (decls: NonNullable<CompileResult['program']>['decls'], key: string): void => {
    for (const d of decls) for (const s of allStages(d.body)) if (!fileOf.has(s)) fileOf.set(s, key);
  };
  mark(result.program?.decls ?? [], '');
  for (const f of result.files) {
    texts.set(f.file, f.text);
    mark(f.program.decls, f.file);
  }
  const byFile = new Map<string, StageInfo[]>();
  for (const i of result.stageInfo) {
    const key = i.network === network ? fileOf.get(i.stage) : undefined;
    if (key === undefined) continue;
    byFile.set(key, [...(byFile.get(key) ?? []), i]);
  }
  const out = new Map<string, string>();
  for (const [key, infos] of byFile) for (const [path, label] of callLabels(infos, network, texts.get(key)!)) out.set(path, label);
  return out;
}
