// The CLI and end-to-end tests run the built program (bin/alexnetc.js → dist/cli/bundle);
// build it once before any test file runs (incremental, so cheap when current).
// Every temporary file of the run — the tests' own directories, the CLI's, Python's
// and Chromium's profiles — goes under one directory of the run's own (TMPDIR, which
// the test workers and every process they start inherit), removed when the run ends.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export default function setup(): () => void {
  const before = process.env.TMPDIR;
  const runTmp = mkdtempSync(path.join(os.tmpdir(), 'alexnetc-test-run-'));
  process.env.TMPDIR = runTmp;
  const teardown = (): void => {
    if (before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = before;
    // ALEXNETC_KEEP_TEST_TMP=1 keeps it, to look at what a failing test wrote
    if (process.env.ALEXNETC_KEEP_TEST_TMP === '1') console.log(`test temporaries kept in ${runTmp}`);
    else rmSync(runTmp, { recursive: true, force: true, maxRetries: 3 });
  };
  // for working in a tree where a colleague's file does not compile yet: build by hand, then set this
  if (process.env.ALEXNETC_SKIP_BUILD === '1') return teardown;
  const root = path.join(import.meta.dirname, '..');
  execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', root], { stdio: 'inherit' });
  // what bin/alexnetc.js runs (scripts/bundle-cli.mjs): the tests exercise the shipped path
  execFileSync(process.execPath, [path.join(root, 'scripts/bundle-cli.mjs'), '--quiet'], { stdio: 'inherit' });
  return teardown;
}
