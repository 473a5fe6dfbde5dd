// Patch extraction for NHWC convolutions. Row m = (n, oh, ow), column
// k = (r, c, ci): the same order as a flattened [fh, fw, cin, cout] filter, so
// the filter needs no reshuffle. Out-of-image taps (padding) read as zero.
import type { ConvInfo } from './backend.js';

/** cols[M, K] from x. */
export function im2col(x: Float32Array, ci: ConvInfo, cols: Float32Array): void {
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = ci;
  const { filterHeight: FH, filterWidth: FW, strideHeight: SH, strideWidth: SW } = ci;
  const { dilationHeight: DH, dilationWidth: DW } = ci;
  const top = ci.padInfo.top, left = ci.padInfo.left;
  const K = FH * FW * C;
  const run = FW * C;
  let o = 0;
  for (let n = 0; n < N; n++) {
    const xn = n * H * W * C;
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const end = o + K;
        for (let r = 0; r < FH; r++) {
          const ih = oh * SH - top + r * DH;
          if (ih < 0 || ih >= H) { cols.fill(0, o, o + FW * C); o += FW * C; continue; }
          const xr = xn + ih * W * C;
          const iw0 = ow * SW - left;
          if (DW === 1 && iw0 >= 0 && iw0 + FW <= W) {
            // The whole filter row is in the image: one contiguous run.
            const xs = xr + iw0 * C;
            for (let t = 0; t < run; t++) cols[o + t] = x[xs + t]!;
            o += run;
            continue;
          }
          for (let c = 0; c < FW; c++) {
            const iw = ow * SW - left + c * DW;
            if (iw < 0 || iw >= W) { cols.fill(0, o, o + C); o += C; continue; }
            const xs = xr + iw * C;
            for (let ch = 0; ch < C; ch++) cols[o++] = x[xs + ch];
          }
        }
        o = end;
      }
    }
  }
}

/** colsT[K, M] from x: the transposed layout, built directly. */
export function im2colT(x: Float32Array, ci: ConvInfo, colsT: Float32Array): void {
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = ci;
  const { filterHeight: FH, filterWidth: FW, strideHeight: SH, strideWidth: SW } = ci;
  const { dilationHeight: DH, dilationWidth: DW } = ci;
  const top = ci.padInfo.top, left = ci.padInfo.left;
  const M = N * OH * OW;
  for (let r = 0; r < FH; r++) {
    for (let c = 0; c < FW; c++) {
      // Output columns whose tap lands inside the image, for this (r, c).
      const owLo = Math.max(0, Math.ceil((left - c * DW) / SW));
      const owHi = Math.min(OW, Math.ceil((W + left - c * DW) / SW));
      for (let ch = 0; ch < C; ch++) {
        let o = ((r * FW + c) * C + ch) * M;
        for (let n = 0; n < N; n++) {
          for (let oh = 0; oh < OH; oh++) {
            const ih = oh * SH - top + r * DH;
            if (ih < 0 || ih >= H || owLo >= owHi) { colsT.fill(0, o, o + OW); o += OW; continue; }
            const base = (n * H + ih) * W * C + ch + (c * DW - left) * C;
            if (owLo > 0) colsT.fill(0, o, o + owLo);
            for (let ow = owLo; ow < owHi; ow++) colsT[o + ow] = x[base + ow * SW * C];
            if (owHi < OW) colsT.fill(0, o + owHi, o + OW);
            o += OW;
          }
        }
      }
    }
  }
}

/**
 * dx += scatter of dcols[M, K] (the adjoint of im2col). dx must start zeroed.
 * Rows of dcols are `ld` floats apart (≥ K; the wasm GEMM pads them).
 */
export function col2im(dcols: Float32Array, ci: ConvInfo, dx: Float32Array, ld?: number): void {
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = ci;
  const { filterHeight: FH, filterWidth: FW, strideHeight: SH, strideWidth: SW } = ci;
  const { dilationHeight: DH, dilationWidth: DW } = ci;
  const top = ci.padInfo.top, left = ci.padInfo.left;
  const K = FH * FW * C;
  const stride = ld ?? K;
  const run = FW * C;
  let o = 0;
  for (let n = 0; n < N; n++) {
    const xn = n * H * W * C;
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const end = o + stride;
        for (let r = 0; r < FH; r++) {
          const ih = oh * SH - top + r * DH;
          if (ih < 0 || ih >= H) { o += FW * C; continue; }
          const xr = xn + ih * W * C;
          const iw0 = ow * SW - left;
          if (DW === 1 && iw0 >= 0 && iw0 + FW <= W) {
            const xs = xr + iw0 * C;
            for (let t = 0; t < run; t++) dx[xs + t] += dcols[o + t]!;
            o += run;
            continue;
          }
          for (let c = 0; c < FW; c++) {
            const iw = ow * SW - left + c * DW;
            if (iw < 0 || iw >= W) { o += C; continue; }
            const xs = xr + iw * C;
            for (let ch = 0; ch < C; ch++) dx[xs + ch] += dcols[o++];
          }
        }
        o = end;
      }
    }
  }
}
