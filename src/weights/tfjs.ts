// The one reader of tfjs model directories (model.json + weight files); no
// tfjs is loaded: the files are read as they are, one tensor at a time.
// Two ways to take them:
//  - readTfjsWeights: every weight of a network, exactly (compile --weights,
//    resume, prune): another architecture, other shapes, a missing or
//    truncated weight file is a WeightsMismatchError naming the layer;
//  - tfjsTensors: what the directory holds, under alexnetc's names
//    (`stage2/conv1.weight`, canonical shapes and layout), so that fine-tuning
//    (`alexnetc train --init DIR`) can match them by name and shape against a
//    network that differs from the one that wrote them: another head, a layer
//    more or less. Each stored weight is named through the tfjs names the
//    network would give its own weights (the same lowering,
//    src/emit/tfjs/plan.ts), so a weight of a layer the network does not have
//    keeps its tfjs name and matches nothing.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Network } from '../check/ir.js';
import type { WeightSource } from '../emit/onnx/index.js';
import { groupFiles, MODEL_JSON, readModelJson } from '../emit/tfjs/io.js';
import { fromTfjs } from '../emit/tfjs/layout.js';
import { planWeights } from '../emit/tfjs/plan.js';
import { checkCovered, match, source, WeightsMismatchError, type Stored } from '../emit/tfjs/weights.js';
import type { TfjsLayout } from '../layers/types.js';
import { WeightsError } from './index.js';
import type { NamedTensors } from './match.js';

export { WeightsMismatchError };

const sizeOf = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
const fmt = (s: readonly number[]): string => `[${s.join(', ')}]`;

/** A weight as model.json's manifest stores it: its group's files and its byte offset in them. */
interface StoredWeight extends Stored {
  group: number;
  files: string[];
  offset: number;
}

/** The manifest of the model in `dir`, weight by weight; `fail` makes the error for an unreadable model.json. */
function manifestOf(dir: string, fail: (message: string) => Error): StoredWeight[] {
  let json;
  try {
    json = readModelJson(dir);
  } catch (e) {
    throw fail(`${path.join(dir, MODEL_JSON)}: cannot read the model (${(e as Error).message})`);
  }
  if (!Array.isArray(json.weightsManifest)) throw fail(`${path.join(dir, MODEL_JSON)} has no weightsManifest: not a tfjs layers model`);
  const stored: StoredWeight[] = [];
  json.weightsManifest.forEach((group, g) => {
    const files = groupFiles(dir, group);
    let offset = 0;
    for (const w of group.weights) {
      stored.push({ name: w.name, shape: [...w.shape], dtype: w.dtype, group: g, files, offset });
      offset += sizeOf(w.shape) * (w.dtype === 'bool' ? 1 : 4);
    }
  });
  return stored;
}

/** Bytes `[offset, offset + length)` of a manifest group, whose files are read as one run of bytes. */
function readRange(files: string[], offset: number, length: number, fail: (message: string) => Error, where: string): Uint8Array {
  const out = new Uint8Array(length);
  let done = 0;
  let start = 0;
  for (const f of files) {
    if (done === length) break;
    let size: number;
    try {
      size = fs.statSync(f).size;
    } catch {
      throw fail(`${where}: weight file ${f} is missing`);
    }
    const from = offset + done;
    if (from < start + size) {
      const n = Math.min(start + size - from, length - done);
      const fd = fs.openSync(f, 'r');
      try {
        let got = 0;
        while (got < n) {
          const r = fs.readSync(fd, out, done + got, n - got, from - start + got);
          if (r === 0) break;
          got += r;
        }
      } finally {
        fs.closeSync(fd);
      }
      done += n;
    }
    start += size;
  }
  if (done !== length) throw fail(`${where}: the weight files are truncated (bytes ${offset}–${offset + length} needed, ${start} there)`);
  return out;
}

const floats = (bytes: Uint8Array): Float32Array => new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);

/**
 * The weights of a tfjs model saved in `dir` (model.json + weight files), as
 * a canonical WeightSource for `network`. Throws WeightsMismatchError when the
 * directory does not hold a model of this network: another architecture,
 * different shapes, a missing or truncated weight file. Values are read from
 * disk one tensor at a time when asked for.
 */
export function readTfjsWeights(dir: string, network: Network): WeightSource {
  const where = `the tfjs model in ${dir}`;
  const mismatch = (message: string): Error => new WeightsMismatchError(message);
  const stored = manifestOf(dir, mismatch);
  const planned = planWeights(network);
  checkCovered(network, planned);
  const at = match(planned, stored, where);

  const groups = [...new Set(stored.map((s) => s.group))];
  const size = new Map<number, number>();
  for (const g of groups) {
    const files = stored.find((s) => s.group === g)!.files;
    const missing = files.find((f) => !fs.existsSync(f));
    if (missing) {
      const p = planned.find((_, i) => stored[at[i]!]!.group === g);
      throw new WeightsMismatchError(
        `weight file ${missing} is missing${p ? ` (it holds layer ${p.path}: ${p.name} ${fmt(p.shape)})` : ''}`,
        p?.path,
        p?.shape,
      );
    }
    size.set(g, files.reduce((a, f) => a + fs.statSync(f).size, 0));
  }
  // the first weight that does not fit in its group's bytes names the truncation
  planned.forEach((p, i) => {
    const s = stored[at[i]!]!;
    const end = s.offset + sizeOf(s.shape) * 4;
    const have = size.get(s.group)!;
    if (end > have) {
      throw new WeightsMismatchError(
        `layer ${p.path}: the weight files of ${where} are truncated: ${p.name} ${fmt(p.shape)} needs bytes ${s.offset}–${end}, the files hold ${have}`,
        p.path,
        p.shape,
      );
    }
  });
  // extra bytes mean the manifest and the files disagree: as suspicious as missing ones
  for (const g of groups) {
    const need = stored.filter((s) => s.group === g).reduce((a, s) => a + sizeOf(s.shape) * 4, 0);
    if (size.get(g) !== need) throw new WeightsMismatchError(`the weight files of ${where} hold ${size.get(g)} bytes, model.json describes ${need}`);
  }

  return source(planned, (i) => {
    const s = stored[at[i]!]!;
    return floats(readRange(s.files, s.offset, sizeOf(s.shape) * 4, mismatch, where));
  });
}

/** The canonical shape of a weight stored in tfjs layout (the inverse of tfjsShape); a shape that does not fit the layout stays as it is. */
function canonicalShape(shape: readonly number[], layout: TfjsLayout): number[] {
  if (layout === 'oihw' && shape.length === 4) return [shape[3]!, shape[2]!, shape[0]!, shape[1]!];
  if (layout === 'oi' && shape.length === 2) return [shape[1]!, shape[0]!];
  if (layout === 'hwc' && shape.length === 3) return [shape[2]!];
  return [...shape];
}

/** The weights of the tfjs model in `dir` (model.json + weight files) as named tensors for `network`. */
export async function tfjsTensors(dir: string, network: Network): Promise<NamedTensors> {
  const where = `the tfjs model in ${dir}`;
  const fail = (message: string): Error => new WeightsError(message);
  const planned = new Map(planWeights(network).map((p) => [p.name, p]));
  const stored = new Map<string, StoredWeight & { canonical: number[]; layout: TfjsLayout }>();
  for (const w of manifestOf(dir, fail)) {
    const p = planned.get(w.name);
    const name = p ? `${p.path}.${p.spec.name}` : w.name;
    const layout = p?.layout ?? 'same';
    stored.set(name, { ...w, canonical: canonicalShape(w.shape, layout), layout });
  }
  return {
    where,
    tensors: [...stored].map(([name, t]) => ({ name, shape: t.canonical, dtype: t.dtype })),
    read(name) {
      const t = stored.get(name);
      if (!t) throw new WeightsError(`${where} has no weight ${name}`);
      if (t.dtype !== 'float32') throw new WeightsError(`${where}: ${name} is ${t.dtype}, not float32`);
      return fromTfjs(floats(readRange(t.files, t.offset, sizeOf(t.shape) * 4, fail, where)), t.canonical, t.layout);
    },
  };
}
