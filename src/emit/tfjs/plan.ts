// Walk a checked network and lower it to tfjs layers through a `Sink`: the
// real one builds a tf.LayersModel (build.ts), the recording one only learns
// the layer names and the weight mapping (so a saved model's weights can be
// read back without loading tfjs). Both walk exactly the same code, so the
// names they produce always agree.
import { lowerSequence, type GateNode, type LayerNode, type MergeNode, type Network, type Node, type NodeLowering, type ResidualNode, type SplitNode } from '../../check/ir.js';
import type { Shape, TfjsLayout, TfjsLowering, TfjsValue, TfjsWeight, WeightSpec } from '../../layers/types.js';
import { samePads, windowOut, windowSpan } from '../../layers/window-size.js';
import { tfjsShape } from './layout.js';

/** One tfjs weight and the canonical weight it holds. */
export interface PlannedWeight {
  /** tfjs layer name */
  layer: string;
  /** tfjs weight name as saved in model.json: `${layer}/${local}` */
  name: string;
  /** the network layer's path and its canonical weight */
  path: string;
  spec: WeightSpec;
  layout: TfjsLayout;
  /** the weight's shape in tfjs */
  shape: number[];
}

export interface Sink<V> {
  input(shape: number[]): V;
  apply(name: string, className: string, config: Record<string, unknown>, inputs: V[]): V;
}

export interface Plan<V> {
  input: V;
  output: V;
  /** every weight, in network order; a tfjs layer's weights are contiguous and in its own order */
  weights: PlannedWeight[];
}

/** The name of the model's input layer. */
export const INPUT_NAME = 'input';

/** Channels-first per-example shape → the tfjs per-example shape (channels last). Tokens [T, D] are the same in both. */
export function tfjsExampleShape(shape: Shape): number[] {
  return shape.length !== 3 ? [...shape] : [...shape.slice(1), shape[0]!];
}

/** tfjs layer name for a network path: `stage2/conv1` → `stage2.conv1`. */
export function layerName(path: string): string {
  return path.replace(/\//g, '.').replace(/[^A-Za-z0-9_.-]/g, '_');
}

/**
 * tfjs padding mode equal to these explicit pads for one layer: `valid` when
 * there are no leading pads and the valid output size is the checked one;
 * `same` when the output is ⌈in/stride⌉ and the leading pads are TensorFlow's
 * (half the total, rounded down — the extra goes bottom/right). Trailing pads
 * follow from the output size, so they need no check: rows a window never
 * reaches do not matter.
 */
export function paddingMode(
  inShape: Shape,
  outShape: Shape,
  pads: readonly number[],
  k: readonly number[],
  stride: readonly number[],
  dilation: readonly number[],
): 'valid' | 'same' | 'explicit' {
  let valid = true;
  let same = true;
  for (let i = 0; i < 2; i++) {
    const size = inShape[i + 1]!;
    const out = outShape[i + 1]!;
    const fits = size >= windowSpan(k[i]!, dilation[i]!);
    if (!(pads[i] === 0 && fits && windowOut(size, 0, 0, k[i]!, stride[i]!, dilation[i]!) === out)) valid = false;
    if (!(out === Math.ceil(size / stride[i]!) && pads[i] === samePads(size, k[i]!, stride[i]!, dilation[i]!)[0])) same = false;
  }
  return valid ? 'valid' : same ? 'same' : 'explicit';
}

export class UnsupportedLayerError extends Error {
  constructor(readonly path: string, readonly layer: string) {
    super(`layer ${path}: \`${layer}\` has no tfjs lowering yet`);
    this.name = 'UnsupportedLayerError';
  }
}

class Walker<V> implements NodeLowering<V> {
  readonly weights: PlannedWeight[] = [];
  private readonly names = new Set<string>([INPUT_NAME]);

  constructor(private readonly sink: Sink<V>) {}

  private apply(name: string, className: string, config: Record<string, unknown>, inputs: V[]): V {
    // names come from unique paths; a clash is a bug in a lowering (two layers without distinct suffixes)
    if (this.names.has(name)) throw new Error(`tfjs layer name ${name} is used twice`);
    this.names.add(name);
    return this.sink.apply(name, className, config, inputs);
  }

  sequence(nodes: readonly Node[], input: V): V {
    return lowerSequence(nodes, input, this);
  }

  layer(n: LayerNode, input: V): V {
    if (!n.layer.tfjs) throw new UnsupportedLayerError(n.path, n.layer.name);
    const base = layerName(n.path);
    const specs = new Map(n.weights.map((w) => [w.name, w]));
    const g: TfjsLowering = {
      input: input as unknown as TfjsValue,
      layer: (className, config, opts = {}) => {
        const name = opts.suffix ? `${base}_${opts.suffix}` : base;
        for (const w of opts.weights ?? []) this.plan(n.path, name, w, specs);
        const inputs = (opts.inputs ?? [input as unknown as TfjsValue]) as unknown as V[];
        return this.apply(name, className, config, inputs) as unknown as TfjsValue;
      },
      padding: (pads, k, stride, dilation) => paddingMode(n.inShape, n.outShape, pads, k, stride, dilation),
    };
    return n.layer.tfjs(n.args, g, n.inShape, n.outShape) as unknown as V;
  }

  private plan(path: string, layer: string, w: TfjsWeight, specs: Map<string, WeightSpec>): void {
    const spec = specs.get(w.from);
    if (!spec) throw new Error(`layer ${path} has no weight '${w.from}' for tfjs weight ${w.tfjs}`);
    this.weights.push({ layer, name: `${layer}/${w.tfjs}`, path, spec, layout: w.layout, shape: tfjsShape(spec.shape, w.layout) });
  }

  residual(n: ResidualNode, input: V): V {
    const body = this.sequence(n.body, input);
    const shortcut = n.shortcut ? this.sequence(n.shortcut, input) : input;
    return this.apply(layerName(n.path), 'Add', {}, this.distinct(layerName(n.path), [body, shortcut]));
  }

  merge(n: MergeNode, input: V): V {
    const branches = n.branches.map((b) => this.sequence(b, input));
    if (branches.length === 1) return branches[0]!;
    // channels are the last axis inside tfjs; tokens [T, D] join along the tokens, as in ONNX
    const operands = this.distinct(layerName(n.path), branches);
    return n.kind === 'concat'
      ? this.apply(layerName(n.path), 'Concatenate', { axis: n.outShape.length === 2 ? 1 : -1 }, operands)
      : this.apply(layerName(n.path), 'Add', {}, operands);
  }

  split(n: SplitNode, input: V): V {
    const k = n.branches.length;
    const part = n.inShape[0]! / k;
    // each branch its slice of the channels (the last axis inside tfjs), in order
    const branches = n.branches.map((b, i) =>
      this.sequence(b, k === 1 ? input : this.apply(`${layerName(n.path)}_part${i + 1}`, 'AlexnetcSlice', { begin: i * part, size: part }, [input])),
    );
    if (k === 1) return branches[0]!;
    return this.apply(layerName(n.path), 'Concatenate', { axis: -1 }, this.distinct(layerName(n.path), branches));
  }

  gate(n: GateNode, input: V): V {
    // Multiply broadcasts a [1, 1, C] gate over [H, W, C]
    const g = this.sequence(n.body, input);
    return this.apply(layerName(n.path), 'Multiply', {}, this.distinct(layerName(n.path), [input, g]));
  }

  /**
   * A merge's operands, each a different tensor: an empty body, shortcut or
   * branch hands its input on unchanged, so two of them make one tensor two
   * operands. tfjs 4.22's executor counts a tensor's uses once per layer, not
   * once per input, and disposes it early when it also feeds another layer
   * ("Tensor is disposed" in predict): a repeated operand goes through a
   * linear Activation (no weights, the same values), as `finish` does.
   */
  private distinct(name: string, operands: V[]): V[] {
    return operands.map((v, i) => (operands.indexOf(v) < i ? this.apply(`${name}_operand${i}`, 'Activation', { activation: 'linear' }, [v]) : v));
  }

  /** a network that computes nothing still needs a layer between input and output */
  finish(output: V, input: V): V {
    return output === input ? this.apply('output', 'Activation', { activation: 'linear' }, [input]) : output;
  }
}

export function planNetwork<V>(network: Network, sink: Sink<V>): Plan<V> {
  const w = new Walker(sink);
  const input = sink.input(tfjsExampleShape(network.input));
  const output = w.finish(w.sequence(network.body, input), input);
  return { input, output, weights: w.weights };
}

/** Just the weight mapping: no tfjs involved. */
export function planWeights(network: Network): PlannedWeight[] {
  let n = 0;
  return planNetwork<number>(network, { input: () => n++, apply: () => n++ }).weights;
}
