// `alexnetc fmt FILE… [--write | --check]`: print the formatted file, rewrite
// it in place, or only report whether it is formatted. Exit codes: 0 done /
// already formatted, 1 `--check` found files that would change, 2 a file could
// not be read or has syntax errors (those are never reformatted).
import * as fs from 'node:fs';
import { LineIndex } from '../diagnostics/span.js';
import { parse } from '../syntax/parse.js';
import { format } from './format.js';

export const FMT_USAGE = 'usage: alexnetc fmt FILE… [--write | --check]   (FILE `-` reads standard input)';

export async function fmtCommand(args: string[], io: { stdout?: NodeJS.WritableStream; stderr?: NodeJS.WritableStream } = {}): Promise<number> {
  const out = io.stdout ?? process.stdout;
  const err = io.stderr ?? process.stderr;
  const write = args.includes('--write') || args.includes('-w');
  const check = args.includes('--check');
  const files = args.filter((a) => a === '-' || !a.startsWith('-'));
  const unknown = args.filter((a) => a !== '-' && a.startsWith('-') && !['--write', '-w', '--check'].includes(a));
  if (unknown.length || !files.length || (write && check)) {
    err.write(`${unknown.length ? `unknown option ${unknown.join(' ')}\n` : ''}${FMT_USAGE}\n`);
    return 2;
  }
  let status = 0;
  for (const file of files) {
    let text: string;
    try {
      text = file === '-' ? fs.readFileSync(0, 'utf8') : fs.readFileSync(file, 'utf8');
    } catch (e) {
      err.write(`${file}: cannot read: ${(e as Error).message}\n`);
      status = 2;
      continue;
    }
    const formatted = format(text);
    if (formatted === undefined) {
      const lines = new LineIndex(text);
      for (const d of parse(text).diagnostics) {
        const p = lines.position(d.span.start);
        err.write(`${file}:${p.line}:${p.column}: error[${d.code}]: ${d.message}\n`);
      }
      err.write(`${file}: not formatted: fix the syntax errors first\n`);
      status = 2;
      continue;
    }
    if (check) {
      if (formatted !== text) {
        err.write(`${file}: not formatted\n`);
        status = Math.max(status, 1);
      }
    } else if (write && file !== '-') {
      if (formatted !== text) {
        const tmp = `${file}.fmt-${process.pid}.tmp`;
        fs.writeFileSync(tmp, formatted);
        fs.renameSync(tmp, file);
      }
    } else out.write(formatted);
  }
  return status;
}
