// safetensors, the Hugging Face tensor format (https://github.com/huggingface/safetensors):
//   8 bytes  N, little-endian u64: the header's length
//   N bytes  a JSON object {name: {dtype, shape, data_offsets: [begin, end]},
//            "__metadata__"?: {string: string}}, padded with spaces
//   the data: every tensor's little-endian bytes, at its offsets from here,
//            covering the buffer without holes or overlaps.
// No npm package reads and writes it (the `safetensors` name holds a 0.0.1
// placeholder, @huggingface/hub only parses headers on the Hub), and the
// format is this small, so alexnetc has its own reader and writer, checked
// against the Hugging Face library in test/torch (where its wheel is on disk).
//
// alexnetc names each tensor like its weight (`stage2/conv1.weight`), as
// float32. The reader also accepts PyTorch's state_dict keys
// (`stage2.conv1.weight`), float16, bfloat16 and float64 values, and skips
// PyTorch's `num_batches_tracked`, so `safetensors.torch.save_file(
// model.state_dict(), …)` of the generated module reads back too — and, for
// a network laid out as torchvision's ViT, torchvision's own state_dict keys
// (./torchvision.ts).
import * as fs from 'node:fs';
import { layers, type Network } from '../check/ir.js';
import type { WeightSpec } from '../layers/types.js';
import { openAtomic, yieldToSignals } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import type { WeightSource } from '../emit/onnx/index.js';
import { torchvisionNames } from './torchvision.js';

/** Bytes per element of every dtype the format defines. */
export const DTYPE_SIZES: Readonly<Record<string, number>> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, F8_E4M3: 1, F8_E5M2: 1,
  I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1,
};

/** The dtypes whose values alexnetc converts to float32 weights. */
const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16', 'F64']);

/** The Hugging Face library refuses headers over 100 MB: so does this reader, before allocating one. */
export const MAX_HEADER = 100_000_000;

/** A file that is not valid safetensors, or weights that do not fit the network (exit 1). */
export class SafetensorsError extends UserError {
  constructor(message: string) {
    super(message, 1);
    this.name = 'SafetensorsError';
  }
}

export interface TensorEntry {
  name: string;
  dtype: string;
  shape: number[];
  /** byte offsets from the start of the data (after the header) */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  file: string;
  metadata: Record<string, string>;
  /** in data order */
  tensors: TensorEntry[];
  /** where the data starts in the file: 8 + header length */
  dataStart: number;
}

const fmt = (s: readonly number[]): string => `[${s.join(', ')}]`;
const sizeOf = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

function readAt(fd: number, length: number, position: number): Uint8Array {
  const out = new Uint8Array(length);
  let got = 0;
  while (got < length) {
    const n = fs.readSync(fd, out, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return out.subarray(0, got);
}

/** Read and validate the header of a safetensors file; nothing of the data is read. */
export function readSafetensorsHeader(file: string): SafetensorsHeader {
  const bad = (why: string): SafetensorsError => new SafetensorsError(`${file}: not a valid safetensors file: ${why}`);
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const head = readAt(fd, 8, 0);
    if (head.length < 8) throw bad(`${size} bytes, too short for the 8-byte header length`);
    const n = new DataView(head.buffer, head.byteOffset, 8).getBigUint64(0, true);
    if (n > BigInt(MAX_HEADER)) throw bad(`the header would be ${n} bytes (at most ${MAX_HEADER})`);
    const length = Number(n);
    if (8 + length > size) throw bad(`the header length ${length} exceeds the file (${size} bytes)`);
    const bytes = readAt(fd, length, 8);
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    } catch (e) {
      throw bad(`the header is not UTF-8 JSON (${(e as Error).message})`);
    }
    if (bytes[0] !== 0x7b || typeof json !== 'object' || json === null || Array.isArray(json)) throw bad('the header is not a JSON object');
    const dataLength = size - 8 - length;
    const metadata: Record<string, string> = {};
    const tensors: TensorEntry[] = [];
    for (const [name, v] of Object.entries(json as Record<string, unknown>)) {
      if (name === '__metadata__') {
        if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad('__metadata__ is not an object');
        for (const [k, s] of Object.entries(v)) {
          if (typeof s !== 'string') throw bad(`__metadata__.${k} is not a string`);
          metadata[k] = s;
        }
        continue;
      }
      const t = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      if (typeof t !== 'object' || t === null) throw bad(`${name} is not a tensor description`);
      const dtype = t.dtype;
      if (typeof dtype !== 'string' || !(dtype in DTYPE_SIZES)) throw bad(`${name} has an unknown dtype ${JSON.stringify(dtype)}`);
      const isCount = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;
      if (!Array.isArray(t.shape) || !t.shape.every(isCount)) throw bad(`${name} has a bad shape ${JSON.stringify(t.shape)}`);
      const off = t.data_offsets;
      if (!Array.isArray(off) || off.length !== 2 || !off.every(isCount) || off[0] > off[1]) {
        throw bad(`${name} has bad data_offsets ${JSON.stringify(off)}`);
      }
      const shape = t.shape as number[];
      const [begin, end] = off as [number, number];
      const need = sizeOf(shape) * DTYPE_SIZES[dtype]!;
      if (end - begin !== need) throw bad(`${name} (${dtype} ${fmt(shape)}) needs ${need} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}`);
      if (end > dataLength) throw bad(`${name} ends at byte ${end} of the data, which has ${dataLength} (truncated?)`);
      tensors.push({ name, dtype, shape, begin, end });
    }
    // the data must be covered exactly: no holes, no overlaps, nothing after the last tensor
    tensors.sort((a, b) => a.begin - b.begin || a.end - b.end);
    let at = 0;
    for (const t of tensors) {
      if (t.begin !== at) throw bad(t.begin > at ? `bytes ${at}–${t.begin} of the data belong to no tensor` : `${t.name} overlaps the tensor before it`);
      at = t.end;
    }
    if (at !== dataLength) throw bad(`the data has ${dataLength} bytes but its tensors cover ${at}`);
    return { file, metadata, tensors, dataStart: 8 + length };
  } finally {
    fs.closeSync(fd);
  }
}

/** One tensor's values as float32 (from F32, F16, BF16 or F64). */
export function readTensor(header: SafetensorsHeader, t: TensorEntry): Float32Array {
  if (!FLOAT_DTYPES.has(t.dtype)) throw new SafetensorsError(`${header.file}: ${t.name} holds ${t.dtype} values, not floating point`);
  const fd = fs.openSync(header.file, 'r');
  let bytes: Uint8Array;
  try {
    bytes = readAt(fd, t.end - t.begin, header.dataStart + t.begin);
  } finally {
    fs.closeSync(fd);
  }
  if (bytes.length !== t.end - t.begin) throw new SafetensorsError(`${header.file}: ${t.name} is truncated`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = sizeOf(t.shape);
  const out = new Float32Array(n);
  switch (t.dtype) {
    case 'F32':
      if (hostLittleEndian) out.set(new Float32Array(bytes.buffer, bytes.byteOffset, n));
      else for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
      break;
    case 'F64':
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, true);
      break;
    case 'F16':
      for (let i = 0; i < n; i++) out[i] = half(view.getUint16(i * 2, true));
      break;
    case 'BF16': {
      const word = new DataView(new ArrayBuffer(4));
      for (let i = 0; i < n; i++) {
        word.setUint32(0, view.getUint16(i * 2, true) << 16);
        out[i] = word.getFloat32(0);
      }
      break;
    }
  }
  return out;
}

/** IEEE 754 half precision → number. */
function half(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

export interface TensorToWrite {
  name: string;
  shape: number[];
  /** the float32 values, asked for once, when the tensor is written */
  values(): Float32Array;
}

/**
 * Write float32 tensors (and string metadata) as a safetensors file,
 * atomically: a temporary sibling, renamed over `target` once complete. The
 * header is computed from the shapes, then each tensor is produced and
 * written in turn, so memory stays at one tensor. Returns the file's size.
 */
export async function writeSafetensors(target: string, tensors: readonly TensorToWrite[], metadata: Record<string, string> = {}): Promise<number> {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    if (t.name === '__metadata__' || t.name in header) throw new Error(`safetensors: tensor name ${t.name} is used twice`);
    const bytes = sizeOf(t.shape) * 4;
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let text = JSON.stringify(header);
  // padded with spaces so that the data starts 8-byte aligned, as the Hugging Face writer does
  const json = new TextEncoder().encode(text);
  text += ' '.repeat((8 - (json.length % 8)) % 8);
  const headerBytes = new TextEncoder().encode(text);
  const sink = openAtomic(target);
  try {
    const length = new Uint8Array(8);
    new DataView(length.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
    sink.write(length);
    sink.write(headerBytes);
    for (const t of tensors) {
      const v = t.values();
      if (v.length !== sizeOf(t.shape)) throw new Error(`tensor ${t.name}: expected ${sizeOf(t.shape)} values for shape ${fmt(t.shape)}, got ${v.length}`);
      sink.write(littleEndian(v));
      await yieldToSignals();
    }
    sink.commit();
  } catch (e) {
    sink.abort();
    throw e;
  }
  return 8 + headerBytes.length + offset;
}

const hostLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function littleEndian(v: Float32Array): Uint8Array {
  if (hostLittleEndian) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  const out = new Uint8Array(v.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < v.length; i++) view.setFloat32(i * 4, v[i]!, true);
  return out;
}

/** The tensor name of a weight: `stage2/conv1.weight`. */
export function tensorName(path: string, weight: string): string {
  return `${path}.${weight}`;
}

/** The same weight as a PyTorch state_dict key of the generated module: `stage2.conv1.weight`. */
export function stateDictKey(path: string, weight: string): string {
  return `${path.replace(/\//g, '.')}.${weight}`;
}

/** Every weight of the network, in network order (a PyTorch state_dict's order), with its values from `source`. */
export function networkTensors(network: Network, source: WeightSource): TensorToWrite[] {
  const out: TensorToWrite[] = [];
  for (const n of layers(network.body)) {
    for (const w of n.weights) out.push({ name: tensorName(n.path, w.name), shape: [...w.shape], values: () => source.get(n.path, w) });
  }
  return out;
}

/**
 * The weights in a safetensors file as a WeightSource for `network`. Every
 * weight is matched by name and shape before a value is read, so a file of
 * another network is refused naming the first layer at fault and both
 * shapes; tensors the network does not have are refused too (but PyTorch's
 * `num_batches_tracked`, which no alexnetc weight matches).
 */
export function safetensorsWeights(file: string, network: Network): WeightSource {
  const header = readSafetensorsHeader(file);
  const byName = new Map(header.tensors.map((t) => [t.name, t]));
  const found = new Map<string, TensorEntry>();
  // a network laid out as a torchvision model also reads torchvision's state_dict keys
  const torchvision = torchvisionNames(network);
  let i = 0;
  for (const n of layers(network.body)) {
    for (const w of n.weights) {
      const name = tensorName(n.path, w.name);
      const tv = torchvision?.get(name);
      const t = byName.get(name) ?? byName.get(stateDictKey(n.path, w.name)) ?? (tv === undefined ? undefined : byName.get(tv));
      if (!t) {
        const other = header.tensors[i];
        throw new SafetensorsError(
          `layer ${n.path}: the network expects ${name} with shape ${fmt(w.shape)}, ${file} has no such tensor ` +
            (other ? `(in its place: ${other.name} with shape ${fmt(other.shape)})` : `(it has only ${header.tensors.length} tensors)`),
        );
      }
      if (t.shape.length !== w.shape.length || t.shape.some((d, j) => d !== w.shape[j])) {
        throw new SafetensorsError(`layer ${n.path}: the network expects ${name} with shape ${fmt(w.shape)}, ${file} has shape ${fmt(t.shape)}`);
      }
      if (!FLOAT_DTYPES.has(t.dtype)) throw new SafetensorsError(`layer ${n.path}: ${file} stores ${t.name} as ${t.dtype}, expected floating point (F32)`);
      found.set(name, t);
      i++;
    }
  }
  const used = new Set([...found.values()].map((t) => t.name));
  const extra = header.tensors.find((t) => !used.has(t.name) && !t.name.endsWith('.num_batches_tracked'));
  if (extra) {
    throw new SafetensorsError(`${file} has tensors the network does not: the first is ${extra.name} with shape ${fmt(extra.shape)} (the network has ${found.size} weights)`);
  }
  return {
    get(path: string, spec: WeightSpec) {
      const t = found.get(tensorName(path, spec.name));
      if (!t) throw new Error(`weight ${tensorName(path, spec.name)} is not in ${file}`);
      return readTensor(header, t);
    },
  };
}

const DTYPE_NAMES: Readonly<Record<string, string>> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16', F64: 'float64', I64: 'int64', I32: 'int32', I16: 'int16', I8: 'int8', U8: 'uint8', BOOL: 'bool' };

/**
 * A safetensors file's tensors under alexnetc's names, for matching by name
 * and shape (fine-tuning: `alexnetc train --init FILE`): a PyTorch
 * state_dict key of one of the network's weights (`stage2.conv1.weight`)
 * reads as its alexnetc name, and PyTorch's `num_batches_tracked` is left out.
 */
export function safetensorsTensors(file: string, network: Network): import('./match.js').NamedTensors {
  const header = readSafetensorsHeader(file);
  const aliases = new Map<string, string>();
  for (const n of layers(network.body)) for (const w of n.weights) aliases.set(stateDictKey(n.path, w.name), tensorName(n.path, w.name));
  // a network laid out as a torchvision model also reads torchvision's state_dict keys
  for (const [name, key] of torchvisionNames(network) ?? []) if (!aliases.has(key)) aliases.set(key, name);
  const byName = new Map<string, TensorEntry>();
  for (const t of header.tensors) {
    if (t.name.endsWith('.num_batches_tracked')) continue;
    const name = aliases.get(t.name) ?? t.name;
    if (!byName.has(name)) byName.set(name, t);
  }
  return {
    where: file,
    tensors: [...byName].map(([name, t]) => ({ name, shape: [...t.shape], dtype: DTYPE_NAMES[t.dtype] ?? t.dtype })),
    read(name) {
      const t = byName.get(name);
      if (!t) throw new SafetensorsError(`${file} has no tensor ${name}`);
      return readTensor(header, t);
    },
  };
}
