// A tfjs model directory's weights as named tensors under alexnetc's names
// (`stage2/conv1.weight`, canonical shapes and layout), so that fine-tuning
// (`alexnetc train --init DIR`) can match them by name and shape against a
// network that differs from the one that wrote them: another head, a
// layer more or less. Each stored weight is named through the tfjs names the
// network would give its own weights (the same lowering, src/emit/tfjs/plan.ts),
// so a weight of a layer the network does not have keeps its tfjs name and
// matches nothing. No tfjs is loaded: model.json and the weight files are
// read as they are.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Network } from '../check/ir.js';
import type { TfjsLayout } from '../layers/types.js';
import { WeightsError } from './index.js';
import type { NamedTensors } from './match.js';

const sizeOf = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/** The canonical shape of a weight stored in tfjs layout (the inverse of tfjsShape); a shape that does not fit the layout stays as it is. */
function canonicalShape(shape: readonly number[], layout: TfjsLayout): number[] {
  if (layout === 'oihw' && shape.length === 4) return [shape[3]!, shape[2]!, shape[0]!, shape[1]!];
  if (layout === 'oi' && shape.length === 2) return [shape[1]!, shape[0]!];
  if (layout === 'hwc' && shape.length === 3) return [shape[2]!];
  return [...shape];
}

/** Bytes `[offset, offset + length)` of a manifest group, whose files are read as one run of bytes. */
function readRange(files: string[], offset: number, length: number, where: string): Uint8Array {
  const out = new Uint8Array(length);
  let done = 0;
  let start = 0;
  for (const f of files) {
    if (done === length) break;
    let size: number;
    try {
      size = fs.statSync(f).size;
    } catch {
      throw new WeightsError(`${where}: weight file ${f} is missing`);
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
  if (done !== length) throw new WeightsError(`${where}: the weight files are truncated (bytes ${offset}–${offset + length} needed, ${start} there)`);
  return out;
}

/** The weights of the tfjs model in `dir` (model.json + weight files) as named tensors for `network`. */
export async function tfjsTensors(dir: string, network: Network): Promise<NamedTensors> {
  const [{ readModelJson, groupFiles }, { planWeights }, { fromTfjs }] = await Promise.all([
    import('../emit/tfjs/io.js'),
    import('../emit/tfjs/plan.js'),
    import('../emit/tfjs/layout.js'),
  ]);
  const where = `the tfjs model in ${dir}`;
  let json;
  try {
    json = readModelJson(dir);
  } catch (e) {
    throw new WeightsError(`${path.join(dir, 'model.json')}: cannot read the model (${(e as Error).message})`);
  }
  if (!Array.isArray(json.weightsManifest)) throw new WeightsError(`${path.join(dir, 'model.json')} has no weightsManifest: not a tfjs layers model`);
  const planned = new Map(planWeights(network).map((p) => [p.name, p]));
  const stored = new Map<string, { files: string[]; offset: number; stored: number[]; canonical: number[]; layout: TfjsLayout; dtype: string }>();
  json.weightsManifest.forEach((group) => {
    const files = groupFiles(dir, group);
    let offset = 0;
    for (const w of group.weights) {
      const p = planned.get(w.name);
      const name = p ? `${p.path}.${p.spec.name}` : w.name;
      const layout = p?.layout ?? 'same';
      stored.set(name, { files, offset, stored: [...w.shape], canonical: canonicalShape(w.shape, layout), layout, dtype: w.dtype });
      offset += sizeOf(w.shape) * (w.dtype === 'bool' ? 1 : 4);
    }
  });
  return {
    where,
    tensors: [...stored].map(([name, t]) => ({ name, shape: t.canonical, dtype: t.dtype })),
    read(name) {
      const t = stored.get(name);
      if (!t) throw new WeightsError(`${where} has no weight ${name}`);
      if (t.dtype !== 'float32') throw new WeightsError(`${where}: ${name} is ${t.dtype}, not float32`);
      const bytes = readRange(t.files, t.offset, sizeOf(t.stored) * 4, where);
      return fromTfjs(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4), t.canonical, t.layout);
    },
  };
}
