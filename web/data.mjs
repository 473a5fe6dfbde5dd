// The playground's training data: a subset of Fashion-MNIST (the first 10,000
// training and 2,000 test images, which the data set's authors shuffled),
// written from Debian's dataset-fashion-mnist package at build time as IDX
// files gzipped like the originals — so `alexnetc train --data DIR` reads the
// very same subset. Nothing is written (and the page says the subset is
// missing) where the package is not installed.
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';

export const SOURCE = '/usr/share/datasets/fashion-mnist';
export const COPYRIGHT = '/usr/share/doc/dataset-fashion-mnist/copyright';
export const TRAIN = 10_000;
export const TEST = 2_000;

/** the first `n` items of an IDX file (the header's count rewritten) */
function head(raw, n) {
  const buf = gunzipSync(raw);
  const dims = buf[3];
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const count = view.getUint32(4, false);
  if (count < n) throw new Error(`only ${count} items`);
  let item = 1;
  for (let i = 1; i < dims; i++) item *= view.getUint32(4 + 4 * i, false);
  const header = 4 + 4 * dims;
  const out = Buffer.from(buf.subarray(0, header + n * item));
  out.writeUInt32BE(n, 4);
  return gzipSync(out, { level: 9 });
}

const NAMES = ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'];

/** what the subset was made from: a rebuild that finds the same skips the work (a few seconds) */
function stampOf() {
  return JSON.stringify({ TRAIN, TEST, files: NAMES.map((n) => [n, statSync(path.join(SOURCE, n)).size, statSync(path.join(SOURCE, n)).mtimeMs]) });
}

/** Write the subset into `dir`; returns what was written, or why nothing was. */
export function writeSubset(dir) {
  if (!existsSync(path.join(SOURCE, 'train-images-idx3-ubyte.gz'))) {
    rmSync(dir, { recursive: true, force: true });
    return { written: false, why: `${SOURCE} is missing (apt-get install dataset-fashion-mnist)` };
  }
  const stamp = stampOf();
  const stampFile = path.join(dir, '.made-from.json');
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp && NAMES.every((n) => existsSync(path.join(dir, n)))) {
    return { written: true, files: NAMES.map((n) => [n, statSync(path.join(dir, n)).size]), reused: true };
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const files = [];
  for (const [split, n] of [['train', TRAIN], ['t10k', TEST]]) {
    for (const kind of ['images-idx3', 'labels-idx1']) {
      const name = `${split}-${kind}-ubyte.gz`;
      const data = head(readFileSync(path.join(SOURCE, name)), n);
      writeFileSync(path.join(dir, name), data);
      files.push([name, data.length]);
    }
  }
  const licence = existsSync(COPYRIGHT) ? readFileSync(COPYRIGHT, 'utf8') : 'Fashion-MNIST: Copyright (c) 2017 Zalando SE, MIT licence.\n';
  writeFileSync(
    path.join(dir, 'LICENSE.txt'),
    `The first ${TRAIN.toLocaleString('en-US')} training and ${TEST.toLocaleString('en-US')} test images of Fashion-MNIST\n` +
      `(Han Xiao, Kashif Rasul, Roland Vollgraf, Zalando Research, 2017), taken from Debian's dataset-fashion-mnist package.\n\n${licence}`,
  );
  writeFileSync(stampFile, stamp);
  return { written: true, files };
}
