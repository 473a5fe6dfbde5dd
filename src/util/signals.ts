// Ctrl-C and SIGTERM for every command. By default a signal removes the
// temporaries being written (src/util/atomic.ts) and exits 130 (SIGINT) or
// 143 (SIGTERM) at once. A long-running command (training) may instead take
// the first signal itself — finish the step, write a checkpoint, then exit.
// Then only a signal that comes after a grace period quits at once: `timeout`
// and terminals deliver one Ctrl-C to the whole process group, so the same
// interrupt can arrive twice within milliseconds, and that must not skip the
// checkpoint.
import { removeTemporaries } from './atomic.js';

export type Signal = 'SIGINT' | 'SIGTERM';

/** Exit code of a process stopped by this signal (128 + its number). */
export const SIGNAL_EXIT: Record<Signal, number> = { SIGINT: 130, SIGTERM: 143 };

/** How long after the first signal another one counts as the same interrupt. */
export const GRACE_MS = 1000;

let graceful: ((signal: Signal) => void) | undefined;
let firstAt: number | undefined;
let installed = false;
let notice: (message: string) => void = (m) => void process.stderr.write(m);

function onSignal(signal: Signal): void {
  const now = Date.now();
  if (graceful && firstAt === undefined) {
    firstAt = now;
    graceful(signal);
    return;
  }
  if (firstAt !== undefined && now - firstAt < GRACE_MS) return;
  if (firstAt !== undefined) notice(`\nsecond interrupt: quitting without a checkpoint\n`);
  removeTemporaries();
  process.exit(SIGNAL_EXIT[signal]);
}

/** Handle SIGINT and SIGTERM as above (idempotent). */
export function installSignalHandlers(): void {
  if (installed) return;
  installed = true;
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
}

/**
 * Take the first signal yourself (until the returned function is called).
 * `say` is where the "second interrupt" notice goes.
 */
export function handleInterrupt(handler: (signal: Signal) => void, say?: (message: string) => void): () => void {
  installSignalHandlers();
  graceful = handler;
  firstAt = undefined;
  if (say) notice = say;
  return () => {
    if (graceful === handler) graceful = undefined;
    firstAt = undefined;
    notice = (m) => void process.stderr.write(m);
  };
}
