// Node's threads for the kernels' pool: worker_threads evaluating the loop's
// source, unref'd so an idle pool never keeps a process alive.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Thread, ThreadData } from './threads.js';

export type { ThreadData } from './threads.js';

export function spawnThread(loop: string, data: ThreadData): Thread {
  const w = new Worker(`(${loop})(require('node:worker_threads').workerData);`, { eval: true, workerData: data });
  w.unref();
  return w;
}

/** ALEXNETC_THREADS, else the cores. */
export function platformThreads(check: (n: number, what: string) => number, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.ALEXNETC_THREADS;
  if (raw === undefined || raw.trim() === '') return availableParallelism();
  return check(Number(raw.trim()), `ALEXNETC_THREADS=${raw}`);
}
