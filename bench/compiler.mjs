// Parse + check time per shipped spec and for generated networks of growing
// size (time per stage should stay flat: linear growth), `alexnetc check`'s
// whole process beside a bare `node -e 0` (the cold start), and ONNX export
// time of AlexNet and VGG-16 beside torch.onnx.export of the same models, same run.
//   node --expose-gc bench/compiler.mjs [--quick]   (--quick: no ONNX export)
import { execFileSync, spawnSync } from 'node:child_process';
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
    // each run starts from a collected heap: one run's garbage is not the next one's pause
    globalThis.gc?.();
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
console.log('\ngenerated networks (median of 7): time per stage should not grow (linear total time)');
console.log(`  ${'stages'.padStart(6)} ${'parse+check'.padStart(12)} ${'per stage'.padStart(12)}   vs 1,000 stages`);
let base;
for (const n of [1000, 2500, 5000, 10000]) {
  const text = generated(n);
  compile(text);
  const ms = time(() => compile(text), 7);
  const perStage = (ms * 1000) / n;
  base ??= perStage;
  console.log(`  ${String(n).padStart(6)} ${ms.toFixed(1).padStart(9)} ms ${perStage.toFixed(2).padStart(7)} µs/stage   ×${(perStage / base).toFixed(2)}`);
}

// the cold start: fresh processes, alternated so that the machine's load falls on both alike
const bin = path.join(root, 'bin', 'alexnetc.js');
const lenet = path.join(root, 'specs', 'lenet5.net');
const wall = (args) => {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t) / 1e6;
};
const bare = [];
const check = [];
const unbundled = [];
for (let i = 0; i < 15; i++) {
  bare.push(wall(['-e', '0']));
  check.push(wall([bin, 'check', lenet]));
  unbundled.push(wall(['--input-type=module', '-e', `import { main } from './dist/cli/main.js'; process.exitCode = await main(['check', ${JSON.stringify(lenet)}]);`]));
}
const [b, c, u] = [median(bare), median(check), median(unbundled)];
console.log(`\ncold start, whole process (medians of 15, alternated; ${process.version}, load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} CPUs)`);
console.log(`  node -e 0                                    ${b.toFixed(0).padStart(5)} ms`);
console.log(`  alexnetc check specs/lenet5.net              ${c.toFixed(0).padStart(5)} ms   (+${(c - b).toFixed(0)} ms over bare Node)`);
console.log(`  the same from dist/ unbundled (no bundle)    ${u.toFixed(0).padStart(5)} ms   (+${(u - b).toFixed(0)} ms)`);

if (process.argv.includes('--quick')) process.exit(0);
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
