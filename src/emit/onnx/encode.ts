// The ONNX file's bytes, with no I/O: the model encoded with its weights still
// lazy, then streamed as chunks, each lazy weight produced just before it is
// handed out. write.ts writes the chunks to a file (atomically); the
// playground page gathers them into a download. Both get the same bytes.
import type { Network } from '../../check/ir.js';
import { lowerNetwork, seededWeights, type WeightSource } from './lower.js';
import { produceChecked, toBytes, type Encoded } from './protobuf.js';
import { model, type GraphSpec } from './schema.js';

export interface OnnxOptions {
  /** seed for the default initialisation (default 0); ignored when `weights` is given */
  seed?: number;
  /** trained weights; default: seeded He-uniform initialisation */
  weights?: WeightSource;
  /** graph/model doc string, e.g. the source file name */
  docString?: string;
  /**
   * extra model metadata_props (what a user of the file needs to feed it:
   * normalisation, class names, input layout, the source network)
   */
  metadata?: Record<string, string>;
  /**
   * rewrite the lowered graph before it is encoded (int8 quantization,
   * calibration outputs: see quantize.ts); weights stay lazy through it
   */
  transform?: (graph: GraphSpec) => GraphSpec;
}

/** protobuf refuses messages of 2 GiB or more (its sizes are signed 32-bit) */
export const PROTOBUF_LIMIT = 2 ** 31 - 1;

/** Encode the model with its weights still lazy; throws if it would exceed protobuf's limit. */
export function encodeModel(network: Network, opts: OnnxOptions = {}): Encoded {
  const weights = opts.weights ?? seededWeights(opts.seed ?? 0);
  const lowered = lowerNetwork(network, weights);
  const graph = opts.transform ? opts.transform(lowered) : lowered;
  if (opts.docString) graph.docString = opts.docString;
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(network.params)) metadata[`param.${k}`] = JSON.stringify(v);
  Object.assign(metadata, opts.metadata);
  const encoded = model({ producerName: 'alexnetc', docString: opts.docString, metadata, graph });
  if (encoded.size > PROTOBUF_LIMIT) {
    const gib = (encoded.size / 2 ** 30).toFixed(2);
    throw new RangeError(`${network.name}: the ONNX model would be ${gib} GiB, over protobuf's 2 GiB limit for one file`);
  }
  return encoded;
}

/** The whole ONNX file in memory: for small models and tests. */
export function toOnnxBytes(network: Network, opts: OnnxOptions = {}): Uint8Array {
  return toBytes(encodeModel(network, opts));
}

/** Small encoded parts are gathered into one buffer so the header is not thousands of tiny writes. */
const COALESCE = 1 << 20;

/**
 * The file's bytes in order, as chunks to write one after the other: small
 * parts coalesced, each lazy weight produced when reached and dropped once
 * written. `sink` receives every chunk before the generator goes on (a chunk
 * may be a view of a buffer reused for the next one: copy it to keep it); the
 * generator yields after each weight so a caller can let other work run.
 */
export function* streamParts(e: Encoded, sink: { write(chunk: Uint8Array): unknown }): Generator<void> {
  const pending = new Uint8Array(COALESCE);
  let used = 0;
  const flush = (): void => {
    if (used > 0) sink.write(pending.subarray(0, used));
    used = 0;
  };
  for (const p of e.parts) {
    if (p instanceof Uint8Array && p.length <= COALESCE) {
      if (used + p.length > COALESCE) flush();
      pending.set(p, used);
      used += p.length;
    } else {
      flush();
      // a lazy part is produced here, written, and dropped before the next is made
      sink.write(p instanceof Uint8Array ? p : produceChecked(p));
      yield;
    }
  }
  flush();
}
