// One spelling of the output: `-o, --output` in every command that writes;
// train, prune and tune take their old `--out` too, meaning the same, and
// refuse both at once. Checked through the real binary, on errors that come
// before any training (so it takes seconds).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/commands/index.js';

const root = path.join(import.meta.dirname, '../..');
const bin = path.join(root, 'bin/alexnetc.js');
const run = (args: string[]) => {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

/** A directory alexnetc did not write, with a file in it: train refuses to write a run there, naming it. */
function foreignDir(): string {
  const d = path.join(mkdtempSync(path.join(os.tmpdir(), 'alexnetc-output-')), 'mine');
  mkdirSync(d);
  writeFileSync(path.join(d, 'notes.txt'), 'mine');
  return d;
}

describe('-o, --output', () => {
  it('every command that writes spells it -o, --output (train, prune, tune list --out beside it)', () => {
    for (const c of COMMANDS) {
      const out = c.options.find((o) => /(^|, )-o\b|--out\b/.test(o.flags));
      if (!out) continue;
      expect(out.flags, c.name).toMatch(/^-o, --output </);
    }
    for (const cmd of ['train', 'prune', 'tune']) {
      const h = run([cmd, '--help']).stdout;
      expect(h, cmd).toMatch(/-o, --output <path>.*\(also --out\)/);
    }
  });

  it('train: --output and --out name the run directory alike', () => {
    for (const flag of ['-o', '--output', '--out']) {
      const d = foreignDir();
      const r = run(['train', 'specs/lenet5.net', '--set', 'size=28', '--data', '/nonexistent', flag, d]);
      expect(r.code, `${flag}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain(`refusing to write the run into ${d}: it is not empty (notes.txt)`);
    }
  });

  it('prune and tune: the output given either way (and missing: the one message)', () => {
    expect(run(['prune', '/nonexistent-run', '--sparsity', '0.5']).stderr).toMatch(/needs -o OUT/);
    for (const flag of ['--output', '--out']) expect(run(['prune', '/nonexistent-run', '--sparsity', '0.5', flag, 'x']).stderr).not.toMatch(/needs -o OUT/);
    const grid = ['tune', 'specs/lenet5.net', '--data', '/nonexistent', '--grid', 'lr=0.1,0.01'];
    expect(run(grid).stderr).toMatch(/needs -o DIR/);
    for (const flag of ['--output', '--out']) {
      const d = foreignDir();
      const r = run([...grid, flag, d]);
      expect(r.stderr, flag).toContain(`refusing to write the search into ${d}: it is not empty`);
    }
  });

  it('both spellings at once are refused (exit 2)', () => {
    const r = run(['train', 'specs/lenet5.net', '--data', '/nonexistent', '-o', 'a', '--out', 'b']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--out and --output are the same option: give it once');
  });
});
