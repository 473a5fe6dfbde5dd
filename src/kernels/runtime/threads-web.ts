// A browser's threads for the kernels' pool (the playground page; its bundler
// puts this file where pool.ts imports threads-node.ts). A thread is a Web
// Worker made from a blob: URL of the loop's source (no request leaves the
// page), handed the module and the shared memory by postMessage — which needs
// the page to be cross-origin isolated. Without isolation there is no
// SharedArrayBuffer to share: one thread, the calling one.
//
// A worker starts only when the thread that made it returns to its event
// loop; the pool never waits for a worker (only for items a worker claimed),
// so a late start costs speed, never a deadlock. threadsReady() lets the
// training worker give them that moment before its first step.
import type { Thread, ThreadData } from './threads.js';

export type { ThreadData } from './threads.js';

const pending = new Set<Promise<void>>();

export function spawnThread(loop: string, data: ThreadData): Thread {
  const source = `self.onmessage = (e) => { self.onmessage = null; self.postMessage('ready'); (${loop})(e.data); };`;
  const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
  const w = new Worker(url, { name: `alexnetc kernels ${data.tid}` });
  const ready = new Promise<void>((resolve) => {
    w.addEventListener('message', () => resolve(), { once: true });
    w.addEventListener('error', () => resolve(), { once: true });
  });
  pending.add(ready);
  void ready.then(() => {
    pending.delete(ready);
    URL.revokeObjectURL(url);
  });
  w.postMessage(data);
  return w;
}

/** Resolves when every thread started so far runs its loop. */
export async function threadsReady(): Promise<void> {
  await Promise.all([...pending]);
}

/** The cores where the page is cross-origin isolated (SharedArrayBuffer), else 1. */
export function platformThreads(check: (n: number, what: string) => number): number {
  const g = globalThis as { crossOriginIsolated?: boolean; navigator?: { hardwareConcurrency?: number } };
  if (g.crossOriginIsolated !== true || typeof SharedArrayBuffer !== 'function') return 1;
  return check(Math.max(1, Math.min(16, g.navigator?.hardwareConcurrency ?? 1)), 'navigator.hardwareConcurrency');
}
