// The data path of an ONNX graph as alexnetc's constructs. A value read by
// several nodes is a fork; its branches must meet again in one node — the
// nearest node every path from the fork passes through (its immediate
// post-dominator) — and that node must be an Add (→ `residual`, or `add`),
// a Sum (→ `add`) or a Concat over channels (→ `concat`). Anything else (a
// value that escapes its branches, a join of values from different forks)
// is not a nesting the language has, and is an error naming the node.
import type { OnnxNode } from '../weights/onnx-read.js';
import { type ImportGraph, intAttr } from './graph.js';
import { CONVERTERS, importableLayers, type ImportLayer } from './ops.js';
import { matchFork, matchNode } from './transformer.js';

export interface ImportResidual {
  kind: 'residual';
  body: Item[];
  /** null: the identity */
  shortcut: Item[] | null;
  /** the Add */
  node: OnnxNode;
  shape: number[];
}

export interface ImportMerge {
  kind: 'concat' | 'add';
  branches: Item[][];
  node: OnnxNode;
  shape: number[];
}

export type Item = ImportLayer | ImportResidual | ImportMerge;

const SINK = -1;

export class StructureBuilder {
  /** node → its index in the data nodes (topological order) */
  private readonly rank = new Map<OnnxNode, number>();
  /** immediate post-dominator (a data-node index, or SINK) of each live node */
  private readonly ipdom = new Map<number, number>();

  constructor(private readonly g: ImportGraph) {
    const nodes = g.dataNodes;
    nodes.forEach((n, i) => this.rank.set(n, i));
    const rankOf = (i: number): number => (i === SINK ? Infinity : i);
    const intersect = (a: number, b: number): number => {
      while (a !== b) {
        while (rankOf(a) < rankOf(b)) a = this.ipdom.get(a)!;
        while (rankOf(b) < rankOf(a)) b = this.ipdom.get(b)!;
      }
      return a;
    };
    // reverse topological order: every successor is settled before its producer
    for (let i = nodes.length - 1; i >= 0; i--) {
      const succ = this.successors(nodes[i]!);
      if (succ.length === 0) continue; // a dead end: nothing reaches the output through it
      this.ipdom.set(i, succ.reduce(intersect));
    }
    this.intersect = intersect;
  }

  private readonly intersect: (a: number, b: number) => number;

  /** live data nodes that read a node's outputs, as indices (SINK for the graph output) */
  private successors(n: OnnxNode): number[] {
    const out: number[] = [];
    for (const o of n.outputs) {
      if (o === this.g.output) out.push(SINK);
      for (const c of this.g.consumers.get(o) ?? []) {
        const r = this.rank.get(c.node)!;
        if (this.ipdom.has(r)) out.push(r);
      }
    }
    return out;
  }

  /** live readers of a value (nodes from which the output is reachable), each node once */
  private readers(v: string): OnnxNode[] {
    const seen = new Set<OnnxNode>();
    for (const c of this.g.consumers.get(v) ?? []) if (this.ipdom.has(this.rank.get(c.node)!)) seen.add(c.node);
    return [...seen];
  }

  /** The whole network: from the input to the output. */
  build(): Item[] {
    return this.walk(this.g.input, new Set([SINK])).items;
  }

  /** Items from value `v` until one of the nodes `stop` (a join; SINK: the graph output). */
  private walk(v: string, stop: ReadonlySet<number>): { items: Item[]; end: string } {
    const items: Item[] = [];
    const g = this.g;
    for (;;) {
      const readers = this.readers(v);
      if (v === g.output) {
        if (readers.length > 0 || !stop.has(SINK)) {
          const r = readers[0] ?? g.producer.get(v)!;
          g.fail(r, `reads the graph's output ${v}; alexnetc's output is the last value of the network`);
        }
        return { items, end: v };
      }
      if (readers.length === 0) {
        const p = g.producer.get(v);
        if (p) g.fail(p, `its output ${v} leads nowhere`);
        throw new Error(`internal: the input leads nowhere`);
      }
      if (readers.length === 1 && stop.has(this.rank.get(readers[0]!)!)) return { items, end: v };
      if (readers.length === 1) {
        const next = this.convert(readers[0]!, v);
        items.push(...next.layers);
        v = next.out;
        continue;
      }
      // a pattern that forks inside itself (GELU's x · ½(1 + erf(x/√2))) is one layer, not a join
      const fused = matchFork(g, v, readers);
      if (fused) {
        items.push(...fused.layers);
        g.shapes.set(fused.out, fused.layers[fused.layers.length - 1]!.shape);
        v = fused.out;
        continue;
      }
      const join = this.fork(v, readers, stop);
      items.push(join.item);
      v = join.out;
    }
  }

  private convert(n: OnnxNode, v: string): { layers: ImportLayer[]; out: string } {
    const g = this.g;
    const dataInputs = n.inputs.filter((i) => g.isData(i));
    if (dataInputs.length > 1) {
      if (n.op === 'Add' || n.op === 'Sum' || n.op === 'Concat' || n.op === 'Mul') {
        g.fail(n, `joins values that do not branch from one value alexnetc can follow (${dataInputs.join(', ')}); alexnetc's residual, add and concat join the branches of one fork`);
      }
      g.fail(n, `computes on ${dataInputs.length} values of the network (${dataInputs.join(', ')}); alexnetc's layers take one`);
    }
    // patterns of several nodes (attention, the class token, tokens ↔ image) come first
    const pattern = matchNode(g, n, v);
    if (pattern) {
      const last = pattern.layers[pattern.layers.length - 1];
      g.shapes.set(pattern.out, last ? last.shape : g.shapes.get(v)!);
      return pattern;
    }
    const join = n.op === 'Add' || n.op === 'Sum' || n.op === 'Concat' || n.op === 'Mul';
    // a Concat or Sum of one input is that input (DenseNet exports have them): nothing to import
    if ((n.op === 'Concat' || n.op === 'Sum') && n.inputs.length === 1) {
      g.shapes.set(n.outputs[0]!, g.shapes.get(v)!);
      return { layers: [], out: n.outputs[0]! };
    }
    const convert = CONVERTERS[n.op];
    if (!convert && join && n.inputs.length > 1) {
      // the other inputs are constants: not a join of branches, and no layer of the catalogue converts it
      g.fail(n, `${n.op} joins the network's value ${v} with ${n.inputs.length - 1} constant${n.inputs.length > 2 ? 's' : ''}; alexnetc's add and concat join branches of the network, not constants`);
    }
    if (!convert) {
      g.fail(n, `${n.op} is outside alexnetc's catalogue (${importableLayers().join(', ')}; residual/add/concat joins)`);
    }
    const inShape = g.shapes.get(v)!;
    const r = convert!({ g, node: n, inShape });
    const last = r.layers[r.layers.length - 1];
    g.shapes.set(r.out, last ? last.shape : inShape);
    return r;
  }

  /**
   * The Add (or Sum) nodes that feed only each other up to `join`, `join`
   * first — as many as it takes to reach one input per branch: an inner Add
   * can also be the end of one branch (a residual at the end of a residual's
   * body), and then it is not part of this sum.
   */
  private addTree(join: OnnxNode, branches: number): OnnxNode[] {
    const tree = [join];
    const leafCount = (): number => tree.reduce((a, n) => a + n.inputs.length, 0) - (tree.length - 1);
    for (let k = 0; k < tree.length && leafCount() < branches; k++) {
      for (const i of tree[k]!.inputs) {
        if (leafCount() >= branches) break;
        const p = this.g.producer.get(i);
        if (p && (p.op === 'Add' || p.op === 'Sum') && this.g.consumers.get(i)?.length === 1 && i !== this.g.output) tree.push(p);
      }
    }
    return tree;
  }

  private fork(v: string, readers: OnnxNode[], stop: ReadonlySet<number>): { item: ImportResidual | ImportMerge; out: string } {
    const g = this.g;
    const j = readers.map((n) => this.rank.get(n)!).reduce(this.intersect);
    if (j === SINK) g.fail(readers[1]!, `reads ${v}, which also feeds ${readers[0]!.name}; these branches never join again before the output`);
    if (stop.has(j)) {
      g.fail(g.dataNodes[j]!, `joins branches that fork at ${v} inside another of its branches; alexnetc's residual, add and concat join the branches of one fork`);
    }
    const join = g.dataNodes[j]!;
    const joinInputs = join.inputs.filter((i) => g.isData(i));
    const axis = join.op === 'Concat' ? intAttr(join, 'axis', 1) : 1;
    const rank = g.shapes.get(v)!.length + 1;
    if (!(join.op === 'Add' || join.op === 'Sum' || (join.op === 'Concat' && (axis === 1 || axis === 1 - rank)))) {
      g.fail(join, `joins the branches that start at ${v}${join.op === 'Concat' ? ` along axis ${axis}` : ''}; alexnetc joins branches with Add/Sum (residual, add) or a Concat over channels (concat)`);
    }
    if (joinInputs.length !== join.inputs.length) g.fail(join, `adds a constant to a join of branches`);
    // `a + b + c` is exported as Add(Add(a, b), c): one sum of three branches
    const tree = join.op === 'Concat' ? [join] : this.addTree(join, readers.length);
    const treeRanks = new Set(tree.map((n) => this.rank.get(n)!));
    const leaves = tree.flatMap((n) => n.inputs.filter((i) => !tree.some((t) => t.outputs[0] === i)));
    if (leaves.some((i) => !g.isData(i))) g.fail(join, `adds a constant to a join of branches`);
    // one branch per reader (a reader that is the join itself is an identity branch)
    const ends = new Map<string, Item[]>();
    for (const r of readers) {
      if (treeRanks.has(this.rank.get(r)!)) {
        if (leaves.filter((i) => i === v).length !== 1) g.fail(r, `reads ${v} more than once`);
        ends.set(v, []);
        continue;
      }
      const first = this.convert(r, v);
      // the branch's last value is where its walk stopped: the value the join reads
      const { items: rest, end } = this.walk(first.out, treeRanks);
      if (!leaves.includes(end)) g.fail(join, `is where the branches of ${v} meet, but ${end} does not reach it directly`);
      if (ends.has(end)) g.fail(join, `reads ${end} twice`);
      ends.set(end, [...first.layers, ...rest]);
    }
    const missing = leaves.find((i) => !ends.has(i));
    if (missing !== undefined) g.fail(join, `joins ${missing}, which does not branch from ${v}; alexnetc's joins take the branches of one fork`);
    const branches = leaves.map((i) => ends.get(i)!);
    const shapes = leaves.map((i) => g.shapes.get(i)!);
    const out = join.outputs[0]!;
    let shape: number[];
    if (join.op === 'Concat') {
      if (shapes.some((s) => s.slice(1).join() !== shapes[0]!.slice(1).join())) g.fail(join, `concatenates shapes ${shapes.map((s) => `[${s.join(', ')}]`).join(', ')}`);
      shape = [shapes.reduce((a, s) => a + s[0]!, 0), ...shapes[0]!.slice(1)];
    } else {
      if (shapes.some((s) => s.join() !== shapes[0]!.join())) g.fail(join, `adds shapes ${shapes.map((s) => `[${s.join(', ')}]`).join(', ')} (alexnetc does not broadcast)`);
      shape = [...shapes[0]!];
    }
    g.shapes.set(out, shape);
    const identity = (): ImportLayer[] => [{ kind: 'layer', layer: 'identity', args: {}, weights: [], nodes: [join], shape: [...shapes[0]!] }];
    if (join.op === 'Concat') return { item: { kind: 'concat', branches: branches.map((b) => (b.length ? b : identity())), node: join, shape }, out };
    const named = lastSegment(join.name);
    if (branches.length === 2 && tree.length === 1 && !/^add\d*$/.test(named)) {
      // alexnetc writes Add(body, shortcut); PyTorch's `out += identity` too: the first is the body
      // unless the names say otherwise (alexnetc's `…/shortcut/…`), and an identity is always the shortcut
      let [body, shortcut] = branches as [Item[], Item[]];
      if (body.length === 0 || isShortcut(body)) [body, shortcut] = [shortcut, body];
      return { item: { kind: 'residual', body, shortcut: shortcut.length ? shortcut : null, node: join, shape }, out };
    }
    return { item: { kind: 'add', branches: branches.map((b) => (b.length ? b : identity())), node: join, shape }, out };
  }
}

function lastSegment(name: string): string {
  const parts = name.split('/').filter((p) => p !== '');
  return parts[parts.length - 1] ?? '';
}

function isShortcut(items: Item[]): boolean {
  const first = firstNode(items[0]!);
  return first !== undefined && /(^|\/)shortcut\//.test(first.name);
}

export function firstNode(item: Item): OnnxNode | undefined {
  if (item.kind === 'layer') return item.nodes[0];
  const inner = item.kind === 'residual' ? item.body : item.branches[0]!;
  return inner.length ? firstNode(inner[0]!) : item.node;
}

/** Every ONNX node an item came from. */
export function nodesOf(item: Item): OnnxNode[] {
  if (item.kind === 'layer') return item.nodes;
  const inner = item.kind === 'residual' ? [item.body, item.shortcut ?? []] : item.branches;
  return [...inner.flat().flatMap(nodesOf), item.node];
}
