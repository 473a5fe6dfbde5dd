// Shared plumbing of the torch engine's tests: the CLI runner, Fashion-MNIST,
// Debian's PyTorch, and safetensors files compared tensor by tensor.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect } from 'vitest';
import { readSafetensorsHeader, readTensor } from '../../../src/weights/safetensors.js';

export const root = path.join(import.meta.dirname, '../../..');
const runner = path.join(root, 'test/train/cli/run-train.mjs');
export const FASHION = process.env.ALEXNETC_FASHION_MNIST ?? '/usr/share/datasets/fashion-mnist';
export const hasData = existsSync(path.join(FASHION, 'train-images-idx3-ubyte.gz')) || existsSync(path.join(FASHION, 'train-images-idx3-ubyte'));
if (!hasData) console.warn(`SKIPPED: Fashion-MNIST not found in ${FASHION} (install dataset-fashion-mnist or set ALEXNETC_FASHION_MNIST)`);
export const hasTorch = spawnSync('/usr/bin/python3', ['-c', 'import torch, torch.distributed'], { stdio: 'ignore', timeout: 120_000 }).status === 0;
if (!hasTorch) console.warn('SKIPPED the torch engine tests: /usr/bin/python3 has no torch (apt-get install python3-torch)');

/** A scratch directory, removed when the test file is done. */
const made: string[] = [];
afterAll(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});
export const tmp = (): string => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'alexnetc-train-torch-'));
  made.push(d);
  return d;
};
export const json = (file: string) => JSON.parse(readFileSync(file, 'utf8'));

/** LeNet-5 on a small, seeded part of Fashion-MNIST: 1,800 training / 200 validation / 500 test images. */
export const LENET = ['specs/lenet5.net', '--set', 'size=28', '--data', FASHION, '--limit', '2000', '--test-limit', '500'];

export interface Run {
  code: number | null;
  stderr: string;
}

/** `alexnetc train ARGS` in a child process (one thread per run: the machine is shared). */
export function train(args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const r = spawnSync(process.execPath, [runner, ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', ALEXNETC_THREADS: '1', ...env } });
  return { code: r.status, stderr: r.stderr };
}

/** The CLI itself (compile). */
export function cli(args: string[]): Run & { stdout: string } {
  const r = spawnSync(process.execPath, [path.join(root, 'bin/alexnetc.js'), ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, stderr: r.stderr, stdout: r.stdout };
}

/**
 * Train in the background; when `when` matches the output so far, call
 * `act` once (with the child's pid and that output): a Ctrl-C, or killing a rank.
 */
export function trainUntil(args: string[], when: RegExp, act: (pid: number, stderr: string) => void): Promise<Run> {
  const child = spawn(process.execPath, [runner, ...args], { cwd: root, env: { ...process.env, NO_COLOR: '1', ALEXNETC_THREADS: '1' } });
  let stderr = '';
  let acted = false;
  return new Promise((resolve) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!acted && when.test(stderr)) {
        acted = true;
        act(child.pid!, stderr);
      }
    });
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

/** Every tensor of a safetensors file, by name. */
export function tensors(file: string): Map<string, Float32Array> {
  const h = readSafetensorsHeader(file);
  return new Map(h.tensors.map((t) => [t.name, readTensor(h, t)]));
}

/** The largest absolute difference between two files' tensors (which must have the same names and sizes). */
export function maxDiff(a: string, b: string): number {
  const x = tensors(a), y = tensors(b);
  expect([...x.keys()].sort()).toEqual([...y.keys()].sort());
  let m = 0;
  for (const [k, v] of x) {
    const w = y.get(k)!;
    expect(w.length, k).toBe(v.length);
    for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i]! - w[i]!));
  }
  return m;
}
