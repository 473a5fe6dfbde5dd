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
/** why the runtime is null: a machine without the features, or memory that could not be reserved this time */
let unavailable: { reason: string; transient: boolean } | undefined;

/**
 * Why the fast kernels are not running, or undefined when they are (or have
 * not been tried). `transient`: the machine has the features, but this
 * process could not reserve the memory (the address space a wasm memory
 * needs, about 10 GiB with V8's guard regions): another run may get the fast
 * kernels, and so different numbers.
 */
export function runtimeUnavailable(): { reason: string; transient: boolean } | undefined {
  return unavailable;
}

function create(): Runtime | null {
  let heap: Heap, module: WebAssembly.Module, exports: WebAssembly.Exports, names: string[];
  try {
    heap = new Heap();
    const built = buildModule();
    names = built.names;
    module = new WebAssembly.Module(built.bytes);
    exports = new WebAssembly.Instance(module, { e: { m: heap.memory } }).exports;
  } catch (e) {
    // no wasm SIMD or no shared memory here: the stock kernels stay. Not even the smallest heap
    // reservable is another matter: the stock kernels compute slightly different numbers, so say so
    const transient = e instanceof RangeError && typeof SharedArrayBuffer !== 'undefined';
    unavailable = transient
      ? { reason: `the fast kernels could not reserve their memory (${(e as Error).message})`, transient }
      : { reason: 'no WebAssembly SIMD with shared memory here', transient };
    if (transient) console.warn(`alexnetc: ${unavailable.reason}; tfjs's stock kernels are used, and their results differ slightly from the fast kernels'`);
    return null;
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
