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
  | 'pad'; //     int, [h, w], [top, left, bottom, right] or `same`

export interface ArgSpec {
  name: string;
  type: ArgType;
  /**
   * absent: the argument is required; null: optional, and the layer computes
   * its default itself (a pool's stride defaults to its window)
   */
  default?: ArgValue | null;
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
  | { kind: 'ones' };

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
}

/** An opaque value in the tfjs graph being built (a SymbolicTensor); layers only pass it along. */
export interface TfjsValue {
  readonly __tfjsValue: never;
}

/**
 * How a canonical weight becomes a tfjs weight: `same` (vectors), `oihw` (a
 * conv kernel [F, C/g, kh, kw] → tfjs [kh, kw, C/g, F]), `oi` (a dense
 * weight [units, in] → tfjs [in, units]).
 */
export type TfjsLayout = 'same' | 'oihw' | 'oi';

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
}

/** Erase the argument type so heterogeneous layers fit one registry list. */
export type AnyLayer = LayerDef<any>;

export function defineLayer<A>(def: LayerDef<A>): LayerDef<A> {
  return def;
}
