// Depthwise convolution (one filter per channel: groups = C = F) on the
// direct kernels of wasm/depthwise.ts, for AlexnetcConv2D's three passes:
// MobileNet's and EfficientNet's 3×3 and 5×5 and ConvNeXt's 7×7, any stride,
// padding or dilation. As im2col with groups of one channel each, a
// depthwise layer was a GEMM of one column per channel: 60 % of a
// MobileNetV2 training step.
import type { ConvGeom } from './ops/conv.js';
import { geomBlock } from './ops/conv.js';
import { BLOCK } from './wasm/copy.js';
import { DEPTHWISE_SIZES } from './wasm/depthwise.js';
import type { Io } from './runtime/tensors.js';

/** One filter per channel, a square window with a generated kernel. */
export function isDepthwise(g: ConvGeom): boolean {
  return g.groups === g.C && g.F === g.C && g.C > 1 && g.FH === g.FW && (DEPTHWISE_SIZES as readonly number[]).includes(g.FH);
}

/** y = depthwise(x, w) (+ bias per channel). */
export function depthwiseForward(io: Io, g: ConvGeom, x: number, w: number, bias: number): { p: number; view: Float32Array } {
  const y = io.output(g.N * g.OH * g.OW * g.C);
  const rows = g.N * g.OH;
  io.rt.parallel(`dw${g.FH}_fwd`, rows, [geomBlock(io, g), x, w, y.p, bias], rows * g.OW * g.C < 1 << 14);
  return y;
}

/** dx of a depthwise convolution from dy and w. */
export function depthwiseBackpropInput(io: Io, g: ConvGeom, dy: number, w: number): { p: number; view: Float32Array } {
  const dx = io.output(g.N * g.H * g.W * g.C);
  const rows = g.N * g.H;
  io.rt.parallel(`dw${g.FH}_bwd_input`, rows, [geomBlock(io, g), dy, w, dx.p], rows * g.W * g.C < 1 << 14);
  return dx;
}

/**
 * dw of a depthwise convolution from x and dy: partial sums over chunks of
 * output rows (how many chunks depends on the sizes only, so the sums are
 * the same on any number of threads), then added in order.
 */
export function depthwiseBackpropFilter(io: Io, g: ConvGeom, x: number, dy: number): { p: number; view: Float32Array } {
  const taps = g.FH * g.FW * g.C;
  const rows = g.N * g.OH;
  // up to 32 chunks, fewer where the partials would outweigh the rows they sum
  const chunks = Math.max(1, Math.min(32, rows, Math.floor((rows * g.OW) / (4 * g.FH * g.FW)) || 1));
  const rowsPer = Math.ceil(rows / chunks);
  const count = Math.ceil(rows / rowsPer);
  const parts = io.temp(count * taps + 16);
  io.rt.parallel(`dw${g.FH}_bwd_filter`, count, [geomBlock(io, g), x, dy, parts, rowsPer], rows * g.OW * g.C < 1 << 14);
  const dw = io.output(taps);
  io.rt.parallel('dw_sum_parts', Math.ceil(taps / BLOCK), [parts, count, taps, dw.p], taps < 4 * BLOCK);
  return dw;
}
