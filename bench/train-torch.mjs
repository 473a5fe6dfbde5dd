// Training throughput of the two engines of `alexnetc train`, through the
// engine interface the training loop uses (TrainEngine.step): the tfjs engine
// (in this process; pure-JS cpu backend with alexnetc's fast kernels, or
// tfjs-node where installed) against the torch engine (PyTorch in a worker
// process, batches over its socket) for the shipped networks. Synthetic
// batches (the data pipeline is the loop's, the same for both), SGD, the
// same threads for both. The engines take turns (--rounds of at least
// --seconds and one step each) so load from other processes hits both alike;
// medians are reported, and the ratio torch/tfjs per round.
// Usage: npx tsc -p . && node bench/train-torch.mjs [--networks lenet5,alexnet] [--seconds 2] [--rounds 3] [--threads N]
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile } from '../dist/compile.js';
import { ENGINES } from '../dist/train/engine.js';
import { resolveSettings } from '../dist/train/config.js';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const SECONDS = Number(arg('seconds', 2));
const ROUNDS = Number(arg('rounds', 3));
if (arg('threads')) process.env.ALEXNETC_THREADS = arg('threads');

/** The shipped networks: [key, file, network, --set, batch]. The large ones train on small batches here: one step is seconds on a CPU. */
const NETWORKS = [
  ['lenet5', 'specs/lenet5.net', 'LeNet5', { size: '28' }, 64],
  ['alexnet', 'specs/alexnet.net', 'AlexNet', { classes: '10' }, 4],
  ['resnet18', 'specs/resnet.net', 'ResNet18', { classes: '10' }, 4],
  ['googlenet', 'specs/googlenet.net', 'GoogLeNet', { classes: '10' }, 4],
  ['vgg11', 'specs/vgg.net', 'VGG11', { classes: '10' }, 2],
];
const wanted = (arg('networks', NETWORKS.map((n) => n[0]).join(','))).split(',');

const hasTorch = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
if (!hasTorch) {
  console.log('skipped: /usr/bin/python3 has no PyTorch (apt-get install python3-torch)');
  process.exit(0);
}

/** images/s with 3 significant digits (0.147, 21.7, 4810) */
const rate = (v) => (v >= 100 ? v.toFixed(0) : v.toPrecision(3)).padStart(7);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const h = s.length >> 1; return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2; };

function batch(network, n, layout) {
  const [c, h, w] = network.input;
  const x = new Float32Array(n * network.input.reduce((a, b) => a * b, 1));
  let s = 1;
  for (let i = 0; i < x.length; i++) x[i] = ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const labels = Int32Array.from({ length: n }, (_, i) => i % network.output[0]);
  const shape = network.input.length === 1 ? [n, c] : layout === 'NCHW' ? [n, c, h, w] : [n, h, w, c];
  return { x, labels, count: n, shape };
}

/** Steps for at least `seconds` (and one step): images per second. */
async function run(engine, b, seconds) {
  let steps = 0;
  const t0 = performance.now();
  while (steps < 1 || performance.now() - t0 < seconds * 1000) {
    await engine.step(b, 0.001, { epoch: 0, step: steps });
    steps++;
  }
  return (steps * b.count) / ((performance.now() - t0) / 1000);
}

console.log(`training throughput through TrainEngine.step, SGD, synthetic data; ${ROUNDS} interleaved rounds of ≥ ${SECONDS} s; medians`);
console.log(`threads: ${process.env.ALEXNETC_THREADS ?? 'all cores'} for each engine`);
const rows = [];
for (const [key, file, name, set, batchSize] of NETWORKS) {
  if (!wanted.includes(key)) continue;
  const abs = path.join(root, file);
  const network = compile(readFileSync(abs, 'utf8'), { network: name, set }).network;
  const settings = { ...resolveSettings(network.train, { optimizer: 'sgd', lr: '0.001', batch: String(batchSize) }), augment: { crop: 0, flip: false } };
  const setup = {
    network,
    settings,
    classes: Array.from({ length: network.output[0] }, (_, i) => `c${i}`),
    normalization: { mean: [0], std: [1], scale: 1 },
    source: { file: abs, network: name, set, data: '(synthetic)' },
    backend: 'auto',
    say: () => {},
  };
  const tfjs = await (await ENGINES.tfjs()).create(setup);
  const torch = await (await ENGINES.torch()).create({ ...setup, options: { device: 'cpu' } });
  const bt = batch(network, batchSize, tfjs.layout), bp = batch(network, batchSize, torch.layout);
  // warm-up: JIT, allocations, PyTorch's first-call costs
  await run(tfjs, bt, 0);
  await run(torch, bp, 0);
  const a = [], b = [];
  for (let r = 0; r < ROUNDS; r++) {
    a.push(await run(tfjs, bt, SECONDS));
    b.push(await run(torch, bp, SECONDS));
  }
  const ratio = median(b.map((v, i) => v / a[i]));
  rows.push({ key, batchSize, tfjs: median(a), torch: median(b), ratio, tfjsName: tfjs.description, torchName: torch.description });
  console.log(`${name.padEnd(10)} batch ${String(batchSize).padStart(2)}: tfjs ${rate(median(a))} images/s   torch ${rate(median(b))} images/s   torch/tfjs ${ratio.toFixed(2)}`);
  await tfjs.dispose();
  await torch.dispose();
}
if (rows.length) {
  console.log(`tfjs engine : ${rows[0].tfjsName}`);
  console.log(`torch engine: ${rows[0].torchName}`);
}
