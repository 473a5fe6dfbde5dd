// `import 'alexnetc/tfjs'` then plain `tf.loadLayersModel('file://…')` — the
// README's snippet — in a fresh process that resolves alexnetc by its package
// name, on pure @tensorflow/tfjs (which has no file:// handler of its own:
// alexnetc/tfjs registers one where none is).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.join(import.meta.dirname, '../..');
const cli = (args: string[]) => spawnSync(process.execPath, [path.join(root, 'bin/alexnetc.js'), ...args], { cwd: root, encoding: 'utf8' });

const SCRIPT = `
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import 'alexnetc/tfjs';
import { compile, toTfjs } from 'alexnetc';

const [dir, spec, net, seed] = process.argv.slice(2);
const model = await tf.loadLayersModel('file://' + path.join(dir, 'model.json'));
const network = compile(fs.readFileSync(spec, 'utf8'), { network: net }).network;
const fresh = toTfjs(tf, network, { seed: Number(seed) });
const shape = [2, ...model.inputs[0].shape.slice(1)];
const x = tf.randomUniform(shape, -1, 1, 'float32', 3);
const a = model.predict(x).dataSync();
const b = fresh.predict(x).dataSync();
let diff = 0;
for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]));
console.log(JSON.stringify({ layers: model.layers.map((l) => l.getClassName()), outputShape: model.outputs[0].shape, diff }));
`;

describe('plain tf.loadLayersModel after import "alexnetc/tfjs"', () => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'alexnetc-plain-load-'));
  const script = path.join(root, 'dist', 'plain-load-check.mjs');

  const cases: [string, string, string][] = [
    ['custom layers', 'test/fixtures/tfjs/custom-layers.net', 'Custom'],
    ['LeNet5', 'specs/lenet5.net', 'LeNet5'],
  ];
  for (const [what, spec, net] of cases) {
    it(`loads ${what} and computes what the compiler's own model computes`, () => {
      writeFileSync(script, SCRIPT);
      const out = path.join(d, net);
      const c = cli(['compile', spec, '--network', net, '--target', 'tfjs', '--seed', '5', '-o', out]);
      expect(c.status, c.stderr).toBe(0);
      const r = spawnSync(process.execPath, [script, out, path.join(root, spec), net, '5'], { cwd: root, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const res = JSON.parse(r.stdout.trim().split('\n').pop()!);
      expect(res.diff).toBeLessThanOrEqual(1e-6);
      if (what === 'custom layers') expect(res.layers).toEqual(expect.arrayContaining(['AlexnetcLRN', 'AlexnetcConv2D', 'AlexnetcPool2D']));
    });
  }
});
