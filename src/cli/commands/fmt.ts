// `alexnetc fmt FILE… [--write | --check]`: print the canonical layout,
// rewrite files in place, or only report which files would change. A file
// with syntax errors is never reformatted: its errors are printed like
// `check` prints them (code frames, source order) and the exit code is 1.
import * as fs from 'node:fs';
import { format } from '../../fmt/format.js';
import { parse } from '../../syntax/parse.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { defineCommand, printDiagnostics, readSource, UsageError } from '../frame.js';

export default defineCommand({
  name: 'fmt',
  summary: 'format .net files (2-space indentation, aligned assertions, comments kept)',
  args: '<files...>',
  description: 'Prints each FILE in the canonical layout (`-` reads standard input). Exit codes: 0 done or already formatted, 1 a file has syntax errors or (--check) would change, 2 bad usage.',
  options: [
    { flags: '-w, --write', help: 'rewrite the files in place (atomically)' },
    { flags: '--check', help: 'change nothing; exit 1 if a file is not formatted' },
  ],
  examples: [
    ['alexnetc fmt net.net', 'print the formatted file'],
    ['alexnetc fmt --write specs/*.net', 'format files in place'],
    ['alexnetc fmt --check specs/*.net', 'in CI: fail on unformatted files'],
  ],
  async run(files, o) {
    const write = o.write === true;
    const check = o.check === true;
    if (write && check) throw new UsageError('--write and --check exclude each other');
    let status = 0;
    for (const file of files) {
      const text = file === '-' ? fs.readFileSync(0, 'utf8') : readSource(file);
      const formatted = format(text);
      if (formatted === undefined) {
        printDiagnostics(file, text, parse(text));
        process.stderr.write(`${file}: not formatted: fix the syntax errors first\n`);
        status = 1;
        continue;
      }
      if (check) {
        if (formatted !== text) {
          process.stderr.write(`${file}: not formatted\n`);
          status = 1;
        }
      } else if (write && file !== '-') {
        if (formatted !== text) writeFileAtomic(file, formatted);
      } else process.stdout.write(formatted);
    }
    return status;
  },
});
