// `--target tfjs` and `--weights`: the CLI face of the TensorFlow.js back end.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.join(import.meta.dirname, '../..');
const run = (args: string[]) => {
  const r = spawnSync(process.execPath, [path.join(root, 'bin/alexnetc.js'), ...args], { cwd: root, encoding: 'utf8' });
  return { code: r.status, stderr: r.stderr };
};

describe('alexnetc compile --target tfjs', () => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'alexnetc-tfjs-cli-'));

  it('writes model.json and weights, and says which backend it used', () => {
    const r = run(['compile', 'specs/lenet5.net', '--target', 'tfjs', '-o', path.join(d, 'lenet')]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^tfjs backend: @tensorflow\/tfjs(-node|-node-gpu)? \(/m);
    expect(r.stderr).not.toContain('Hi, looks like');
    expect(readdirSync(path.join(d, 'lenet')).sort()).toEqual(['model.json', 'weights.bin']);
    expect(JSON.parse(readFileSync(path.join(d, 'lenet/model.json'), 'utf8')).modelTopology).toBeTruthy();
  });

  it('carries tfjs weights into ONNX: seeded tfjs weights give the seeded ONNX file byte for byte', () => {
    expect(run(['compile', 'specs/lenet5.net', '--target', 'tfjs', '--seed', '7', '-o', path.join(d, 'l7')]).code).toBe(0);
    expect(run(['compile', 'specs/lenet5.net', '--weights', path.join(d, 'l7'), '-o', path.join(d, 'from-tfjs.onnx')]).code).toBe(0);
    expect(run(['compile', 'specs/lenet5.net', '--seed', '7', '-o', path.join(d, 'seeded.onnx')]).code).toBe(0);
    expect(readFileSync(path.join(d, 'from-tfjs.onnx')).equals(readFileSync(path.join(d, 'seeded.onnx')))).toBe(true);
    expect(run(['compile', 'specs/lenet5.net', '--seed', '0', '-o', path.join(d, 'seed0.onnx')]).code).toBe(0);
    expect(readFileSync(path.join(d, 'from-tfjs.onnx')).equals(readFileSync(path.join(d, 'seed0.onnx')))).toBe(false);
  });

  it('refuses weights of another architecture, naming the layer and both shapes, and writes nothing', () => {
    const out = path.join(d, 'wrong.onnx');
    const r = run(['compile', 'specs/alexnet.net', '--weights', path.join(d, 'lenet'), '-o', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/conv1.*\[11, 11, 3, 96\].*\[5, 5, 1, 6\]/);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses a directory without a model', () => {
    const r = run(['compile', 'specs/lenet5.net', '--weights', d, '-o', path.join(d, 'x.onnx')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no model.json');
  });

  it('a forced backend that is missing fails with the install hint', () => {
    const r = run(['compile', 'specs/lenet5.net', '--target', 'tfjs', '--backend', 'gpu', '-o', path.join(d, 'gpu')]);
    if (r.code === 0) return; // tfjs-node-gpu is really installed here
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('npm install @tensorflow/tfjs-node-gpu');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    rmSync(path.join(d, 'gpu'), { recursive: true, force: true });
  });
});
