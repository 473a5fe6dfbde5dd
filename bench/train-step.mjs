// One network's training step on pure tfjs, as a server for bench/train-kernels.mjs:
// the model is built from a shipped spec through toTfjs on loadTf({ backend: 'cpu' })
// (what a user gets: the fast kernels installed), trained like `alexnetc train` does
// (softmax cross-entropy on the logits, tfjs's optimizer), on one random batch.
// stdin, one JSON line each: {"run": seconds, "min": steps} → {"images": n, "wall": s, "cpu": s}
//                            {"rss": true} → {"maxRss": bytes, "heapPeak": bytes}
// By default the step is what `alexnetc train` runs: the compiled step
// (src/train/compiled) when every layer has a kernel there, else tfjs;
// `--tfjs` forces the tfjs path. The ready line says which ran.
// argv: spec-file network batch optimizer [--stock] [--tfjs]
import * as fs from 'node:fs';
import { createInterface } from 'node:readline';
import { compile } from '../dist/compile.js';
import { loadTf, toTfjs } from '../dist/emit/tfjs/index.js';
import { kernelMemory } from '../dist/kernels/index.js';
import { compiledTrainingSupport, createCompiledTraining } from '../dist/train/compiled/index.js';

const [file, name, batchArg, optimizer] = process.argv.slice(2);
const stock = process.argv.includes('--stock');
const forceTfjs = process.argv.includes('--tfjs') || stock;
const B = Number(batchArg);
const { tf } = await loadTf({ backend: 'cpu', fastKernels: !stock });
const r = compile(fs.readFileSync(file, 'utf8'), { network: name });
if (!r.network) throw new Error(`${file} ${name}: ${r.diagnostics.map((d) => d.message).join('; ')}`);
const net = r.network;
const model = toTfjs(tf, net, { seed: 0 });
const out = model.outputs[0];
const logits = out.sourceLayer.getClassName() === 'Softmax' ? tf.model({ inputs: model.inputs, outputs: out.sourceLayer.input }) : model;
const vars = logits.trainableWeights.map((w) => w.read());
// lr 1e-4 for SGD: the ImageNet networks without batch norm diverge at 1e-2 on one random batch (NaNs would time something else)
const opt = optimizer === 'adam' ? tf.train.adam(1e-3) : tf.train.momentum(1e-4, 0.9);
const [c, h, w] = net.input;
const classes = net.output[0];
const x = tf.randomNormal([B, h, w, c], 0, 1, 'float32', 1);
const y = tf.oneHot(tf.randomUniform([B], 0, classes, 'int32', 2), classes);

const why = forceTfjs ? 'asked for the tfjs path' : compiledTrainingSupport(net);
let compiled;
if (why === null) {
  compiled = createCompiledTraining(net, { optimizer, lr: optimizer === 'adam' ? 1e-3 : 1e-4, momentum: 0.9, beta1: 0.9, beta2: 0.999, weightDecay: 0, seed: 0 },
    new Map(model.weights.map((w) => [w.originalName, w.read().dataSync()])));
  model.dispose();
}
const xs = compiled ? x.dataSync() : undefined;
const labels = compiled ? Int32Array.from(y.argMax(1).dataSync()) : undefined;

function step() {
  if (compiled) {
    if (!Number.isFinite(compiled.step(xs, labels, B).loss)) throw new Error('loss is not finite');
    return;
  }
  tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, logits.apply(x, { training: true })), vars);
    if (!Number.isFinite(value.dataSync()[0])) throw new Error('loss is not finite');
    opt.applyGradients(grads);
  });
}

step(); // warm-up: JIT, heap, workers
const say = (o) => process.stdout.write(JSON.stringify(o) + '\n');
say({ ready: true, path: compiled ? 'compiled' : `tfjs (${why})` });
for await (const line of createInterface({ input: process.stdin })) {
  const q = JSON.parse(line);
  if (q.run !== undefined) {
    let n = 0;
    const t0 = performance.now(), c0 = process.cpuUsage();
    while (n < q.min || performance.now() - t0 < q.run * 1000) { step(); n++; }
    const cu = process.cpuUsage(c0);
    say({ images: n * B, wall: (performance.now() - t0) / 1000, cpu: (cu.user + cu.system) / 1e6 });
  } else if (q.rss) {
    say({ maxRss: process.resourceUsage().maxRSS * 1024, heapPeak: kernelMemory()?.peakBytes ?? 0 });
  }
}
