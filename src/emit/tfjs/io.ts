// Saving and loading the tfjs format (model.json + weights.bin) with node fs:
// pure @tensorflow/tfjs has no file:// handler. The files are exactly what
// tfjs-node's file:// handler writes and reads, so either loads the other's.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeIntoDir } from '../../util/atomic.js';
import { registerCustomLayers } from './custom.js';
import type { LayersModel, Tf } from './tf.js';

type IOHandler = import('@tensorflow/tfjs').io.IOHandler;
type ModelArtifacts = import('@tensorflow/tfjs').io.ModelArtifacts;
type ModelJSON = import('@tensorflow/tfjs').io.ModelJSON;
type WeightsManifestConfig = import('@tensorflow/tfjs').io.WeightsManifestConfig;
type WeightsManifestEntry = import('@tensorflow/tfjs').io.WeightsManifestEntry;

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';

function chunks(data: ArrayBuffer | ArrayBuffer[] | undefined): ArrayBuffer[] {
  if (data === undefined) return [];
  return Array.isArray(data) ? data : [data];
}

/** An IOHandler that writes model.json and weights.bin into `dir` (which must exist). */
export function fileSaver(dir: string): IOHandler {
  return {
    async save(artifacts: ModelArtifacts) {
      const parts = chunks(artifacts.weightData as ArrayBuffer | ArrayBuffer[] | undefined);
      const fd = fs.openSync(path.join(dir, WEIGHTS_BIN), 'w');
      let bytes = 0;
      try {
        for (const p of parts) {
          const view = new Uint8Array(p);
          let off = 0;
          while (off < view.length) off += fs.writeSync(fd, view, off, view.length - off);
          bytes += view.length;
        }
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      const json: Record<string, unknown> = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs ?? [] }],
      };
      if (artifacts.trainingConfig) json.trainingConfig = artifacts.trainingConfig;
      if (artifacts.userDefinedMetadata) json.userDefinedMetadata = artifacts.userDefinedMetadata;
      const text = JSON.stringify(json);
      fs.writeFileSync(path.join(dir, MODEL_JSON), text);
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: 'JSON',
          modelTopologyBytes: Buffer.byteLength(JSON.stringify(artifacts.modelTopology ?? null)),
          weightSpecsBytes: Buffer.byteLength(JSON.stringify(artifacts.weightSpecs ?? [])),
          weightDataBytes: bytes,
        },
      };
    },
  };
}

/** Read and parse `dir/model.json`; throws with the file name on failure. */
export function readModelJson(dir: string): ModelJSON {
  const file = path.join(dir, MODEL_JSON);
  const text = fs.readFileSync(file, 'utf8');
  try {
    return JSON.parse(text) as ModelJSON;
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
}

/** The files of one manifest group, resolved against the model directory. */
export function groupFiles(dir: string, group: WeightsManifestConfig[number]): string[] {
  return group.paths.map((p) => path.resolve(dir, p));
}

/** An IOHandler that loads `dir/model.json` and its weight files. */
export function fileLoader(dir: string): IOHandler {
  return {
    async load() {
      const json = readModelJson(dir);
      const specs: WeightsManifestEntry[] = [];
      const buffers: Buffer[] = [];
      for (const group of json.weightsManifest ?? []) {
        specs.push(...group.weights);
        for (const f of groupFiles(dir, group)) buffers.push(fs.readFileSync(f));
      }
      const all = Buffer.concat(buffers);
      const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
      const artifacts: ModelArtifacts = {
        modelTopology: json.modelTopology,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        weightSpecs: specs,
        weightData,
      };
      if (json.trainingConfig) artifacts.trainingConfig = json.trainingConfig;
      if (json.userDefinedMetadata) artifacts.userDefinedMetadata = json.userDefinedMetadata;
      return artifacts;
    },
  };
}

/**
 * Save a model as `dir/model.json` + `dir/weights.bin`. Both are written
 * into a temporary sibling directory first and renamed into `dir` only when
 * complete (weights.bin, then model.json), so a failure leaves no
 * half-written model, and nothing else in `dir` is touched.
 */
export async function saveTfjs(model: LayersModel, dir: string): Promise<void> {
  await writeIntoDir(dir, async (temp) => void (await model.save(fileSaver(temp))), [WEIGHTS_BIN, MODEL_JSON]);
}

/** Load a model saved by saveTfjs (or by tfjs-node's file:// handler), with alexnetc's custom layers registered. */
export async function loadTfjs(tf: Tf, dir: string): Promise<LayersModel> {
  registerCustomLayers(tf);
  return tf.loadLayersModel(fileLoader(dir));
}
