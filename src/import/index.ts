// ONNX → `.net` source + weights: the whole import. The generated source is
// checked by alexnetc's own compiler, and every weight is matched to the
// checked network's stage paths by position and shape, so what is written
// is a network alexnetc accepts whose weights sit where its layers expect
// them — or nothing is written at all.
import * as path from 'node:path';
import { layers, type Network } from '../check/ir.js';
import { compile } from '../compile.js';
import { findLayer } from '../layers/registry.js';
import { readOnnxFile } from '../weights/onnx-read.js';
import { findBlocks, KEYWORDS, LAYER_NAMES } from './blocks.js';
import { nestFlattenedConcats, nestGrowingConcats } from './cnn.js';
import { ImportError, ImportGraph } from './graph.js';
import type { ImportLayer } from './ops.js';
import { fuseLayerNorms } from './transformer.js';
import { printProgram, type Stmt } from './print.js';
import { type Item, StructureBuilder } from './structure.js';

export { ImportError } from './graph.js';

export interface ImportOptions {
  /** the network's name (default: the graph's name when it is a meaningful identifier, else the file's) */
  name?: string;
}

export interface Imported {
  /** the `.net` source */
  source: string;
  /** the checked network the source describes */
  network: Network;
  /** every weight of the network by its stored name (`layer2/conv1.weight`), in the network's order */
  weights: Map<string, Float32Array>;
  /** how many ONNX nodes became how many layers, for the command's report */
  stats: { nodes: number; layers: number; blocks: number; opset: number; producer: string };
}

/** Names exporters give every graph: not worth a network name. */
const GENERIC_GRAPH_NAMES = new Set(['torch_jit', 'torch-jit-export', 'main_graph', 'tf2onnx', 'graph', 'model', 'main']);

function networkName(graphName: string, file: string): string {
  const usable = (n: string): boolean => /^[A-Za-z_][A-Za-z0-9_]*$/.test(n) && !KEYWORDS.has(n) && !LAYER_NAMES.has(n);
  if (usable(graphName) && !GENERIC_GRAPH_NAMES.has(graphName.toLowerCase())) return graphName;
  let base = path.basename(file).replace(/\.onnx$/i, '').replace(/[^A-Za-z0-9_]/g, '_');
  if (!/^[A-Za-z_]/.test(base)) base = `Net_${base}`;
  return base.charAt(0).toUpperCase() + base.slice(1);
}

function flatLayers(items: Item[]): ImportLayer[] {
  const out: ImportLayer[] = [];
  for (const it of items) {
    if (it.kind === 'layer') out.push(it);
    else if (it.kind === 'residual') {
      out.push(...flatLayers(it.body));
      if (it.shortcut) out.push(...flatLayers(it.shortcut));
    } else if (it.kind === 'gate') out.push(...flatLayers(it.body));
    else for (const b of it.branches) out.push(...flatLayers(b));
  }
  return out;
}

/** The last dense layer of the top-level body, written `dense(classes)` with `classes` a network parameter. */
function classesParam(body: Stmt[], output: number[]): { name: string; value: number }[] {
  if (output.length !== 1) return [];
  for (let i = body.length - 1; i >= 0; i--) {
    const s = body[i]!;
    if (s.kind !== 'layer') return [];
    if (s.layer === 'dense') {
      if (s.args.units !== output[0]) return [];
      s.args.units = { ref: 'classes' };
      return [{ name: 'classes', value: output[0]! }];
    }
    // what may follow the classifier: activations and dropout
    const kind = findLayer(s.layer)?.kind;
    if (kind !== 'activation' && kind !== 'dropout') return [];
  }
  return [];
}

/** Import an ONNX file. Throws OnnxReadError / ImportError (exit 1) for a file that cannot become a network. */
export function importOnnx(file: string, opts: ImportOptions = {}): Imported {
  const model = readOnnxFile(file);
  const nodeCount = model.nodes.length; // the file's, before nested Concats are written out
  nestGrowingConcats(model.nodes);
  model.nodes = nestFlattenedConcats(model.nodes, new Set(model.inputs.filter((i) => !model.initializers.has(i.name)).map((i) => i.name)));
  // layer norms written as their formula (opsets before 17) become LayerNormalization nodes first
  const g = new ImportGraph(fuseLayerNorms(model));
  const items = new StructureBuilder(g).build();
  const name = opts.name ?? networkName(model.graphName, file);
  if (KEYWORDS.has(name) || LAYER_NAMES.has(name)) throw new ImportError(`the network cannot be named ${name}: that is a keyword or a layer of the language`);
  const { blocks, body } = findBlocks(items, name, (v) => g.shapes.get(v));
  const output = g.shapes.get(g.output)!;
  const producer = [model.producer, model.metadata.producer_version].filter(Boolean).join(' ') || 'an unnamed producer';
  const header = [
    `${name}: imported by \`alexnetc import\` from ${path.basename(file)} (${producer}, opset ${model.opset}).`,
    `${nodeCount} ONNX nodes; the weights are in the file written beside this one.`,
  ];
  const source = printProgram(header, blocks, { name, params: classesParam(body, output), input: g.inputShape, body, output });

  const result = compile(source, { network: name });
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (!result.network || errors.length) {
    const first = errors[0];
    const line = first ? source.slice(0, first.span.start).split('\n').length : 0;
    throw new Error(`the generated source does not check (line ${line}: ${first?.message ?? 'no network'}):\n${source}`);
  }
  const network = result.network;
  const declared = model.outputs[0]!.dims?.slice(1);
  if (declared && declared.every((d) => typeof d === 'number') && declared.join() !== network.output.join()) {
    throw new Error(`the imported network computes [${network.output.join(', ')}] per example, the graph declares [${declared.join(', ')}]`);
  }

  // weights: the checked network's layers in execution order are the imported layers in the same order
  const flat = flatLayers(items);
  const checked = [...layers(network.body)];
  if (flat.length !== checked.length) throw new Error(`internal: ${flat.length} imported layers, ${checked.length} in the checked network`);
  const weights = new Map<string, Float32Array>();
  checked.forEach((n, i) => {
    const l = flat[i]!;
    if (n.layer.name !== l.layer) throw new Error(`internal: stage ${n.path} is ${n.layer.name}, imported ${l.layer} from ${l.nodes[0]!.name}`);
    n.weights.forEach((spec, k) => {
      const w = l.weights[k]!;
      if (w.name !== spec.name || w.dims.join() !== spec.shape.join()) {
        throw new Error(`internal: ${n.path}.${spec.name} [${spec.shape.join(', ')}] got ${w.name} [${w.dims.join(', ')}] from ${l.nodes[0]!.name}`);
      }
      weights.set(`${n.path}.${spec.name}`, w.values);
    });
  });
  return {
    source,
    network,
    weights,
    stats: { nodes: nodeCount, layers: checked.length, blocks: blocks.length, opset: model.opset, producer },
  };
}
