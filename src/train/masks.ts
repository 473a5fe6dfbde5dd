// Sparsity masks in a run directory (EngineSetup.masks): RUN/masks.json names
// each masked weight, its shape and where its bits start; RUN/masks.bin holds
// the bits, one per weight element in canonical layout (1 keep, 0 zero),
// least significant bit first. A run that was started with masks keeps them
// on --resume: the loop reads them back from here.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { layers, type Network } from '../check/ir.js';
import { writeFileAtomic } from '../util/atomic.js';
import { CheckpointError } from './checkpoint.js';

export const MASKS_JSON = 'masks.json';
export const MASKS_BIN = 'masks.bin';
const FORMAT = 'alexnetc-masks';

interface MasksFile {
  format: string;
  version: 1;
  bitOrder: 'lsb-first';
  masks: Array<{ weight: string; shape: number[]; offset: number; count: number; kept: number }>;
}

/** Write the masks (with their weights' shapes) into `dir`: masks.bin, then masks.json, each atomically. */
export function writeMasks(dir: string, masks: ReadonlyMap<string, Uint8Array>, shapes: ReadonlyMap<string, readonly number[]>): void {
  let offset = 0;
  const entries: MasksFile['masks'] = [];
  for (const [weight, m] of masks) {
    const shape = shapes.get(weight);
    if (!shape) throw new Error(`internal: no shape for mask ${weight}`);
    let kept = 0;
    for (let i = 0; i < m.length; i++) kept += m[i]! ? 1 : 0;
    entries.push({ weight, shape: [...shape], offset, count: m.length, kept });
    offset += Math.ceil(m.length / 8) * 8;
  }
  const bits = new Uint8Array(offset / 8);
  for (const e of entries) {
    const m = masks.get(e.weight)!;
    for (let i = 0; i < m.length; i++) if (m[i]) bits[(e.offset + i) >> 3]! |= 1 << ((e.offset + i) & 7);
  }
  writeFileAtomic(path.join(dir, MASKS_BIN), bits);
  const file: MasksFile = { format: FORMAT, version: 1, bitOrder: 'lsb-first', masks: entries };
  writeFileAtomic(path.join(dir, MASKS_JSON), JSON.stringify(file, null, 1) + '\n');
}

/** The masks of a run directory, or undefined when it has none. */
export function readMasks(dir: string): Map<string, Uint8Array> | undefined {
  const jsonFile = path.join(dir, MASKS_JSON);
  if (!fs.existsSync(jsonFile)) return undefined;
  let meta: MasksFile;
  let bits: Buffer;
  try {
    meta = JSON.parse(fs.readFileSync(jsonFile, 'utf8'));
    bits = fs.readFileSync(path.join(dir, MASKS_BIN));
  } catch (e) {
    throw new CheckpointError(`${dir}: cannot read the sparsity masks (${(e as Error).message})`);
  }
  if (meta.format !== FORMAT || meta.version !== 1 || !Array.isArray(meta.masks)) throw new CheckpointError(`${jsonFile}: not an alexnetc masks file of version 1`);
  const out = new Map<string, Uint8Array>();
  for (const e of meta.masks) {
    if (e.offset + e.count > bits.length * 8) throw new CheckpointError(`${path.join(dir, MASKS_BIN)}: too short for the mask of ${e.weight}`);
    const m = new Uint8Array(e.count);
    for (let i = 0; i < e.count; i++) m[i] = (bits[(e.offset + i) >> 3]! >> ((e.offset + i) & 7)) & 1;
    out.set(e.weight, m);
  }
  return out;
}

/** The canonical shape of every weight of the network, by key (`path.weight`). */
export function weightShapes(network: Network): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (const n of layers(network.body)) for (const w of n.weights) m.set(`${n.path}.${w.name}`, w.shape);
  return m;
}
