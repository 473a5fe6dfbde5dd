// What the kernels' pool (pool.ts) needs from a platform to run threads: what
// a thread is handed, how one is started, and how many to use by default.
// threads-node.ts is Node's (worker_threads); threads-web.ts a browser's (Web
// Workers, for the playground page, whose bundler swaps it in).

/** Everything a kernel thread needs: the module, the shared memory, the job words. */
export interface ThreadData {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  control: SharedArrayBuffer;
  claim: SharedArrayBuffer;
  generation: number;
  tid: number;
  names: string[];
  spin: number;
}

/** A started thread: the pool only ever stops it. */
export interface Thread {
  terminate(): unknown;
}

/** Start a thread running `loop` (the source of a function of one argument) on `data`. */
export type SpawnThread = (loop: string, data: ThreadData) => Thread;
