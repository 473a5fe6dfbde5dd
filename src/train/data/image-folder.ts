// One sub-folder per class, PNG and JPEG files inside, as torchvision's
// ImageFolder: classes sorted by name, files sorted within a class, other
// files ignored. Every image is converted and resized to the target shape.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { Dataset, Shape3, Split } from './dataset.js';
import { exampleSize } from './dataset.js';
import { DataError } from './errors.js';
import { decodeImage, resizeBilinear, toPlanar } from './image.js';

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg']);

/** Code-unit order, the same as Python's sorted() for the names people use. */
const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function listImageFolder(dir: string): { classes: string[]; files: Array<{ file: string; label: number }> } {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch (e) {
    throw new DataError(dir, `cannot read directory (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const classes = entries.filter((e) => statSync(join(dir, e)).isDirectory()).sort(byName);
  if (classes.length === 0) throw new DataError(dir, 'no class sub-folders (expected one folder per class)');
  const files: Array<{ file: string; label: number }> = [];
  classes.forEach((cls, label) => {
    const names = readdirSync(join(dir, cls)).filter((f) => IMAGE_EXTENSIONS.has(extname(f).toLowerCase())).sort(byName);
    for (const f of names) files.push({ file: join(dir, cls, f), label });
  });
  if (files.length === 0) throw new DataError(dir, 'no .png/.jpg/.jpeg files in any class folder');
  return { classes, files };
}

/** Load every image of the folder as a [C, H, W] byte example. */
export function loadImageFolderSplit(dir: string, shape: Shape3): { split: Split; classes: string[] } {
  const { classes, files } = listImageFolder(dir);
  const [c, h, w] = shape;
  const size = exampleSize(shape);
  const images = new Uint8Array(files.length * size);
  const labels = new Int32Array(files.length);
  files.forEach(({ file, label }, i) => {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(file);
    } catch (e) {
      throw new DataError(file, `cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    const img = decodeImage(bytes, file);
    const planar = resizeBilinear(toPlanar(img, c), c, img.height, img.width, h, w);
    const base = i * size;
    for (let k = 0; k < size; k++) images[base + k] = Math.round(planar[k]!); // Uint8Array clamps
    labels[i] = label;
  });
  return { split: { images, labels, count: files.length, shape }, classes };
}

/**
 * An image-folder data set. With `train/` and `test/` (or `val/`)
 * sub-directories each is a split; otherwise the whole folder is the
 * training set. Test classes must match training classes.
 */
export function loadImageFolder(dir: string, shape: Shape3): Dataset {
  const sub = (n: string): string | undefined => {
    try { return statSync(join(dir, n)).isDirectory() ? join(dir, n) : undefined; } catch { return undefined; }
  };
  const trainDir = sub('train');
  if (trainDir === undefined) {
    const { split, classes } = loadImageFolderSplit(dir, shape);
    return { train: split, classes };
  }
  const train = loadImageFolderSplit(trainDir, shape);
  const testDir = sub('test') ?? sub('val');
  if (testDir === undefined) return { train: train.split, classes: train.classes };
  const test = loadImageFolderSplit(testDir, shape);
  if (test.classes.join('\n') !== train.classes.join('\n')) {
    throw new DataError(testDir, `classes [${test.classes.join(', ')}] differ from the training classes [${train.classes.join(', ')}]`);
  }
  return { train: train.split, test: test.split, classes: train.classes };
}
