// `compile --quantize`: what the ONNX target needs to write an int8 model —
// the mode, and for int8-static the activation ranges calibrated on data.
// The graph rewrite itself is the ONNX back end's (emit/onnx/quantize.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { layers, type Network } from '../check/ir.js';
import type { Preprocessing } from '../emit/metadata.js';
import type { QuantizeMode, Range, WeightSource } from '../emit/onnx/index.js';
import { tfjsModelDir } from '../weights/index.js';
import { UserError } from '../util/errors.js';
import { calibrate, type CalibrationMethod } from './calibrate.js';

export { calibrate, calibrationSample, percentileRange, CALIBRATION_METHODS, type CalibrationMethod, type Calibration } from './calibrate.js';
export { OnnxModel } from '../emit/onnx/session.js';
export { onnxAccuracy, onnxBatches, type OnnxEvaluation } from './evaluate.js';

export interface QuantizeRequest {
  mode: QuantizeMode;
  /** int8-static: the calibration data, how many images, which method */
  calibrate?: string;
  count?: number;
  method?: CalibrationMethod;
  /** the --weights path (a run directory or a model directory), for the normalisation its model records */
  weightsPath: string;
  /** the run's normalisation, when --weights is a run directory */
  normalization?: Preprocessing;
  say: (line: string) => void;
}

export interface PreparedQuantization {
  mode: QuantizeMode;
  ranges?: ReadonlyMap<string, Range>;
  /** what the file's metadata records about the quantization */
  about: Record<string, unknown>;
}

/** The normalisation an alexnetc tfjs model records in model.json (userDefinedMetadata.alexnetc.normalization). */
export function modelNormalization(weightsPath: string): Preprocessing | undefined {
  const dir = tfjsModelDir(weightsPath);
  if (!dir) return undefined;
  try {
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')) as { userDefinedMetadata?: { alexnetc?: { normalization?: Preprocessing } } };
    const n = json.userDefinedMetadata?.alexnetc?.normalization;
    return n && Array.isArray(n.mean) && Array.isArray(n.std) && typeof n.scale === 'number' ? { mean: n.mean, std: n.std, scale: n.scale } : undefined;
  } catch {
    return undefined;
  }
}

const WEIGHTS_ABOUT = 'int8, symmetric, per output channel (conv and dense weights); biases and batch norm float';

export async function prepareQuantization(network: Network, weights: WeightSource, r: QuantizeRequest): Promise<PreparedQuantization> {
  const quantizable = [...layers(network.body)].filter((n) => n.layer.name === 'conv' || n.layer.name === 'dense');
  if (quantizable.length === 0) throw new UserError(`${network.name} has no conv or dense layer: --quantize has nothing to quantize`, 1);
  if (r.mode === 'int8') return { mode: r.mode, about: { mode: r.mode, weights: WEIGHTS_ABOUT, activations: 'float' } };
  const normalization = r.normalization ?? modelNormalization(r.weightsPath);
  const t0 = performance.now();
  const c = await calibrate(network, weights, { data: r.calibrate!, count: r.count!, method: r.method!, normalization, say: r.say });
  r.say(
    `calibrated ${c.ranges.size} activation tensors on ${c.images} images of ${r.calibrate} (${r.method}) in ${((performance.now() - t0) / 1000).toFixed(1)}s`,
  );
  return {
    mode: r.mode,
    ranges: c.ranges,
    about: {
      mode: r.mode,
      format: 'QDQ',
      weights: 'int8, symmetric, per output channel; biases int32',
      activations: 'uint8, asymmetric, per tensor (Conv/Gemm inputs and outputs)',
      calibration: { data: path.resolve(r.calibrate!), images: c.images, method: r.method },
    },
  };
}
