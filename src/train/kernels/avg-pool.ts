// AvgPool forward over NHWC with the window sum accumulated channel-vectors at
// a time; the stock kernel recomputes 4-D offsets per element. Padding cells
// are not counted, as in the stock kernel and ONNX count_include_pad=0.
import type { CpuBackend, FastKernel, TensorInfo, Tf } from './backend.js';
import { pool2DInfo, valuesOf } from './backend.js';
import { wasmAvgPool } from './wasm-gemm.js';

export function makeAvgPool(tf: Tf): FastKernel {
  return (args, fallback) => {
    const { x } = args.inputs as { x: TensorInfo };
    const a = args.attrs;
    if (x.shape.length !== 4 || x.dtype !== 'float32') return fallback(args as never) as TensorInfo;
    const pi = pool2DInfo(tf, x.shape, a);
    const b: CpuBackend = args.backend;
    const xv = valuesOf(b, x);
    const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = pi;
    const { filterHeight: FH, filterWidth: FW, strideHeight: SH, strideWidth: SW } = pi;
    const top = pi.padInfo.top, left = pi.padInfo.left;
    const inside = top === 0 && left === 0 && (OH - 1) * SH + FH <= H && (OW - 1) * SW + FW <= W &&
      pi.dilationHeight === 1 && pi.dilationWidth === 1;
    if (inside) {
      const fast = wasmAvgPool(xv, { N, H, W, C, OH, OW, FH, FW, SH, SW });
      if (fast !== null) return b.makeTensorInfo(pi.outShape, 'float32', fast);
    }
    const y = new Float32Array(N * OH * OW * C);
    if (inside) {
      poolInside(xv, y, N, H, W, C, OH, OW, FH, FW, SH, SW);
      return b.makeTensorInfo(pi.outShape, 'float32', y);
    }
    const acc = new Float64Array(C);
    let o = 0;
    for (let n = 0; n < N; n++) {
      const xn = n * H * W * C;
      for (let oh = 0; oh < OH; oh++) {
        const h0 = Math.max(0, oh * SH - top), h1 = Math.min(H, oh * SH - top + FH);
        for (let ow = 0; ow < OW; ow++, o += C) {
          const w0 = Math.max(0, ow * SW - left), w1 = Math.min(W, ow * SW - left + FW);
          const count = (h1 - h0) * (w1 - w0);
          acc.fill(0);
          for (let h = h0; h < h1; h++) {
            for (let w = w0; w < w1; w++) {
              const xs = xn + (h * W + w) * C;
              for (let c = 0; c < C; c++) acc[c] += xv[xs + c]!;
            }
          }
          for (let c = 0; c < C; c++) y[o + c] = count > 0 ? acc[c]! / count : 0;
        }
      }
    }
    return b.makeTensorInfo(pi.outShape, 'float32', y);
  };
}

/**
 * Every window inside the image: one output row at a time, the window sums
 * accumulated in a row of doubles, taps in the stock order (window row, then
 * column), so the sums and the division are the stock kernel's exactly.
 */
function poolInside(
  xv: Float32Array, y: Float32Array, N: number, H: number, W: number, C: number, OH: number, OW: number,
  FH: number, FW: number, SH: number, SW: number,
): void {
  const rowLen = OW * C;
  const acc = new Float64Array(rowLen);
  const count = FH * FW;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      acc.fill(0);
      for (let r = 0; r < FH; r++) {
        const xr = ((n * H + oh * SH + r) * W) * C;
        for (let q = 0; q < FW; q++) {
          let xs = xr + q * C;
          for (let ow = 0, a = 0; ow < OW; ow++, xs += SW * C) {
            for (let c = 0; c < C; c++, a++) acc[a] += xv[xs + c]!;
          }
        }
      }
      const o = (n * OH + oh) * rowLen;
      for (let a = 0; a < rowLen; a++) y[o + a] = acc[a]! / count;
    }
  }
}
