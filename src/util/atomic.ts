// Atomic writes: a reader (or a crash) never sees a half-written file. Data
// goes to a temporary sibling — same directory, hence same file system, so
// the final rename is atomic — and is renamed over the target only once
// complete; on any failure the temporary is removed.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

function tempSibling(target: string): string {
  const dir = path.dirname(target);
  return path.join(dir, `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

// Every temporary that exists right now. A signal handler (src/util/signals.ts)
// or the process's exit removes whatever is left, so an interrupted write
// never leaves a hidden half-file behind.
const live = new Set<string>();

function track(temp: string): void {
  live.add(temp);
}

function untrack(temp: string): void {
  live.delete(temp);
}

/** Remove every temporary still being written (synchronous: safe in 'exit' and signal handlers). */
export function removeTemporaries(): void {
  for (const t of live) {
    try {
      fs.rmSync(t, { recursive: true, force: true });
    } catch {
      // best effort: the process is going away
    }
  }
  live.clear();
}

process.on('exit', removeTemporaries);

/**
 * Let the event loop deliver a pending signal (a Ctrl-C that arrived during
 * synchronous work). Signals are read in libuv's poll phase, which lies
 * between the timers and the immediates of a loop iteration: a timer alone
 * can fire before the poll, an immediate alone after it, but an immediate
 * scheduled from a timer always has a poll before it.
 */
export async function yieldToSignals(): Promise<void> {
  await new Promise((r) => setTimeout(r, 0));
  await new Promise((r) => setImmediate(r));
}

/** A file being written; invisible under its final name until commit(). */
export interface AtomicSink {
  /** the temporary path currently being written */
  readonly tempPath: string;
  /** append bytes (synchronously, so memory use stays at one chunk) */
  write(bytes: Uint8Array): void;
  /** bytes written so far */
  readonly bytesWritten: number;
  /** flush, close and rename over the target */
  commit(): void;
  /** close and delete the temporary; safe to call more than once, or after commit (then a no-op) */
  abort(): void;
}

/** Open a streaming atomic write to `target`. */
export function openAtomic(target: string): AtomicSink {
  const tempPath = tempSibling(target);
  let fd: number | undefined = fs.openSync(tempPath, 'wx', 0o644);
  track(tempPath);
  let done = false;
  let written = 0;
  const close = (): void => {
    if (fd !== undefined) {
      const f = fd;
      fd = undefined;
      fs.closeSync(f);
    }
  };
  return {
    tempPath,
    get bytesWritten() {
      return written;
    },
    write(bytes) {
      if (fd === undefined) throw new Error(`atomic write to ${target} is already closed`);
      let off = 0;
      // writeSync may write less than asked (large buffers, signals); loop until all is out
      while (off < bytes.length) off += fs.writeSync(fd, bytes, off, bytes.length - off);
      written += bytes.length;
    },
    commit() {
      if (fd === undefined) throw new Error(`atomic write to ${target} is already closed`);
      try {
        fs.fsyncSync(fd);
        close();
        fs.renameSync(tempPath, target);
        untrack(tempPath);
        done = true;
      } catch (e) {
        this.abort();
        throw e;
      }
    },
    abort() {
      if (done) return;
      done = true;
      try {
        close();
      } finally {
        fs.rmSync(tempPath, { force: true });
        untrack(tempPath);
      }
    },
  };
}

/**
 * Run `fill` against a streaming sink; commit if it returns, abort (and
 * rethrow) if it throws. The usual way to use openAtomic.
 */
export function withAtomicFile<T>(target: string, fill: (sink: AtomicSink) => T): T {
  const sink = openAtomic(target);
  let result: T;
  try {
    result = fill(sink);
  } catch (e) {
    sink.abort();
    throw e;
  }
  sink.commit();
  return result;
}

/** Write a whole file atomically. */
export function writeFileAtomic(target: string, data: Uint8Array | string): void {
  withAtomicFile(target, (sink) => sink.write(typeof data === 'string' ? Buffer.from(data, 'utf8') : data));
}

/**
 * Write a directory atomically: `fill` populates a fresh temporary directory,
 * which then replaces `target` (an existing target is moved aside first and
 * deleted after the swap, since rename cannot replace a non-empty directory).
 * The swap is two renames, so a crash between them can leave the old
 * directory under its backup name, but never a half-filled target.
 */
export async function writeDirAtomic(target: string, fill: (tempDir: string) => void | Promise<void>): Promise<void> {
  const temp = tempSibling(target);
  fs.mkdirSync(temp);
  track(temp);
  try {
    await fill(temp);
  } catch (e) {
    fs.rmSync(temp, { recursive: true, force: true });
    untrack(temp);
    throw e;
  }
  let backup: string | undefined;
  try {
    if (fs.existsSync(target)) {
      backup = `${temp}.old`;
      fs.renameSync(target, backup);
    }
    fs.renameSync(temp, target);
    untrack(temp);
  } catch (e) {
    if (backup !== undefined && !fs.existsSync(target)) fs.renameSync(backup, target);
    backup = undefined;
    fs.rmSync(temp, { recursive: true, force: true });
    untrack(temp);
    throw e;
  }
  if (backup !== undefined) fs.rmSync(backup, { recursive: true, force: true });
}

/**
 * Write files into a directory (created if missing) without touching anything
 * else in it: `fill` writes them into a temporary sibling directory; only when
 * it has finished are they renamed into `dir`, one by one, the names in `last`
 * at the end (the file that refers to the others, e.g. model.json after
 * weights.bin). Returns the names written.
 */
export async function writeIntoDir(dir: string, fill: (tempDir: string) => void | Promise<void>, last: readonly string[] = []): Promise<string[]> {
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  const temp = tempSibling(dir);
  fs.mkdirSync(temp);
  track(temp);
  try {
    await fill(temp);
    // a signal that arrived while `fill` ran synchronously is handled here, before anything is renamed into place
    await yieldToSignals();
    fs.mkdirSync(dir, { recursive: true });
    const names = fs.readdirSync(temp).sort((a, b) => Number(last.includes(a)) - Number(last.includes(b)) || last.indexOf(a) - last.indexOf(b));
    for (const n of names) {
      const target = path.join(dir, n);
      if (fs.existsSync(target) && fs.statSync(target).isDirectory()) throw new Error(`${target} is a directory`);
      fs.renameSync(path.join(temp, n), target);
    }
    return names;
  } finally {
    fs.rmSync(temp, { recursive: true, force: true });
    untrack(temp);
  }
}
