// What a user of an exported model needs besides the weights: which network
// it is and where it came from, the input layout, and — for trained models —
// the class names and the preprocessing the network was trained with. ONNX
// files carry it in metadata_props (Netron shows them; onnxruntime returns
// them as customMetadataMap), tfjs models in model.json's userDefinedMetadata.
import type { Network } from '../check/ir.js';

/** x' = (x · scale − mean[c]) / std[c], per channel (scale 1/255 for 8-bit images). */
export interface Preprocessing {
  mean: number[];
  std: number[];
  scale: number;
}

export interface ModelInfo {
  network: Network;
  /** the .net file it was compiled from */
  source?: string;
  /** class names, in output order */
  classes?: string[];
  normalization?: Preprocessing;
}

export const PREPROCESSING_FORMULA = "x' = (x * scale - mean[c]) / std[c]";

/**
 * metadata_props keys (docs/cli.md "ONNX output"): `alexnetc.network`,
 * `alexnetc.source`, `alexnetc.input_layout` (NCHW), `alexnetc.input_shape`
 * (per example, JSON), and when known `alexnetc.classes` (JSON list),
 * `alexnetc.normalization` (JSON {mean, std, scale}) with
 * `alexnetc.preprocessing` (the formula in words).
 */
export function onnxMetadata(info: ModelInfo): Record<string, string> {
  const m: Record<string, string> = {
    'alexnetc.network': info.network.name,
    'alexnetc.input_layout': info.network.input.length === 3 ? 'NCHW' : info.network.input.length === 2 ? 'NTD' : 'NC',
    'alexnetc.input_shape': JSON.stringify(info.network.input),
  };
  if (info.source !== undefined) m['alexnetc.source'] = info.source;
  if (info.classes) m['alexnetc.classes'] = JSON.stringify(info.classes);
  if (info.normalization) {
    const { mean, std, scale } = info.normalization;
    m['alexnetc.normalization'] = JSON.stringify({ mean, std, scale });
    m['alexnetc.preprocessing'] = PREPROCESSING_FORMULA;
  }
  return m;
}

/** model.json's userDefinedMetadata: `{ alexnetc: { network, source, params, layout, inputShape, classes?, normalization? } }`. */
export function tfjsMetadata(info: ModelInfo): { alexnetc: Record<string, unknown> } {
  return {
    alexnetc: {
      network: info.network.name,
      ...(info.source !== undefined ? { source: info.source } : {}),
      params: info.network.params,
      layout: info.network.input.length === 3 ? 'NHWC' : info.network.input.length === 2 ? 'NTD' : 'NC',
      inputShape: info.network.input,
      ...(info.classes ? { classes: info.classes } : {}),
      ...(info.normalization ? { normalization: { ...info.normalization, formula: PREPROCESSING_FORMULA } } : {}),
    },
  };
}
