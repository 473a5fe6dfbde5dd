// A checked network as a diagram: nodes (layers, merges, collapsed block
// calls), groups (expanded block calls) and edges that carry shapes. Pure
// data; layout and rendering come after (layout.ts, svg.ts, dot.ts).
//
// The IR has expanded every block call, but each node's path still names the
// calls it came through: `inception1/concat1/branch2/cbr1/conv1` is layer
// `conv1` inside block call `cbr1`, inside branch 2 of the concat of block
// call `inception1`. Walking the IR, the path prefix of the enclosing
// construct (`inception1/concat1/branch2/`) is known, so the segments between
// it and a node's own name are exactly its block calls — no guessing from
// names. A block call's nodes are contiguous in the sequence that called it.
import { layers, type LayerNode, type Network, type Node } from '../../check/ir.js';
import type { Shape } from '../../layers/types.js';
import { describeCall } from '../../summary.js';
import { categoryOf, type Category } from './style.js';

export interface DiagramNode {
  id: string;
  kind: 'input' | 'output' | 'layer' | 'merge' | 'block';
  category: Category;
  /** the stage's path in the network (`stage2/conv1`, `residual1`, `inception3`); '' for input and output */
  path: string;
  /** first line: the call as the specs write it (`conv(64, 3, pad 1)`), `add`, `concat`, a block call as written */
  title: string;
  inShape?: Shape;
  outShape: Shape;
  params: number;
  macs: number;
  /** the expanded block call (group id) this node is drawn in; null at the top */
  group: string | null;
}

export interface DiagramGroup {
  id: string;
  path: string;
  title: string;
  parent: string | null;
  /** nesting level, 0 for a call at the network's top */
  depth: number;
  inShape: Shape;
  outShape: Shape;
  params: number;
  macs: number;
}

export interface DiagramEdge {
  id: string;
  from: string;
  to: string;
  /** the tensor that flows: the producer's output shape */
  shape: Shape;
  /** an identity shortcut (residual without projection, empty branch) */
  identity: boolean;
}

export interface Diagram {
  network: string;
  /** the network's parameters after defaults and --set (`classes = 1000`) */
  params: Network['params'];
  input: Shape;
  output: Shape;
  nodes: DiagramNode[];
  groups: DiagramGroup[];
  edges: DiagramEdge[];
  totalParams: number;
  /** batch-norm running statistics: stored, not trained */
  nonTrainableParams: number;
  totalMacs: number;
  expanded: boolean;
}

export interface DiagramOptions {
  /** show the insides of block calls as nested groups (default: one box per call) */
  expand?: boolean;
  /** block-call path → the call as written (`inception(64, 96, 128, 16, 32, 32)`); see callLabels */
  calls?: ReadonlyMap<string, string>;
}

interface Tip {
  id: string;
  shape: Shape;
  identity: boolean;
}

interface Ctx {
  /** the path prefix the nodes of this sequence are relative to */
  base: string;
  group: string | null;
  depth: number;
}

export function buildDiagram(net: Network, opts: DiagramOptions = {}): Diagram {
  const expand = opts.expand === true;
  const nodes: DiagramNode[] = [];
  const groups: DiagramGroup[] = [];
  const edges: DiagramEdge[] = [];
  let nonTrainable = 0;

  const addNode = (n: Omit<DiagramNode, 'id'>): string => {
    const id = `n${nodes.length}`;
    nodes.push({ id, ...n });
    return id;
  };
  const connect = (from: Tip, to: string): void => {
    edges.push({ id: `e${edges.length}`, from: from.id, to, shape: from.shape, identity: from.identity });
  };
  const callTitle = (path: string): string => opts.calls?.get(path) ?? path.slice(path.lastIndexOf('/') + 1);

  /** the block call a node at `path` is in, relative to `base` (its first segment), if any */
  const callOf = (n: Node, base: string): string | undefined => {
    const rel = n.path.startsWith(base) ? n.path.slice(base.length) : n.path;
    const slash = rel.indexOf('/');
    return slash < 0 ? undefined : rel.slice(0, slash);
  };

  const sequence = (body: readonly Node[], ctx: Ctx, tip: Tip): Tip => {
    let i = 0;
    while (i < body.length) {
      const call = callOf(body[i]!, ctx.base);
      if (call === undefined) {
        tip = stage(body[i]!, ctx, tip);
        i++;
        continue;
      }
      let j = i + 1;
      while (j < body.length && callOf(body[j]!, ctx.base) === call) j++;
      const run = body.slice(i, j);
      const path = ctx.base + call;
      const { params, macs } = sums(run);
      const inShape = run[0]!.inShape;
      const outShape = run[run.length - 1]!.outShape;
      if (expand) {
        const id = `g${groups.length}`;
        groups.push({ id, path, title: callTitle(path), parent: ctx.group, depth: ctx.depth, inShape, outShape, params, macs });
        tip = sequence(run, { base: `${path}/`, group: id, depth: ctx.depth + 1 }, tip);
      } else {
        for (const l of layers(run)) nonTrainable += untrained(l);
        const id = addNode({ kind: 'block', category: 'block', path, title: callTitle(path), inShape, outShape, params, macs, group: ctx.group });
        connect(tip, id);
        tip = { id, shape: outShape, identity: false };
      }
      i = j;
    }
    return tip;
  };

  const stage = (n: Node, ctx: Ctx, tip: Tip): Tip => {
    switch (n.kind) {
      case 'layer': {
        nonTrainable += untrained(n);
        const id = addNode({
          kind: 'layer',
          category: categoryOf(n.layer.name),
          path: n.path,
          title: describeCall(n.layer.name, n.layer.args, n.rawArgs),
          inShape: n.inShape,
          outShape: n.outShape,
          params: n.params,
          macs: n.macs,
          group: ctx.group,
        });
        connect(tip, id);
        return { id, shape: n.outShape, identity: false };
      }
      case 'residual': {
        const body = sequence(n.body, { ...ctx, base: `${n.path}/` }, tip);
        const short = n.shortcut ? sequence(n.shortcut, { ...ctx, base: `${n.path}/shortcut/` }, tip) : { ...tip, identity: true };
        const id = addNode({ kind: 'merge', category: 'merge', path: n.path, title: 'add', inShape: n.inShape, outShape: n.outShape, params: 0, macs: 0, group: ctx.group });
        connect(body, id);
        connect(short, id);
        return { id, shape: n.outShape, identity: false };
      }
      case 'concat':
      case 'add': {
        const ends = n.branches.map((b, k) => (b.length ? sequence(b, { ...ctx, base: `${n.path}/branch${k + 1}/` }, tip) : { ...tip, identity: true }));
        const id = addNode({ kind: 'merge', category: 'merge', path: n.path, title: n.kind, inShape: n.inShape, outShape: n.outShape, params: 0, macs: 0, group: ctx.group });
        for (const e of ends) connect(e, id);
        return { id, shape: n.outShape, identity: false };
      }
      case 'split': {
        // a split box hands each branch its share of the channels; a concat box joins them
        const part = [n.inShape[0]! / n.branches.length, ...n.inShape.slice(1)];
        const sp = addNode({ kind: 'merge', category: 'merge', path: `${n.path}/split`, title: `split ${n.branches.length}`, inShape: n.inShape, outShape: part, params: 0, macs: 0, group: ctx.group });
        connect(tip, sp);
        const from = { id: sp, shape: part, identity: false };
        const ends = n.branches.map((b, k) => (b.length ? sequence(b, { ...ctx, base: `${n.path}/branch${k + 1}/` }, from) : { ...from, identity: true }));
        const id = addNode({ kind: 'merge', category: 'merge', path: n.path, title: 'concat', inShape: n.inShape, outShape: n.outShape, params: 0, macs: 0, group: ctx.group });
        for (const e of ends) connect(e, id);
        return { id, shape: n.outShape, identity: false };
      }
      case 'gate': {
        // the body computes the gate from the input; a multiply box scales the input by it
        const body = sequence(n.body, { ...ctx, base: `${n.path}/` }, tip);
        const id = addNode({ kind: 'merge', category: 'merge', path: n.path, title: 'multiply', inShape: n.inShape, outShape: n.outShape, params: 0, macs: 0, group: ctx.group });
        connect(body, id);
        connect({ ...tip, identity: true }, id);
        return { id, shape: n.outShape, identity: false };
      }
      default: {
        const never: never = n;
        throw new Error(`unhandled node ${(never as Node).kind}`);
      }
    }
  };

  const input = addNode({ kind: 'input', category: 'input', path: '', title: 'input', outShape: net.input, params: 0, macs: 0, group: null });
  const last = sequence(net.body, { base: '', group: null, depth: 0 }, { id: input, shape: net.input, identity: false });
  const output = addNode({ kind: 'output', category: 'input', path: '', title: 'output', inShape: net.output, outShape: net.output, params: 0, macs: 0, group: null });
  connect(last, output);
  return { network: net.name, params: net.params, input: net.input, output: net.output, nodes, groups, edges, totalParams: net.totalParams, nonTrainableParams: nonTrainable, totalMacs: net.totalMacs, expanded: expand };
}

function sums(nodes: readonly Node[]): { params: number; macs: number } {
  let params = 0;
  let macs = 0;
  for (const l of layers(nodes)) {
    params += l.params;
    macs += l.macs;
  }
  return { params, macs };
}

function untrained(l: LayerNode): number {
  let n = 0;
  for (const w of l.weights) if (!w.trainable) n += w.shape.reduce((a, b) => a * b, 1);
  return n;
}
