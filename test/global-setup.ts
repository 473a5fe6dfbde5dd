// The CLI and end-to-end tests run the built program (bin/alexnetc.js → dist/cli/bundle);
// build it once before any test file runs (incremental, so cheap when current).
import { execFileSync } from 'node:child_process';
import path from 'node:path';

export default function setup(): void {
  // for working in a tree where a colleague's file does not compile yet: build by hand, then set this
  if (process.env.ALEXNETC_SKIP_BUILD === '1') return;
  const root = path.join(import.meta.dirname, '..');
  execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', root], { stdio: 'inherit' });
  // what bin/alexnetc.js runs (scripts/bundle-cli.mjs): the tests exercise the shipped path
  execFileSync(process.execPath, [path.join(root, 'scripts/bundle-cli.mjs'), '--quiet'], { stdio: 'inherit' });
}
