// Sliding-window arithmetic shared by conv and the pools (as ONNX's defs.cc
// shares one output-size helper between Conv and the pooling ops).
import type { ArgValue, LayerContext, Shape } from './types.js';
import { formatShape } from '../diagnostics/index.js';
import { samePads, windowOut, windowSpan } from './window-size.js';

export type Pair = [number, number];
/** top, left, bottom, right */
export type Pads = [number, number, number, number];

export function pair(v: ArgValue): Pair {
  if (Array.isArray(v)) return [v[0] as number, v[1] as number];
  return [v as number, v as number];
}

/** Explicit pads as [top, left, bottom, right]; `same` is resolved against the input. */
export function pads(v: ArgValue, input: Pair, k: Pair, stride: Pair, dilation: Pair): Pads {
  if (v === 'same') {
    // TensorFlow/Keras SAME: out = ceil(in / stride); the extra pixel goes bottom/right.
    const p = [0, 1].map((i) => samePads(input[i]!, k[i]!, stride[i]!, dilation[i]!));
    return [p[0]![0], p[1]![0], p[0]![1], p[1]![1]];
  }
  if (Array.isArray(v)) {
    const n = v as number[];
    if (n.length === 2) return [n[0]!, n[1]!, n[0]!, n[1]!];
    return [n[0]!, n[1]!, n[2]!, n[3]!];
  }
  const p = v as number;
  return [p, p, p, p];
}

export interface WindowArgs {
  k: Pair;
  stride: Pair;
  pads: Pads;
  dilation: Pair;
  ceil: boolean;
}

/**
 * Output spatial size of a sliding window, or undefined after reporting.
 * floor((H + pt + pb - d(k-1) - 1) / s) + 1, or ceil(...) in ceil mode where,
 * as in PyTorch and ONNX, a last window that would start inside the right
 * padding is dropped.
 */
export function windowOutput(w: WindowArgs, input: Shape, ctx: LayerContext, what: string): Pair | undefined {
  const h = windowSide(w, input, 0, ctx, what);
  if (h === undefined) return undefined;
  const wd = windowSide(w, input, 1, ctx, what);
  if (wd === undefined) return undefined;
  return [h, wd];
}

/** the output size along one side (0: height, 1: width), or undefined after reporting */
function windowSide(w: WindowArgs, input: Shape, i: 0 | 1, ctx: LayerContext, what: string): number | undefined {
  const size = input[i + 1]!;
  const padded = size + w.pads[i]! + w.pads[i + 2]!;
  const span = windowSpan(w.k[i]!, w.dilation[i]!);
  if (span > padded) {
    const dim = i === 0 ? 'height' : 'width';
    ctx.error(
      'E301',
      `${what} kernel ${w.k[0]}×${w.k[1]}${w.dilation[i]! > 1 ? ` (dilated to ${span})` : ''} is larger than the padded input ${dim} ${padded} (input ${formatShape(input)}, pad ${w.pads[i]}+${w.pads[i + 2]})`,
      'k',
    );
    return undefined;
  }
  return windowOut(size, w.pads[i]!, w.pads[i + 2]!, w.k[i]!, w.stride[i]!, w.dilation[i]!, w.ceil);
}

/**
 * How to hand a ceil-mode window to ONNX. ONNX's ceil_mode rounds up without
 * PyTorch's rule that drops a last window starting in the end padding (onnx's
 * shape inference then disagrees with onnxruntime and PyTorch:
 * `maxpool(1, stride 2, ceil true)` on 4 rows is 2 here and in PyTorch, 3 to
 * onnx.checker). Where that rule changes nothing, ceil_mode 1 says it as
 * written; where it drops a window, floor rounding with the end pads grown by
 * what ceil adds gives the same windows everywhere (padded positions count for
 * nothing: max ignores them, averages exclude them; the extra pad stays below
 * the window).
 */
export function onnxWindow(w: WindowArgs, input: Shape, out: Pair): { pads: Pads; ceilMode: 0 | 1 } {
  if (!w.ceil) return { pads: w.pads, ceilMode: 0 };
  const p: Pads = [...w.pads];
  let drops = false;
  for (let i = 0; i < 2; i++) {
    const padded = input[i + 1]! + w.pads[i]! + w.pads[i + 2]!;
    const span = w.dilation[i]! * (w.k[i]! - 1) + 1;
    if (Math.ceil((padded - span) / w.stride[i]!) + 1 !== out[i]) drops = true;
    p[i + 2] += Math.max(0, (out[i]! - 1) * w.stride[i]! + span - padded);
  }
  return drops ? { pads: p, ceilMode: 0 } : { pads: w.pads, ceilMode: 1 };
}

export function needImage(input: Shape, ctx: LayerContext, layer: string): boolean {
  if (input.length !== 3) {
    ctx.error('E307', `${layer} needs an image input [C, H, W], but its input has shape ${formatShape(input)}`);
    return false;
  }
  return true;
}

export function product(s: readonly number[]): number {
  let p = 1;
  for (const d of s) p *= d;
  return p;
}

export function padAttrs(p: Pads): number[] {
  return [p[0], p[1], p[2], p[3]];
}
