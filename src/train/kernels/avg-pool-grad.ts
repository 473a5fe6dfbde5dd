// AvgPoolGrad as a scatter: each dy cell spreads dy/count over its window.
// The divisor counts only in-image cells, matching the cpu AvgPool forward
// (and ONNX count_include_pad=0); the stock grad divides by the full window
// size, which is wrong under padding and equal to this without it.
import type { CpuBackend, FastKernel, TensorInfo, Tf } from './backend.js';
import { pool2DInfo, valuesOf } from './backend.js';
import { wasmAvgPoolGradTile } from './wasm-gemm.js';

export function makeAvgPoolGrad(tf: Tf): FastKernel {
  return (args, fallback) => {
    const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo };
    const a = args.attrs;
    if (input.shape.length !== 4) return fallback(args as never) as TensorInfo;
    const pi = pool2DInfo(tf, input.shape, a);
    const b: CpuBackend = args.backend;
    const dyv = valuesOf(b, dy);
    const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = pi;
    const { filterHeight: FH, filterWidth: FW, strideHeight: SH, strideWidth: SW } = pi;
    const top = pi.padInfo.top, left = pi.padInfo.left;
    const dx = new Float32Array(N * H * W * C);
    if (top === 0 && left === 0 && SH === FH && SW === FW && OH * SH <= H && OW * SW <= W) {
      const fast = wasmAvgPoolGradTile(dyv, { N, H, W, C, OH, OW, FH, FW, SH, SW });
      if (fast !== null) return b.makeTensorInfo(input.shape, 'float32', fast);
      tileGrad(dyv, dx, N, H, W, C, OH, OW, FH, FW);
      return b.makeTensorInfo(input.shape, 'float32', dx);
    }
    let o = 0;
    for (let n = 0; n < N; n++) {
      const xn = n * H * W * C;
      for (let oh = 0; oh < OH; oh++) {
        const h0 = Math.max(0, oh * SH - top), h1 = Math.min(H, oh * SH - top + FH);
        for (let ow = 0; ow < OW; ow++, o += C) {
          const w0 = Math.max(0, ow * SW - left), w1 = Math.min(W, ow * SW - left + FW);
          const count = (h1 - h0) * (w1 - w0);
          if (count <= 0) continue;
          const inv = 1 / count;
          for (let h = h0; h < h1; h++) {
            for (let w = w0; w < w1; w++) {
              const xs = xn + (h * W + w) * C;
              for (let c = 0; c < C; c++) dx[xs + c] += dyv[o + c]! * inv;
            }
          }
        }
      }
    }
    return b.makeTensorInfo(input.shape, 'float32', dx);
  };
}

/**
 * Windows that tile the image without overlap or padding (2×2 stride 2):
 * each input cell gets exactly one dy/count, written straight, a row at a time.
 */
function tileGrad(
  dyv: Float32Array, dx: Float32Array, N: number, H: number, W: number, C: number, OH: number, OW: number,
  FH: number, FW: number,
): void {
  const inv = 1 / (FH * FW);
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const o = (n * OH + oh) * OW * C;
      for (let r = 0; r < FH; r++) {
        const xr = ((n * H + oh * FH + r) * W) * C;
        for (let ow = 0; ow < OW; ow++) {
          const src = o + ow * C;
          for (let q = 0, xs = xr + ow * FW * C; q < FW; q++, xs += C) {
            for (let c = 0; c < C; c++) dx[xs + c] = dyv[src + c]! * inv;
          }
        }
      }
    }
  }
}
