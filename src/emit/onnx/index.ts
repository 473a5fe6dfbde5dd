// The ONNX back end: a checked Network → an ONNX ModelProto (IR 8, opset 17).
export { writeOnnx, writeOnnxAsync, toOnnxBytes, encodeModel, PROTOBUF_LIMIT, type OnnxOptions } from './write.js';
export { seededWeights, weightKey, type WeightSource } from './lower.js';
export { quantizeGraph, calibrationTensors, exposeValues, NothingToQuantizeError, QUANTIZE_MODES, type QuantizeMode, type Range } from './quantize.js';
export type { GraphSpec } from './schema.js';
