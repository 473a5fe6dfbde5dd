#!/usr/bin/env node
// The command line: dist/cli/bundle (a few files, see scripts/bundle-cli.mjs) when it is
// as new as the last build of dist/, else dist/cli/main.js itself (a `tsc` since the bundle).
import { statSync } from 'node:fs';

function mtime(rel) {
  try {
    return statSync(new URL(rel, import.meta.url)).mtimeMs;
  } catch {
    return undefined;
  }
}
const bundled = mtime('../dist/cli/bundle/main.js');
const built = mtime('../dist/.tsbuildinfo');
const { main } = await (bundled !== undefined && (built === undefined || bundled >= built) ? import('../dist/cli/bundle/main.js') : import('../dist/cli/main.js'));

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    // main() handles every expected failure; this is the last line of defence against a stack trace
    process.stderr.write(`alexnetc: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 70;
  },
);
