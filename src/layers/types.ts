// The contract every layer in the catalogue fulfils. A layer file declares its
// arguments, its shape rule, its parameter and MAC counts, the weights it owns
// (in the canonical ONNX/PyTorch layout) and its lowerings. It never imports
// tfjs or protobuf: the emitters pass in what a lowering needs.
import type { Code } from '../diagnostics/codes.js';

export type Shape = number[];

/** A value an argument can take after evaluation. */
export type ArgValue = number | boolean | string | ArgValue[];

export type ArgType =
  | 'int' //      whole number
  | 'number' //   any number
  | 'bool' //     true / false
  | 'int2' //     int or [h, w]
  | 'pad' //      int, [h, w], [top, left, bottom, right] or `same`
  | 'word'; //     one of `words` (gelu's `approximate tanh`)

export interface ArgSpec {
  name: string;
  type: ArgType;
  /**
   * absent: the argument is required; null: optional, and the layer computes
   * its default itself (a pool's stride defaults to its window)
   */
  default?: ArgValue | null;
  /** the words a `word` argument takes */
  words?: readonly string[];
  /** inclusive bounds for numbers / every element of a list */
  min?: number;
  max?: number;
  /** exclusive bounds */
  above?: number;
  below?: number;
  doc: string;
  /**
   * what PyTorch, Keras or ONNX call this argument (`kernel_size`, `padding`,
   * `use_bias`): written by habit, it gets "did you mean" to the name here
   */
  aliases?: readonly string[];
}

/** Initialisation of a weight tensor when no trained weights are given. */
export type WeightInit =
  | { kind: 'he_uniform'; fanIn: number } // U(-sqrt(6/fanIn), sqrt(6/fanIn))
  | { kind: 'zeros' }
  | { kind: 'ones' }
  | { kind: 'constant'; value: number } // every element `value` (PReLU's 0.25, layer scale's 1e-6)
  | { kind: 'normal'; std: number }; // N(0, std²) (ViT's position embeddings: std 0.02)

/** One weight tensor, in the canonical (ONNX / PyTorch) layout. */
export interface WeightSpec {
  /** local name, PyTorch-style: weight, bias, running_mean, running_var */
  name: string;
  shape: Shape;
  init: WeightInit;
  /** trainable parameters count towards the parameter total; running stats do not */
  trainable: boolean;
}

/** How a layer reports problems with its arguments or its input. */
export interface LayerContext {
  /**
   * Report an error. `arg` names the argument at fault (the caret goes under
   * it); without it, the whole call is marked.
   */
  error(code: Code, message: string, arg?: string): void;
  warn(code: Code, message: string, arg?: string): void;
}

/** ONNX attribute values, tagged so ints and floats are never confused. */
export type OnnxAttr =
  | { i: number }
  | { f: number }
  | { ints: number[] }
  | { floats: number[] }
  | { s: string };

/** What the ONNX emitter hands to a layer's lowering. */
export interface OnnxLowering {
  /** the name of the layer's input value */
  readonly input: string;
  /** emit one node; returns the name of its (first) output */
  node(op: string, inputs: string[], attrs?: Record<string, OnnxAttr>): string;
  /** the initializer name of one of this layer's weights (by WeightSpec.name) */
  weight(name: string): string;
  /** an int64 constant initializer, e.g. a Reshape target */
  int64s(values: number[]): string;
  /**
   * A float constant: a scalar (a number) or a vector, as a Constant node
   * (not an initializer, so that a file's float initializers stay exactly
   * the network's weights)
   */
  constant(value: number | number[]): string;
}

/** An opaque value in the tfjs graph being built (a SymbolicTensor); layers only pass it along. */
export interface TfjsValue {
  readonly __tfjsValue: never;
}

/**
 * How a canonical weight becomes a tfjs weight: `same` (vectors), `oihw` (a
 * conv kernel [F, C/g, kh, kw] → tfjs [kh, kw, C/g, F]), `oi` (a dense
 * weight [units, in] → tfjs [in, units]), `flat` (the same values as one
 * vector: a per-channel [C, 1, 1] → tfjs [C]), `hwc` (a per-channel [C] →
 * tfjs [1, 1, C], broadcast over an NHWC image: PReLU's alpha).
 */
export type TfjsLayout = 'same' | 'oihw' | 'oi' | 'flat' | 'hwc';

/** One weight of a tfjs layer, in the tfjs layer's own weight order. */
export interface TfjsWeight {
  /** the tfjs weight's local name: kernel, bias, gamma, moving_mean, … */
  tfjs: string;
  /** the canonical WeightSpec.name it holds */
  from: string;
  layout: TfjsLayout;
}

/** What the tfjs emitter hands to a layer's lowering. Inside tfjs tensors are channels-last (NHWC). */
export interface TfjsLowering {
  /** the layer's input */
  readonly input: TfjsValue;
  /**
   * Apply a tfjs layer, a stock one by its class name (`Conv2D`) or one of
   * alexnetc's registered custom layers (`AlexnetcLRN`), with its
   * constructor config. `weights` says which canonical weights fill it;
   * `suffix` names auxiliary layers (a padding before a conv) apart from the
   * main one; `inputs` defaults to the previous value.
   */
  layer(
    className: string,
    config: Record<string, unknown>,
    opts?: { inputs?: TfjsValue[]; weights?: TfjsWeight[]; suffix?: string },
  ): TfjsValue;
  /**
   * How tfjs's own `valid`/`same` padding expresses these explicit pads for
   * this layer's input, or `explicit` when neither does. `ceil` pools count
   * the extra right/bottom rows a rounded-up output needs.
   */
  padding(pads: readonly number[], k: readonly number[], stride: readonly number[], dilation: readonly number[], ceil?: boolean): 'valid' | 'same' | 'explicit';
}

/**
 * How a layer becomes PyTorch. The generated module rebuilds itself from its
 * constructor's arguments (`AlexNet(classes=10)`), so a layer cannot lower
 * to fixed values: it lowers to Python source, a method of the module's
 * `Stages` class named after the layer and taking the layer's arguments by
 * their .net names (the emitter writes the signature from `args`, `null`
 * defaults as `None`). The body reads the per-example input shape from
 * `self.shape` ((C, H, W) or (F,)), builds the torch module and ends with
 * `return self.append("<layer>", module, output_shape)`, which names it like
 * the layer's stage path (`conv1`) so state_dict keys are the weight names.
 * Its weights must be the module's parameters/buffers of the same local
 * names and canonical shapes (PyTorch's layouts are the canonical ones).
 */
export interface TorchLowering {
  /** Python statements, unindented (the `py` tag of ./python.js dedents a template) */
  body: string;
  /** the generated module's helpers it calls (src/emit/torch/runtime.ts: whole, pair, explicit_pads, window_output, he_uniform); imports are found by the emitter */
  uses?: string[];
  /** module-level Python definitions of its own (e.g. an nn.Module subclass), unindented; emitted once per module */
  classes?: string;
}

/**
 * What kind of layer it is: the colour `draw` gives its box, and where
 * alexnetc starts a line when it writes `.net` text (`import`, `prune`): a
 * `conv` or `dense` layer starts one, the others join the line before them
 * (`conv(64, 3) | batchnorm | relu`).
 */
export type LayerKind = 'conv' | 'pool' | 'norm' | 'activation' | 'dense' | 'reshape' | 'dropout';

/**
 * What each output value is computed from, besides the layer's weights:
 * `nothing` else than the input value at the same place (activations, batch
 * norm at inference, dropout), the `channels` at the same position (lrn,
 * softmax, layer norm), a `space` of one channel (pools, a depthwise conv),
 * or `both` (conv, dense). `explain` reads a convolution's feature map
 * through the same-shape stages that mix nothing (`conv | batchnorm | relu`).
 */
export type Mixes = 'nothing' | 'channels' | 'space' | 'both';

/**
 * How a layer's output channels (features, for vectors) depend on its input
 * channels: what structured pruning follows (src/prune/channels.ts).
 * - `each`: output channel c is computed from input channel c alone
 *   (activations, batch norm, pools, a depthwise conv). Removing channel c
 *   upstream removes it here too, and every weight's first axis is the
 *   channel (batch norm's statistics, a depthwise kernel [C, 1, k, k]).
 *   `width` names the arguments that equal the number of channels (a
 *   depthwise conv's filters and groups): written back when the input narrows.
 * - `new`: the outputs are new channels computed from the inputs of their
 *   group (conv, dense): they may be removed. Every weight's first axis is
 *   the output; the weights named in `inputs` have the input channel (within
 *   its group) as their second axis; `width` is the argument that sets the
 *   number of outputs (written back when a network is narrowed).
 * - `spread`: flatten: input channel c becomes `per` consecutive features.
 * - `mixes`: channels are combined (lrn, softmax, layer norm, a shuffle):
 *   the layers that made them keep every channel.
 */
export type ChannelRule =
  | { kind: 'each'; width?: readonly string[] }
  | { kind: 'new'; groups: number; inputs: readonly string[]; width: string }
  | { kind: 'spread'; per: number }
  | { kind: 'mixes' };

/** A weight read from an ONNX file, in the catalogue's name and canonical layout. */
export interface ImportWeight {
  /** the catalogue's weight name: weight, bias, running_mean, running_var */
  name: string;
  dims: number[];
  values: Float32Array;
}

/** The part of an ONNX node a converter reads. */
export interface OnnxNodeView {
  readonly name: string;
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
}

/** One catalogue layer the importer will write. */
export interface ImportedLayer {
  kind: 'layer';
  layer: string;
  /** arguments as the layer takes them (defaults left out or filled in; the printer omits defaults) */
  args: Record<string, ArgValue>;
  weights: ImportWeight[];
  /** the ONNX nodes it came from (the first names it) */
  nodes: OnnxNodeView[];
  /** its output shape per example */
  shape: number[];
}

export interface ImportResult {
  layers: ImportedLayer[];
  /** the value the layers compute (the last node's output) */
  out: string;
}

/**
 * What the importer (src/import) hands to a layer's ONNX converter: one node
 * of the graph, on the data path, with its input's shape per example. Every
 * failure is thrown by `fail` as an error naming the node; a converter never
 * approximates.
 */
export interface ImportContext {
  readonly node: OnnxNodeView;
  /** the data input's shape per example */
  readonly inShape: Shape;
  /** the file's default-domain opset */
  readonly opset: number;
  fail(message: string): never;
  int(attr: string, dflt: number): number;
  ints(attr: string): number[] | undefined;
  float(attr: string, dflt: number): number;
  string(attr: string, dflt: string): string;
  /** whether input `slot` is given (not absent, not '') */
  hasInput(slot: number): boolean;
  /** a float constant input as a weight of this name; NaN or infinite values are refused */
  weight(slot: number, name: string): ImportWeight;
  /** a float constant input (a Dropout's ratio, a Pad's value) */
  floats(slot: number): { dims: number[]; values: Float32Array };
  /** an integer constant input (a Reshape's target: null for a dimension that is the batch) */
  constInts(slot: number): (number | null)[];
  /** whether a value is computed from the network's input (not a constant) */
  isData(value: string): boolean;
  /** refuse the node when an output other than its first is read (a MaxPool's indices) */
  onlyFirstOutput(what: string): void;
  /** the node that alone reads this node's first output, unless that output is the graph's */
  next(): OnnxNodeView | undefined;
  /** the same questions about another node (`next()`), with the same input shape unless given */
  at(node: OnnxNodeView, inShape?: Shape): ImportContext;
  /**
   * The catalogue layer `name` with these arguments: its own argument check
   * and shape rule run (their complaint becomes the node's), and its declared
   * weights must be exactly `weights`.
   */
  layer(name: string, args: Record<string, ArgValue>, weights?: ImportWeight[], nodes?: OnnxNodeView[]): ImportedLayer;
}

/** How ONNX nodes become this layer (`alexnetc import`). */
export interface OnnxImport {
  /** the ONNX op types it converts; each op is claimed by one layer of the catalogue */
  ops: readonly string[];
  convert(c: ImportContext): ImportResult;
}

export interface Inference {
  shape: Shape;
}

export interface LayerDef<A = unknown> {
  name: string;
  /** one-line description for hovers and the reference */
  summary: string;
  /** the formula / semantics, for hovers */
  doc: string;
  args: ArgSpec[];
  /** what PyTorch, Keras or ONNX call this layer (`Conv2d`, `Linear`): written by habit, it gets "did you mean" (case-insensitive) */
  aliases?: readonly string[];
  /**
   * Normalise evaluated arguments (defaults already filled in, `null` defaults left out) into the
   * layer's own form and check them against the input shape; returns the
   * output shape, or undefined after reporting an error.
   */
  infer(raw: Record<string, ArgValue>, input: Shape, ctx: LayerContext): { args: A; shape: Shape } | undefined;
  /** parameters this layer owns, in canonical layout (empty for most layers) */
  weights(args: A, input: Shape): WeightSpec[];
  /** multiply-accumulates for one example */
  macs(args: A, input: Shape, output: Shape): number;
  /** lower to ONNX nodes; returns the output value name */
  onnx(args: A, g: OnnxLowering, input: Shape, output: Shape): string;
  /** lower to tfjs layers (NHWC inside); returns the output value. Optional so a new layer can land before its tfjs lowering. */
  tfjs?(args: A, g: TfjsLowering, input: Shape, output: Shape): TfjsValue;
  /** lower to PyTorch (Python source: see TorchLowering). Optional so a new layer can land before it. */
  torch?: TorchLowering;
  /** what kind of layer it is (draw's colours, where written text breaks lines) */
  kind: LayerKind;
  /** what each output value is computed from */
  mixes: Mixes;
  /** how its output channels depend on its input channels (structured pruning) */
  channels(args: A, input: Shape, output: Shape): ChannelRule;
  /**
   * The ONNX ops `alexnetc import` turns into this layer, or why none does
   * (a training-only layer omitted from inference graphs, a layer whose
   * export is a pattern of several ops that the importer recognises itself).
   */
  onnxImport: OnnxImport | { none: string };
  /** how many leading arguments written text gives positionally (`conv(64, 3, pad 1)`); default: the required ones */
  positional?: number;
}

/** Erase the argument type so heterogeneous layers fit one registry list. */
export type AnyLayer = LayerDef<any>;

export function defineLayer<A>(def: LayerDef<A>): LayerDef<A> {
  return def;
}
