// What the kernels' heap holds, for benchmarks and memory reports.
import { runtime } from './index.js';

export interface KernelMemory {
  /** bytes of the shared memory (it never shrinks) */
  heapBytes: number;
  /** highest address ever handed out */
  peakBytes: number;
  /** bytes in live blocks */
  liveBytes: number;
}

export function kernelMemory(): KernelMemory | null {
  const rt = runtime();
  if (rt === null) return null;
  return { heapBytes: rt.heap.memory.buffer.byteLength, peakBytes: rt.heap.peak, liveBytes: rt.heap.liveBytes };
}
