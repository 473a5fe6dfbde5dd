// The data path of an ONNX graph as alexnetc's constructs. A value read by
// several nodes is a fork; its branches must meet again in one node — the
// nearest node every path from the fork passes through (its immediate
// post-dominator) — and that node must be an Add (→ `residual`, or `add`),
// a Sum (→ `add`) or a Concat over channels (→ `concat`). Anything else (a
// value that escapes its branches, a join of values from different forks)
// is not a nesting the language has, and is an error naming the node.
import type { OnnxNode } from '../weights/onnx-read.js';
import { type ImportGraph, intAttr } from './graph.js';
import { convertCnnPattern, splitSlices } from './cnn.js';
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

/** `split { branch … }`: the channels divided equally among the branches, their outputs concatenated */
export interface ImportSplit {
  kind: 'split';
  branches: Item[][];
  /** the Concat */
  node: OnnxNode;
  shape: number[];
}

/** `gate { body }`: the input multiplied by body(input) (squeeze-and-excitation) */
export interface ImportGate {
  kind: 'gate';
  body: Item[];
  /** the Mul */
  node: OnnxNode;
  shape: number[];
}

export type Item = ImportLayer | ImportResidual | ImportMerge | ImportSplit | ImportGate;

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
    // patterns of several nodes: the transformer's (attention, the class token, tokens ↔ image), then the CNNs'
    const pattern = matchNode(g, n, v) ?? convertCnnPattern({ g, node: n, inShape: g.shapes.get(v)! });
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

  private fork(v: string, readers: OnnxNode[], stop: ReadonlySet<number>): { item: Item; out: string } {
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
    if (!(join.op === 'Add' || join.op === 'Sum' || join.op === 'Mul' || (join.op === 'Concat' && (axis === 1 || axis === 1 - rank)))) {
      g.fail(join, `joins the branches that start at ${v}${join.op === 'Concat' ? ` along axis ${axis}` : ''}; alexnetc joins branches with Add/Sum (residual, add), a Concat over channels (concat, split) or a Mul of the value by a function of itself (gate)`);
    }
    const slices = splitSlices(g, v, readers);
    if (slices && join.op !== 'Concat') g.fail(join, `joins the channel slices of ${v}; alexnetc's split joins them with a Concat over channels`);
    if (joinInputs.length !== join.inputs.length) g.fail(join, `adds a constant to a join of branches`);
    // `a + b + c` is exported as Add(Add(a, b), c): one sum of three branches
    const tree = join.op === 'Concat' || join.op === 'Mul' ? [join] : this.addTree(join, readers.length);
    const treeRanks = new Set(tree.map((n) => this.rank.get(n)!));
    const leaves = tree.flatMap((n) => n.inputs.filter((i) => !tree.some((t) => t.outputs[0] === i)));
    if (leaves.some((i) => !g.isData(i))) g.fail(join, `adds a constant to a join of branches`);
    // one branch per reader (a reader that is the join itself is an identity branch)
    const ends = new Map<string, Item[]>();
    if (slices) {
      // each Slice opens its branch; the Concat must read the branches in channel order
      for (const sl of slices) {
        const { items, end } = this.walk(sl.out, treeRanks);
        if (ends.has(end)) g.fail(join, `reads ${end} twice`);
        ends.set(end, items);
      }
      const order = slices.map((sl) => sl.out);
      const branches = leaves.map((i) => {
        const b = ends.get(i);
        if (!b) g.fail(join, `joins ${i}, which is not a branch of the split of ${v}`);
        return b!;
      });
      const byEnd = [...ends.keys()];
      if (leaves.length !== slices.length || byEnd.some((e, k) => leaves[k] !== e)) {
        g.fail(join, `concatenates the branches of ${v}'s channel split out of their order (${order.join(', ')}); alexnetc's split keeps the channels' order`);
      }
      const shapes = leaves.map((i) => g.shapes.get(i)!);
      if (shapes.some((s) => s.slice(1).join() !== shapes[0]!.slice(1).join())) g.fail(join, `concatenates shapes ${shapes.map((s) => `[${s.join(', ')}]`).join(', ')}`);
      const shape = [shapes.reduce((a, s) => a + s[0]!, 0), ...shapes[0]!.slice(1)];
      const out = join.outputs[0]!;
      g.shapes.set(out, shape);
      // an identity branch is `branch { }`, as in specs/shufflenet.net
      return { item: { kind: 'split', branches, node: join, shape }, out };
    }
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
    } else if (join.op === 'Mul') {
      const k = branches.findIndex((b) => b.length === 0);
      shape = [...shapes[k < 0 ? 0 : k]!];
    } else {
      if (shapes.some((s) => s.join() !== shapes[0]!.join())) g.fail(join, `adds shapes ${shapes.map((s) => `[${s.join(', ')}]`).join(', ')} (alexnetc does not broadcast)`);
      shape = [...shapes[0]!];
    }
    g.shapes.set(out, shape);
    if (join.op === 'Mul') return { item: gateOf(g, join, branches, shapes, shape), out };
    const identity = (): ImportLayer[] => [{ kind: 'layer', layer: 'identity', args: {}, weights: [], nodes: [join], shape: [...shapes[0]!] }];
    // an identity branch of a concat is `branch { }` (DenseNet's dense layer)
    if (join.op === 'Concat') return { item: { kind: 'concat', branches, node: join, shape }, out };
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

/** A Mul of a value and a function of it: `silu` when the function is a sigmoid, else `gate { … }` (squeeze-and-excitation). */
function gateOf(g: ImportGraph, join: OnnxNode, branches: Item[][], shapes: number[][], shape: number[]): Item {
  if (branches.length !== 2) g.fail(join, `multiplies ${branches.length} values`);
  const k = branches.findIndex((b) => b.length === 0);
  if (k < 0) g.fail(join, `multiplies two computed branches; alexnetc's gate multiplies a value by a function of itself (one factor must be the value)`);
  const body = branches[1 - k]!;
  const input = shapes[k]!;
  const gated = shapes[1 - k]!;
  if (body.length === 1 && body[0]!.kind === 'layer' && body[0]!.layer === 'sigmoid') {
    const s = body[0]!;
    return { kind: 'layer', layer: 'silu', args: {}, weights: [], nodes: [...s.nodes, join], shape: [...input] };
  }
  const broadcast = input.length === 3 && gated.length === 3 && gated[0] === input[0] && gated[1] === 1 && gated[2] === 1;
  if (gated.join() !== input.join() && !broadcast) {
    g.fail(join, `multiplies [${input.join(', ')}] by a gate of shape [${gated.join(', ')}]; alexnetc's gate needs the input's shape or [C, 1, 1]`);
  }
  return { kind: 'gate', body, node: join, shape: [...shape] };
}

function lastSegment(name: string): string {
  const parts = name.split('/').filter((p) => p !== '');
  return parts[parts.length - 1] ?? '';
}

function isShortcut(items: Item[]): boolean {
  const first = firstNode(items[0]!);
  // alexnetc's `…/shortcut/…`; torchvision's RegNet writes `self.proj(x) + self.f(x)`, the projection first
  return first !== undefined && /(^|\/)(shortcut|proj)\//.test(first.name);
}

export function firstNode(item: Item): OnnxNode | undefined {
  if (item.kind === 'layer') return item.nodes[0];
  const inner = item.kind === 'residual' || item.kind === 'gate' ? item.body : item.branches[0]!;
  return inner.length ? firstNode(inner[0]!) : item.node;
}

/** Every ONNX node an item came from. */
export function nodesOf(item: Item): OnnxNode[] {
  if (item.kind === 'layer') return item.nodes;
  const inner = item.kind === 'residual' ? [item.body, item.shortcut ?? []] : item.kind === 'gate' ? [item.body] : item.branches;
  return [...inner.flat().flatMap(nodesOf), item.node];
}
