// Lower a checked Network to an ONNX graph description. Layers lower
// themselves through the OnnxLowering interface; this file handles the
// constructs (sequence, residual, add, concat), naming, and the initializers.
import { lowerSequence, type GateNode, type LayerNode, type MergeNode, type Network, type Node, type NodeLowering, type ResidualNode, type SplitNode } from '../../check/ir.js';
import type { OnnxAttr, OnnxLowering, WeightSpec } from '../../layers/types.js';
import { initWeight, sizeOf } from '../../util/rng.js';
import type { LazyBytes } from './protobuf.js';
import { DataType, type GraphSpec, type NodeSpec, type TensorSpec, type ValueSpec } from './schema.js';

/** Where weight values come from: seeded initialisation, or a trained model. */
export interface WeightSource {
  /** the values of one weight of the layer at `path`, in canonical layout, length = product of spec.shape */
  get(path: string, spec: WeightSpec): Float32Array;
}

/** The default: He-uniform / zeros / ones from a seeded stream per weight (see util/rng). */
export function seededWeights(seed = 0): WeightSource {
  return { get: (path, spec) => initWeight(spec, seed, weightKey(path, spec.name)) };
}

/** Initializer name of a weight; also the key of its random stream. */
export function weightKey(path: string, weightName: string): string {
  return `${path}.${weightName}`;
}

export const INPUT = 'input';
export const OUTPUT = 'output';
export const BATCH = 'N';

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function floatBytes(values: Float32Array): Uint8Array {
  if (littleEndian) return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  return out;
}

function int64Bytes(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
  return out;
}

class GraphBuilder implements NodeLowering<string> {
  readonly nodes: NodeSpec[] = [];
  readonly initializers: TensorSpec[] = [];
  readonly valueInfo: ValueSpec[] = [];
  /** every value and node name in use: ONNX values are SSA, and distinct node names keep tools readable */
  private readonly values = new Set<string>([INPUT, OUTPUT]);
  private readonly nodeNames = new Set<string>();

  constructor(private readonly source: WeightSource) {}

  /** `base` if unused, else `base_1`, `base_2`, … */
  private fresh(base: string, used: Set<string>): string {
    let name = base;
    for (let i = 1; used.has(name); i++) name = `${base}_${i}`;
    used.add(name);
    return name;
  }

  emit(nodeName: string, op: string, inputs: string[], attrs: Record<string, OnnxAttr> = {}): string {
    const name = this.fresh(nodeName, this.nodeNames);
    const out = this.fresh(nodeName, this.values);
    this.nodes.push({ name, op, inputs, outputs: [out], attrs });
    return out;
  }

  /** Record a value's per-example shape so onnx's strict shape inference cross-checks ours. */
  shape(value: string, shape: number[]): void {
    if (value === INPUT) return;
    this.valueInfo.push({ name: value, elemType: DataType.FLOAT, dims: [BATCH, ...shape] });
  }

  private floatInit(path: string, spec: WeightSpec): string {
    const name = this.fresh(weightKey(path, spec.name), this.values);
    const count = sizeOf(spec.shape);
    const source = this.source;
    const data: LazyBytes = {
      length: count * 4,
      produce() {
        const v = source.get(path, spec);
        if (v.length !== count) {
          throw new Error(`weight ${name}: expected ${count} values for shape [${spec.shape.join(', ')}], got ${v.length}`);
        }
        return floatBytes(v);
      },
    };
    this.initializers.push({ name, dataType: DataType.FLOAT, dims: [...spec.shape], data });
    return name;
  }

  sequence(nodes: readonly Node[], input: string): string {
    return lowerSequence(nodes, input, this);
  }

  layer(n: LayerNode, input: string): string {
    // every declared weight becomes an initializer, in declaration order (the order
    // PyTorch state_dicts use), whether or not this lowering reads it
    const weights = new Map(n.weights.map((w) => [w.name, this.floatInit(n.path, w)]));
    let consts = 0;
    const g: OnnxLowering = {
      input,
      node: (op, inputs, attrs) => this.emit(n.path, op, inputs, attrs),
      weight: (local) => {
        const name = weights.get(local);
        if (name === undefined) throw new Error(`layer ${n.path} (${n.layer.name}) has no weight '${local}'`);
        return name;
      },
      int64s: (values) => {
        const name = this.fresh(`${n.path}.const${consts++}`, this.values);
        this.initializers.push({ name, dataType: DataType.INT64, dims: [values.length], data: int64Bytes(values) });
        return name;
      },
      constant: (value) =>
        this.emit(`${n.path}/const`, 'Constant', [], typeof value === 'number' ? { value_float: { f: value } } : { value_floats: { floats: value } }),
    };
    const out = n.layer.onnx(n.args, g, n.inShape, n.outShape);
    if (out !== input) this.shape(out, n.outShape);
    return out;
  }

  residual(n: ResidualNode, input: string): string {
    const body = this.sequence(n.body, input);
    const shortcut = n.shortcut ? this.sequence(n.shortcut, input) : input;
    const out = this.emit(n.path, 'Add', [body, shortcut]);
    this.shape(out, n.outShape);
    return out;
  }

  merge(n: MergeNode, input: string): string {
    const branches = n.branches.map((b) => this.sequence(b, input));
    const out =
      n.kind === 'concat'
        ? this.emit(n.path, 'Concat', branches, { axis: { i: 1 } })
        : this.emit(n.path, branches.length === 2 ? 'Add' : 'Sum', branches);
    this.shape(out, n.outShape);
    return out;
  }

  split(n: SplitNode, input: string): string {
    const k = n.branches.length;
    let parts = [input];
    if (k > 1) {
      // Split along the channels into k equal parts (opset 13+: the sizes are an input), as PyTorch exports chunk()
      const sizes = this.fresh(`${n.path}.sizes`, this.values);
      this.initializers.push({ name: sizes, dataType: DataType.INT64, dims: [k], data: int64Bytes(n.branches.map(() => n.inShape[0]! / k)) });
      const name = this.fresh(n.path, this.nodeNames);
      parts = n.branches.map((_, i) => this.fresh(`${n.path}/part${i + 1}`, this.values));
      this.nodes.push({ name, op: 'Split', inputs: [input, sizes], outputs: parts, attrs: { axis: { i: 1 } } });
      for (const p of parts) this.shape(p, [n.inShape[0]! / k, ...n.inShape.slice(1)]);
    }
    const branches = n.branches.map((b, i) => this.sequence(b, parts[i]!));
    if (k === 1) return branches[0]!;
    const out = this.emit(n.path, 'Concat', branches, { axis: { i: 1 } });
    this.shape(out, n.outShape);
    return out;
  }

  gate(n: GateNode, input: string): string {
    // Mul broadcasts a [N, C, 1, 1] gate over [N, C, H, W]
    const out = this.emit(n.path, 'Mul', [input, this.sequence(n.body, input)]);
    this.shape(out, n.outShape);
    return out;
  }

  /** Give the final value the graph output's name. */
  finish(last: string): void {
    const producer = this.nodes.find((nd) => nd.outputs.includes(last));
    if (!producer) {
      // the network computes nothing (e.g. only dropout): the output still needs a node
      this.nodes.push({ name: this.fresh(OUTPUT, this.nodeNames), op: 'Identity', inputs: [last], outputs: [OUTPUT], attrs: {} });
      return;
    }
    const rename = (v: string): string => (v === last ? OUTPUT : v);
    for (const nd of this.nodes) {
      nd.inputs = nd.inputs.map(rename);
      nd.outputs = nd.outputs.map(rename);
    }
    const i = this.valueInfo.findIndex((v) => v.name === last);
    if (i >= 0) this.valueInfo.splice(i, 1);
  }
}

/** Describe the ONNX graph of a checked network (weights stay lazy until written). */
export function lowerNetwork(network: Network, source: WeightSource): GraphSpec {
  const b = new GraphBuilder(source);
  const last = b.sequence(network.body, INPUT);
  b.finish(last);
  return {
    name: network.name,
    nodes: b.nodes,
    initializers: b.initializers,
    inputs: [{ name: INPUT, elemType: DataType.FLOAT, dims: [BATCH, ...network.input] }],
    outputs: [{ name: OUTPUT, elemType: DataType.FLOAT, dims: [BATCH, ...network.output] }],
    valueInfo: b.valueInfo,
  };
}
