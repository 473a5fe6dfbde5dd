// Pixel work for image folders: decoding to RGBA, channel conversion and
// resizing, all on planar channels-first float arrays.
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { DataError } from './errors.js';

export interface Rgba {
  width: number;
  height: number;
  /** width × height × 4 bytes, row-major. */
  data: Uint8Array;
}

/** Decode a PNG or JPEG (recognised by content, not by name). */
export function decodeImage(bytes: Uint8Array, file: string): Rgba {
  const isPng = bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
  const isJpeg = bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
  try {
    if (isPng) {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return { width: png.width, height: png.height, data: new Uint8Array(png.data) };
    }
    if (isJpeg) {
      // The memory cap keeps a hostile header from allocating gigabytes.
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024 });
      return { width: img.width, height: img.height, data: img.data };
    }
  } catch (e) {
    throw new DataError(file, `corrupt ${isPng ? 'PNG' : 'JPEG'} image (${(e as Error).message})`);
  }
  throw new DataError(file, 'not a PNG or JPEG image (unrecognised file signature)');
}

/**
 * RGBA → planar [channels, H, W] floats in 0..255. One channel uses the
 * ITU-R 601 luma weights (what PIL's convert('L') does); three channels drop
 * alpha, as torchvision's default loader does. Other channel counts replicate
 * the luma.
 */
export function toPlanar(img: Rgba, channels: number): Float32Array {
  const n = img.width * img.height;
  const out = new Float32Array(channels * n);
  const d = img.data;
  for (let i = 0; i < n; i++) {
    const r = d[4 * i]!, g = d[4 * i + 1]!, b = d[4 * i + 2]!;
    if (channels === 3) {
      out[i] = r; out[n + i] = g; out[2 * n + i] = b;
    } else {
      const y = (r * 299 + g * 587 + b * 114) / 1000;
      for (let c = 0; c < channels; c++) out[c * n + i] = y;
    }
  }
  return out;
}

/**
 * Bilinear resize of planar channels with half-pixel centres
 * (align_corners=false, like torch.nn.functional.interpolate; no antialiasing).
 */
export function resizeBilinear(src: Float32Array, channels: number, h: number, w: number, oh: number, ow: number): Float32Array {
  if (h === oh && w === ow) return src;
  const out = new Float32Array(channels * oh * ow);
  const sy = h / oh, sx = w / ow;
  for (let y = 0; y < oh; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), h - 1);
    const y0 = Math.floor(fy), y1 = Math.min(y0 + 1, h - 1), wy = fy - y0;
    for (let x = 0; x < ow; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), w - 1);
      const x0 = Math.floor(fx), x1 = Math.min(x0 + 1, w - 1), wx = fx - x0;
      for (let c = 0; c < channels; c++) {
        const p = c * h * w;
        const top = src[p + y0 * w + x0]! * (1 - wx) + src[p + y0 * w + x1]! * wx;
        const bot = src[p + y1 * w + x0]! * (1 - wx) + src[p + y1 * w + x1]! * wx;
        out[c * oh * ow + y * ow + x] = top * (1 - wy) + bot * wy;
      }
    }
  }
  return out;
}
