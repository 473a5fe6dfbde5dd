// Parse + check time per shipped spec and for generated networks of growing
// size (time per stage should stay flat: linear growth), and ONNX export time
// of AlexNet and VGG-16 beside torch.onnx.export of the same models, same run.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile } from '../dist/compile.js';
import { writeOnnx } from '../dist/emit/onnx/index.js';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time(fn, reps) {
  const ts = [];
  for (let i = 0; i < reps; i++) {
    const t = process.hrtime.bigint();
    fn();
    ts.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return median(ts);
}

console.log('parse + check (median of 20, ms)');
for (const f of readdirSync(path.join(root, 'specs')).filter((x) => x.endsWith('.net')).sort()) {
  const text = readFileSync(path.join(root, 'specs', f), 'utf8');
  compile(text, { all: true });
  console.log(`  ${f.padEnd(16)} ${time(() => compile(text, { all: true }), 20).toFixed(2).padStart(8)} ms`);
}

function generated(stages) {
  const lines = ['network Big {', '  input [8, 32, 32]'];
  for (let i = 0; i < stages; i++) lines.push(i % 2 ? '  relu' : '  conv(8, 3, pad 1)');
  lines.push('}');
  return lines.join('\n');
}
console.log('\ngenerated networks: time per stage should not grow (linear total time)');
let base;
for (const n of [1000, 2500, 5000, 10000]) {
  const text = generated(n);
  compile(text);
  const ms = time(() => compile(text), 5);
  const perStage = (ms * 1000) / n;
  base ??= perStage;
  console.log(`  ${String(n).padStart(6)} stages ${ms.toFixed(1).padStart(8)} ms  ${perStage.toFixed(2)} µs/stage  (×${(perStage / base).toFixed(2)} of 1000-stage cost per stage)`);
}

console.log('\nONNX export, alexnetc vs torch.onnx.export (same machine, same run)');
const dir = mkdtempSync(path.join(os.tmpdir(), 'alexnetc-bench-'));
const torchScript = `
import sys, time, torch, torchvision
torch.set_num_threads(2)
name, out = sys.argv[1], sys.argv[2]
m = {'alexnet': torchvision.models.alexnet, 'vgg16': torchvision.models.vgg16}[name]().eval()
x = torch.randn(1, 3, 224, 224)
t = time.perf_counter()
torch.onnx.export(m, (x,), out, opset_version=17, input_names=['input'], output_names=['output'], dynamic_axes={'input': {0: 'N'}, 'output': {0: 'N'}})
print(time.perf_counter() - t)
`;
for (const [file, net, torchName] of [
  ['alexnet.net', 'AlexNetTorchvision', 'alexnet'],
  ['vgg.net', 'VGG16', 'vgg16'],
]) {
  const network = compile(readFileSync(path.join(root, 'specs', file), 'utf8'), { network: net }).network;
  const out = path.join(dir, `${net}.onnx`);
  const ours = time(() => writeOnnx(network, out, { seed: 0 }), 3);
  const size = statSync(out).size;
  let theirs;
  try {
    theirs = median([0, 1, 2].map(() => Number(execFileSync('/usr/bin/python3', ['-c', torchScript, torchName, path.join(dir, `${torchName}.onnx`)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n').pop()) * 1000));
  } catch {
    theirs = undefined;
  }
  console.log(
    `  ${net.padEnd(20)} alexnetc ${ours.toFixed(0).padStart(6)} ms (${(size / 2 ** 20).toFixed(0)} MiB)` +
      (theirs ? `   torch.onnx.export ${theirs.toFixed(0).padStart(6)} ms   ratio alexnetc/torch ${(ours / theirs).toFixed(2)}` : '   torch.onnx.export: PyTorch not installed (apt-get install python3-torch python3-torchvision)'),
  );
}
rmSync(dir, { recursive: true, force: true });
