// ONNX files as a weights source: `alexnetc compile FILE --weights model.onnx`
// reads the initializers named like alexnetc's weights (`stage2/conv1.weight`)
// — the files `alexnetc compile` and `alexnetc import --weights-out` write.
import type { Network } from '../check/ir.js';
import type { WeightSource } from '../emit/onnx/index.js';
import { type NamedTensors, strictWeights } from './match.js';
import { readOnnxFile, typeName, type OnnxModelFile } from './onnx-read.js';
import { WeightsError } from './index.js';

/** The initializers of a decoded ONNX model as named tensors. */
export function onnxTensors(model: OnnxModelFile, where = `the ONNX file ${model.file}`): NamedTensors {
  return {
    where,
    tensors: [...model.initializers.values()].map((t) => ({ name: t.name, shape: [...t.dims], dtype: typeName(t.dataType) })),
    read(name) {
      const t = model.initializers.get(name);
      if (!t) throw new WeightsError(`${where} has no tensor ${name}`);
      return t.floats();
    },
  };
}

/** Open an ONNX file's tensors (throws OnnxReadError, exit 1, for a file that is not readable ONNX). */
export function openOnnxTensors(file: string): NamedTensors {
  return onnxTensors(readOnnxFile(file));
}

/** The weights of `network` from an ONNX file, checked by name and shape before any value is read. */
export function readOnnxWeights(file: string, network: Network): WeightSource {
  return strictWeights(openOnnxTensors(file), network);
}
