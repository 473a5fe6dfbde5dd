// The TensorFlow.js back end as the CLI uses it. tfjs is imported only here,
// on demand, so `check`, `summary` and the language server stay light.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Network } from '../check/ir.js';
import type { WeightSource } from '../emit/onnx/index.js';
import { UsageError } from './io.js';

const BACKENDS = ['auto', 'gpu', 'node', 'cpu'] as const;
type Backend = (typeof BACKENDS)[number];

function backendChoice(b: string): Backend {
  if (!(BACKENDS as readonly string[]).includes(b)) throw new UsageError(`--backend must be one of ${BACKENDS.join(', ')}, got '${b}'`);
  return b as Backend;
}

/** `--weights` takes a tfjs model directory, or a training run directory holding one in `model/`. */
export function modelDir(dir: string): string {
  if (existsSync(path.join(dir, 'model.json'))) return dir;
  if (existsSync(path.join(dir, 'model', 'model.json'))) return path.join(dir, 'model');
  throw new UsageError(`--weights ${dir}: no model.json there (nor in ${path.join(dir, 'model')}); expected a tfjs model directory or an \`alexnetc train\` run directory`, 1);
}

export async function tfjsWeightSource(dir: string, net: Network): Promise<WeightSource> {
  const { readTfjsWeights, WeightsMismatchError } = await import('../emit/tfjs/index.js');
  try {
    return readTfjsWeights(modelDir(dir), net);
  } catch (e) {
    if (e instanceof WeightsMismatchError) throw new UsageError(`--weights ${dir}: ${e.message}`, 1);
    throw e;
  }
}

/** Say which backend runs (loadTf silences tfjs's own banner on pure JS). */
export function announceBackend(loaded: { name: string; backend: string }): void {
  const pure = loaded.name === '@tensorflow/tfjs';
  process.stderr.write(`tfjs backend: ${loaded.name} (${loaded.backend})${pure ? ' — npm install @tensorflow/tfjs-node for native speed' : ''}\n`);
}

export async function compileToTfjsDir(net: Network, out: string, opts: { seed: number; weights?: string; backend: string }): Promise<number> {
  const { loadTf, toTfjs, saveTfjs, BackendUnavailableError } = await import('../emit/tfjs/index.js');
  let loaded;
  try {
    loaded = await loadTf({ backend: backendChoice(opts.backend) });
  } catch (e) {
    if (e instanceof BackendUnavailableError) throw new UsageError(e.message, 2);
    throw e;
  }
  announceBackend(loaded);
  const weights = opts.weights ? await tfjsWeightSource(opts.weights, net) : undefined;
  const model = toTfjs(loaded.tf, net, { seed: opts.seed, weights });
  try {
    await saveTfjs(model, out);
  } catch (e) {
    throw new UsageError(`cannot write ${out}: ${(e as Error).message}`, 1);
  } finally {
    model.dispose();
  }
  process.stderr.write(`wrote ${out}/ (${net.name}, tfjs layers model; load with \`import 'alexnetc/tfjs'\`)\n`);
  return 0;
}
