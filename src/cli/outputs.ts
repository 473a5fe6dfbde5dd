// Where a command may write. Nothing the user did not ask to replace is
// destroyed: an output that is one of the inputs, an existing file under a
// name the user did not type (a default output name), or a non-empty
// directory that alexnetc did not write, is refused (exit 2, nothing touched)
// unless --force; and even then alexnetc writes only its own files into a
// directory, it never deletes what else is there. How a file is written
// (through symbolic links, devices and FIFOs written through, `-` for
// standard output) is util/atomic.ts's; docs/cli.md says it for users.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UsageError } from './frame.js';

function stat(p: string): fs.Stats | undefined {
  try {
    return fs.statSync(p);
  } catch {
    return undefined;
  }
}

/** Do two paths name the same file (the same inode, or the same resolved path when one is missing)? */
export function sameFile(a: string, b: string): boolean {
  const sa = stat(a);
  const sb = stat(b);
  if (sa && sb) return sa.dev === sb.dev && sa.ino === sb.ino;
  return path.resolve(a) === path.resolve(b);
}

function inputAt(out: string, inputs: readonly string[]): string | undefined {
  return inputs.find((i) => sameFile(out, i));
}

function exists(p: string): boolean {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

export interface FileOutputOptions {
  /** the user did not type this name (a default such as NETWORK.onnx): an existing file there is never replaced without --force */
  implicit?: boolean;
  /** the content is binary (ONNX, safetensors, PNG): refused on a terminal */
  binary?: boolean;
  /** what the content is, for messages ("ONNX") */
  what?: string;
  /** --json prints its report on standard output, which `-` would share */
  json?: boolean;
}

/** Refuse to replace an existing file or directory whose name the user did not type (unless --force). */
export function checkImplicitOutput(out: string, force: boolean, flag = '-o'): void {
  if (force || !exists(out)) return;
  throw new UsageError(`refusing to replace ${out}, which exists and was not named on the command line: name it with ${flag} ${out} to replace it, choose another ${flag}, or pass --force`);
}

/** A single output file (ONNX, a Python module, safetensors); `-` is standard output. */
export function checkFileOutput(out: string, inputs: readonly string[], force: boolean, opts: FileOutputOptions = {}): void {
  if (out === '-') {
    if (opts.json) throw new UsageError('--json prints its report on standard output; write the output to a file with -o');
    if (opts.binary && process.stdout.isTTY) {
      throw new UsageError(`refusing to write ${opts.what ?? 'binary data'} to the terminal: redirect it (> file) or pipe it, or name a file with -o`);
    }
    return;
  }
  if (opts.implicit) checkImplicitOutput(out, force);
  const st = stat(out);
  if (st?.isDirectory()) throw new UsageError(`${out} is a directory; this target writes a file (choose a file name with -o)`);
  const input = inputAt(out, inputs);
  if (input && !force) throw new UsageError(`refusing to overwrite the input ${input} with the output (choose another -o, or pass --force)`);
}

/** The files an alexnetc model directory (tfjs layers format) consists of. */
export const MODEL_DIR_FILES = ['model.json', 'weights.bin'] as const;

/** Is `dir` a model directory alexnetc (or tfjs) wrote: only model files, or a model.json that says alexnetc? */
function isModelDir(dir: string, entries: string[]): boolean {
  if (entries.every((e) => (MODEL_DIR_FILES as readonly string[]).includes(e))) return true;
  try {
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')) as { userDefinedMetadata?: { alexnetc?: unknown } };
    return json.userDefinedMetadata?.alexnetc !== undefined;
  } catch {
    return false;
  }
}

/**
 * A model directory output (`--target tfjs`): missing, empty, or a previous
 * model directory (whose model files alone are replaced). A file, the input,
 * or a non-empty foreign directory is refused — the latter unless --force.
 */
export function checkModelDirOutput(out: string, inputs: readonly string[], force: boolean, implicit = false): void {
  if (out === '-') throw new UsageError('a model directory cannot go to standard output: name a directory with -o');
  if (implicit) checkImplicitOutput(out, force);
  const st = stat(out);
  if (!st) return;
  const input = inputAt(out, inputs);
  if (!st.isDirectory()) {
    if (input) throw new UsageError(`refusing to replace the input ${input} with a model directory (choose another -o)`);
    throw new UsageError(`${out} is a file; --target tfjs writes a directory (model.json + weights.bin): choose another -o`);
  }
  const entries = fs.readdirSync(out);
  if (entries.length === 0 || isModelDir(out, entries) || force) return;
  throw new UsageError(
    `refusing to write into ${out}: it holds files alexnetc did not write (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''}); ` +
      'choose another -o, or pass --force to add model.json and weights.bin beside them',
  );
}

/**
 * A run directory (`train -o`): missing or empty. A non-empty directory is
 * refused unless --force (an earlier run there is continued with --resume).
 */
export function checkRunDirOutput(out: string, force: boolean): void {
  const st = stat(out);
  if (!st) return;
  if (!st.isDirectory()) throw new UsageError(`${out} is a file; -o names a run directory`);
  const entries = fs.readdirSync(out);
  if (entries.length === 0 || force) return;
  throw new UsageError(`refusing to write the run into ${out}: it is not empty (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''}); choose another -o, or pass --force`);
}
