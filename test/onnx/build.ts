// Hand-built checked networks for the ONNX tests: a tiny description is run
// through each layer's own `infer`/`weights`, so shapes and weights are the
// catalogue's, not re-derived here. Used until (and alongside) `compile`.
import type { LayerNode, Network, Node } from '../../src/check/ir.js';
import { findLayer } from '../../src/layers/registry.js';
import type { ArgValue, Shape } from '../../src/layers/types.js';

export type Item =
  | { layer: string; args?: Record<string, ArgValue>; name?: string }
  | { residual: Item[]; shortcut?: Item[]; name?: string }
  | { concat: Item[][]; name?: string }
  | { add: Item[][]; name?: string };

/** shorthand: `l('conv', { filters: 6, k: 5 })` */
export const l = (layer: string, args: Record<string, ArgValue> = {}, name?: string): Item => ({ layer, args, name });

const span = { start: 0, end: 0 };

class Scope {
  private readonly counts = new Map<string, number>();
  constructor(private readonly prefix: string) {}
  name(base: string, explicit?: string): string {
    let n = explicit;
    if (n === undefined) {
      const c = (this.counts.get(base) ?? 0) + 1;
      this.counts.set(base, c);
      n = `${base}${c}`;
    }
    return this.prefix ? `${this.prefix}/${n}` : n;
  }
}

function layerNode(item: { layer: string; args?: Record<string, ArgValue> }, path: string, input: Shape): LayerNode {
  const layer = findLayer(item.layer);
  if (!layer) throw new Error(`unknown layer ${item.layer}`);
  const raw: Record<string, ArgValue> = { ...item.args };
  for (const a of layer.args) {
    if (raw[a.name] !== undefined || a.default === null) continue; // null: the layer picks its own default
    if (a.default === undefined) throw new Error(`${path}: missing argument ${a.name}`);
    raw[a.name] = a.default;
  }
  const errors: string[] = [];
  const ctx = { error: (_c: string, m: string) => errors.push(m), warn: () => {} };
  const r = layer.infer(raw, input, ctx);
  if (!r || errors.length) throw new Error(`${path}: ${errors.join('; ') || 'inference failed'}`);
  const weights = layer.weights(r.args, input);
  const params = weights.filter((w) => w.trainable).reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1), 0);
  return {
    kind: 'layer',
    layer,
    args: r.args,
    rawArgs: raw,
    weights,
    params,
    macs: layer.macs(r.args, input, r.shape),
    path,
    inShape: input,
    outShape: r.shape,
    span,
  };
}

function seq(items: Item[], scope: Scope, input: Shape): { nodes: Node[]; shape: Shape } {
  const nodes: Node[] = [];
  let shape = input;
  for (const it of items) {
    let n: Node;
    if ('layer' in it) {
      n = layerNode(it, scope.name(it.layer, it.name), shape);
    } else if ('residual' in it) {
      const path = scope.name('residual', it.name);
      const body = seq(it.residual, new Scope(path), shape);
      const sc = it.shortcut ? seq(it.shortcut, new Scope(`${path}/shortcut`), shape) : null;
      if (sc && sc.shape.join() !== body.shape.join()) throw new Error(`${path}: shortcut shape mismatch`);
      n = { kind: 'residual', path, body: body.nodes, shortcut: sc ? sc.nodes : null, inShape: shape, outShape: body.shape, span };
    } else {
      const kind = 'concat' in it ? 'concat' : 'add';
      const path = scope.name(kind, it.name);
      const branches = ('concat' in it ? it.concat : it.add).map((b, i) => seq(b, new Scope(`${path}/branch${i + 1}`), shape));
      const out =
        kind === 'concat'
          ? [branches.reduce((s, b) => s + b.shape[0]!, 0), ...branches[0]!.shape.slice(1)]
          : branches[0]!.shape;
      n = { kind, path, branches: branches.map((b) => b.nodes), inShape: shape, outShape: out, span };
    }
    nodes.push(n);
    shape = n.outShape;
  }
  return { nodes, shape };
}

export function buildNetwork(name: string, input: Shape, items: Item[]): Network {
  const { nodes, shape } = seq(items, new Scope(''), input);
  let totalParams = 0;
  let totalMacs = 0;
  const walk = (ns: Node[]): void => {
    for (const n of ns) {
      if (n.kind === 'layer') {
        totalParams += n.params;
        totalMacs += n.macs;
      } else if (n.kind === 'residual') {
        walk(n.body);
        if (n.shortcut) walk(n.shortcut);
      } else n.branches.forEach(walk);
    }
  };
  walk(nodes);
  return { name, params: {}, input, output: shape, body: nodes, totalParams, totalMacs, train: {}, span };
}
