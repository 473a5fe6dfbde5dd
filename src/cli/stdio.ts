// stdout and stderr without making Node's streams where they are not needed.
// Node makes process.stdout and process.stderr on first use, and making one
// loads its stream modules (a pipe's, a terminal's: some fifteen modules, a
// few milliseconds of `alexnetc check`'s start). `check` writes its few lines
// with writeSync to the file descriptor instead; on POSIX Node writes these
// streams synchronously whatever they are (file, pipe, terminal), so the
// order of what is written is the same either way.
import { writeSync } from 'node:fs';

const made = { stdout: false, stderr: false };

/** `attach` each of process.stdout and process.stderr when it is made (at once where it already is, or where Node's getter is not what it was) */
export function whenMade(attach: (s: NodeJS.WriteStream) => void): void {
  for (const name of ['stdout', 'stderr'] as const) {
    const d = Object.getOwnPropertyDescriptor(process, name);
    if (made[name] || !d?.get || !d.configurable) {
      made[name] = true;
      attach(process[name]);
      continue;
    }
    Object.defineProperty(process, name, {
      configurable: true,
      enumerable: d.enumerable,
      get() {
        Object.defineProperty(process, name, d);
        made[name] = true;
        const s = process[name];
        attach(s);
        return s;
      },
    });
  }
}

/**
 * Write to stderr: through process.stderr where it is made (or on Windows,
 * where pipes are asynchronous), else straight to file descriptor 2. A
 * reader that went away ends the process as process.stderr's EPIPE does
 * (main.ts); a descriptor that would block gets the rest through
 * process.stderr, which waits.
 */
export function writeStderr(text: string, onClosed: () => never): void {
  if (made.stderr || process.platform === 'win32') {
    process.stderr.write(text);
    return;
  }
  const bytes = Buffer.from(text);
  let done = 0;
  try {
    while (done < bytes.length) done += writeSync(2, bytes, done);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EPIPE') onClosed();
    if (code !== 'EAGAIN') throw e;
    process.stderr.write(bytes.subarray(done));
  }
}
