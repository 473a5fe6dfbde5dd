// The TensorFlow.js back end as the CLI uses it. tfjs is imported only here,
// on demand, so `check`, `summary` and the language server stay light.
import { backendAnnouncement } from '../emit/tfjs/backend.js';
import type { BackendChoice, LoadedTf } from '../emit/tfjs/index.js';
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
  process.stderr.write(backendAnnouncement(loaded) + '\n');
}
