// The checked network: what the checker produces and every back end consumes.
// Blocks and `repeat` are already expanded; every node has concrete shapes.
import type { Span } from '../diagnostics/span.js';
import type { AnyLayer, ArgValue, Shape, WeightSpec } from '../layers/types.js';

interface NodeBase {
  /**
   * Unique, stable path inside the network, e.g. `stage2/conv1`,
   * `residual1/shortcut/conv1`, `concat1/branch2/relu1`. Weight names derive
   * from it (`stage2/conv1.weight`).
   */
  path: string;
  inShape: Shape;
  outShape: Shape;
  /** the source text this node came from (the call, or the construct keyword) */
  span: Span;
}

export interface LayerNode extends NodeBase {
  kind: 'layer';
  layer: AnyLayer;
  /** the layer's normalised arguments (its own type) */
  args: unknown;
  /** evaluated arguments as written, defaults filled in (for hovers, docs) */
  rawArgs: Record<string, ArgValue>;
  weights: WeightSpec[];
  params: number;
  macs: number;
}

export interface ResidualNode extends NodeBase {
  kind: 'residual';
  body: Node[];
  /** null: identity shortcut */
  shortcut: Node[] | null;
}

export interface MergeNode extends NodeBase {
  kind: 'concat' | 'add';
  branches: Node[][];
}

/** `split { branch … }`: the channels divided equally among the branches in order, their outputs concatenated */
export interface SplitNode extends NodeBase {
  kind: 'split';
  branches: Node[][];
}

/** `gate { … }`: input × body(input), a [C, 1, 1] gate broadcast over [C, H, W] (squeeze-and-excitation) */
export interface GateNode extends NodeBase {
  kind: 'gate';
  body: Node[];
}

export type Node = LayerNode | ResidualNode | MergeNode | SplitNode | GateNode;

export interface TrainConfig {
  /** setting name → evaluated arguments (positional first, then named) */
  [key: string]: { positional: ArgValue[]; named: Record<string, ArgValue> };
}

export interface Network {
  name: string;
  /** parameter values after defaults and --set overrides */
  params: Record<string, ArgValue>;
  input: Shape;
  output: Shape;
  body: Node[];
  totalParams: number;
  totalMacs: number;
  train: TrainConfig;
  span: Span;
}

/** Visit every layer node in execution order (body before shortcut, branches in order). */
export function* layers(nodes: readonly Node[]): Generator<LayerNode> {
  for (const n of nodes) {
    switch (n.kind) {
      case 'layer':
        yield n;
        break;
      case 'residual':
        yield* layers(n.body);
        if (n.shortcut) yield* layers(n.shortcut);
        break;
      case 'concat':
      case 'add':
      case 'split':
        for (const b of n.branches) yield* layers(b);
        break;
      case 'gate':
        yield* layers(n.body);
        break;
      default: {
        const never: never = n;
        throw new Error(`unhandled node ${(never as Node).kind}`);
      }
    }
  }
}

/** What a back end does with each kind of node; `lowerSequence` threads a value (a tensor name, a symbolic tensor) through a body. */
export interface NodeLowering<V> {
  layer(n: LayerNode, input: V): V;
  residual(n: ResidualNode, input: V): V;
  merge(n: MergeNode, input: V): V;
  split(n: SplitNode, input: V): V;
  gate(n: GateNode, input: V): V;
}

export function lowerSequence<V>(nodes: readonly Node[], input: V, lowering: NodeLowering<V>): V {
  let v = input;
  for (const n of nodes) {
    switch (n.kind) {
      case 'layer':
        v = lowering.layer(n, v);
        break;
      case 'residual':
        v = lowering.residual(n, v);
        break;
      case 'concat':
      case 'add':
        v = lowering.merge(n, v);
        break;
      case 'split':
        v = lowering.split(n, v);
        break;
      case 'gate':
        v = lowering.gate(n, v);
        break;
      default: {
        const never: never = n;
        throw new Error(`unhandled node ${(never as Node).kind}`);
      }
    }
  }
  return v;
}
