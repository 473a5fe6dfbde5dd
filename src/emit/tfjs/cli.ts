// What `alexnetc compile FILE --target tfjs -o DIR [--weights DIR] [--backend B]`
// does, as one call for the CLI: load tfjs, build, save atomically.
import type { Network } from '../../check/ir.js';
import type { WeightSource } from '../onnx/index.js';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadTf, type BackendChoice } from './backend.js';
import { toTfjs } from './build.js';
import { saveTfjs, WEIGHTS_BIN } from './io.js';

export interface TfjsDirResult {
  /** the tfjs package used, for the CLI to print */
  package: string;
  /** tf.getBackend(): tensorflow or cpu */
  backend: string;
  /** size of weights.bin */
  bytes: number;
}

/** Build the network's tfjs model (seeded, or with `weights`) and save it to `dir` atomically. */
export async function writeTfjsDir(
  network: Network,
  dir: string,
  opts: { seed?: number; weights?: WeightSource; backend?: BackendChoice } = {},
): Promise<TfjsDirResult> {
  const loaded = await loadTf({ backend: opts.backend });
  const model = toTfjs(loaded.tf, network, { seed: opts.seed, weights: opts.weights });
  try {
    await saveTfjs(model, dir);
  } finally {
    model.dispose();
  }
  return { package: loaded.name, backend: loaded.backend, bytes: fs.statSync(path.join(dir, WEIGHTS_BIN)).size };
}
