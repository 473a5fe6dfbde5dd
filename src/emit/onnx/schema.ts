// Builders for the ONNX messages we emit, with field numbers from onnx.proto
// (onnx/onnx, onnx/onnx.proto). Only the fields alexnetc uses are covered.
import type { OnnxAttr } from '../../layers/types.js';
import { encode, type Encoded, type LazyBytes } from './protobuf.js';

export const IR_VERSION = 8;
export const OPSET = 17;

/** TensorProto.DataType (the int8 family carries quantized models: see quantize.ts) */
export const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7 } as const;
export type DataType = (typeof DataType)[keyof typeof DataType];

/** AttributeProto.AttributeType */
const AttrType = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

/** A dimension: a fixed size or a symbolic name (dim_param), e.g. the batch `N`. */
export type Dim = number | string;

export interface NodeSpec {
  name: string;
  op: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, OnnxAttr>;
}

export interface ValueSpec {
  name: string;
  elemType: DataType;
  dims: Dim[];
}

export interface TensorSpec {
  name: string;
  dataType: DataType;
  dims: number[];
  /** little-endian raw_data; lazy so that large weights are generated while writing */
  data: Uint8Array | LazyBytes;
}

export function attribute(name: string, a: OnnxAttr): Encoded {
  return encode((w) => {
    w.string(1, name);
    if ('f' in a) w.int(20, AttrType.FLOAT).float(2, a.f);
    else if ('i' in a) w.int(20, AttrType.INT).int(3, a.i);
    else if ('s' in a) w.int(20, AttrType.STRING).string(4, a.s);
    else if ('floats' in a) {
      w.int(20, AttrType.FLOATS);
      // proto2 `repeated float` without [packed]: one field per element, as onnx's own helper writes it
      for (const f of a.floats) w.float(7, f);
    } else {
      w.int(20, AttrType.INTS);
      for (const i of a.ints) w.int(8, i);
    }
  });
}

export function node(n: NodeSpec): Encoded {
  return encode((w) => {
    for (const i of n.inputs) w.string(1, i);
    for (const o of n.outputs) w.string(2, o);
    w.string(3, n.name);
    w.string(4, n.op);
    for (const [k, v] of Object.entries(n.attrs)) w.message(5, attribute(k, v));
  });
}

export function valueInfo(v: ValueSpec): Encoded {
  const shape = encode((w) => {
    for (const d of v.dims) w.message(1, encode((dw) => (typeof d === 'number' ? dw.int(1, d) : dw.string(2, d))));
  });
  const tensorType = encode((w) => w.int(1, v.elemType).message(2, shape));
  return encode((w) => w.string(1, v.name).message(2, encode((tw) => tw.message(1, tensorType))));
}

export function tensor(t: TensorSpec): Encoded {
  return encode((w) => {
    for (const d of t.dims) w.int(1, d);
    w.int(2, t.dataType);
    w.string(8, t.name);
    w.bytes(9, t.data);
  });
}

export interface GraphSpec {
  name: string;
  docString?: string;
  nodes: NodeSpec[];
  initializers: TensorSpec[];
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  valueInfo: ValueSpec[];
}

export function graph(g: GraphSpec): Encoded {
  return encode((w) => {
    for (const n of g.nodes) w.message(1, node(n));
    w.string(2, g.name);
    for (const t of g.initializers) w.message(5, tensor(t));
    if (g.docString) w.string(10, g.docString);
    for (const v of g.inputs) w.message(11, valueInfo(v));
    for (const v of g.outputs) w.message(12, valueInfo(v));
    for (const v of g.valueInfo) w.message(13, valueInfo(v));
  });
}

export interface ModelSpec {
  producerName: string;
  producerVersion?: string;
  docString?: string;
  metadata: Record<string, string>;
  graph: GraphSpec;
}

export function model(m: ModelSpec): Encoded {
  return encode((w) => {
    w.int(1, IR_VERSION);
    w.string(2, m.producerName);
    if (m.producerVersion) w.string(3, m.producerVersion);
    if (m.docString) w.string(6, m.docString);
    w.message(7, graph(m.graph));
    // the default domain "" (ai.onnx) at opset 17
    w.message(8, encode((ow) => ow.string(1, '').int(2, OPSET)));
    for (const [k, v] of Object.entries(m.metadata)) w.message(14, encode((kw) => kw.string(1, k).string(2, v)));
  });
}
