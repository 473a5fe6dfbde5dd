// README: the tests that need what a machine may lack (Python packages, the
// data set, ALEXNETC_BIG_TESTS) "skip with a visible message". Every test
// file that can skip must say why where it decides: through test/skip.ts's
// `skipping`, requirePython, a shared helper that prints, or a SKIPPED line.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.join(import.meta.dirname, '../..');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.test.ts') ? [path.join(dir, e.name)] : []));
}

/** what says why: a printed SKIPPED, the helper, requirePython, or a flag imported from a helper that prints it */
const SAYS_WHY = [/SKIPPED/, /skipped: /, /skipping\(/, /requirePython\(/, /\bhasTorch\(\)/, /import \{[^}]*\b(hasData|hasTorch)\b[^}]*\} from '\.{1,2}\/(torch\/)?helpers\.js'/];

describe('skipped tests say why', () => {
  it('every test file with a skipIf or skip() prints the reason', () => {
    const silent = files(path.join(root, 'test')).filter((f) => {
      const text = readFileSync(f, 'utf8');
      return /\.skipIf\(|\bctx\.skip\(|\b(it|describe)\.skip\(/.test(text) && !SAYS_WHY.some((r) => r.test(text));
    });
    expect(silent.map((f) => path.relative(root, f))).toEqual([]);
  });

  it('the shared flags print when they skip', () => {
    for (const helper of ['test/train/torch/helpers.ts', 'test/torch/helpers.ts', 'test/onnx/helpers.ts', 'test/inspect/lenet-run.ts']) {
      expect(readFileSync(path.join(root, helper), 'utf8'), helper).toMatch(/SKIPPED|requirePython\(/);
    }
  });
});
