// The IDX format of MNIST / Fashion-MNIST: a big-endian header
// (0x00 0x00 type ndims, then ndims uint32 sizes) followed by the raw data.
// Only unsigned bytes (type 0x08) occur in these data sets.
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Dataset, Split } from './dataset.js';
import { DataError } from './errors.js';

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

const UBYTE = 0x08;

/** Parse an IDX buffer (gunzipping it first if it starts with the gzip magic). */
export function parseIdx(raw: Uint8Array, file: string): IdxArray {
  let buf = raw;
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      buf = gunzipSync(buf);
    } catch (e) {
      throw new DataError(file, `corrupt gzip data (${(e as Error).message})`);
    }
  }
  if (buf.length < 4) throw new DataError(file, `too short for an IDX header (${buf.length} bytes)`);
  if (buf[0] !== 0 || buf[1] !== 0) {
    throw new DataError(file, `not an IDX file (magic starts 0x${hex(buf[0]!)}${hex(buf[1]!)}, expected 0x0000)`);
  }
  const type = buf[2]!, ndims = buf[3]!;
  if (type !== UBYTE) throw new DataError(file, `unsupported IDX element type 0x${hex(type)} (only unsigned bytes, 0x08)`);
  if (ndims === 0) throw new DataError(file, 'IDX header declares zero dimensions');
  const header = 4 + 4 * ndims;
  if (buf.length < header) throw new DataError(file, `truncated IDX header: ${ndims} dimensions need ${header} bytes, file has ${buf.length}`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dims: number[] = [];
  let size = 1;
  for (let i = 0; i < ndims; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    dims.push(d);
    size *= d;
  }
  const have = buf.length - header;
  if (have < size) {
    throw new DataError(file, `truncated: header [${dims.join(' × ')}] needs ${size} data bytes, file has ${have}`);
  }
  if (have > size) {
    throw new DataError(file, `${have - size} unexpected bytes after the data for header [${dims.join(' × ')}]`);
  }
  return { dims, data: buf.subarray(header) };
}

export function readIdxFile(file: string): IdxArray {
  let raw: Uint8Array;
  try {
    raw = readFileSync(file);
  } catch (e) {
    throw new DataError(file, `cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseIdx(raw, file);
}

/** Images (magic 0x00000803, count × H × W) and labels (0x00000801) as one split. */
export function readIdxPair(imagesFile: string, labelsFile: string): Split {
  const images = readIdxFile(imagesFile);
  const labels = readIdxFile(labelsFile);
  if (images.dims.length !== 3) {
    throw new DataError(imagesFile, `expected an image file (3 dimensions, magic 0x00000803), found ${images.dims.length} dimensions`);
  }
  if (labels.dims.length !== 1) {
    throw new DataError(labelsFile, `expected a label file (1 dimension, magic 0x00000801), found ${labels.dims.length} dimensions`);
  }
  const [count, h, w] = images.dims as [number, number, number];
  if (labels.dims[0] !== count) {
    throw new DataError(labelsFile, `has ${labels.dims[0]} labels but ${basename(imagesFile)} has ${count} images`);
  }
  return { images: images.data, labels: Int32Array.from(labels.data), count, shape: [1, h, w] };
}

export const FASHION_MNIST_CLASSES = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
];

function findFile(dir: string, stem: string): string | undefined {
  for (const name of [`${stem}-ubyte`, `${stem}-ubyte.gz`, `${stem}.ubyte`, `${stem}.ubyte.gz`]) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/**
 * A directory with train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz]
 * and optionally the t10k-… pair. Class names are Fashion-MNIST's when the
 * path says so, otherwise the label numbers.
 */
export function loadIdxDir(dir: string, classNames?: string[]): Dataset {
  if (!existsSync(dir)) throw new DataError(dir, 'no such directory');
  const need = (stem: string): string => {
    const f = findFile(dir, stem);
    if (f === undefined) throw new DataError(join(dir, `${stem}-ubyte[.gz]`), 'missing (an IDX data directory needs train-images/train-labels files)');
    return f;
  };
  const train = readIdxPair(need('train-images-idx3'), need('train-labels-idx1'));
  const ti = findFile(dir, 't10k-images-idx3'), tl = findFile(dir, 't10k-labels-idx1');
  if ((ti === undefined) !== (tl === undefined)) {
    throw new DataError(join(dir, ti === undefined ? 't10k-images-idx3-ubyte[.gz]' : 't10k-labels-idx1-ubyte[.gz]'),
      'missing, but its partner test file is present');
  }
  const test = ti !== undefined && tl !== undefined ? readIdxPair(ti, tl) : undefined;
  if (test !== undefined && (test.shape[1] !== train.shape[1] || test.shape[2] !== train.shape[2])) {
    throw new DataError(ti!, `test images are ${test.shape[1]}×${test.shape[2]}, training images ${train.shape[1]}×${train.shape[2]}`);
  }
  let maxLabel = 0;
  for (const s of test === undefined ? [train] : [train, test]) for (const l of s.labels) maxLabel = Math.max(maxLabel, l);
  const n = maxLabel + 1;
  const classes = classNames ?? (/fashion/i.test(dir) && n <= 10 ? FASHION_MNIST_CLASSES.slice() : [...Array(n).keys()].map(String));
  if (classes.length < n) throw new DataError(dir, `labels go up to ${maxLabel} but only ${classes.length} class names were given`);
  return test === undefined ? { train, classes } : { train, test, classes };
}

function hex(b: number): string {
  return b.toString(16).padStart(2, '0');
}
