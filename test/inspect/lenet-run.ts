// Shared by the predict and explain tests: the built command line, a small
// LeNet-5 trained on real Fashion-MNIST (the train tests' budget: 2,000
// training / 500 test images, 2 epochs, ~10 s), and image files written from
// IDX examples.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { deriveSeed, permutation, readIdxPair, rng, type Split } from '../../src/train/data/index.js';

export const root = path.join(import.meta.dirname, '../..');
export const FASHION = process.env.ALEXNETC_FASHION_MNIST ?? '/usr/share/datasets/fashion-mnist';
export const hasData = existsSync(path.join(FASHION, 't10k-images-idx3-ubyte.gz')) || existsSync(path.join(FASHION, 't10k-images-idx3-ubyte'));
if (!hasData) console.warn(`SKIPPED the tests on a trained LeNet-5: the Fashion-MNIST test set is not in ${FASHION} (install dataset-fashion-mnist or set ALEXNETC_FASHION_MNIST)`);

export const tmp = (prefix = 'alexnetc-inspect-'): string => mkdtempSync(path.join(os.tmpdir(), prefix));

export function cli(args: string[], cwd = root) {
  const r = spawnSync(process.execPath, [path.join(root, 'bin/alexnetc.js'), ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 64 * 2 ** 20 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The documented command on the train tests' budget. */
export const LENET_TRAIN = ['specs/lenet5.net', '--set', 'size=28', '--data', FASHION, '--limit', '2000', '--test-limit', '500', '--epochs', '2'];

export function trainLenet(out: string) {
  return cli(['train', ...LENET_TRAIN, '--out', out]);
}

/** The test images a run with --test-limit N --seed S evaluated on (the trainer's seeded subset: prepare.ts seededSubset). */
export function testLimitIndices(count: number, n: number, seed = 0): number[] {
  return Array.from(permutation(count, rng(deriveSeed(seed, 'test-limit'))).subarray(0, n)).sort((a, b) => a - b);
}

let testSplit: Split | undefined;
/** Fashion-MNIST's test split, read once. */
export function fashionTest(): Split {
  const gz = (f: string) => path.join(FASHION, existsSync(path.join(FASHION, `${f}.gz`)) ? `${f}.gz` : f);
  testSplit ??= readIdxPair(gz('t10k-images-idx3-ubyte'), gz('t10k-labels-idx1-ubyte'));
  return testSplit;
}

/** Test image `i` (28×28 grey bytes). */
export function fashionImage(i: number): Uint8Array {
  const s = fashionTest();
  return s.images.subarray(i * 784, (i + 1) * 784) as Uint8Array;
}

/** RGBA from grey bytes, or from a function of (x, y) → [r, g, b]. */
export function rgbaOf(width: number, height: number, pixel: (x: number, y: number) => readonly number[]): Uint8Array {
  const d = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const [r, g, b] = pixel(x, y);
      d.set([r!, g!, b!, 255], 4 * (y * width + x));
    }
  return d;
}

export function writePng(file: string, width: number, height: number, rgba: Uint8Array, colorType: 0 | 2 | 6 = 6): void {
  const png = new PNG({ width, height });
  png.data = Buffer.from(rgba);
  writeFileSync(file, PNG.sync.write(png, { colorType }));
}

export function writeJpeg(file: string, width: number, height: number, rgba: Uint8Array): void {
  writeFileSync(file, jpeg.encode({ data: Buffer.from(rgba), width, height }, 95).data);
}

/** A Fashion-MNIST test image as a grey PNG file. */
export function fashionPng(file: string, i: number): string {
  const g = fashionImage(i);
  writePng(file, 28, 28, rgbaOf(28, 28, (x, y) => [g[y * 28 + x]!, g[y * 28 + x]!, g[y * 28 + x]!]), 0);
  return file;
}
