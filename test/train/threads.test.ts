// --threads travels as an option: the engine setup's thread count reaches the
// tfjs engine's fast kernels (loadTf({ threads })) without the environment
// being touched, and ALEXNETC_THREADS is the default, read by one function
// (src/util/threads.ts) that refuses a bad value by name.
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { kernelThreads } from '../../src/kernels/index.js';
import { loadBackend } from '../../src/train/engines/tfjs/engine.js';
import { defaultThreads, threadsFromEnv } from '../../src/util/threads.js';

describe('threads', () => {
  it('the tfjs engine gives the kernels the thread count it was set up with; the environment stays as it was', async () => {
    const before = process.env.ALEXNETC_THREADS;
    await loadBackend('cpu', 3);
    expect(kernelThreads()).toBe(3);
    await loadBackend('cpu', 1);
    expect(kernelThreads()).toBe(1);
    expect(process.env.ALEXNETC_THREADS).toBe(before);
  });

  it('ALEXNETC_THREADS is the default, else the cores; a bad value is a usage error naming it', () => {
    expect(threadsFromEnv({})).toBeUndefined();
    expect(threadsFromEnv({ ALEXNETC_THREADS: ' 4 ' })).toBe(4);
    expect(defaultThreads({})).toBe(availableParallelism());
    expect(defaultThreads({ ALEXNETC_THREADS: '2' })).toBe(2);
    for (const bad of ['0', '2.5', 'many', '2000']) expect(() => threadsFromEnv({ ALEXNETC_THREADS: bad })).toThrow(`ALEXNETC_THREADS=${bad}: the thread count must be a whole number from 1 to 1024`);
  });
});
