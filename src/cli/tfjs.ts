// The TensorFlow.js back end as the CLI uses it. tfjs is imported only here,
// on demand, so `check`, `summary` and the language server stay light.
import type { BackendChoice, LoadedTf } from '../emit/tfjs/index.js';
import type { TargetJob } from './commands/compile.js';
import { UsageError } from './frame.js';

/** loadTf, with a missing forced backend as a one-line error with the install hint (exit 1). */
export async function loadTfForCli(backend: string): Promise<LoadedTf> {
  const { loadTf, BackendUnavailableError } = await import('../emit/tfjs/index.js');
  try {
    return await loadTf({ backend: backend as BackendChoice });
  } catch (e) {
    if (e instanceof BackendUnavailableError) throw new UsageError(e.message, 1);
    throw e;
  }
}

/** Say which backend runs (loadTf silences tfjs's own banner on pure JS). */
export function announceBackend(loaded: { name: string; backend: string }): void {
  const pure = loaded.name === '@tensorflow/tfjs';
  process.stderr.write(`tfjs backend: ${loaded.name} (${loaded.backend})${pure ? ' — npm install @tensorflow/tfjs-node for native speed' : ''}\n`);
}

/** `compile --target tfjs`: the model directory (model.json + weights.bin), with the model's metadata. */
export async function writeTfjsModelDir(job: TargetJob): Promise<{ bytes: number; what: string }> {
  const loaded = await loadTfForCli(job.backend);
  announceBackend(loaded);
  const [{ toTfjs, saveTfjs }, { tfjsMetadata }, fs, path] = await Promise.all([
    import('../emit/tfjs/index.js'),
    import('../emit/metadata.js'),
    import('node:fs'),
    import('node:path'),
  ]);
  const model = toTfjs(loaded.tf, job.network, { seed: job.seed, weights: job.weights });
  try {
    model.setUserDefinedMetadata(tfjsMetadata(job.info));
    await saveTfjs(model, job.out);
  } finally {
    model.dispose();
  }
  const bytes = ['model.json', 'weights.bin'].reduce((a, f) => a + fs.statSync(path.join(job.out, f)).size, 0);
  return { bytes, what: "tfjs layers model; load with `import 'alexnetc/tfjs'`" };
}
