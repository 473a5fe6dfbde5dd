// Diagram → Graphviz DOT, for people who want their own layout or styling:
// the same nodes, colours, shape-labelled edges and nested block-call
// clusters as the SVG, laid out by whichever Graphviz engine they run.
import type { Diagram, DiagramGroup, DiagramNode } from './graph.js';
import { nodeDetail, groupDetail } from './layout.js';
import { COLOURS, GROUP_FILLS, GROUP_STROKE } from './style.js';
import { human, int, networkTitle, shapeText } from './text.js';

/** a DOT double-quoted string */
function q(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** text inside an HTML-like label */
function h(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function nodeLine(n: DiagramNode, indent: string): string {
  const c = COLOURS[n.category];
  const dark = n.category === 'input';
  const label = `<<b>${h(n.title)}</b><br/><font point-size="9">${h(nodeDetail(n))}</font>>`;
  const attrs = [
    `label=${label}`,
    `fillcolor=${q(c.fill)}`,
    `color=${q(c.stroke)}`,
    `tooltip=${q(n.path || n.title)}`,
    ...(dark ? ['fontcolor="#ffffff"'] : []),
    ...(n.kind === 'merge' || n.kind === 'input' || n.kind === 'output' ? ['style="rounded,filled,bold"'] : []),
    ...(n.kind === 'block' ? ['peripheries=2'] : []),
  ];
  return `${indent}${n.id} [${attrs.join(', ')}];`;
}

export function renderDot(d: Diagram): string {
  const children = new Map<string | null, DiagramGroup[]>();
  for (const g of d.groups) children.set(g.parent, [...(children.get(g.parent) ?? []), g]);
  const members = new Map<string | null, DiagramNode[]>();
  for (const n of d.nodes) members.set(n.group, [...(members.get(n.group) ?? []), n]);

  const title = `${networkTitle(d.network, d.params)}: input ${shapeText(d.input)} → output ${shapeText(d.output)}, ${int(d.totalParams)} parameters (${human(d.totalParams)}), ${human(d.totalMacs)} MACs`;
  const out = [
    `// ${d.network}, drawn by alexnetc${d.expanded ? ' (block calls expanded)' : ''}; lay it out with e.g. \`dot -Tsvg\``,
    `digraph ${q(d.network)} {`,
    `  graph [rankdir=TB, label=${q(title)}, labelloc=t, fontname="DejaVu Sans", fontsize=14, nodesep=0.3, ranksep=0.3];`,
    '  node [shape=box, style="rounded,filled", fontname="DejaVu Sans", fontsize=11, margin="0.12,0.05"];',
    '  edge [fontname="DejaVu Sans", fontsize=9, color="#7d8b94", fontcolor="#52616b", arrowsize=0.7];',
  ];
  const body = (parent: string | null, indent: string): void => {
    for (const g of children.get(parent) ?? []) {
      out.push(`${indent}subgraph ${q(`cluster_${g.id}`)} {`);
      out.push(
        `${indent}  graph [label=<<b>${h(g.title)}</b><br/><font point-size="9">${h(groupDetail(g))}</font>>, tooltip=${q(g.path)}, style="rounded,filled", ` +
          `fillcolor=${q(GROUP_FILLS[Math.min(g.depth, GROUP_FILLS.length - 1)]!)}, color=${q(GROUP_STROKE)}, fontsize=11, labeljust=l];`,
      );
      body(g.id, `${indent}  `);
      out.push(`${indent}}`);
    }
    for (const n of members.get(parent) ?? []) out.push(nodeLine(n, indent));
  };
  body(null, '  ');
  for (const e of d.edges) out.push(`  ${e.from} -> ${e.to} [label=${q(shapeText(e.shape))}${e.identity ? ', style=dashed' : ''}];`);
  out.push('}');
  return out.join('\n') + '\n';
}
