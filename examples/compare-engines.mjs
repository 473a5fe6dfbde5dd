#!/usr/bin/env node
// LeNet-5 on Fashion-MNIST with both training engines, the same seed and the
// same recipe (specs/lenet5.net's train { } section: Adam, lr 0.001, batch 64,
// 10 epochs, no augmentation): the tfjs engine, the torch engine in one
// process, and the torch engine with two processes (torchrun, DDP, gloo).
// Prints test accuracy and training time per engine as a Markdown table (the
// docs/training.md's "Training at scale" numbers come from this script).
//
//   node examples/compare-engines.mjs [--data DIR] [--out DIR] [--epochs N] [--limit N] [--skip tfjs,torch,torch-2]
// Needs a built tree (npx tsc -p .) and /usr/bin/python3 with PyTorch.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const data = arg('data', '/usr/share/datasets/fashion-mnist');
const out = arg('out', path.join('runs', 'compare-engines'));
const extra = [...(arg('epochs') ? ['--epochs', arg('epochs')] : []), ...(arg('limit') ? ['--limit', arg('limit')] : [])];
const skip = (arg('skip', '') || '').split(',');

const runs = [
  ['tfjs', 'tfjs engine', ['--engine', 'tfjs']],
  ['torch', 'torch engine, 1 process', ['--engine', 'torch']],
  ['torch-2', 'torch engine, 2 processes (torchrun, gloo)', ['--engine', 'torch', '--nproc', '2']],
];

const rows = [];
for (const [key, what, flags] of runs) {
  if (skip.includes(key)) continue;
  const dir = path.join(out, key);
  // an earlier run of this script is replaced; anything else there is left for train to refuse
  if (existsSync(path.join(dir, 'config.json'))) rmSync(dir, { recursive: true });
  const args = [path.join(root, 'bin/alexnetc.js'), 'train', 'specs/lenet5.net', '--set', 'size=28', '--data', data, ...extra, ...flags, '-o', dir];
  console.error(`\n$ alexnetc ${args.slice(1).join(' ')}`);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) {
    console.error(`${what}: exited with ${r.status}`);
    process.exitCode = 1;
    continue;
  }
  const m = JSON.parse(readFileSync(path.join(dir, 'metrics.json'), 'utf8'));
  const h = JSON.parse(readFileSync(path.join(dir, 'history.json'), 'utf8'));
  rows.push({ what, accuracy: m.accuracy, loss: m.loss, val: h[h.length - 1].valAccuracy, train: m.trainSeconds, wall, backend: m.backend, epochs: h.length });
}

console.log(`\nLeNet-5 on ${data}, seed 0, the spec's recipe${extra.length ? ` (${extra.join(' ')})` : ''}:\n`);
console.log('| engine | test accuracy | last validation accuracy | training time (epochs) | wall time (all) |');
console.log('|---|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${r.what} | ${(100 * r.accuracy).toFixed(2)} % | ${r.val === undefined ? '–' : `${(100 * r.val).toFixed(2)} %`} | ${r.train.toFixed(0)} s (${r.epochs}) | ${r.wall.toFixed(0)} s |`);
}
console.log('');
for (const r of rows) console.log(`${r.what}: ${r.backend}`);
