// tfjs weights → canonical weights: the direction that carries a trained tfjs
// model into an ONNX file (`alexnetc compile FILE --weights DIR -o out.onnx`).
// Everything is checked before a single value is handed out, so a model that
// does not fit the network is refused before the ONNX writer starts.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Network } from '../../check/ir.js';
import { UserError } from '../../util/errors.js';
import { layers } from '../../check/ir.js';
import type { WeightSource } from '../onnx/index.js';
import { groupFiles, MODEL_JSON, readModelJson } from './io.js';
import { fromTfjs } from './layout.js';
import { planWeights, type PlannedWeight } from './plan.js';
import type { LayersModel } from './tf.js';

/** A tfjs model (directory or in memory) whose weights do not fit the network. */
export class WeightsMismatchError extends UserError {
  constructor(
    message: string,
    /** the network layer at fault (its path), when there is one */
    readonly layer?: string,
    /** the shape the network expects (tfjs layout) */
    readonly expected?: number[],
    /** the shape the model has */
    readonly actual?: number[],
  ) {
    super(message, 1);
    this.name = 'WeightsMismatchError';
  }
}

const fmt = (s: readonly number[]): string => `[${s.join(', ')}]`;
const sizeOf = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
const key = (p: string, name: string): string => `${p}.${name}`;

interface Stored {
  name: string;
  shape: number[];
  dtype: string;
}

/**
 * Find each of the network's weights in the model, by name (tfjs orders a
 * model's weights by graph depth, not by our walk, so order is not
 * compared); throws naming the first mismatching layer and both shapes.
 * Returns, per planned weight, the index of the stored weight.
 */
function match(planned: PlannedWeight[], stored: Stored[], where: string): number[] {
  const byName = new Map(stored.map((s, i) => [s.name, i]));
  const found = planned.map((p, i) => {
    const at = byName.get(p.name);
    if (at === undefined) {
      // another architecture: show what the model has where this weight would be
      const other = stored[i];
      throw new WeightsMismatchError(
        `layer ${p.path}: the network expects ${p.name} with shape ${fmt(p.shape)}, ${where} has ` +
          (other ? `no such weight (in its place: ${other.name} with shape ${fmt(other.shape)})` : `no such weight (it has only ${stored.length} weights, the network ${planned.length})`),
        p.path,
        p.shape,
        other?.shape,
      );
    }
    const s = stored[at]!;
    if (s.shape.length !== p.shape.length || s.shape.some((d, j) => d !== p.shape[j])) {
      throw new WeightsMismatchError(
        `layer ${p.path}: the network expects ${p.name} with shape ${fmt(p.shape)}, ${where} has shape ${fmt(s.shape)}`,
        p.path,
        p.shape,
        s.shape,
      );
    }
    if (s.dtype !== 'float32') {
      throw new WeightsMismatchError(`layer ${p.path}: ${where} stores ${s.name} as ${s.dtype}, expected float32`, p.path, p.shape, s.shape);
    }
    return at;
  });
  if (stored.length > planned.length) {
    const names = new Set(planned.map((p) => p.name));
    const s = stored.find((x) => !names.has(x.name)) ?? stored[planned.length]!;
    throw new WeightsMismatchError(
      `${where} has more weights than the network (${stored.length} vs ${planned.length}): the first extra one is ${s.name} with shape ${fmt(s.shape)}`,
      undefined,
      undefined,
      s.shape,
    );
  }
  return found;
}

function source(planned: PlannedWeight[], read: (i: number) => Float32Array): WeightSource {
  const index = new Map(planned.map((p, i) => [key(p.path, p.spec.name), i]));
  return {
    get(p, spec) {
      const i = index.get(key(p, spec.name));
      if (i === undefined) throw new Error(`weight ${key(p, spec.name)} is not in the tfjs model`);
      const w = planned[i]!;
      return fromTfjs(read(i), w.spec.shape, w.layout);
    },
  };
}

/** Every canonical weight must be carried by some tfjs weight, or the ONNX file would get seeded values silently. */
function checkCovered(network: Network, planned: PlannedWeight[]): void {
  const have = new Set(planned.map((p) => key(p.path, p.spec.name)));
  for (const n of layers(network.body))
    for (const w of n.weights)
      if (!have.has(key(n.path, w.name))) throw new Error(`internal: the tfjs lowering of ${n.path} does not carry weight ${w.name}`);
}

/** One manifest group's files read as one byte range, file by file. */
class GroupReader {
  private readonly sizes: number[];
  constructor(private readonly files: string[]) {
    this.sizes = files.map((f) => fs.statSync(f).size);
  }
  get size(): number {
    return this.sizes.reduce((a, b) => a + b, 0);
  }
  read(offset: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    let done = 0;
    let start = 0;
    for (let f = 0; f < this.files.length && done < length; f++) {
      const size = this.sizes[f]!;
      const end = start + size;
      const from = offset + done;
      if (from < end) {
        const n = Math.min(end - from, length - done);
        const fd = fs.openSync(this.files[f]!, 'r');
        try {
          let got = 0;
          while (got < n) got += fs.readSync(fd, out, done + got, n - got, from - start + got);
        } finally {
          fs.closeSync(fd);
        }
        done += n;
      }
      start = end;
    }
    return out;
  }
}

/**
 * The weights of a tfjs model saved in `dir` (model.json + weight files), as
 * a canonical WeightSource for `network`. Throws WeightsMismatchError when the
 * directory does not hold a model of this network: another architecture,
 * different shapes, a missing or truncated weight file. Values are read from
 * disk one tensor at a time when asked for.
 */
export function readTfjsWeights(dir: string, network: Network): WeightSource {
  const where = `the tfjs model in ${dir}`;
  let json;
  try {
    json = readModelJson(dir);
  } catch (e) {
    throw new WeightsMismatchError(`${path.join(dir, MODEL_JSON)}: cannot read the model (${(e as Error).message})`);
  }
  const manifest = json.weightsManifest;
  if (!Array.isArray(manifest)) throw new WeightsMismatchError(`${path.join(dir, MODEL_JSON)} has no weightsManifest: not a tfjs layers model`);
  const planned = planWeights(network);
  checkCovered(network, planned);

  const stored: (Stored & { group: number; offset: number })[] = [];
  manifest.forEach((group, g) => {
    let offset = 0;
    for (const w of group.weights) {
      stored.push({ name: w.name, shape: [...w.shape], dtype: w.dtype, group: g, offset });
      offset += sizeOf(w.shape) * (w.dtype === 'float32' || w.dtype === 'int32' ? 4 : w.dtype === 'bool' ? 1 : 4);
    }
  });
  const at = match(planned, stored, where);

  const readers = manifest.map((group, g) => {
    const files = groupFiles(dir, group);
    const missing = files.find((f) => !fs.existsSync(f));
    if (missing) {
      const p = planned.find((_, i) => stored[at[i]!]!.group === g);
      throw new WeightsMismatchError(
        `weight file ${missing} is missing${p ? ` (it holds layer ${p.path}: ${p.name} ${fmt(p.shape)})` : ''}`,
        p?.path,
        p?.shape,
      );
    }
    return new GroupReader(files);
  });
  // the first weight that does not fit in its group's bytes names the truncation
  planned.forEach((p, i) => {
    const s = stored[at[i]!]!;
    const end = s.offset + sizeOf(s.shape) * 4;
    const have = readers[s.group]!.size;
    if (end > have) {
      throw new WeightsMismatchError(
        `layer ${p.path}: the weight files of ${where} are truncated: ${p.name} ${fmt(p.shape)} needs bytes ${s.offset}–${end}, the files hold ${have}`,
        p.path,
        p.shape,
      );
    }
  });
  // extra bytes mean the manifest and the files disagree: as suspicious as missing ones
  readers.forEach((r, g) => {
    const need = stored.filter((s) => s.group === g).reduce((a, s) => a + sizeOf(s.shape) * 4, 0);
    if (r.size !== need) throw new WeightsMismatchError(`the weight files of ${where} hold ${r.size} bytes, model.json describes ${need}`);
  });

  return source(planned, (i) => {
    const s = stored[at[i]!]!;
    const bytes = readers[s.group]!.read(s.offset, sizeOf(s.shape) * 4);
    return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  });
}

/** The weights of an in-memory tfjs model (e.g. right after training) as a canonical WeightSource for `network`. */
export function tfjsModelWeights(model: LayersModel, network: Network): WeightSource {
  const planned = planWeights(network);
  checkCovered(network, planned);
  const vars = model.weights;
  const at = match(
    planned,
    vars.map((v) => ({ name: v.originalName, shape: [...v.shape] as number[], dtype: v.dtype })),
    `the tfjs model ${model.name}`,
  );
  return source(planned, (i) => vars[at[i]!]!.read().dataSync() as Float32Array);
}
