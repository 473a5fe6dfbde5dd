// `alexnetc fmt FILE… [--write | --check]` through the real command line.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.join(import.meta.dirname, '../..');
const bin = path.join(root, 'bin/alexnetc.js');

function fmt(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [bin, 'fmt', ...args], { cwd: root, encoding: 'utf8', input, env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function tmp(name: string, text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alexnetc-fmt-'));
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
}

const MESSY = 'network N {\n input [4]\n relu|relu\n}\n';
const CLEAN = 'network N {\n  input [4]\n  relu | relu\n}\n';

describe('alexnetc fmt', () => {
  it('prints the formatted file', () => {
    const r = fmt([tmp('a.net', MESSY)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(CLEAN);
  });

  it('reads standard input for `-`', () => {
    expect(fmt(['-'], MESSY).stdout).toBe(CLEAN);
  });

  it('--check exits 1 on an unformatted file and 0 on a formatted one', () => {
    const r = fmt(['--check', tmp('a.net', MESSY)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('not formatted');
    expect(fmt(['--check', tmp('b.net', CLEAN)]).code).toBe(0);
  });

  it('--write rewrites the file in place, leaving no temporary', () => {
    const f = tmp('a.net', MESSY);
    expect(fmt([f, '--write']).code).toBe(0);
    expect(fs.readFileSync(f, 'utf8')).toBe(CLEAN);
    expect(fs.readdirSync(path.dirname(f))).toEqual(['a.net']);
  });

  it('leaves files with syntax errors alone, prints code frames like check, and exits 1', () => {
    const src = 'network N {\n  input [4]\n  relu(\n}\n';
    const f = tmp('a.net', src);
    const r = fmt([f, '--write']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/a\.net:\d+:\d+: error\[E002\]/);
    expect(r.stderr).toMatch(/\n\s+\d+ \| {3}relu\(\n/); // the code frame
    expect(r.stderr).toContain('fix the syntax errors first');
    expect(fs.readFileSync(f, 'utf8')).toBe(src);
  });

  it('rejects bad usage with exit 2', () => {
    for (const args of [[], ['--frobnicate', 'x.net'], ['--check', '--write', tmp('a.net', CLEAN)], ['/nonexistent/x.net']]) {
      const r = fmt(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^alexnetc: /);
    }
  });
});
