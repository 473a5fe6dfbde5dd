// LeNet-5 training throughput on tfjs' pure-JS cpu backend, stock kernels vs
// installFastKernels, against PyTorch CPU measured in the same run.
// Usage: npx tsc -p . && node bench/train-kernels.mjs [--batch 64] [--seconds 5]
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { installFastKernels, uninstallFastKernels } from '../dist/train/kernels/index.js';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const BATCH = arg('batch', 64);
const SECONDS = arg('seconds', 5);
const THREADS = 2;

function lenet5() {
  const m = tf.sequential();
  m.add(tf.layers.conv2d({ inputShape: [32, 32, 1], filters: 6, kernelSize: 5, activation: 'tanh' }));
  m.add(tf.layers.averagePooling2d({ poolSize: 2 }));
  m.add(tf.layers.conv2d({ filters: 16, kernelSize: 5, activation: 'tanh' }));
  m.add(tf.layers.averagePooling2d({ poolSize: 2 }));
  m.add(tf.layers.conv2d({ filters: 120, kernelSize: 5, activation: 'tanh' }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 84, activation: 'tanh' }));
  m.add(tf.layers.dense({ units: 10, activation: 'softmax' }));
  m.compile({ optimizer: tf.train.sgd(0.01), loss: 'categoricalCrossentropy' });
  return m;
}

/** images/s of trainOnBatch, after warm-up, for at least `seconds` (and minSteps). */
async function measure(seconds, minSteps) {
  const model = lenet5();
  const x = tf.randomNormal([BATCH, 32, 32, 1]);
  const y = tf.oneHot(tf.randomUniform([BATCH], 0, 10, 'int32'), 10);
  await model.trainOnBatch(x, y); // warm-up: JIT and buffer allocation
  let steps = 0;
  const t0 = performance.now();
  while (steps < minSteps || performance.now() - t0 < seconds * 1000) {
    await model.trainOnBatch(x, y);
    steps++;
  }
  const dt = (performance.now() - t0) / 1000;
  tf.dispose([x, y]);
  model.dispose();
  return (steps * BATCH) / dt;
}

const TORCH = `
import sys, time, torch, torch.nn as nn
torch.set_num_threads(${THREADS}); torch.manual_seed(0)
B, secs = ${BATCH}, ${SECONDS}
m = nn.Sequential(nn.Conv2d(1,6,5), nn.Tanh(), nn.AvgPool2d(2), nn.Conv2d(6,16,5), nn.Tanh(), nn.AvgPool2d(2),
    nn.Conv2d(16,120,5), nn.Tanh(), nn.Flatten(), nn.Linear(120,84), nn.Tanh(), nn.Linear(84,10))
opt = torch.optim.SGD(m.parameters(), lr=0.01); lossf = nn.CrossEntropyLoss()
x = torch.randn(B,1,32,32); y = torch.randint(0,10,(B,))
def step():
    opt.zero_grad(); l = lossf(m(x), y); l.backward(); opt.step()
for _ in range(20): step()
n, t = 0, time.perf_counter()
while time.perf_counter() - t < secs: step(); n += 1
print(n * B / (time.perf_counter() - t))
`;

function torchImagesPerSec() {
  const r = spawnSync('/usr/bin/python3', ['-c', TORCH], { encoding: 'utf8' });
  if (r.status !== 0) {
    console.log(`PyTorch not measured: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`);
    return undefined;
  }
  return Number(r.stdout.trim());
}

await tf.setBackend('cpu');
console.log(`LeNet-5 training, batch ${BATCH}, tfjs ${tf.version.tfjs} cpu backend, PyTorch with ${THREADS} threads`);
uninstallFastKernels(tf);
const stock = await measure(Math.min(SECONDS, 3), 2);
console.log(`tfjs stock kernels : ${stock.toFixed(1)} images/s`);
installFastKernels(tf);
const fast = await measure(SECONDS, 5);
console.log(`tfjs fast kernels  : ${fast.toFixed(1)} images/s  (${(fast / stock).toFixed(1)}x stock)`);
const torch = torchImagesPerSec();
if (torch !== undefined) {
  console.log(`PyTorch CPU        : ${torch.toFixed(1)} images/s`);
  console.log(`ratio fast/PyTorch : ${(fast / torch).toFixed(3)}   stock/PyTorch: ${(stock / torch).toFixed(4)}`);
}
