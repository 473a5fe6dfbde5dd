// The diagram model behind `alexnetc draw`: block calls found from the IR's
// paths, residual and concat/add as real branches and merges, edges carrying
// the producer's shape, collapsed vs expanded — checked against the IR and
// the checker's own record of block calls, not against the drawing code.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { layers, type Node } from '../../src/check/ir.js';
import { compile } from '../../src/compile.js';
import { buildDiagram, callLabels, type Diagram } from '../../src/inspect/draw/index.js';
import { layoutDiagram } from '../../src/inspect/draw/layout.js';
import { textWidth } from '../../src/inspect/draw/text.js';

const ROOT = path.join(import.meta.dirname, '../..');

function load(file: string, network?: string, text?: string) {
  const src = text ?? fs.readFileSync(path.join(ROOT, 'specs', file), 'utf8');
  const r = compile(src, { network });
  if (!r.network) throw new Error(r.diagnostics.map((d) => d.message).join('; '));
  return { net: r.network, calls: callLabels(r.stageInfo, r.network.name, src), blockPaths: new Set(r.stageInfo.filter((s) => s.network === r.network!.name && s.stage.kind === 'call' && !s.layer).map((s) => s.path)) };
}

function* allNodes(nodes: readonly Node[]): Generator<Node> {
  for (const n of nodes) {
    yield n;
    if (n.kind === 'residual') {
      yield* allNodes(n.body);
      if (n.shortcut) yield* allNodes(n.shortcut);
    } else if (n.kind !== 'layer') for (const b of n.branches) yield* allNodes(b);
  }
}

/** Every node reachable from the input, every node but the output has a way out: one connected data flow. */
function expectConnected(d: Diagram): void {
  const out = new Map<string, string[]>();
  for (const e of d.edges) out.set(e.from, [...(out.get(e.from) ?? []), e.to]);
  const input = d.nodes.find((n) => n.kind === 'input')!;
  const seen = new Set([input.id]);
  const todo = [input.id];
  while (todo.length) for (const t of out.get(todo.pop()!) ?? []) if (!seen.has(t)) (seen.add(t), todo.push(t));
  expect(seen.size).toBe(d.nodes.length);
  for (const n of d.nodes) if (n.kind !== 'output') expect(out.get(n.id)?.length ?? 0, n.path).toBeGreaterThan(0);
}

/** An edge carries what its source produces. */
function expectEdgeShapes(d: Diagram): void {
  const byId = new Map(d.nodes.map((n) => [n.id, n]));
  for (const e of d.edges) expect(e.shape).toEqual(byId.get(e.from)!.outShape);
}

describe('diagram of ResNet-18', () => {
  const { net, calls, blockPaths } = load('resnet.net', 'ResNet18');

  it('expanded: one node per layer, a merge per residual, a group per block call, identity shortcuts as their own edges', () => {
    const d = buildDiagram(net, { expand: true, calls });
    const layerPaths = [...layers(net.body)].map((l) => l.path);
    expect(d.nodes.filter((n) => n.kind === 'layer').map((n) => n.path)).toEqual(layerPaths);
    const residuals = [...allNodes(net.body)].filter((n) => n.kind === 'residual');
    expect(residuals).toHaveLength(8);
    const merges = d.nodes.filter((n) => n.kind === 'merge');
    expect(merges.map((m) => m.path)).toEqual(residuals.map((r) => r.path));
    // each merge has two inputs: the body and the shortcut (identity in basic blocks, a projection in down blocks)
    for (const m of merges) expect(d.edges.filter((e) => e.to === m.id)).toHaveLength(2);
    expect(d.edges.filter((e) => e.identity)).toHaveLength(5);
    // the groups are exactly the checker's block calls, titled as written
    expect(new Set(d.groups.map((g) => g.path))).toEqual(blockPaths);
    expect(d.groups.map((g) => g.title)).toEqual(['stem', 'basic(64)', 'basic(64)', 'down(128)', 'basic(128)', 'down(256)', 'basic(256)', 'down(512)', 'basic(512)', 'head(classes)']);
    // every layer sits in the group its path names
    const groupPath = new Map(d.groups.map((g) => [g.id, g.path]));
    for (const n of d.nodes.filter((x) => x.kind === 'layer')) expect(n.path.startsWith(`${groupPath.get(n.group!)}/`)).toBe(true);
    expect(d.groups.reduce((s, g) => s + (g.parent === null ? g.params : 0), 0)).toBe(net.totalParams);
    expectConnected(d);
    expectEdgeShapes(d);
  });

  it('collapsed: one box per top-level block call, with its parameters; the totals still add up', () => {
    const d = buildDiagram(net, { calls });
    expect(d.groups).toHaveLength(0);
    expect(d.nodes.map((n) => n.kind)).toEqual(['input', ...Array(10).fill('block'), 'output']);
    expect(d.nodes.filter((n) => n.kind === 'block').map((n) => n.path)).toEqual(['stem1', 'basic1', 'basic2', 'down1', 'basic3', 'down2', 'basic4', 'down3', 'basic5', 'head1']);
    expect(d.nodes.reduce((s, n) => s + n.params, 0)).toBe(net.totalParams);
    expect(d.nonTrainableParams).toBe(9600);
    expect(d.nodes.find((n) => n.path === 'down1')).toMatchObject({ title: 'down(128)', inShape: [64, 56, 56], outShape: [128, 28, 28], params: 230144 });
    expectConnected(d);
    expectEdgeShapes(d);
  });
});

describe('diagram of GoogLeNet', () => {
  const { net, calls, blockPaths } = load('googlenet.net');

  it('expanded: every inception is a concat of four branches merging into one node, nested block calls as nested groups', () => {
    const d = buildDiagram(net, { expand: true, calls });
    const concats = d.nodes.filter((n) => n.kind === 'merge');
    expect(concats).toHaveLength(9);
    for (const c of concats) {
      expect(c.title).toBe('concat');
      const ins = d.edges.filter((e) => e.to === c.id);
      expect(ins).toHaveLength(4);
      // concatenated along channels: the branch shapes add up to the output
      expect(ins.reduce((s, e) => s + e.shape[0]!, 0)).toBe(c.outShape[0]);
    }
    expect(new Set(d.groups.map((g) => g.path))).toEqual(blockPaths);
    const byId = new Map(d.groups.map((g) => [g.id, g]));
    const nested = d.groups.find((g) => g.path === 'inception1/concat1/branch2/cbr2')!;
    expect(nested.title).toBe('cbr(c3, 3, pad 1)');
    expect(byId.get(nested.parent!)!.path).toBe('inception1');
    expect(nested.depth).toBe(1);
    expect(d.nodes.filter((n) => n.kind === 'layer')).toHaveLength([...layers(net.body)].length);
    expectConnected(d);
    expectEdgeShapes(d);
  });

  it('collapsed: the inception blocks and the top-level layers and cbr calls', () => {
    const d = buildDiagram(net, { calls });
    const blocks = d.nodes.filter((n) => n.kind === 'block');
    expect(blocks.filter((b) => b.title.startsWith('inception('))).toHaveLength(9);
    expect(blocks[3]!.title).toBe('inception(64, 96, 128, 16, 32, 32)');
    expect(d.nodes.filter((n) => n.kind === 'merge')).toHaveLength(0);
    expect(d.nodes.reduce((s, n) => s + n.params, 0)).toBe(net.totalParams);
    expectConnected(d);
  });
});

describe('constructs outside blocks, add, empty branches, blocks named like constructs', () => {
  const text = `
block concat2(c) { conv(c, 1) }
block res(c) { residual { conv(c, 3, pad 1) } }
network N {
  input [4, 8, 8]
  residual { concat2(4) | relu } shortcut { conv(4, 1) }
  add { branch { res(4) } branch { } branch { conv(4, 3, pad 1) } }
  concat { branch { concat2(2) } branch { maxpool(3, 1, pad 1) } }
  res(6)
}`;
  const { net, calls, blockPaths } = load('', undefined, text);

  it('expanded: groups only for block calls, whatever their names; an empty branch is an identity edge', () => {
    const d = buildDiagram(net, { expand: true, calls });
    expect(new Set(d.groups.map((g) => g.path))).toEqual(blockPaths);
    expect(d.groups.map((g) => g.path).sort()).toEqual(['add1/branch1/res1', 'concat1/branch1/concat21', 'res1', 'residual1/concat21']);
    expect(d.nodes.filter((n) => n.kind === 'merge').map((n) => [n.path, n.title])).toEqual([
      ['residual1', 'add'],
      ['add1/branch1/res1/residual1', 'add'],
      ['add1', 'add'],
      ['concat1', 'concat'],
      ['res1/residual1', 'add'],
    ]);
    const add = d.nodes.find((n) => n.path === 'add1')!;
    const ins = d.edges.filter((e) => e.to === add.id);
    expect(ins).toHaveLength(3);
    expect(ins.filter((e) => e.identity)).toHaveLength(1);
    expectConnected(d);
    expectEdgeShapes(d);
  });

  it('collapsed: a construct at the top stays drawn, block calls inside its branches become boxes', () => {
    const d = buildDiagram(net, { calls });
    expect(d.nodes.filter((n) => n.kind === 'block').map((n) => n.path)).toEqual(['residual1/concat21', 'add1/branch1/res1', 'concat1/branch1/concat21', 'res1']);
    expect(d.nodes.filter((n) => n.kind === 'merge').map((n) => n.path)).toEqual(['residual1', 'add1', 'concat1']);
    expectConnected(d);
  });
});

describe('layout', () => {
  it('boxes fit their text, do not overlap, and sit inside their groups (GoogLeNet expanded)', async () => {
    const { net, calls } = load('googlenet.net');
    const d = buildDiagram(net, { expand: true, calls });
    const l = await layoutDiagram(d);
    for (const n of l.nodes) {
      expect(n.w).toBeGreaterThanOrEqual(textWidth(n.title, 13, true));
      expect(n.w).toBeGreaterThanOrEqual(textWidth(n.detail, 11));
    }
    const boxes = l.nodes;
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i]!;
        const b = boxes[j]!;
        const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
        expect(overlap, `${a.path} overlaps ${b.path}`).toBe(false);
      }
    }
    const groups = new Map(l.groups.map((g) => [g.id, g]));
    for (const n of l.nodes) {
      for (let g = n.group ? groups.get(n.group) : undefined; g; g = g.parent ? groups.get(g.parent) : undefined) {
        expect(n.x >= g.x && n.y >= g.y && n.x + n.w <= g.x + g.w && n.y + n.h <= g.y + g.h, `${n.path} outside ${g.path}`).toBe(true);
      }
    }
    // a group is at least as wide as its header (ELK's minimum size)
    for (const g of l.groups) expect(g.w + 0.5, g.path).toBeGreaterThanOrEqual(Math.max(textWidth(g.title, 12, true), textWidth(g.detail, 10.5)) + 24);
    // every edge is routed, from its source's box to its target's box
    const byId = new Map(l.nodes.map((n) => [n.id, n]));
    for (const e of l.edges) {
      expect(e.points.length).toBeGreaterThanOrEqual(2);
      const a = byId.get(e.from)!;
      const z = byId.get(e.to)!;
      const p = e.points[0]!;
      const q = e.points[e.points.length - 1]!;
      expect(p.x >= a.x - 1 && p.x <= a.x + a.w + 1 && Math.abs(p.y - (a.y + a.h)) < 1.5, `${e.id} starts on ${a.path}`).toBe(true);
      expect(q.x >= z.x - 1 && q.x <= z.x + z.w + 1 && Math.abs(q.y - z.y) < 1.5, `${e.id} ends on ${z.path}`).toBe(true);
    }
  });
});

