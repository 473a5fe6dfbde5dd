#!/usr/bin/env node
// Transfer learning with LeNet-5 on Fashion-MNIST (examples/transfer-learning.md):
//   1. train LeNet-5 on classes 0-4 (T-shirt/top, trouser, pullover, dress, coat);
//   2. on classes 5-9 (sandal, shirt, sneaker, bag, ankle boot), with a few
//      training images only, train three ways on the same budget (the same
//      images, epochs, learning rate and seeds, and the base run's input
//      normalisation, which its convolutions were trained with):
//        - from scratch (seeded weights),
//        - the convolutions of step 1, frozen, and a new head (dense layers seeded):
//          --init BASE --init-only conv1,conv2,conv3 --freeze conv1,conv2,conv3
//        - the whole network of step 1 fine-tuned (--init BASE, nothing frozen);
//   3. check that the frozen convolutions came out bit for bit as step 1 left
//      them, and print the test accuracies and times as a Markdown table.
//
//   node examples/transfer-learning.mjs [--data DIR] [--out DIR] [--engine tfjs|torch]
//        [--base-epochs 3] [--base-limit N] [--sizes 50,500] [--epochs 10] [--lr 0.01] [--seeds 0,1,2,3,4] [--test-limit N]
// Needs a built tree (npx tsc -p .). The defaults take about 1–3 minutes on 2 cores.
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
const out = arg('out', path.join('runs', 'transfer-learning'));
const engine = arg('engine', 'tfjs');
const baseEpochs = arg('base-epochs', '3');
const baseLimit = arg('base-limit');
const sizes = arg('sizes', '50,500').split(',');
const epochs = arg('epochs', '10');
// ten times the file's 0.001: a few images make few steps
const lr = arg('lr', '0.01');
const seeds = arg('seeds', '0,1,2,3,4').split(',');
const testLimit = arg('test-limit');

const CONVS = 'conv1,conv2,conv3';
// LeNet-5 at 28×28 with a five-class head; the file's recipe: Adam, lr 0.001, batch 64, no augmentation
const NET = ['specs/lenet5.net', '--set', 'size=28', '--set', 'classes=5', '--data', data, '--engine', engine, ...(testLimit ? ['--test-limit', testLimit] : [])];

function train(dir, args) {
  // an earlier run of this script is replaced; anything else there is left for train to refuse
  if (existsSync(path.join(dir, 'config.json'))) rmSync(dir, { recursive: true });
  const argv = [path.join(root, 'bin/alexnetc.js'), 'train', ...NET, ...args, '-o', dir];
  console.error(`\n$ alexnetc ${argv.slice(1).join(' ')}`);
  const r = spawnSync(process.execPath, argv, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) {
    console.error(`alexnetc train exited with ${r.status}`);
    process.exit(1);
  }
  const m = JSON.parse(readFileSync(path.join(dir, 'metrics.json'), 'utf8'));
  return { accuracy: m.accuracy, seconds: m.trainSeconds, examples: m.examples };
}

// 1. the base network, on classes 0-4
const base = path.join(out, 'base');
const b = train(base, ['--classes', '0-4', '--epochs', baseEpochs, ...(baseLimit ? ['--limit', baseLimit] : [])]);

// 2. classes 5-9 on a small budget, three ways; no validation split (the images are few: the test set judges)
const norm = JSON.parse(readFileSync(path.join(base, 'normalization.json'), 'utf8'));
const budget = ['--classes', '5-9', '--epochs', epochs, '--lr', lr, '--val-split', '0', '--mean', norm.mean.join(','), '--std', norm.std.join(',')];
const VARIANTS = [
  ['scratch', 'from scratch', []],
  ['frozen', 'frozen convolutions + new head', ['--init', base, '--init-only', CONVS, '--freeze', CONVS]],
  ['finetuned', 'whole network fine-tuned', ['--init', base]],
];
const results = new Map();
for (const size of sizes) {
  for (const [key, , flags] of VARIANTS) {
    for (const seed of seeds) {
      const dir = path.join(out, `${size}`, `${key}-seed${seed}`);
      const r = train(dir, [...budget, '--limit', size, '--seed', seed, ...flags]);
      results.set(`${size}/${key}/${seed}`, { ...r, dir });
    }
  }
}

// 3. the frozen convolutions are the base's, bit for bit (read back from the model directories)
const { compile } = await import(path.join(root, 'dist/compile.js'));
const { readTfjsWeights } = await import(path.join(root, 'dist/weights/tfjs.js'));
const { layers } = await import(path.join(root, 'dist/check/ir.js'));
const network = compile(readFileSync(path.join(root, 'specs/lenet5.net'), 'utf8'), { set: { size: '28', classes: '5' } }).network;
const weightsOf = (dir) => readTfjsWeights(path.join(dir, 'model'), network);
const baseWeights = weightsOf(base);
let frozenSame = true;
for (const [k, r] of results) {
  if (!k.includes('/frozen/')) continue;
  const w = weightsOf(r.dir);
  for (const l of layers(network.body)) {
    if (!CONVS.split(',').includes(l.path)) continue;
    for (const s of l.weights) {
      const x = Buffer.from(w.get(l.path, s).buffer), y = Buffer.from(baseWeights.get(l.path, s).buffer);
      if (!x.equals(y)) frozenSame = false;
    }
  }
}

const pct = (x) => `${(100 * x).toFixed(1)} %`;
const cell = (size, key) => {
  const rs = seeds.map((s) => results.get(`${size}/${key}/${s}`));
  const acc = rs.map((r) => r.accuracy);
  const mean = acc.reduce((a, x) => a + x, 0) / acc.length;
  const time = rs.reduce((a, r) => a + r.seconds, 0) / rs.length;
  return `${pct(mean)}${rs.length > 1 ? ` (${pct(Math.min(...acc))}–${pct(Math.max(...acc))})` : ''}, ${time.toFixed(1)} s`;
};
console.log(`\nBase: LeNet-5 on classes 0-4, ${baseEpochs} epochs${baseLimit ? ` on ${baseLimit} images` : ''}: test accuracy ${pct(b.accuracy)} on ${b.examples} images, ${b.seconds.toFixed(0)} s.`);
console.log(
  `Classes 5-9, ${epochs} epochs at lr ${lr}, the ${engine} engine; test accuracy on ${results.values().next().value.examples} test images, ` +
    `mean over seeds ${seeds.join(', ')}${seeds.length > 1 ? ' (min–max)' : ''}, and training time per run:\n`,
);
console.log(`| training images | ${VARIANTS.map((v) => v[1]).join(' | ')} |`);
console.log(`|---|${VARIANTS.map(() => '---').join('|')}|`);
for (const size of sizes) console.log(`| ${size} | ${VARIANTS.map(([key]) => cell(size, key)).join(' | ')} |`);
console.log(`\nfrozen convolutions identical to the base's, bit for bit: ${frozenSame ? 'yes' : 'NO'}`);
if (!frozenSame) process.exitCode = 1;
