// What a model is fed: an image file or an IDX example turned into the
// network's input exactly as training turned its data into batches — the
// image-folder loader's decoding, channel conversion, bilinear resize and
// rounding to bytes (src/train/data/image-folder.ts), then batches()'s
// per-channel normalisation (raw · scale − mean) · (1 / std).
import { readFileSync, statSync } from 'node:fs';
import { formatShape } from '../../diagnostics/index.js';
import type { Preprocessing } from '../../emit/metadata.js';
import { DataError, decodeImage, loadIdxDir, resizeBilinear, toPlanar, type Rgba } from '../../train/data/index.js';
import { UserError } from '../../util/errors.js';

/** One input, before normalisation: the bytes the network sees, channels first. */
export interface Example {
  /** the file, or `DIR[test #I]` */
  name: string;
  /** the image's own size before resizing */
  original: { width: number; height: number; channels: number };
  /** [C, H, W] (the network's image shape) or, for a vector network, the flattened image */
  raw: Uint8Array;
  /** the true class, when the data say (IDX labels) */
  label?: number;
  /** where it came from, for --json */
  source: { file: string } | { data: string; split: 'test' | 'train'; index: number };
}

/** The largest image file read (a photo is a few MB; this guards against pointing at a data set). */
const MAX_IMAGE_BYTES = 256 * 2 ** 20;

/** The shape examples are prepared for: an image [C, H, W], or a vector [F] (flattened IDX images, as training does). */
export type InputShape = readonly number[];

function checkShape(shape: InputShape, what: string): void {
  if (shape.length === 3) {
    if (shape[0] !== 1 && shape[0] !== 3) {
      throw new UserError(`the model takes ${shape[0]}-channel images ${formatShape(shape)}; ${what} give 1 (grey) or 3 (RGB) channels, as in training`);
    }
    return;
  }
  if (shape.length !== 1) throw new UserError(`the model takes input ${formatShape(shape)} per example; alexnetc feeds images [C, H, W] or flattened images [F]`);
}

/** Convert and resize a decoded image to [C, H, W] bytes, as the training image-folder loader does. */
export function imageToInput(img: Rgba, shape: readonly [number, number, number]): Uint8Array {
  const [c, h, w] = shape;
  const planar = resizeBilinear(toPlanar(img, c), c, img.height, img.width, h, w);
  const out = new Uint8Array(planar.length);
  for (let k = 0; k < planar.length; k++) out[k] = Math.round(planar[k]!); // Uint8Array clamps, as in training
  return out;
}

/** A PNG or JPEG file (recognised by content) as the model's input. */
export function imageExample(file: string, shape: InputShape): Example {
  let bytes: Uint8Array;
  try {
    const st = statSync(file);
    if (st.isDirectory()) throw new DataError(file, 'is a directory, expected a PNG or JPEG image');
    if (st.size > MAX_IMAGE_BYTES) throw new DataError(file, `${st.size} bytes is too large for an image`);
    bytes = readFileSync(file);
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new DataError(file, (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const img = decodeImage(bytes, file);
  if (img.width === 0 || img.height === 0) throw new DataError(file, 'the image is empty (0 pixels)');
  if (shape.length !== 3) {
    throw new UserError(
      `${file}: the model takes vectors ${formatShape(shape)} (flattened images); it was trained on IDX data — predict with --data DIR --index I, ` +
        'or use an image network (input [C, H, W]), which image files are resized to',
    );
  }
  checkShape(shape, 'image files');
  return {
    name: file,
    original: { width: img.width, height: img.height, channels: channelsOf(img) },
    raw: imageToInput(img, shape as [number, number, number]),
    source: { file },
  };
}

/** 1 when every pixel is grey (r = g = b), else 3: what the file holds, for messages. */
function channelsOf(img: Rgba): number {
  const d = img.data;
  for (let i = 0; i < d.length; i += 4) if (d[i] !== d[i + 1] || d[i] !== d[i + 2]) return 3;
  return 1;
}

/**
 * `--index` values: whole numbers, comma-separated lists and ranges
 * (`0,5,10-19`), in the order given.
 */
export function parseIndices(spec: string): number[] {
  const out: number[] = [];
  for (const part of spec.split(',')) {
    const p = part.trim();
    const m = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(p);
    if (!m) throw new UserError(`--index expects whole numbers, lists and ranges (0,5,10-19), got '${spec}'`, 2);
    const a = Number(m[1]), b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw new UserError(`--index range ${p} runs backwards`, 2);
    if (b - a >= 1_000_000 || out.length + b - a >= 1_000_000) throw new UserError(`--index ${spec}: too many examples (at most 1,000,000)`, 2);
    for (let i = a; i <= b; i++) out.push(i);
  }
  return out;
}

/** Examples `indices` of an IDX directory's test (t10k) or training split, with their labels and the data set's class names. */
export function idxExamples(dir: string, split: 'test' | 'train', indices: readonly number[], shape: InputShape): { examples: Example[]; classes: string[] } {
  const data = loadIdxDir(dir);
  const s = split === 'test' ? data.test : data.train;
  if (!s) throw new DataError(dir, 'has no test images (t10k-images-idx3-ubyte[.gz]); use --split train');
  const [, h, w] = s.shape;
  if (shape.length === 1) {
    if (h * w !== shape[0]) throw new UserError(`the model takes vectors of ${shape[0]} values, but the IDX images in ${dir} are ${h}×${w} = ${h * w} values flattened`);
  } else checkShape(shape, 'IDX images');
  const examples = indices.map((index) => {
    if (index >= s.count) throw new UserError(`--index ${index}: the ${split} split of ${dir} has ${s.count} images (0 to ${s.count - 1})`);
    const grey = s.images.subarray(index * h * w, (index + 1) * h * w) as Uint8Array;
    let raw: Uint8Array;
    if (shape.length === 1) raw = grey.slice();
    else {
      // an IDX image is one grey channel: through the same conversion and resize as an image file
      const rgba = new Uint8Array(4 * h * w);
      for (let i = 0; i < h * w; i++) {
        rgba.fill(grey[i]!, 4 * i, 4 * i + 3);
        rgba[4 * i + 3] = 255;
      }
      raw = imageToInput({ width: w, height: h, data: rgba }, shape as [number, number, number]);
    }
    return {
      name: `${dir}[${split} #${index}]`,
      original: { width: w, height: h, channels: 1 },
      raw,
      label: s.labels[index]!,
      source: { data: dir, split, index },
    };
  });
  return { examples, classes: data.classes };
}

/** Normalise bytes as batches() does in training: (raw · scale − mean[c]) · (1 / std[c]), per channel. */
export function normalise(raw: Uint8Array, channels: number, norm: Preprocessing): Float32Array {
  const plane = raw.length / channels;
  const out = new Float32Array(raw.length);
  for (let c = 0; c < channels; c++) {
    const m = norm.mean[norm.mean.length === 1 ? 0 : c]!, is = 1 / norm.std[norm.std.length === 1 ? 0 : c]!;
    for (let i = c * plane; i < (c + 1) * plane; i++) out[i] = (raw[i]! * norm.scale - m) * is;
  }
  return out;
}
