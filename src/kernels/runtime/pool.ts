// Worker threads for the heavy kernels. Every thread instantiates the same
// wasm module over the same shared memory; a job is one exported function and
// its arguments, split into `items` that the threads claim one at a time. The
// main thread takes part and returns once every item is done, so kernels stay
// synchronous, as tfjs expects.
//
// Results never depend on the thread count: a kernel's items write disjoint
// outputs and do the same arithmetic whoever runs them, and reductions are
// split into items by the problem's size, not by the number of threads, and
// combined in item order.
//
// On a machine other processes load, a worker may sleep through a whole job.
// So nothing waits for workers, only for items: a claim is a compare-and-swap
// on one 64-bit word holding (job generation, next item), so a worker that
// wakes late with an old job's arguments finds the generation changed and
// claims nothing; the main thread, having claimed what was left itself,
// returns as soon as the last claimed item is done. Workers spin briefly for
// the next job (a training step issues them back to back), then sleep in
// Atomics.wait, so an idle process costs no CPU.
//
// Where the threads come from is the platform's (threads.ts): Node's
// worker_threads here (threads-node.ts), Web Workers in the playground page
// (threads-web.ts, swapped in by its bundler). The worker loop is one source.
import type { Heap } from './heap.js';
import { spawnThread, platformThreads, type ThreadData } from './threads-node.js';

const GEN = 0, FN = 1, NARGS = 2, ITEMS = 3, DONE = 4, QUIT = 5, ERROR = 6, ARGS = 16;
const MAX_ARGS = 48;
/** Atomics.load spins before a sleep: tens of µs, about the JS between two kernels. */
const SPIN = 5000;

// The worker: instantiate, then loop on jobs. Plain JavaScript in a string
// (no file path to resolve, in dist/ or under a test runner, or in a page);
// the platform calls it with the ThreadData.
export const WORKER_LOOP = `function alexnetcKernelThread(data) {
const { module, memory, control, claim, generation, tid, names, spin } = data;
const inst = new WebAssembly.Instance(module, { e: { m: memory } });
const fns = names.map((n) => inst.exports[n]);
const ctl = new Int32Array(control);
const next = new BigInt64Array(claim);
let seen = generation;
for (;;) {
  let spins = spin;
  while (Atomics.load(ctl, ${GEN}) === seen) {
    if (--spins <= 0) { Atomics.wait(ctl, ${GEN}, seen); spins = spin; }
  }
  seen = Atomics.load(ctl, ${GEN});
  if (Atomics.load(ctl, ${QUIT}) !== 0) break;
  const gen = BigInt(seen) << 32n;
  const fn = fns[ctl[${FN}]];
  const nargs = ctl[${NARGS}], items = ctl[${ITEMS}];
  const args = new Array(nargs + 2);
  for (let i = 0; i < nargs; i++) args[i] = ctl[${ARGS} + i];
  args[nargs] = tid;
  for (;;) {
    const cur = Atomics.load(next, 0);
    if ((cur & ~0xffffffffn) !== gen) break; // a newer job: these arguments are stale
    const item = Number(cur & 0xffffffffn);
    if (item >= items || fn === undefined) break;
    if (Atomics.compareExchange(next, 0, cur, cur + 1n) !== cur) continue;
    args[nargs + 1] = item;
    try { fn.apply(null, args); } catch (e) { Atomics.store(ctl, ${ERROR}, 1); }
    if (Atomics.add(ctl, ${DONE}, 1) + 1 === items) Atomics.notify(ctl, ${DONE});
  }
}
}`;

/** The number of threads the kernels use unless told otherwise: in Node ALEXNETC_THREADS, else the cores. */
export function defaultThreads(): number {
  return platformThreads(checkThreads);
}

export function checkThreads(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 1 || n > 1024) {
    throw new RangeError(`${what}: the kernel thread count must be a whole number from 1 to 1024`);
  }
  return n;
}

export type WasmFn = (...args: number[]) => unknown;

function shared(bytes: number): SharedArrayBuffer | ArrayBuffer {
  return typeof SharedArrayBuffer === 'function' ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
}

export class Pool {
  // shared where threads can be had (a page that is not cross-origin isolated has no SharedArrayBuffer: one thread)
  private readonly control = shared(4 * (ARGS + MAX_ARGS));
  private readonly ctl = new Int32Array(this.control);
  private readonly claim = shared(8);
  private readonly next = new BigInt64Array(this.claim);
  private workers: Array<{ terminate(): unknown }> = [];
  /** threads wanted; workers start on the first job that needs them */
  private wanted = 1;
  private readonly index = new Map<string, number>();
  private readonly fns: WasmFn[];

  constructor(
    private readonly heap: Heap,
    private readonly module: WebAssembly.Module,
    private readonly names: string[],
    exports: WebAssembly.Exports,
    threads: number,
  ) {
    names.forEach((n, i) => this.index.set(n, i));
    this.fns = names.map((n) => exports[n] as WasmFn);
    this.resize(threads);
  }

  /** Threads taking part in a job, the main one included. */
  get threads(): number {
    return this.wanted;
  }

  /** Start the worker threads now rather than on the first job (a page gives them time to start before training). */
  start(): void {
    if (this.wanted > 1 && this.workers.length !== this.wanted - 1) this.startWorkers();
  }

  resize(threads: number): void {
    this.wanted = threads;
    if (this.workers.length > threads - 1) this.stopWorkers();
  }

  private startWorkers(): void {
    while (this.workers.length < this.wanted - 1) {
      const data: ThreadData = {
        module: this.module,
        memory: this.heap.memory,
        control: this.control as SharedArrayBuffer,
        claim: this.claim as SharedArrayBuffer,
        // a worker still starting up must not miss a job published meanwhile
        generation: Atomics.load(this.ctl, GEN),
        tid: this.workers.length + 1,
        names: this.names,
        spin: SPIN,
      };
      this.workers.push(spawnThread(WORKER_LOOP, data));
    }
  }

  private stopWorkers(): void {
    Atomics.store(this.ctl, QUIT, 1);
    this.bump();
    for (const w of this.workers) void w.terminate();
    this.workers = [];
    Atomics.store(this.ctl, QUIT, 0);
  }

  /** Publish a new generation: args first, then the claim word, then the generation workers watch. */
  private bump(fn = -1, items = 0, args: readonly number[] = []): number {
    if (args.length > MAX_ARGS) throw new Error(`kernel job with ${args.length} arguments (at most ${MAX_ARGS})`);
    const c = this.ctl;
    const gen = (Atomics.load(c, GEN) + 1) | 0;
    c[FN] = fn;
    c[NARGS] = args.length;
    for (let i = 0; i < args.length; i++) c[ARGS + i] = args[i]! | 0;
    c[ITEMS] = items;
    Atomics.store(c, DONE, 0);
    Atomics.store(c, ERROR, 0);
    Atomics.store(this.next, 0, BigInt(gen) << 32n);
    Atomics.store(c, GEN, gen);
    Atomics.notify(c, GEN);
    return gen;
  }

  /** Call a kernel once on this thread: fn(...args). */
  call(name: string, args: readonly number[]): unknown {
    return this.fn(name).apply(null, args as number[]);
  }

  private fn(name: string): WasmFn {
    const i = this.index.get(name);
    if (i === undefined) throw new Error(`no wasm kernel ${name}`);
    return this.fns[i]!;
  }

  /**
   * Run fn(...args, thread, item) for item = 0 … items − 1, spread over the
   * threads; `thread` (0 … threads − 1) picks a thread's scratch space.
   * Small jobs (`serial`) run on this thread alone.
   */
  parallel(name: string, items: number, args: readonly number[], serial = false): void {
    if (items <= 0) return;
    const fn = this.fn(name);
    const a = [...args, 0, 0];
    const n = args.length;
    if (this.wanted === 1 || items === 1 || serial) {
      for (let item = 0; item < items; item++) {
        a[n + 1] = item;
        fn.apply(null, a);
      }
      return;
    }
    if (this.workers.length !== this.wanted - 1) this.startWorkers();
    const c = this.ctl;
    this.bump(this.index.get(name)!, items, args);
    let failed: unknown;
    for (;;) {
      const cur = Atomics.load(this.next, 0);
      const item = Number(cur & 0xffffffffn);
      if (item >= items) break;
      if (Atomics.compareExchange(this.next, 0, cur, cur + 1n) !== cur) continue;
      a[n + 1] = item;
      try {
        fn.apply(null, a);
      } catch (e) {
        failed ??= e;
      }
      Atomics.add(c, DONE, 1);
    }
    // every item is claimed; wait for the ones other threads are still running
    let spins = SPIN;
    for (let done = Atomics.load(c, DONE); done < items; done = Atomics.load(c, DONE)) {
      if (--spins <= 0) {
        Atomics.wait(c, DONE, done, 1000);
        spins = SPIN;
      }
    }
    if (failed !== undefined) throw failed;
    if (Atomics.load(c, ERROR) !== 0) throw new Error(`wasm kernel ${name} failed on a worker thread`);
  }

  dispose(): void {
    this.stopWorkers();
  }
}
