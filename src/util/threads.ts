// How many cpu threads alexnetc computes on when nothing says: the
// ALEXNETC_THREADS environment variable, else the number of cores. This is
// the one place the variable is read; an option (`--threads`, `loadTf({
// threads })`, EngineSetup.threads) is passed down as a value, never written
// into the environment.
import { availableParallelism } from 'node:os';
import { UserError } from './errors.js';

/** ALEXNETC_THREADS as a number, or undefined when it is not set; a bad value is a usage error naming it (exit 2). */
export function threadsFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env.ALEXNETC_THREADS;
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = Number(raw.trim());
  if (!Number.isInteger(n) || n < 1 || n > 1024) throw new UserError(`ALEXNETC_THREADS=${raw}: the thread count must be a whole number from 1 to 1024`, 2);
  return n;
}

/** The threads to use when no option says: ALEXNETC_THREADS, else the cores. */
export function defaultThreads(env: NodeJS.ProcessEnv = process.env): number {
  return threadsFromEnv(env) ?? availableParallelism();
}
