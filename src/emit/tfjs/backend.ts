// Which tfjs to use: tfjs-node-gpu (CUDA), else tfjs-node (native CPU), else
// pure @tensorflow/tfjs on its JS cpu backend. Exactly one of them is ever
// imported: the native packages re-export @tensorflow/tfjs, and a second copy
// of tfjs-core would split the registry that custom layers and kernels live in.
import { registerCustomLayers } from './custom.js';
import type { Tf } from './tf.js';

export type BackendChoice = 'gpu' | 'node' | 'cpu' | 'auto';

export interface LoadedTf {
  tf: Tf;
  /** the package that was loaded, for the CLI to print */
  name: '@tensorflow/tfjs-node-gpu' | '@tensorflow/tfjs-node' | '@tensorflow/tfjs';
  /** tf.getBackend() after loading: tensorflow, or cpu */
  backend: string;
  /** on the pure-JS cpu backend: the fast kernels now installed (empty where wasm SIMD is missing, or when not asked for) */
  fastKernels: string[];
}

export interface LoadOptions {
  backend?: BackendChoice;
  /**
   * Install alexnetc's fast kernels (WebAssembly SIMD on worker threads, src/kernels)
   * when the backend is pure tfjs's cpu one (default true). Native backends are never touched.
   */
  fastKernels?: boolean;
  /**
   * Threads for the fast kernels, the calling one included (default: the
   * ALEXNETC_THREADS variable, else the number of cores). Results do not depend on it.
   */
  threads?: number;
}

export class BackendUnavailableError extends Error {
  constructor(message: string, readonly choice: BackendChoice, override readonly cause?: unknown) {
    super(message);
    this.name = 'BackendUnavailableError';
  }
}

const PACKAGES = {
  gpu: '@tensorflow/tfjs-node-gpu',
  node: '@tensorflow/tfjs-node',
  cpu: '@tensorflow/tfjs',
} as const;

const HINTS = {
  gpu: 'npm install @tensorflow/tfjs-node-gpu (needs CUDA and cuDNN; see https://github.com/tensorflow/tfjs/tree/master/tfjs-node)',
  node: 'npm install @tensorflow/tfjs-node',
  cpu: 'npm install @tensorflow/tfjs',
} as const;

/** How a module namespace of a CommonJS package looks after `import()`. */
function namespaceOf(mod: unknown): Tf {
  const m = mod as { default?: unknown; layers?: unknown };
  return (m.layers ? m : (m.default ?? m)) as Tf;
}

let bundled: Tf | undefined;

/**
 * Use this namespace as @tensorflow/tfjs: for a program that bundles tfjs
 * itself (the playground page), where a package cannot be imported by name.
 */
export function provideTf(tf: Tf): void {
  bundled = tf;
}

// the module specifier is a variable so TypeScript does not insist the optional packages be installed
const load = (specifier: string): Promise<unknown> => (bundled && specifier === PACKAGES.cpu ? Promise.resolve(bundled) : import(specifier));

async function tryLoad(choice: Exclude<BackendChoice, 'auto'>, fast: boolean, threads?: number): Promise<LoadedTf> {
  const name = PACKAGES[choice];
  const tf = namespaceOf(await load(name));
  if (choice === 'cpu') await tf.setBackend('cpu');
  await tf.ready();
  // the cpu backend prints a multi-line "install tfjs-node" banner on first use; callers say which backend runs instead
  if (choice === 'cpu') (tf.backend() as { firstUse?: boolean }).firstUse = false;
  registerCustomLayers(tf);
  let fastKernels: string[] = [];
  if (fast && tf.getBackend() === 'cpu') {
    // loaded only here: the compiler and the language server never pull in the kernels
    const kernels = await import('../../kernels/index.js');
    if (threads !== undefined) kernels.setKernelThreads(threads);
    fastKernels = kernels.installFastKernels(tf as unknown as Parameters<typeof kernels.installFastKernels>[0]);
  }
  return { tf, name, backend: tf.getBackend(), fastKernels };
}

/**
 * Load tfjs. `auto` (the default) takes the first of tfjs-node-gpu,
 * tfjs-node, tfjs that loads; a forced choice that cannot be loaded throws
 * BackendUnavailableError with the install hint. Custom layers are
 * registered, and on pure tfjs the fast cpu kernels are installed.
 */
export async function loadTf(opts: LoadOptions = {}): Promise<LoadedTf> {
  const choice = opts.backend ?? 'auto';
  const fast = opts.fastKernels ?? true;
  if (opts.threads !== undefined && !(Number.isInteger(opts.threads) && opts.threads >= 1 && opts.threads <= 1024)) {
    throw new RangeError(`loadTf({ threads: ${opts.threads} }): the kernel thread count must be a whole number from 1 to 1024`);
  }
  if (choice !== 'auto') {
    try {
      return await tryLoad(choice, fast, opts.threads);
    } catch (e) {
      const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
      throw new BackendUnavailableError(
        `backend \`${choice}\` needs ${PACKAGES[choice]}, which could not be loaded (${why}); install it with: ${HINTS[choice]}`,
        choice,
        e,
      );
    }
  }
  const errors: string[] = [];
  for (const c of ['gpu', 'node', 'cpu'] as const) {
    try {
      return await tryLoad(c, fast, opts.threads);
    } catch (e) {
      errors.push(`${PACKAGES[c]}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    }
  }
  throw new BackendUnavailableError(`no tfjs could be loaded:\n  ${errors.join('\n  ')}\ninstall one with: ${HINTS.cpu}`, 'auto');
}

/** The line that says which tfjs runs (loadTf silences tfjs's own banner on pure JS). */
export function backendAnnouncement(loaded: { name: string; backend: string }): string {
  const pure = loaded.name === '@tensorflow/tfjs';
  return `tfjs backend: ${loaded.name} (${loaded.backend})${pure ? ' — npm install @tensorflow/tfjs-node for native speed' : ''}`;
}
