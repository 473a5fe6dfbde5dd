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
  try {
    await fill(temp);
  } catch (e) {
    fs.rmSync(temp, { recursive: true, force: true });
    throw e;
  }
  let backup: string | undefined;
  try {
    if (fs.existsSync(target)) {
      backup = `${temp}.old`;
      fs.renameSync(target, backup);
    }
    fs.renameSync(temp, target);
  } catch (e) {
    if (backup !== undefined && !fs.existsSync(target)) fs.renameSync(backup, target);
    backup = undefined;
    fs.rmSync(temp, { recursive: true, force: true });
    throw e;
  }
  if (backup !== undefined) fs.rmSync(backup, { recursive: true, force: true });
}
