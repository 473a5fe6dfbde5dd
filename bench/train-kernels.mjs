// LeNet-5 training throughput on tfjs' pure-JS cpu backend, stock kernels vs
// installFastKernels, against PyTorch CPU measured in the same run. The fast
// kernels and PyTorch take turns (--rounds of --seconds each) so that load
// from other processes hits both alike; medians are reported. Images per
// CPU-second (process CPU time, all threads) are printed too: on a loaded
// machine they move far less than wall-clock rates, though PyTorch's count
// includes its threads' spin-waiting. PyTorch also runs with 1 thread: with 2
// threads on a 2-core machine that other processes load, each of its many
// small parallel regions waits for a descheduled thread (measured here: 176
// images/s with 2 threads against 12,600 with 1 under a load average of ~3),
// so the ratio against the faster PyTorch configuration is printed as well.
// Usage: npx tsc -p . && node bench/train-kernels.mjs [--batch 64] [--seconds 3] [--rounds 5]
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import * as tf from '@tensorflow/tfjs';
import { installFastKernels, uninstallFastKernels } from '../dist/train/kernels/index.js';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const BATCH = arg('batch', 64);
const SECONDS = arg('seconds', 3);
const ROUNDS = arg('rounds', 5);
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

/** A model with data, warmed up; run(seconds, minSteps) gives images/s, wall and per CPU-second. */
async function trainer() {
  const model = lenet5();
  const x = tf.randomNormal([BATCH, 32, 32, 1]);
  const y = tf.oneHot(tf.randomUniform([BATCH], 0, 10, 'int32'), 10);
  await model.trainOnBatch(x, y); // warm-up: JIT and buffer allocation
  return {
    async run(seconds, minSteps) {
      let steps = 0;
      const t0 = performance.now(), c0 = process.cpuUsage();
      while (steps < minSteps || performance.now() - t0 < seconds * 1000) {
        await model.trainOnBatch(x, y);
        steps++;
      }
      const c = process.cpuUsage(c0);
      return {
        wall: (steps * BATCH) / ((performance.now() - t0) / 1000),
        cpu: (steps * BATCH) / ((c.user + c.system) / 1e6),
      };
    },
    dispose() { tf.dispose([x, y]); model.dispose(); },
  };
}

// PyTorch runs as a server: one line in (seconds), one line out (images/s),
// so its import and warm-up happen once and rounds interleave with ours.
const torchScript = (threads) => `
import sys, time, torch, torch.nn as nn
torch.set_num_threads(${threads}); torch.manual_seed(0)
B = ${BATCH}
m = nn.Sequential(nn.Conv2d(1,6,5), nn.Tanh(), nn.AvgPool2d(2), nn.Conv2d(6,16,5), nn.Tanh(), nn.AvgPool2d(2),
    nn.Conv2d(16,120,5), nn.Tanh(), nn.Flatten(), nn.Linear(120,84), nn.Tanh(), nn.Linear(84,10))
opt = torch.optim.SGD(m.parameters(), lr=0.01); lossf = nn.CrossEntropyLoss()
x = torch.randn(B,1,32,32); y = torch.randint(0,10,(B,))
def step():
    opt.zero_grad(); l = lossf(m(x), y); l.backward(); opt.step()
for _ in range(20): step()
print('ready', flush=True)
for line in sys.stdin:
    secs = float(line)
    n, t, c = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - t < secs: step(); n += 1
    print(n * B / (time.perf_counter() - t), n * B / (time.process_time() - c), flush=True)
`;

async function torchServer(threads) {
  const proc = spawn('/usr/bin/python3', ['-c', torchScript(threads)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const r = await lines.next();
    if (r.done) throw new Error(stderr.trim().split('\n').pop() || 'python exited');
    return r.value;
  };
  try {
    await new Promise((resolve, reject) => { proc.once('spawn', resolve); proc.once('error', reject); });
    if ((await next()) !== 'ready') throw new Error('unexpected output');
  } catch (e) {
    console.log(`PyTorch not measured: ${e.message}`);
    proc.kill();
    return undefined;
  }
  return {
    async run(seconds) {
      proc.stdin.write(`${seconds}\n`);
      const [wall, cpu] = (await next()).split(' ').map(Number);
      return { wall, cpu };
    },
    close() { proc.stdin.end(); },
  };
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const h = s.length >> 1; return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2; };
const fmt = (xs) => xs.map((v) => v.toFixed(0)).join(', ');

await tf.setBackend('cpu');
console.log(`LeNet-5 training, batch ${BATCH}, tfjs ${tf.version.tfjs} cpu backend, PyTorch with ${THREADS} threads`);
console.log(`${ROUNDS} interleaved rounds of ${SECONDS} s each; medians`);

uninstallFastKernels(tf);
const slow = await trainer();
const stockRun = await slow.run(Math.min(SECONDS, 3), 2); // seconds a step: one round is enough
slow.dispose();
const stock = stockRun.wall;
console.log(`tfjs stock kernels : ${stock.toFixed(1)} images/s   (${stockRun.cpu.toFixed(1)} per CPU-second)`);

installFastKernels(tf);
const fastT = await trainer();
const torch = await torchServer(THREADS);
const torch1 = torch === undefined ? undefined : await torchServer(1);
const fast = [], pt = [], pt1 = [];
for (let r = 0; r < ROUNDS; r++) {
  fast.push(await fastT.run(SECONDS, 5));
  if (torch !== undefined) pt.push(await torch.run(SECONDS));
  if (torch1 !== undefined) pt1.push(await torch1.run(SECONDS));
}
fastT.dispose();
torch?.close();
torch1?.close();
const wall = (rs) => rs.map((r) => r.wall), cpu = (rs) => rs.map((r) => r.cpu);
const f = median(wall(fast)), fc = median(cpu(fast));
console.log(`tfjs fast kernels  : ${f.toFixed(1)} images/s  (${(f / stock).toFixed(1)}x stock)   rounds: ${fmt(wall(fast))}`);
console.log(`                     ${fc.toFixed(1)} per CPU-second`);
if (pt.length > 0) {
  const p = median(wall(pt)), pc = median(cpu(pt));
  console.log(`PyTorch CPU        : ${p.toFixed(1)} images/s   rounds: ${fmt(wall(pt))}`);
  console.log(`                     ${pc.toFixed(1)} per CPU-second`);
  const ratios = fast.map((r, i) => r.wall / pt[i].wall);
  console.log(`ratio fast/PyTorch : ${(f / p).toFixed(3)} (median of per-round ratios ${median(ratios).toFixed(3)})   stock/PyTorch: ${(stock / p).toFixed(4)}`);
  console.log(`  per CPU-second   : ${(fc / pc).toFixed(3)}`);
  if (pt1.length > 0) {
    const p1 = median(wall(pt1));
    console.log(`PyTorch, 1 thread  : ${p1.toFixed(1)} images/s   rounds: ${fmt(wall(pt1))}`);
    const best = Math.max(p, p1);
    console.log(`ratio fast/best PyTorch (${best === p ? THREADS : 1} thread${best === p && THREADS > 1 ? 's' : ''}): ${(f / best).toFixed(3)}`);
  }
}
