import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { skipping } from '../skip.js';
import {
  DataError, batches, channelStats, loadIdxDir, loadImageFolder, parseIdx, readIdxFile, resizeBilinear, validationSplit,
} from '../../src/train/data/index.js';
import type { Split } from '../../src/train/data/index.js';

function idx(type: number, dims: number[], data: Uint8Array): Uint8Array {
  const header = new Uint8Array(4 + 4 * dims.length);
  const v = new DataView(header.buffer);
  header[2] = type; header[3] = dims.length;
  dims.forEach((d, i) => v.setUint32(4 + 4 * i, d, false));
  return Buffer.concat([header, data]);
}
const images = (n: number, h: number, w: number): Uint8Array =>
  idx(0x08, [n, h, w], Uint8Array.from({ length: n * h * w }, (_, i) => i % 256));
const labels = (n: number, k = 3): Uint8Array => idx(0x08, [n], Uint8Array.from({ length: n }, (_, i) => i % k));

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'alexnetc-data-'));
}
function expectDataError(f: () => unknown, file: string, pattern: RegExp): void {
  let err: unknown;
  try { f(); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(DataError);
  expect((err as DataError).file).toBe(file);
  expect((err as DataError).message).toContain(file);
  expect((err as DataError).message).toMatch(pattern);
}

describe('IDX', () => {
  it('parses a tiny image and label file, gzipped or not', () => {
    const a = parseIdx(images(5, 4, 3), 'x');
    expect(a.dims).toEqual([5, 4, 3]);
    expect(a.data[13]).toBe(13);
    expect(parseIdx(gzipSync(labels(7)), 'y').dims).toEqual([7]);
  });

  it('loads a directory of the four usual files', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'train-images-idx3-ubyte.gz'), gzipSync(images(6, 4, 5)));
    writeFileSync(join(dir, 'train-labels-idx1-ubyte'), labels(6));
    writeFileSync(join(dir, 't10k-images-idx3-ubyte'), images(2, 4, 5));
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte.gz'), gzipSync(labels(2)));
    const ds = loadIdxDir(dir);
    expect(ds.train.count).toBe(6);
    expect(ds.train.shape).toEqual([1, 4, 5]);
    expect(Array.from(ds.train.labels)).toEqual([0, 1, 2, 0, 1, 2]);
    expect(ds.test?.count).toBe(2);
    expect(ds.classes).toEqual(['0', '1', '2']);
  });

  it('names the file for truncated, corrupt and inconsistent data', () => {
    const dir = tmp();
    const f = (name: string, data: Uint8Array): string => { const p = join(dir, name); writeFileSync(p, data); return p; };
    const full = images(3, 4, 4);
    let p = f('trunc', full.subarray(0, full.length - 5));
    expectDataError(() => readIdxFile(p), p, /truncated/);
    p = f('extra', Buffer.concat([full, new Uint8Array(2)]));
    expectDataError(() => readIdxFile(p), p, /unexpected bytes/);
    p = f('hdr', full.subarray(0, 9));
    expectDataError(() => readIdxFile(p), p, /truncated IDX header/);
    p = f('magic', Uint8Array.from([0x50, 0x4b, 3, 4, 0, 0, 0, 0]));
    expectDataError(() => readIdxFile(p), p, /not an IDX file/);
    p = f('type', idx(0x0d, [1], new Uint8Array(4)));
    expectDataError(() => readIdxFile(p), p, /element type 0x0d/);
    const gz = gzipSync(full);
    p = f('badgz', gz.subarray(0, gz.length - 10));
    expectDataError(() => readIdxFile(p), p, /corrupt gzip/);
    p = join(dir, 'absent');
    expectDataError(() => readIdxFile(p), p, /cannot read/);

    const d2 = tmp();
    writeFileSync(join(d2, 'train-images-idx3-ubyte'), images(4, 2, 2));
    writeFileSync(join(d2, 'train-labels-idx1-ubyte'), labels(5));
    expectDataError(() => loadIdxDir(d2), join(d2, 'train-labels-idx1-ubyte'), /5 labels but .* 4 images/);
    const d3 = tmp();
    writeFileSync(join(d3, 'train-images-idx3-ubyte'), labels(4));
    writeFileSync(join(d3, 'train-labels-idx1-ubyte'), labels(4));
    expectDataError(() => loadIdxDir(d3), join(d3, 'train-images-idx3-ubyte'), /expected an image file/);
    const d4 = tmp();
    expectDataError(() => loadIdxDir(d4), join(d4, 'train-images-idx3-ubyte[.gz]'), /missing/);
  });

  const FASHION = '/usr/share/datasets/fashion-mnist';
  it.skipIf(skipping('reading the real Fashion-MNIST', !existsSync(join(FASHION, 't10k-images-idx3-ubyte.gz')) && `dataset-fashion-mnist is not installed in ${FASHION}`))(
    `reads the real Fashion-MNIST test set from ${FASHION} (skipped when dataset-fashion-mnist is not installed)`, () => {
      const ds = loadIdxDir(FASHION);
      expect(ds.test?.count).toBe(10000);
      expect(ds.test?.shape).toEqual([1, 28, 28]);
      expect(ds.train.count).toBe(60000);
      expect(ds.classes).toHaveLength(10);
      expect(ds.classes[9]).toBe('Ankle boot');
      const hist = new Array(10).fill(0);
      for (const l of ds.test!.labels) hist[l]++;
      expect(hist).toEqual(new Array(10).fill(1000));
    });
});

describe('image folder', () => {
  function png(w: number, h: number, rgba: [number, number, number, number]): Buffer {
    const p = new PNG({ width: w, height: h });
    for (let i = 0; i < w * h; i++) p.data.set(rgba, 4 * i);
    return PNG.sync.write(p);
  }
  function jpg(w: number, h: number, rgb: [number, number, number]): Buffer {
    const data = Buffer.alloc(w * h * 4);
    for (let i = 0; i < w * h; i++) data.set([...rgb, 255], 4 * i);
    return jpeg.encode({ width: w, height: h, data }, 95).data;
  }
  function folder(): string {
    const dir = tmp();
    mkdirSync(join(dir, 'dog')); mkdirSync(join(dir, 'cat')); mkdirSync(join(dir, 'Zebra'));
    writeFileSync(join(dir, 'dog', 'a.png'), png(8, 6, [255, 0, 0, 255]));
    writeFileSync(join(dir, 'dog', 'b.JPG'), jpg(10, 10, [0, 0, 255]));
    writeFileSync(join(dir, 'cat', 'c.jpeg'), jpg(5, 7, [0, 255, 0]));
    writeFileSync(join(dir, 'cat', 'notes.txt'), 'ignored');
    writeFileSync(join(dir, 'Zebra', 'z.png'), png(3, 3, [10, 20, 30, 128]));
    return dir;
  }

  it('sorts classes like ImageFolder, resizes and converts channels', () => {
    const ds = loadImageFolder(folder(), [3, 4, 4]);
    expect(ds.classes).toEqual(['Zebra', 'cat', 'dog']);
    expect(ds.train.count).toBe(4);
    expect(Array.from(ds.train.labels)).toEqual([0, 1, 2, 2]);
    const px = (n: number, c: number): number => ds.train.images[n * 48 + c * 16 + 5]!;
    expect([px(2, 0), px(2, 1), px(2, 2)]).toEqual([255, 0, 0]); // dog/a.png red
    expect(Math.abs(px(1, 1) - 255)).toBeLessThan(8); // cat jpeg green (lossy)
    const gray = loadImageFolder(folder(), [1, 5, 5]);
    expect(gray.train.shape).toEqual([1, 5, 5]);
    expect(gray.train.images[2 * 25]).toBe(76); // red → luma 0.299 · 255
  });

  it('names a corrupt image file', () => {
    const dir = folder();
    const bad = join(dir, 'cat', 'broken.png');
    writeFileSync(bad, png(4, 4, [1, 2, 3, 255]).subarray(0, 40));
    expectDataError(() => loadImageFolder(dir, [3, 4, 4]), bad, /corrupt PNG/);
    const bad2 = join(dir, 'cat', 'c.jpeg');
    writeFileSync(bad2, Buffer.from('hello, not an image'));
    expect(() => loadImageFolder(dir, [3, 4, 4])).toThrow(DataError);
  });

  it('bilinear resize keeps constants and interpolates with half-pixel centres', () => {
    const src = Float32Array.from([0, 10, 20, 30]); // 1×1×4 row
    const up = resizeBilinear(src, 1, 1, 4, 1, 8);
    // The values torch.nn.functional.interpolate(mode='bilinear', align_corners=False) gives.
    expect(Array.from(up)).toEqual([0, 2.5, 7.5, 12.5, 17.5, 22.5, 27.5, 30]);
    const c = resizeBilinear(new Float32Array(12).fill(7), 1, 3, 4, 5, 2);
    expect(Array.from(c)).toEqual(new Array(10).fill(7));
  });
});

describe('normalisation, split, batches and augmentation', () => {
  const split: Split = {
    images: Uint8Array.from({ length: 10 * 2 * 3 * 3 }, (_, i) => (i * 37) % 256),
    labels: Int32Array.from({ length: 10 }, (_, i) => i % 4),
    count: 10,
    shape: [2, 3, 3],
  };

  it('computes per-channel statistics that normalise to mean 0, std 1', () => {
    const norm = channelStats(split);
    const [b] = [...batches(split, { batchSize: 10, layout: 'NCHW', normalization: norm })];
    for (let ch = 0; ch < 2; ch++) {
      let s = 0, s2 = 0;
      for (let n = 0; n < 10; n++) for (let p = 0; p < 9; p++) { const v = b!.x[(n * 2 + ch) * 9 + p]!; s += v; s2 += v * v; }
      expect(Math.abs(s / 90)).toBeLessThan(1e-5);
      expect(Math.abs(s2 / 90 - 1)).toBeLessThan(1e-4);
    }
  });

  it('splits deterministically and disjointly', () => {
    const a = validationSplit(split, 0.3, 7), b = validationSplit(split, 0.3, 7), c = validationSplit(split, 0.3, 8);
    expect(a.val.count).toBe(3);
    expect(a.train.count).toBe(7);
    expect(Array.from(a.val.images)).toEqual(Array.from(b.val.images));
    expect(Array.from(a.val.images)).not.toEqual(Array.from(c.val.images));
  });

  it('makes NCHW and NHWC batches holding the same values', () => {
    const nchw = [...batches(split, { batchSize: 4, layout: 'NCHW' })];
    const nhwc = [...batches(split, { batchSize: 4, layout: 'NHWC' })];
    expect(nchw.map((b) => b.count)).toEqual([4, 4, 2]);
    expect(nhwc[2]!.shape).toEqual([2, 3, 3, 2]);
    expect(nhwc[0]!.x[1 * 2 + 1]).toBe(nchw[0]!.x[1 * 9 + 1]); // (n0, y0, x1, c1)
    expect([...batches(split, { batchSize: 4, layout: 'NCHW', keepPartial: false })]).toHaveLength(2);
  });

  it('shuffles and augments deterministically per (seed, epoch), and flips/crops as asked', () => {
    const opts = { batchSize: 3, layout: 'NCHW' as const, shuffle: true, seed: 3, augment: { cropPadding: 1, flip: true } };
    const run = (epoch: number): number[] => [...batches(split, { ...opts, epoch })].flatMap((b) => [...b.x, ...b.labels]);
    expect(run(0)).toEqual(run(0));
    expect(run(0)).not.toEqual(run(1));
    const plain = [...batches(split, { batchSize: 10, layout: 'NCHW' })][0]!.x;
    const aug = [...batches(split, { batchSize: 10, layout: 'NCHW', augment: { cropPadding: 1, flip: true }, seed: 1 })][0]!.x;
    expect(Array.from(aug)).not.toEqual(Array.from(plain));
    // Flip only: every example is either itself or its mirror image.
    const flipped = [...batches(split, { batchSize: 10, layout: 'NCHW', augment: { flip: true }, seed: 5 })][0]!.x;
    let mirrored = 0;
    for (let n = 0; n < 10; n++) {
      const same = [...Array(18).keys()].every((k) => flipped[n * 18 + k] === plain[n * 18 + k]);
      const mirror = [...Array(18).keys()].every((k) => {
        const [ch, y, x] = [Math.floor(k / 9), Math.floor((k % 9) / 3), k % 3];
        return flipped[n * 18 + k] === plain[n * 18 + ch * 9 + y * 3 + (2 - x)];
      });
      expect(same || mirror).toBe(true);
      if (!same) mirrored++;
    }
    expect(mirrored).toBeGreaterThan(0);
  });
});
