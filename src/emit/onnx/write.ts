// Serialise a network to an ONNX file. Sizes are computed before any weight
// is generated; weights are then produced and written one tensor at a time,
// so memory stays at roughly the largest single tensor (VGG's first dense
// layer, ~400 MB) however large the model.
import type { Network } from '../../check/ir.js';
import { openAtomic, withAtomicFile, yieldToSignals } from '../../util/atomic.js';
import { encodeModel, streamParts, type OnnxOptions } from './encode.js';

export { encodeModel, toOnnxBytes, PROTOBUF_LIMIT, type OnnxOptions } from './encode.js';

/**
 * Write the network as an ONNX file, atomically: on any error (a bad weight
 * source, a full disk) no file is left behind. Returns the file's size in bytes.
 */
export function writeOnnx(network: Network, file: string, opts: OnnxOptions = {}): number {
  const encoded = encodeModel(network, opts);
  withAtomicFile(file, (sink) => {
    for (const _ of streamParts(encoded, sink));
  });
  return encoded.size;
}

/**
 * writeOnnx that lets the event loop run between weight tensors, so a signal
 * (Ctrl-C) is handled mid-write: the CLI's handler then removes the
 * temporary file and exits. Same file, same atomicity.
 */
export async function writeOnnxAsync(network: Network, file: string, opts: OnnxOptions = {}): Promise<number> {
  const encoded = encodeModel(network, opts);
  const sink = openAtomic(file);
  try {
    for (const _ of streamParts(encoded, sink)) await yieldToSignals();
  } catch (e) {
    sink.abort();
    throw e;
  }
  await yieldToSignals();
  sink.commit();
  return encoded.size;
}
