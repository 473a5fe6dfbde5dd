import { readFileSync, statSync } from 'node:fs';
import { compile, type CompileOptions, type CompileResult } from '../compile.js';
import { hasErrors, LineIndex } from '../diagnostics/index.js';
import { diagnosticToJson, renderDiagnostic } from '../diagnostics/render.js';

/** A failure the user caused (bad flag, missing file): printed as one line, exit code attached. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}

/** the largest source file we read (a .net file is tiny; this guards against pointing at a dataset) */
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

export interface Reported {
  result: CompileResult;
  ok: boolean;
}

/** Compile and print the diagnostics (human or --json); ok is false on any error. */
export function compileAndReport(file: string, opts: CompileOptions, json: boolean): Reported {
  const text = readSource(file);
  const result = compile(text, { file, ...opts });
  const index = new LineIndex(text);
  if (json) {
    process.stdout.write(JSON.stringify({ diagnostics: result.diagnostics.map((d) => diagnosticToJson(d, file, index)) }, null, 2) + '\n');
  } else {
    const color = process.stderr.isTTY === true && !process.env.NO_COLOR;
    for (const d of result.diagnostics) process.stderr.write(renderDiagnostic(d, file, text, { color }, index) + '\n\n');
    const errors = result.diagnostics.filter((d) => d.severity === 'error').length;
    const warnings = result.diagnostics.filter((d) => d.severity === 'warning').length;
    if (errors) process.stderr.write(`${errors} error${errors === 1 ? '' : 's'}${warnings ? `, ${warnings} warning${warnings === 1 ? '' : 's'}` : ''}\n`);
  }
  return { result, ok: !hasErrors(result.diagnostics) };
}

export function parseSets(values: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values ?? []) {
    const i = v.indexOf('=');
    if (i <= 0) throw new UsageError(`--set expects name=value, got '${v}'`);
    out[v.slice(0, i).trim()] = v.slice(i + 1);
  }
  return out;
}
