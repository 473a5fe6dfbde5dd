// Reading ONNX files. Unlike the writer (src/emit/onnx, a streaming encoder
// of its own so that weights never sit in memory all at once), reading has
// no reason to be hand-written: protobufjs decodes the file against onnx's
// own schema (onnx.proto from onnx 1.12, in onnx-proto.ts). Bytes fields are
// views into the file's buffer, so a tensor is copied only when asked for.
//
// Models of 2 GiB and more keep their tensors in external data files
// (TensorProto.data_location = EXTERNAL): those are read too, one tensor at a
// time, from files beside the model.
import * as fs from 'node:fs';
import * as path from 'node:path';
import protobuf from 'protobufjs';
import { UserError } from '../util/errors.js';
import { ONNX_PROTO } from './onnx-proto.js';

/** An ONNX file alexnetc cannot read: not ONNX, truncated, or using something outside what it supports (exit 1). */
export class OnnxReadError extends UserError {
  constructor(message: string) {
    super(message, 1);
    this.name = 'OnnxReadError';
  }
}

/** TensorProto.DataType values alexnetc reads. */
export const ElemType = { FLOAT: 1, INT32: 6, INT64: 7, FLOAT16: 10, DOUBLE: 11 } as const;

const TYPE_NAMES: Record<number, string> = {
  0: 'undefined', 1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string',
  9: 'bool', 10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64', 14: 'complex64', 15: 'complex128', 16: 'bfloat16',
};
export const typeName = (t: number): string => TYPE_NAMES[t] ?? `type ${t}`;

/** One tensor of the file (an initializer, or a Constant node's value). Values are decoded on demand. */
export interface OnnxTensor {
  name: string;
  dims: number[];
  dataType: number;
  /** the values as float32 (float16/float64 converted); throws OnnxReadError for other types */
  floats(): Float32Array;
  /** the values as numbers (int32/int64); throws OnnxReadError for other types */
  ints(): number[];
}

export type OnnxAttrValue =
  | { type: 'float'; f: number }
  | { type: 'int'; i: number }
  | { type: 'string'; s: string }
  | { type: 'floats'; floats: number[] }
  | { type: 'ints'; ints: number[] }
  | { type: 'tensor'; t: OnnxTensor }
  | { type: 'other'; what: string };

export interface OnnxNode {
  /** the node's name, or `#i` (its position) when the file leaves it empty */
  name: string;
  op: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attrs: Map<string, OnnxAttrValue>;
  /** position in the graph's node list (0-based) */
  index: number;
}

/** A graph input or output: element type and dims (a number, a symbolic name, or undefined when unknown). */
export interface OnnxValueInfo {
  name: string;
  elemType: number;
  dims: (number | string | undefined)[] | undefined;
}

export interface OnnxModelFile {
  file: string;
  irVersion: number;
  /** the version of the default (ai.onnx) operator set */
  opset: number;
  producer: string;
  metadata: Record<string, string>;
  graphName: string;
  nodes: OnnxNode[];
  initializers: Map<string, OnnxTensor>;
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

/** protobuf refuses messages of 2 GiB or more; larger models must keep their weights in external files */
const PROTOBUF_LIMIT = 2 ** 31 - 1;

let modelType: protobuf.Type | undefined;

function schema(): protobuf.Type {
  modelType ??= protobuf.parse(ONNX_PROTO, { keepCase: true }).root.lookupType('onnx.ModelProto');
  return modelType;
}

/** protobufjs gives int64 fields as Long objects (or numbers): as a JS number, refusing what does not fit. */
function num(v: unknown, what: string): number {
  if (typeof v === 'number') return v;
  if (v && typeof v === 'object' && 'toNumber' in v) {
    const n = (v as { toNumber(): number }).toNumber();
    if (!Number.isSafeInteger(n)) throw new OnnxReadError(`${what}: ${String(v)} is too large`);
    return n;
  }
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
  return 0;
}

const has = (m: object, field: string): boolean => Object.prototype.hasOwnProperty.call(m, field);

/* eslint-disable @typescript-eslint/no-explicit-any -- decoded protobuf messages are untyped */

/** Read and decode an ONNX model file. Throws OnnxReadError for anything that is not a readable ONNX model. */
export function readOnnxFile(file: string): OnnxModelFile {
  let size: number;
  try {
    const st = fs.statSync(file);
    if (st.isDirectory()) throw new OnnxReadError(`${file}: is a directory, expected an ONNX file`);
    size = st.size;
  } catch (e) {
    if (e instanceof OnnxReadError) throw e;
    throw new OnnxReadError(`${file}: no such file`);
  }
  if (size > PROTOBUF_LIMIT) {
    throw new OnnxReadError(
      `${file}: ${(size / 2 ** 30).toFixed(2)} GiB is over protobuf's 2 GiB limit for one message, so this is not a valid ONNX file ` +
        '(models this large keep their weights in external data files beside a small .onnx file)',
    );
  }
  if (size === 0) throw new OnnxReadError(`${file}: empty file, not an ONNX model`);
  const bytes = fs.readFileSync(file);
  let m: any;
  try {
    m = schema().decode(bytes);
  } catch (e) {
    const why = (e as Error).message.replace(/^index out of range.*/, 'the data ends in the middle of a field');
    throw new OnnxReadError(`${file}: not an ONNX model, or truncated (protobuf: ${why})`);
  }
  const irVersion = num(m.ir_version, 'ir_version');
  if (!m.graph || irVersion <= 0) {
    throw new OnnxReadError(`${file}: not an ONNX model (no ${!m.graph ? 'graph' : 'ir_version'}; is it truncated, or another kind of file?)`);
  }
  const opsets = (m.opset_import ?? []) as any[];
  const main = opsets.find((o) => o.domain === '' || o.domain === 'ai.onnx' || o.domain === undefined);
  if (!main) {
    const doms = opsets.map((o) => o.domain).join(', ');
    throw new OnnxReadError(`${file}: the model imports no version of the standard ONNX operator set${doms ? ` (only ${doms})` : ''}`);
  }
  const dir = path.dirname(file);
  const g = m.graph;
  const initializers = new Map<string, OnnxTensor>();
  for (const t of g.initializer ?? []) initializers.set(t.name, tensor(t, dir, file));
  const nodes: OnnxNode[] = (g.node ?? []).map((n: any, index: number) => ({
    name: n.name || `#${index}`,
    op: n.op_type,
    domain: n.domain ?? '',
    inputs: [...(n.input ?? [])],
    outputs: [...(n.output ?? [])],
    attrs: new Map((n.attribute ?? []).map((a: any) => [a.name, attribute(a, dir, file)])),
    index,
  }));
  const metadata: Record<string, string> = {};
  for (const p of m.metadata_props ?? []) metadata[p.key] = p.value;
  return {
    file,
    irVersion,
    opset: num(main.version, 'opset version'),
    producer: m.producer_name ?? '',
    metadata,
    graphName: g.name ?? '',
    nodes,
    initializers,
    inputs: (g.input ?? []).map(valueInfo),
    outputs: (g.output ?? []).map(valueInfo),
  };
}

function valueInfo(v: any): OnnxValueInfo {
  const tt = v.type?.tensor_type;
  const dims = tt?.shape
    ? (tt.shape.dim ?? []).map((d: any) => (d.dim_param ? String(d.dim_param) : has(d, 'dim_value') ? num(d.dim_value, 'dim') : undefined))
    : undefined;
  return { name: v.name, elemType: tt ? num(tt.elem_type, 'elem_type') : 0, dims };
}

function attribute(a: any, dir: string, file: string): OnnxAttrValue {
  switch (a.type) {
    case 1:
      return { type: 'float', f: a.f };
    case 2:
      return { type: 'int', i: num(a.i, `attribute ${a.name}`) };
    case 3:
      return { type: 'string', s: Buffer.from(a.s ?? []).toString('utf8') };
    case 4:
      return { type: 'tensor', t: tensor(a.t, dir, file) };
    case 6:
      return { type: 'floats', floats: [...a.floats] };
    case 7:
      return { type: 'ints', ints: a.ints.map((i: unknown) => num(i, `attribute ${a.name}`)) };
    default:
      return { type: 'other', what: `attribute type ${a.type}` };
  }
}

const BYTES: Record<number, number> = { [ElemType.FLOAT]: 4, [ElemType.INT32]: 4, [ElemType.INT64]: 8, [ElemType.FLOAT16]: 2, [ElemType.DOUBLE]: 8 };

function tensor(t: any, dir: string, file: string): OnnxTensor {
  const name: string = t.name ?? '';
  const dims: number[] = (t.dims ?? []).map((d: unknown) => num(d, `tensor ${name} dims`));
  const dataType = num(t.data_type, `tensor ${name} data_type`);
  const count = dims.reduce((a, b) => a * b, 1);
  const where = `${file}: tensor ${name || '(unnamed)'} [${dims.join(', ')}]`;
  if (dims.some((d) => d < 0)) throw new OnnxReadError(`${where}: negative dimension`);

  /** the raw little-endian bytes, from raw_data or an external file; undefined when the values are in typed fields */
  const raw = (): Uint8Array | undefined => {
    if (num(t.data_location, 'data_location') === 1) return external(t, dir, where, count * (BYTES[dataType] ?? 1));
    if (t.raw_data && t.raw_data.length > 0) return t.raw_data as Uint8Array;
    return undefined;
  };
  const checkLength = (b: Uint8Array, width: number): void => {
    if (b.length !== count * width) throw new OnnxReadError(`${where}: holds ${b.length} bytes, its shape needs ${count * width} (truncated or corrupt)`);
  };
  return {
    name,
    dims,
    dataType,
    floats() {
      const b = raw();
      switch (dataType) {
        case ElemType.FLOAT: {
          if (!b) return checkCount(Float32Array.from(t.float_data ?? []), count, where);
          checkLength(b, 4);
          const out = new Float32Array(count);
          new Uint8Array(out.buffer).set(b);
          return littleEndian ? out : swap32(out);
        }
        case ElemType.DOUBLE: {
          if (!b) return checkCount(Float32Array.from(t.double_data ?? []), count, where);
          checkLength(b, 8);
          const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
          return Float32Array.from({ length: count }, (_, i) => view.getFloat64(i * 8, true));
        }
        case ElemType.FLOAT16: {
          if (b) checkLength(b, 2);
          const halves = b
            ? Array.from({ length: count }, (_, i) => b[i * 2]! | (b[i * 2 + 1]! << 8))
            : ((t.int32_data ?? []) as number[]);
          return checkCount(Float32Array.from(halves, halfToFloat), count, where);
        }
        default:
          throw new OnnxReadError(`${where}: holds ${typeName(dataType)} values, alexnetc reads float32 weights (or float16/float64, converted)`);
      }
    },
    ints() {
      const b = raw();
      if (dataType === ElemType.INT64) {
        if (!b) return checkCount((t.int64_data ?? []).map((v: unknown) => num(v, where)), count, where);
        checkLength(b, 8);
        const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
        return Array.from({ length: count }, (_, i) => {
          const v = view.getBigInt64(i * 8, true);
          if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
            // INT64_MAX/MIN mean "to the end" in Slice; keep them recognisable without losing the sign
            return v > 0n ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER;
          }
          return Number(v);
        });
      }
      if (dataType === ElemType.INT32) {
        if (!b) return checkCount([...(t.int32_data ?? [])], count, where);
        checkLength(b, 4);
        const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
        return Array.from({ length: count }, (_, i) => view.getInt32(i * 4, true));
      }
      throw new OnnxReadError(`${where}: holds ${typeName(dataType)} values where integers were expected`);
    },
  };
}

function checkCount<T extends { length: number }>(v: T, count: number, where: string): T {
  if (v.length !== count) throw new OnnxReadError(`${where}: holds ${v.length} values, its shape needs ${count} (truncated or corrupt)`);
  return v;
}

/** A tensor stored outside the model: `location` (relative to the model's directory), `offset`, `length`. */
function external(t: any, dir: string, where: string, expected: number): Uint8Array {
  const kv = new Map<string, string>(((t.external_data ?? []) as any[]).map((e) => [e.key, e.value]));
  const location = kv.get('location');
  if (!location) throw new OnnxReadError(`${where}: stored externally, but names no location`);
  // the ONNX spec: a relative path inside the model's directory; anything else could read arbitrary files
  const resolved = path.resolve(dir, location);
  if (path.isAbsolute(location) || path.relative(dir, resolved).startsWith('..')) {
    throw new OnnxReadError(`${where}: its external data location '${location}' lies outside the model's directory; refusing to read it`);
  }
  const offset = Number(kv.get('offset') ?? '0');
  const length = kv.has('length') ? Number(kv.get('length')) : expected;
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
    throw new OnnxReadError(`${where}: invalid external data offset/length (${kv.get('offset')}, ${kv.get('length')})`);
  }
  let fd: number;
  try {
    fd = fs.openSync(resolved, 'r');
  } catch {
    throw new OnnxReadError(`${where}: its external data file ${resolved} is missing`);
  }
  try {
    const size = fs.fstatSync(fd).size;
    if (offset + length > size) {
      throw new OnnxReadError(`${where}: needs bytes ${offset}–${offset + length} of ${resolved}, which holds ${size} (truncated?)`);
    }
    const out = new Uint8Array(length);
    let got = 0;
    while (got < length) {
      const n = fs.readSync(fd, out, got, length - got, offset + got);
      if (n === 0) break;
      got += n;
    }
    return out;
  } finally {
    fs.closeSync(fd);
  }
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function swap32(a: Float32Array): Float32Array {
  const v = new DataView(a.buffer);
  for (let i = 0; i < a.length; i++) v.setUint32(i * 4, v.getUint32(i * 4, true), false);
  return a;
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}
