// Diagram → positions, by ELK's layered (Sugiyama) algorithm: layers top to
// bottom in data order, branches side by side, expanded block calls as nested
// compound nodes laid out together with the rest (hierarchyHandling
// INCLUDE_CHILDREN, so edges may cross group borders), orthogonal edges with
// their shape labels placed by ELK. Boxes are sized from the text they hold
// (text.ts), so nothing is hand-placed.
import type { ELK, ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api.js';
import type { Diagram, DiagramEdge, DiagramGroup, DiagramNode } from './graph.js';
import { int, shapeText, textWidth } from './text.js';

/** Sizes in px; the SVG uses the same numbers. */
export const METRICS = {
  title: 13,
  detail: 11,
  edgeLabel: 10,
  groupTitle: 12,
  groupDetail: 10.5,
  padX: 10,
  lineGap: 4,
  padY: 7,
  groupPad: 12,
} as const;

export interface Point {
  x: number;
  y: number;
}
export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}
export type PlacedNode = DiagramNode & Box & { detail: string };
export type PlacedGroup = DiagramGroup & Box & { detail: string };
export type PlacedEdge = DiagramEdge & { points: Point[]; label: (Box & { text: string }) | undefined };

export interface Layout {
  width: number;
  height: number;
  nodes: PlacedNode[];
  groups: PlacedGroup[];
  edges: PlacedEdge[];
}

export function nodeDetail(n: DiagramNode): string {
  const shape = shapeText(n.outShape);
  if (n.kind === 'block') return `block · ${shape}${n.params ? ` · ${int(n.params)} params` : ''}`;
  return n.params ? `${shape} · ${int(n.params)} params` : shape;
}

export function groupDetail(g: DiagramGroup): string {
  return `${shapeText(g.inShape)} → ${shapeText(g.outShape)}${g.params ? ` · ${int(g.params)} params` : ''}`;
}

const M = METRICS;
const NODE_H = M.padY * 2 + M.title + M.lineGap + M.detail;
const GROUP_HEAD = M.groupPad + M.groupTitle + M.lineGap + M.groupDetail + 8;

function nodeSize(n: DiagramNode): { w: number; h: number } {
  const w = Math.max(textWidth(n.title, M.title, true), textWidth(nodeDetail(n), M.detail)) + 2 * M.padX;
  return { w: Math.ceil(Math.max(w, 64)), h: NODE_H };
}

const ROOT_OPTIONS: Record<string, string> = {
  'elk.algorithm': 'layered',
  'elk.direction': 'DOWN',
  'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
  'elk.edgeRouting': 'ORTHOGONAL',
  'elk.layered.spacing.nodeNodeBetweenLayers': '14',
  'elk.layered.spacing.edgeNodeBetweenLayers': '8',
  'elk.layered.spacing.edgeEdgeBetweenLayers': '8',
  'elk.spacing.nodeNode': '22',
  'elk.spacing.edgeNode': '14',
  'elk.spacing.edgeEdge': '10',
  'elk.spacing.edgeLabel': '3',
  'elk.spacing.componentComponent': '30',
  'elk.edgeLabels.placement': 'CENTER',
  'elk.edgeLabels.inline': 'true',
  // branches keep the order the source writes them in, left to right
  'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
  'elk.layered.nodePlacement.strategy': 'NETWORK_SIMPLEX',
  // every stage as early as it can be: the branches of a concat start side by side
  'elk.layered.layering.strategy': 'LONGEST_PATH_SOURCE',
  'elk.json.shapeCoords': 'ROOT',
  'elk.json.edgeCoords': 'ROOT',
  'elk.padding': '[top=0,left=0,bottom=0,right=0]',
};

export async function layoutDiagram(d: Diagram): Promise<Layout> {
  const elk = await newElk();
  const transposed = await minimumIsTransposed(elk);

  const root: ElkNode = { id: 'root', layoutOptions: ROOT_OPTIONS, children: [], edges: [] };
  const containers = new Map<string | null, ElkNode>([[null, root]]);
  const groupOf = new Map<string, DiagramGroup>(d.groups.map((g) => [g.id, g]));
  for (const g of d.groups) {
    const head = Math.max(textWidth(g.title, M.groupTitle, true), textWidth(groupDetail(g), M.groupDetail)) + 2 * M.groupPad;
    const node: ElkNode = {
      id: g.id,
      children: [],
      edges: [],
      layoutOptions: {
        'elk.padding': `[top=${GROUP_HEAD},left=${M.groupPad},bottom=${M.groupPad},right=${M.groupPad}]`,
        'elk.nodeSize.constraints': 'MINIMUM_SIZE',
        'elk.nodeSize.minimum': transposed ? `(${GROUP_HEAD + M.groupPad}, ${Math.ceil(head)})` : `(${Math.ceil(head)}, ${GROUP_HEAD + M.groupPad})`,
        // a group widened for its header centres its content (ELK's alignment is transposed too, so both are named)
        'elk.contentAlignment': '[V_CENTER, H_CENTER]',
        // layered options apply per level: each group repeats the root's layering
        'elk.layered.layering.strategy': ROOT_OPTIONS['elk.layered.layering.strategy']!,
      },
    };
    containers.get(g.parent)!.children!.push(node);
    containers.set(g.id, node);
  }
  for (const n of d.nodes) containers.get(n.group)!.children!.push({ id: n.id, ...sized(nodeSize(n)) });

  const nodeGroup = new Map(d.nodes.map((n) => [n.id, n.group]));
  const chain = (g: string | null): (string | null)[] => {
    const out: (string | null)[] = [];
    for (let c = g; c !== null; c = groupOf.get(c)!.parent) out.push(c);
    out.push(null);
    return out;
  };
  for (const e of d.edges) {
    const a = chain(nodeGroup.get(e.from)!);
    const b = new Set(chain(nodeGroup.get(e.to)!));
    const common = a.find((g) => b.has(g)) ?? null;
    const text = shapeText(e.shape);
    const edge: ElkExtendedEdge = {
      id: e.id,
      sources: [e.from],
      targets: [e.to],
      labels: [{ id: `${e.id}l`, text, width: Math.ceil(textWidth(text, M.edgeLabel)) + 4, height: M.edgeLabel + 3 }],
    };
    containers.get(common)!.edges!.push(edge);
  }

  let out: ElkNode;
  try {
    out = await elk.layout(root);
  } catch (e) {
    // ELK's errors are Java exceptions compiled to JavaScript; keep the message, not its minified source
    throw new Error(`the graph layout (ELK) failed: ${String(e instanceof Error ? e.message : e).slice(0, 300)}`);
  }

  const placed = new Map<string, Box>();
  const edgesOut = new Map<string, ElkExtendedEdge>();
  const visit = (n: ElkNode): void => {
    for (const c of n.children ?? []) {
      placed.set(c.id, { x: c.x ?? 0, y: c.y ?? 0, w: c.width ?? 0, h: c.height ?? 0 });
      visit(c);
    }
    for (const e of n.edges ?? []) edgesOut.set(e.id, e);
  };
  visit(out);

  const nodes = d.nodes.map((n) => ({ ...n, ...placed.get(n.id)!, detail: nodeDetail(n) }));
  const groups = d.groups.map((g) => ({ ...g, ...placed.get(g.id)!, detail: groupDetail(g) }));
  const edges = d.edges.map((e): PlacedEdge => {
    const le = edgesOut.get(e.id)!;
    const points: Point[] = [];
    for (const s of le.sections ?? []) {
      if (!points.length) points.push(s.startPoint);
      for (const b of s.bendPoints ?? []) points.push(b);
      points.push(s.endPoint);
    }
    const l = le.labels?.[0];
    const label = l && l.x !== undefined ? { x: l.x, y: l.y ?? 0, w: l.width ?? 0, h: l.height ?? 0, text: l.text ?? '' } : undefined;
    return { ...e, points, label };
  });
  return { width: out.width ?? 0, height: out.height ?? 0, nodes, groups, edges };
}

function sized(s: { w: number; h: number }): { width: number; height: number } {
  return { width: s.w, height: s.h };
}

/** elkjs is CommonJS: under Node's ESM its module.exports (the constructor) arrives as `default`. */
async function newElk(): Promise<ELK> {
  const mod = (await import('elkjs/lib/elk.bundled.js')) as unknown as { default: (new () => ELK) & { default?: new () => ELK } };
  const Ctor = mod.default.default ?? mod.default;
  return new Ctor();
}

let transposedProbe: Promise<boolean> | undefined;

/**
 * ELK 0.12 applies a compound node's minimum size before it rotates the
 * graph for direction DOWN, so (w, h) arrives as (h, w). Ask it once, on a
 * one-node group, rather than trust either order: a fixed ELK keeps working.
 */
function minimumIsTransposed(elk: ELK): Promise<boolean> {
  transposedProbe ??= elk
    .layout({
      id: 'probe',
      layoutOptions: { 'elk.algorithm': 'layered', 'elk.direction': 'DOWN', 'elk.hierarchyHandling': 'INCLUDE_CHILDREN' },
      children: [{ id: 'g', layoutOptions: { 'elk.nodeSize.constraints': 'MINIMUM_SIZE', 'elk.nodeSize.minimum': '(300, 7)' }, children: [{ id: 'n', width: 10, height: 10 }] }],
    })
    .then((r) => (r.children?.[0]?.width ?? 0) < 300);
  return transposedProbe;
}
