// Atomic writes: a reader (or a crash) never sees a half-written file. Data
// goes to a temporary sibling — same directory, hence same file system, so
// the final rename is atomic — and is renamed over the target only once
// complete; on any failure the temporary is removed.
//
// Only a regular file (or a name that does not exist yet) is replaced that
// way. A symbolic link is followed: the file it points to is written
// atomically, beside itself, and the link stays a link. A target that is not
// a regular file — a device such as /dev/null, a FIFO — is written through
// (opened and written, no temporary, no rename): it is never replaced. `-`
// (STDOUT) is standard output. The temporaries of processes that died
// without removing them (SIGKILL, a power cut) are removed by the next write
// to the same output.
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';

/** node:crypto, loaded when a file is first written (loading it is some 15 ms of every command's start) */
let randomBytes: ((n: number) => Buffer) | undefined;

function tempSibling(target: string): string {
  const dir = path.dirname(target);
  randomBytes ??= (createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto')).randomBytes;
  return path.join(dir, `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** The name an output given as standard output has (the command line's `-o -`). */
export const STDOUT = '-';

/**
 * The path a write to `target` really lands on: symbolic links followed to
 * their end (a dangling link names the file to create), so that the link
 * itself is never replaced by a regular file.
 */
export function followLinks(target: string): string {
  let p = target;
  for (let hops = 0; hops < 40; hops++) {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(p);
    } catch {
      return p;
    }
    if (!st.isSymbolicLink()) return p;
    p = path.resolve(path.dirname(p), fs.readlinkSync(p));
  }
  throw Object.assign(new Error(`too many levels of symbolic links at ${target}`), { code: 'ELOOP' });
}

/** Is `target` something other than a regular file or a directory (a device, a FIFO, a socket)? */
export function isSpecialFile(target: string): boolean {
  try {
    const st = fs.statSync(target);
    return !st.isFile() && !st.isDirectory();
  } catch {
    return false;
  }
}

const TEMP_NAME = /^\.(.+)\.(\d+)\.[0-9a-f]{8}\.tmp(\.old)?$/;

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, it belongs to someone else
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Remove the temporaries that writes to `target` left behind in processes
 * that no longer exist (a SIGKILL gives no chance to clean up). Temporaries
 * of running processes are left alone: they may still be writing.
 */
export function removeStaleTemporaries(target: string): void {
  const dir = path.dirname(target);
  const base = path.basename(target);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) {
    const m = TEMP_NAME.exec(n);
    if (!m || m[1] !== base || alive(Number(m[2]))) continue;
    try {
      fs.rmSync(path.join(dir, n), { recursive: true, force: true });
    } catch {
      // someone else's, or already gone: not ours to insist on
    }
  }
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

/** Write all of `bytes` to `fd`, waiting while a non-blocking pipe is full. */
function writeAll(fd: number, bytes: Uint8Array): void {
  let off = 0;
  // writeSync may write less than asked (large buffers, signals); loop until all is out
  while (off < bytes.length) {
    try {
      off += fs.writeSync(fd, bytes, off, bytes.length - off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
}

/**
 * The reader of standard output went away (`alexnetc compile … -o - | head`):
 * the output is ended, as for any Unix filter, not an error. The command line
 * exits quietly with 0 on it, as it does when its printed text meets EPIPE.
 */
export class StdoutClosedError extends Error {
  constructor() {
    super('the reader of standard output closed it');
    this.name = 'StdoutClosedError';
  }
}

/**
 * A sink that writes straight into `fd` (standard output, a device, a FIFO):
 * nothing to rename, nothing to remove on abort — what was written is out.
 */
function throughSink(fd: number, name: string, close: boolean): AtomicSink {
  let open = true;
  let written = 0;
  const finish = (): void => {
    if (!open) return;
    open = false;
    if (close) fs.closeSync(fd);
  };
  return {
    tempPath: name,
    get bytesWritten() {
      return written;
    },
    write(bytes) {
      if (!open) throw new Error(`the write to ${name} is already closed`);
      try {
        writeAll(fd, bytes);
      } catch (e) {
        if (fd === 1 && (e as NodeJS.ErrnoException).code === 'EPIPE') {
          finish();
          throw new StdoutClosedError();
        }
        throw e;
      }
      written += bytes.length;
    },
    commit() {
      if (!open) throw new Error(`the write to ${name} is already closed`);
      finish();
    },
    abort() {
      finish();
    },
  };
}

/**
 * Open a streaming write to `target`: atomic for a regular file (through
 * symbolic links), written through for a device or FIFO, standard output
 * for STDOUT.
 */
export function openAtomic(requested: string): AtomicSink {
  if (requested === STDOUT) return throughSink(1, 'standard output', false);
  const target = followLinks(requested);
  if (isSpecialFile(target)) return throughSink(fs.openSync(target, 'w'), target, true);
  removeStaleTemporaries(target);
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
      writeAll(fd, bytes);
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
export async function writeDirAtomic(requested: string, fill: (tempDir: string) => void | Promise<void>): Promise<void> {
  const target = followLinks(requested);
  removeStaleTemporaries(target);
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
export async function writeIntoDir(requested: string, fill: (tempDir: string) => void | Promise<void>, last: readonly string[] = []): Promise<string[]> {
  // a link to a directory: the files go into the directory it points to, their temporaries beside that
  const dir = followLinks(requested);
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  removeStaleTemporaries(dir);
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
