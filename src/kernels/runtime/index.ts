// The kernels' runtime: the heap, the wasm module instantiated over it, and
// the worker pool; created on first use, shared by every kernel.
import { buildModule } from '../wasm/module.js';
import { Heap } from './heap.js';
import { checkThreads, defaultThreads, Pool } from './pool.js';

export interface Runtime {
  heap: Heap;
  pool: Pool;
  /** fn(...args) on this thread */
  call(name: string, args: readonly number[]): unknown;
  /** fn(...args, thread, item) for every item, over the pool */
  parallel(name: string, items: number, args: readonly number[], serial?: boolean): void;
  /** threads taking part in parallel jobs */
  readonly threads: number;
}

let current: Runtime | null | undefined;
let wanted: number | undefined;

function create(): Runtime | null {
  let heap: Heap, module: WebAssembly.Module, exports: WebAssembly.Exports, names: string[];
  try {
    heap = new Heap();
    const built = buildModule();
    names = built.names;
    module = new WebAssembly.Module(built.bytes);
    exports = new WebAssembly.Instance(module, { e: { m: heap.memory } }).exports;
  } catch {
    return null; // no wasm SIMD or no shared memory here: the stock kernels stay
  }
  const pool = new Pool(heap, module, names, exports, wanted ?? defaultThreads());
  return {
    heap,
    pool,
    call: (name, args) => pool.call(name, args),
    parallel: (name, items, args, serial) => pool.parallel(name, items, args, serial),
    get threads() {
      return pool.threads;
    },
  };
}

/** The runtime, or null where wasm SIMD with shared memory is unavailable. */
export function runtime(): Runtime | null {
  if (current === undefined) current = create();
  return current;
}

/**
 * Use n threads (the main one included) for the heavy kernels from now on.
 * The default is ALEXNETC_THREADS, else the number of cores. Results do not
 * depend on it.
 */
export function setKernelThreads(n: number): void {
  wanted = checkThreads(n, `setKernelThreads(${n})`);
  if (current) current.pool.resize(wanted);
}

/** The number of threads the heavy kernels use (or will use once started). */
export function kernelThreads(): number {
  if (current) return current.threads;
  return wanted ?? defaultThreads();
}
