// Node's threads for the kernels' pool: worker_threads evaluating the loop's
// source, unref'd so an idle pool never keeps a process alive.
import { Worker } from 'node:worker_threads';
import { defaultThreads } from '../../util/threads.js';
import type { Thread, ThreadData } from './threads.js';

export type { ThreadData } from './threads.js';

export function spawnThread(loop: string, data: ThreadData): Thread {
  const w = new Worker(`(${loop})(require('node:worker_threads').workerData);`, { eval: true, workerData: data });
  w.unref();
  return w;
}

/** ALEXNETC_THREADS, else the cores (src/util/threads.ts). */
export function platformThreads(check: (n: number, what: string) => number): number {
  return check(defaultThreads(), 'the default thread count');
}
