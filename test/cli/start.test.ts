// What `alexnetc check` does at start, kept cheap (bench/compiler.mjs times it).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { grouped } from '../../src/cli/frame.js';

const root = path.join(import.meta.dirname, '../..');

describe('grouped', () => {
  it("writes a number as toLocaleString('en-US') does", () => {
    const xs = [0, -0, 1, 9, 10, 99, 100, 999, 1000, 1001, 9999, 12345, 61706, 999999, 1000000, 1234567, 2 ** 31, 2 ** 32 + 7, Number.MAX_SAFE_INTEGER, 1.5, 1234.5, 1e21, NaN, Infinity];
    for (let i = 0; i < 2000; i++) xs.push(Math.floor(Math.random() * 10 ** (i % 16)));
    for (const x of [...xs, ...xs.map((v) => -v)]) expect(grouped(x), String(x)).toBe(x.toLocaleString('en-US'));
  });
});

describe('alexnetc check', () => {
  it('sets up no locale machinery (ICU: a third of its start, once)', () => {
    const r = spawnSync(process.execPath, ['bin/alexnetc.js', 'check', 'specs/lenet5.net'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: `--require ${JSON.stringify(path.join(root, 'test/cli/fixtures-locale-calls.cjs'))}` },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('LeNet5: ok, output [10], 61,706 parameters');
    expect(JSON.parse(/LOCALE (.*)/.exec(r.stderr)![1]!)).toEqual([]);
  });
});
