// Helpers for the layers' ONNX converters (LayerDef.onnxImport): numbers as
// a person writes them, window attributes, one-node results. Pure: the
// importer (src/import) supplies the graph through ImportContext.
import type { ArgValue, ImportContext, ImportedLayer, ImportResult } from './types.js';

/** The layer(s) of one node; `out` defaults to the node's first output. */
export function one(c: ImportContext, l: ImportedLayer | undefined, out = c.node.outputs[0]!): ImportResult {
  return { layers: l ? [l] : [], out };
}

/** A node that is exactly the layer `name`, without arguments (Relu → relu). */
export function plain(name: string): (c: ImportContext) => ImportResult {
  return (c) => one(c, c.layer(name, {}));
}

/** The shortest decimal that reads back as the same float32: ONNX stores 1e-5 as 9.99999974738e-06. */
export function f32(x: number): number {
  const target = Math.fround(x);
  for (let p = 1; p <= 17; p++) {
    const v = Number(target.toPrecision(p));
    if (Math.fround(v) === target) return v;
  }
  return target;
}

/** [a, a] → a: what a person writes. */
export function pairArg(p: readonly number[]): ArgValue {
  return p[0] === p[1] ? p[0]! : [p[0]!, p[1]!];
}

/** ONNX pads [top, left, bottom, right] as alexnetc's `pad`: p, [ph, pw] or the four. */
export function padArg(p: readonly number[]): ArgValue {
  if (p.every((x) => x === p[0])) return p[0]!;
  if (p[0] === p[2] && p[1] === p[3]) return [p[0]!, p[1]!];
  return [...p];
}

export interface OnnxWindow {
  k: number[];
  stride: number[];
  dilation: number[];
  pads: number[];
}

/** A Conv's or pool's window attributes (auto_pad resolved against the input), refused unless 2-D. */
export function readWindow(c: ImportContext, kernel: number[]): OnnxWindow {
  if (c.inShape.length !== 3) c.fail(`expects an image, its input has shape [${c.inShape.join(', ')}] per example`);
  if (kernel.length !== 2) c.fail(`is ${kernel.length}-D; alexnetc's layers are 2-D`);
  const stride = c.ints('strides') ?? [1, 1];
  const dilation = c.ints('dilations') ?? [1, 1];
  let pads = c.ints('pads') ?? [0, 0, 0, 0];
  const auto = c.string('auto_pad', 'NOTSET');
  if (auto === 'VALID') pads = [0, 0, 0, 0];
  else if (auto === 'SAME_UPPER' || auto === 'SAME_LOWER') {
    // out = ⌈in / stride⌉; the odd pixel goes at the end (UPPER) or the beginning (LOWER)
    const pp = [0, 1].map((i) => {
      const size = c.inShape[i + 1]!;
      const out = Math.ceil(size / stride[i]!);
      const total = Math.max((out - 1) * stride[i]! + dilation[i]! * (kernel[i]! - 1) + 1 - size, 0);
      const small = Math.floor(total / 2);
      return auto === 'SAME_UPPER' ? [small, total - small] : [total - small, small];
    });
    pads = [pp[0]![0]!, pp[1]![0]!, pp[0]![1]!, pp[1]![1]!];
  } else if (auto !== 'NOTSET') c.fail(`auto_pad '${auto}' is not an ONNX value`);
  if (stride.length !== 2 || dilation.length !== 2 || pads.length !== 4) c.fail('strides, dilations or pads do not describe a 2-D window');
  return { k: kernel, stride, dilation, pads };
}
