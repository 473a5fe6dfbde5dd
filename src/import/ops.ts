// ONNX operators → catalogue layers. Each layer declares the ops it imports
// from and how (LayerDef.onnxImport, in its own file); this file gives those
// converters the graph (ImportContext) and builds the op table from the
// registry. A converter reads its node's attributes and constant inputs,
// says which catalogue layer (if any) computes the same function, and checks
// its arguments with that layer's own `infer`, so the shapes the importer
// tracks are the checker's. What the catalogue cannot express is an
// ImportError naming the node — never an approximation.
import { findLayer, LAYERS } from '../layers/registry.js';
import type { ArgValue, ImportContext, ImportedLayer, ImportWeight, OnnxImport, OnnxNodeView } from '../layers/types.js';
import type { OnnxNode } from '../weights/onnx-read.js';
import { nonFinite } from '../weights/match.js';
import { floatAttr, type ImportGraph, intAttr, intsAttr, stringAttr } from './graph.js';

export type { ImportWeight } from '../layers/types.js';
export { f32 } from '../layers/onnx-import.js';

/** One catalogue layer the importer will write; its nodes are the graph's (converters see them as OnnxNodeView). */
export type ImportLayer = Omit<ImportedLayer, 'nodes'> & { nodes: OnnxNode[] };
export interface OpResult {
  layers: ImportLayer[];
  out: string;
}

export interface OpContext {
  g: ImportGraph;
  node: OnnxNode;
  /** the data input's shape per example */
  inShape: number[];
}

type Converter = (c: OpContext) => OpResult;

/** Run a catalogue layer's own argument check and shape rule; its complaint becomes the node's. */
export function layer(c: OpContext, name: string, args: Record<string, ArgValue>, weights: ImportWeight[] = [], nodes: OnnxNode[] = [c.node]): ImportLayer {
  const def = findLayer(name);
  if (!def) throw new Error(`internal: a converter asked for layer ${name}, which is not in the catalogue`);
  const raw: Record<string, ArgValue> = {};
  for (const spec of def.args) {
    if (args[spec.name] !== undefined) raw[spec.name] = args[spec.name]!;
    else if (spec.default !== undefined && spec.default !== null) raw[spec.name] = spec.default;
  }
  const fail = (_code: string, message: string): never => c.g.fail(c.node, `as alexnetc's ${name}: ${message}`);
  const r = def.infer(raw, c.inShape, { error: fail, warn: () => undefined });
  if (!r) c.g.fail(c.node, `alexnetc's ${name} refuses these arguments`);
  // the weights the layer declares must be exactly the ones taken from the file
  const specs = def.weights(r!.args, c.inShape);
  const got = new Map(weights.map((w) => [w.name, w]));
  for (const s of specs) {
    const w = got.get(s.name);
    if (!w || w.dims.length !== s.shape.length || w.dims.some((d, i) => d !== s.shape[i])) {
      c.g.fail(c.node, `its ${s.name} has shape [${w?.dims.join(', ') ?? 'none'}], alexnetc's ${name} needs [${s.shape.join(', ')}]`);
    }
  }
  return { kind: 'layer', layer: name, args, weights: specs.map((s) => got.get(s.name)!), nodes, shape: r!.shape };
}

function hasInput(n: OnnxNode, slot: number): boolean {
  return (n.inputs[slot] ?? '') !== '';
}

/** The graph as a layer's converter sees it: one node and its input shape. */
function context(c: OpContext): ImportContext {
  const { g, node: n } = c;
  const ctx: ImportContext = {
    node: n,
    inShape: c.inShape,
    opset: g.model.opset,
    fail: (message) => g.fail(n, message),
    int: (name, dflt) => intAttr(n, name, dflt),
    ints: (name) => intsAttr(n, name),
    float: (name, dflt) => floatAttr(n, name, dflt),
    string: (name, dflt) => stringAttr(n, name, dflt),
    hasInput: (slot) => hasInput(n, slot),
    weight(slot, name) {
      const v = g.floats(n.inputs[slot]!, n);
      const bad = nonFinite(v.values, `'${n.inputs[slot]}'`, `${g.model.file}: ${g.where(n)}`);
      if (bad) g.fail(n, `its weight '${n.inputs[slot]}' is not finite: ${bad.replace(/^.*?: '.*?' /, '')}`);
      return { name, dims: v.dims, values: v.values };
    },
    floats: (slot) => g.floats(n.inputs[slot]!, n),
    constInts: (slot) => g.ints(n.inputs[slot]!, n),
    isData: (value) => g.isData(value),
    onlyFirstOutput(what) {
      for (const o of n.outputs.slice(1)) {
        if (o !== '' && (g.consumers.has(o) || o === g.output)) g.fail(n, `its output ${o} (${what}) is used; alexnetc computes only the first output`);
      }
    },
    next() {
      const users = g.consumers.get(n.outputs[0]!) ?? [];
      return users.length === 1 && n.outputs[0] !== g.output ? users[0]!.node : undefined;
    },
    at: (other, inShape) => context({ g, node: other as OnnxNode, inShape: inShape ?? c.inShape }),
    layer: (name, args, weights, nodes) => layer(c, name, args, weights, nodes as OnnxNode[] | undefined) as ImportedLayer,
  };
  return ctx;
}

/** Each op some layer of the catalogue imports from, and the layer's converter (Add, Sum and Concat of branches are the structure's). */
function converters(): Record<string, Converter> {
  const table: Record<string, Converter> = {};
  const owner = new Map<string, string>();
  for (const l of LAYERS) {
    if ('none' in l.onnxImport) continue;
    const imp: OnnxImport = l.onnxImport;
    for (const op of imp.ops) {
      if (owner.has(op)) throw new Error(`internal: ONNX op ${op} is claimed by both ${owner.get(op)} and ${l.name}`);
      owner.set(op, l.name);
      // the nodes a converter hands back are the graph's own, which it was given
      table[op] = (c) => imp.convert(context(c)) as OpResult;
    }
  }
  return table;
}

export const CONVERTERS: Readonly<Record<string, Converter>> = converters();

/** The layers the importer can write, for messages: `conv, batchnorm, …`. */
export function importableLayers(): string[] {
  return LAYERS.filter((l) => !('none' in l.onnxImport) && l.onnxImport.ops.some((op) => op !== 'Identity')).map((l) => l.name);
}

export type { OnnxNodeView };
