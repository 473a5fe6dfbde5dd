// What an ONNX file says about itself, read without onnxruntime (which does
// not hand out metadata_props): the top-level metadata_props, and the op of
// the node that produces the graph's output (a final Softmax means the outputs
// are probabilities). Read with protobufjs's Reader, field numbers from
// onnx/onnx.proto; everything else — the weights above all — is skipped.
import protobuf from 'protobufjs/minimal.js';

export interface OnnxFileInfo {
  metadata: Record<string, string>;
  /** the graph's first output, and the op type of the node that produces it */
  output?: { name: string; op?: string };
}

const WIRE_LEN = 2;
// onnx.proto field numbers
const MODEL = { graph: 7, metadataProps: 14 } as const;
const GRAPH = { node: 1, output: 12 } as const;
const NODE = { output: 2, opType: 4 } as const;
const ENTRY = { key: 1, value: 2 } as const;
const VALUE_INFO = { name: 1 } as const;

type Reader = protobuf.Reader;

/** Calls `field(number, reader)` for every length-delimited field it wants (returns true when consumed); skips the rest. */
function fields(bytes: Uint8Array, take: (field: number, r: Reader) => boolean): void {
  const r = protobuf.Reader.create(bytes);
  while (r.pos < r.len) {
    const tag = r.uint32();
    const field = tag >>> 3, wire = tag & 7;
    if (field === 0) throw new Error('field number 0');
    if (wire === WIRE_LEN && take(field, r)) continue;
    r.skipType(wire);
  }
}

/** Parse what predict needs of an ONNX ModelProto; throws (with protobuf's reason) when the bytes are not one. */
export function readOnnxInfo(bytes: Uint8Array): OnnxFileInfo & { hasGraph: boolean } {
  const metadata: Record<string, string> = {};
  let graph: Uint8Array | undefined;
  fields(bytes, (f, r) => {
    if (f === MODEL.metadataProps) {
      let key = '', value = '';
      fields(r.bytes(), (g, e) => {
        if (g === ENTRY.key) key = e.string();
        else if (g === ENTRY.value) value = e.string();
        else return false;
        return true;
      });
      metadata[key] = value;
      return true;
    }
    if (f === MODEL.graph) {
      graph = r.bytes();
      return true;
    }
    return false;
  });
  if (!graph) return { metadata, hasGraph: false };
  const producers = new Map<string, string>();
  const outputs: string[] = [];
  fields(graph, (f, r) => {
    if (f === GRAPH.node) {
      let op = '';
      const outs: string[] = [];
      fields(r.bytes(), (g, n) => {
        if (g === NODE.output) outs.push(n.string());
        else if (g === NODE.opType) op = n.string();
        else return false;
        return true;
      });
      for (const o of outs) producers.set(o, op);
      return true;
    }
    if (f === GRAPH.output) {
      fields(r.bytes(), (g, v) => {
        if (g !== VALUE_INFO.name) return false;
        outputs.push(v.string());
        return true;
      });
      return true;
    }
    return false;
  });
  const name = outputs[0];
  return { metadata, hasGraph: true, ...(name !== undefined ? { output: { name, op: producers.get(name) } } : {}) };
}
