// The tfjs back end: time to build the tfjs model of each shipped network
// (seeded weights included), and forward-pass throughput of compiled models
// against the same architectures written by hand with tf.layers, measured in
// the same run, interleaved, reported as a ratio (compiled / hand; 1.0 = no
// overhead). BACKEND=gpu|node|cpu|auto picks the tfjs (default auto).
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile } from '../dist/compile.js';
import { loadTf, toTfjs } from '../dist/emit/tfjs/index.js';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const { tf, name, backend } = await loadTf({ backend: process.env.BACKEND ?? 'auto' });
console.log(`tfjs: ${name} (backend ${backend}); load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} on ${os.cpus().length} cores`);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (t) => Number(process.hrtime.bigint() - t) / 1e6;

function networks() {
  const out = [];
  for (const f of readdirSync(path.join(root, 'specs')).filter((x) => x.endsWith('.net')).sort()) {
    const r = compile(readFileSync(path.join(root, 'specs', f), 'utf8'), { all: true });
    out.push(...r.networks);
  }
  return out;
}
const all = networks();
const byName = (n) => all.find((x) => x.name === n);

console.log('\nbuild the tfjs model (seeded weights, ms; median of 3, 1 for >50M parameters)');
for (const n of all) {
  const reps = n.totalParams > 50e6 ? 1 : 3;
  const ts = [];
  for (let i = 0; i < reps; i++) {
    const t = process.hrtime.bigint();
    const m = toTfjs(tf, n, { seed: 1 });
    ts.push(ms(t));
    m.dispose();
    globalThis.gc?.();
  }
  console.log(`  ${n.name.padEnd(20)} ${median(ts).toFixed(0).padStart(7)} ms  (${(n.totalParams / 1e6).toFixed(1)}M parameters)`);
}

// ---- the same architectures by hand, the way a tfjs user writes them ----
const L = tf.layers;
function handLeNet5() {
  return tf.sequential({
    layers: [
      L.conv2d({ inputShape: [32, 32, 1], filters: 6, kernelSize: 5, activation: 'tanh' }),
      L.averagePooling2d({ poolSize: 2 }),
      L.conv2d({ filters: 16, kernelSize: 5, activation: 'tanh' }),
      L.averagePooling2d({ poolSize: 2 }),
      L.conv2d({ filters: 120, kernelSize: 5, activation: 'tanh' }),
      L.flatten(),
      L.dense({ units: 84, activation: 'tanh' }),
      L.dense({ units: 10, activation: 'softmax' }),
    ],
  });
}
function handAlexNetTorchvision() {
  return tf.sequential({
    layers: [
      L.zeroPadding2d({ inputShape: [224, 224, 3], padding: 2 }),
      L.conv2d({ filters: 64, kernelSize: 11, strides: 4, activation: 'relu' }),
      L.maxPooling2d({ poolSize: 3, strides: 2 }),
      L.conv2d({ filters: 192, kernelSize: 5, padding: 'same', activation: 'relu' }),
      L.maxPooling2d({ poolSize: 3, strides: 2 }),
      L.conv2d({ filters: 384, kernelSize: 3, padding: 'same', activation: 'relu' }),
      L.conv2d({ filters: 256, kernelSize: 3, padding: 'same', activation: 'relu' }),
      L.conv2d({ filters: 256, kernelSize: 3, padding: 'same', activation: 'relu' }),
      L.maxPooling2d({ poolSize: 3, strides: 2 }),
      L.flatten(),
      L.dropout({ rate: 0.5 }),
      L.dense({ units: 4096, activation: 'relu' }),
      L.dropout({ rate: 0.5 }),
      L.dense({ units: 4096, activation: 'relu' }),
      L.dense({ units: 1000 }),
    ],
  });
}

/** Interleave compiled and hand-written runs (ABBA) so drift (thermal, other processes) hits both alike. */
function throughput(label, compiled, hand, shape, reps) {
  const x = tf.randomUniform(shape);
  const run = (m) => {
    const t = process.hrtime.bigint();
    const y = m.predict(x);
    y.dataSync();
    y.dispose();
    return ms(t);
  };
  run(compiled);
  run(hand); // warm-up: kernel setup, first allocation
  const a = [];
  const b = [];
  for (let i = 0; i < reps; i++) {
    if (i % 2 === 0) {
      a.push(run(compiled));
      b.push(run(hand));
    } else {
      b.push(run(hand));
      a.push(run(compiled));
    }
  }
  x.dispose();
  const batch = shape[0];
  const ca = (batch / median(a)) * 1000;
  const hb = (batch / median(b)) * 1000;
  console.log(
    `  ${label.padEnd(20)} compiled ${ca.toFixed(1).padStart(8)} img/s   by hand ${hb.toFixed(1).padStart(8)} img/s   ratio ${(ca / hb).toFixed(3)}   (batch ${batch}, median of ${reps})`,
  );
}

console.log('\nforward pass throughput, compiled vs written by hand with tf.layers (same run)');
for (const [netName, hand, batch, reps] of [
  ['LeNet5', handLeNet5, 128, 20],
  ['AlexNetTorchvision', handAlexNetTorchvision, 1, 8],
]) {
  const n = byName(netName);
  const compiled = toTfjs(tf, n, { seed: 1 });
  const h = hand();
  throughput(netName, compiled, h, [batch, ...h.inputs[0].shape.slice(1)], reps);
  compiled.dispose();
  h.dispose();
}

// the paper's AlexNet (LRN, two towers as groups) has no stock tf.layers equivalent to compare with
{
  const n = byName('AlexNet');
  const m = toTfjs(tf, n, { seed: 1 });
  const x = tf.randomUniform([2, 227, 227, 3]);
  m.predict(x).dispose();
  const ts = [];
  for (let i = 0; i < 3; i++) {
    const t = process.hrtime.bigint();
    const y = m.predict(x);
    y.dataSync();
    y.dispose();
    ts.push(ms(t));
  }
  console.log(`  ${'AlexNet (paper)'.padEnd(20)} compiled ${((2 / median(ts)) * 1000).toFixed(1).padStart(8)} img/s   (no stock tf.layers equivalent: LRN, groups)`);
  x.dispose();
  m.dispose();
}
