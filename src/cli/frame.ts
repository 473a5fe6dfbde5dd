// The frame every command runs in: how a command is declared (one small file
// under commands/), the options most commands share, the one ladder from a
// failure to an exit code, colour, and the one way diagnostics are printed.
//
// Exit codes (docs/cli.md "Command line"): 0 ok, 1 the input has errors (nothing
// is written), 2 bad usage, 70 internal error (a bug), 130 interrupted
// (SIGINT), 143 terminated (SIGTERM).
import { readFileSync, statSync } from 'node:fs';
import { compile, type CompileOptions, type CompileResult } from '../compile.js';
import { readFromDisk } from '../read-file.js';
import { hasErrors, LineIndex } from '../diagnostics/index.js';
import { diagnosticToJson, renderDiagnostic } from '../diagnostics/render.js';
import { UserError } from '../util/errors.js';

export const EXIT = { ok: 0, input: 1, usage: 2, internal: 70 } as const;

/** A failure the user caused: printed as one line, exit code attached (2 usage by default, 1 for input). */
export class UsageError extends UserError {
  constructor(message: string, exitCode: 1 | 2 = 2) {
    super(message, exitCode);
  }
}

/** One option of a command, in commander's notation: `-o, --output <path>`, `--json`, `--no-augment`. */
export interface OptionSpec {
  flags: string;
  help: string;
  /** shown in --help and used when the option is absent */
  default?: string | boolean;
  /** may be given several times (`--set a=1 --set b=2`); the value is a list */
  repeatable?: boolean;
  /** the only values accepted (checked, with the list in the error) */
  choices?: readonly string[];
  /** another long spelling that means the same, kept so that old scripts run (`--out` for `-o, --output`) */
  alias?: string;
}

/** `-o, --output`: one spelling of the output for every command; `--out` (train, prune and tune's old one) still works. */
export const outputOption = (what: string): OptionSpec => ({ flags: '-o, --output <path>', help: what, alias: '--out' });

export interface CommandSpec {
  name: string;
  /** one line for `alexnetc --help` */
  summary: string;
  /** commander notation: `<file>`, `[file]`, `<files...>`, '' for none */
  args: string;
  /** more about the command, for its own --help */
  description?: string;
  options: readonly OptionSpec[];
  /** `[command line, what it does]`, shown under "Examples:" in --help */
  examples: ReadonlyArray<readonly [string, string]>;
  /** pass unknown options through (the language server accepts its clients' `--stdio`) */
  allowUnknownOptions?: boolean;
  /** returns the exit code; throws UserError for expected failures */
  run(args: string[], opts: Record<string, unknown>): Promise<number>;
}

export function defineCommand(spec: CommandSpec): CommandSpec {
  return spec;
}

/** Options shared by the commands that compile a network. */
export const OPT = {
  network: { flags: '--network <name>', help: 'which network of the file (default: the only one, or the one named like the file)' },
  set: { flags: '--set <name=value>', help: 'override a network parameter (repeatable)', repeatable: true },
  json: { flags: '--json', help: 'machine-readable output on stdout' },
  force: { flags: '--force', help: 'replace an output even where alexnetc would refuse (the input itself, a foreign non-empty directory)' },
  backend: { flags: '--backend <name>', help: 'tfjs backend', choices: ['auto', 'gpu', 'node', 'cpu'], default: 'auto' },
} as const satisfies Record<string, OptionSpec>;

// ---------------------------------------------------------------- colour

let colorChoice: boolean | undefined;

/** `--color` / `--no-color` from the command line; undefined: decide from the environment. */
export function setColor(choice: boolean | undefined): void {
  colorChoice = choice;
}

/** Colour on stderr: --color/--no-color, else NO_COLOR / FORCE_COLOR, else whether stderr is a terminal. */
export function useColor(): boolean {
  if (colorChoice !== undefined) return colorChoice;
  if (process.env.NO_COLOR) return false;
  if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== '0') return true;
  return process.stderr.isTTY === true;
}

// ---------------------------------------------------------------- values

export function parseSets(values: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values ?? []) {
    const i = v.indexOf('=');
    if (i <= 0) throw new UsageError(`--set expects name=value, got '${v}'`);
    out[v.slice(0, i).trim()] = v.slice(i + 1);
  }
  return out;
}

/** A whole number ≥ min from a flag, or a usage error naming the flag. */
export function wholeNumber(v: unknown, flag: string, min = 0): number {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`${flag} must be a whole number ≥ ${min}, got '${String(v)}'`);
  return n;
}

/**
 * A count with its thousands grouped, as `n.toLocaleString('en-US')` writes a
 * whole number (`61,706`), without it: the first toLocaleString of a process
 * sets up ICU's number formatting, a third of `alexnetc check`'s start.
 */
export function grouped(n: number): string {
  if (!Number.isSafeInteger(n) || Object.is(n, -0)) return n.toLocaleString('en-US');
  const digits = String(Math.abs(n));
  let out = digits.slice(0, ((digits.length - 1) % 3) + 1);
  for (let i = out.length; i < digits.length; i += 3) out += `,${digits.slice(i, i + 3)}`;
  return n < 0 ? `-${out}` : out;
}

// ---------------------------------------------------------------- sources and diagnostics

/** the largest source file we read (a .net file is tiny; this guards against pointing at a data set) */
const MAX_SOURCE = 64 * 2 ** 20;

export function readSource(file: string): string {
  let size: number;
  try {
    const st = statSync(file);
    if (st.isDirectory()) throw new UsageError(`${file}: is a directory, expected a .net file`);
    size = st.size;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`${file}: no such file`);
  }
  if (size > MAX_SOURCE) throw new UsageError(`${file}: ${size} bytes is too large for a .net source file`);
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** At most this many errors are rendered; the rest are counted (like compilers do). --json has them all. */
export const MAX_SHOWN_ERRORS = 20;

export interface Reported {
  result: CompileResult;
  ok: boolean;
  text: string;
}

/**
 * Compile FILE and print its diagnostics on stderr (or, with `json`, return
 * them for the command's JSON document); ok is false on any error.
 */
export function compileAndReport(file: string, opts: CompileOptions, json: boolean): Reported {
  const text = readSource(file);
  const result = compile(text, { file, readFile: readFromDisk, ...opts });
  if (!json) printDiagnostics(file, text, result);
  return { result, ok: !hasErrors(result.diagnostics), text };
}

export function printDiagnostics(file: string, text: string, result: Pick<CompileResult, 'diagnostics'> & { files?: CompileResult['files'] }): void {
  const index = new LineIndex(text);
  const color = useColor();
  let shownErrors = 0;
  let hidden = 0;
  for (const d of result.diagnostics) {
    if (d.severity === 'error' && shownErrors >= MAX_SHOWN_ERRORS) {
      hidden++;
      continue;
    }
    if (d.severity === 'error') shownErrors++;
    process.stderr.write(renderDiagnostic(d, file, text, { color, sources: result.files }, index) + '\n\n');
  }
  if (hidden) process.stderr.write(`… and ${hidden} more error${hidden === 1 ? '' : 's'} (--json lists them all)\n`);
  const errors = result.diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = result.diagnostics.filter((d) => d.severity === 'warning').length;
  if (errors) process.stderr.write(`${errors} error${errors === 1 ? '' : 's'}${warnings ? `, ${warnings} warning${warnings === 1 ? '' : 's'}` : ''}\n`);
}

/** The diagnostics of one file as JSON values (1-based lines and columns). */
export function diagnosticsJson(file: string, text: string, result: Pick<CompileResult, 'diagnostics' | 'files'>): unknown[] {
  const index = new LineIndex(text);
  return result.diagnostics.map((d) => diagnosticToJson(d, file, index, result.files));
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}
