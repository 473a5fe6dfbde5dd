// Training throughput of the shipped networks and two held-out ones
// (bench/heldout.net: the seed tutorial's Keras LeNet, a CIFAR-style CNN) as
// `alexnetc train` runs them on pure tfjs's cpu backend — the compiled step
// where every layer has a kernel (src/train/compiled), else tfjs with
// alexnetc's fast kernels; the table says which — against PyTorch
// CPU training of the same architecture on the same random batch, measured in
// one run. Each network runs in its own processes (one tfjs, one PyTorch with
// 1 thread, one with all threads), which take turns round by round so that
// load from other processes hits all alike; medians are reported, and the
// ratio is taken against the faster PyTorch configuration (on a loaded 2-core
// machine two threads often lose to one). Peak memory is each process's
// maximum resident set after its rounds. Last, the whole command a user runs:
// `alexnetc train specs/cnn.net` for one epoch on Fashion-MNIST, beside the
// same command on the torch engine (the same data loading and batches, the
// step in PyTorch), with the test accuracy of both. PyTorch's BLAS is printed;
// against Debian's reference BLAS (which halves PyTorch's dense layers, and
// which no pip wheel carries) no ratio is printed.
//
// Usage: npx tsc -p . && node bench/train-kernels.mjs [--quick] [--rounds N] [--seconds S]
//        [--only LeNet5,CNN,…] [--threads N] [--stock] [--no-train]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const argv = process.argv.slice(2);
const flag = (n) => argv.includes(`--${n}`);
const opt = (n, d) => { const i = argv.indexOf(`--${n}`); return i >= 0 ? argv[i + 1] : d; };
const quick = flag('quick');
const ROUNDS = Number(opt('rounds', quick ? 3 : 5));
const SECONDS = Number(opt('seconds', quick ? 1 : 3));
const CORES = availableParallelism();
const THREADS = Number(opt('threads', process.env.ALEXNETC_THREADS ?? CORES));
const only = opt('only', '').split(',').filter(Boolean);
const FASHION = '/usr/share/datasets/fashion-mnist';

const HELD_OUT = path.join(here, 'heldout.net');
const NETWORKS = [
  { spec: 'lenet5', name: 'LeNet5', batch: 64, optimizer: 'adam', goal: 1 },
  { spec: 'cnn', name: 'CNN', batch: 64, optimizer: 'adam', goal: 1 },
  { file: HELD_OUT, name: 'KerasLeNet', batch: 64, optimizer: 'adam', goal: 1, heldOut: true },
  { file: HELD_OUT, name: 'CifarCNN', batch: 64, optimizer: 'adam', goal: 1, heldOut: true },
  { spec: 'alexnet', name: 'AlexNetTorchvision', batch: 16, optimizer: 'momentum', goal: 1 },
  { spec: 'vgg', name: 'VGG11', batch: 8, optimizer: 'momentum', goal: 1 },
  { spec: 'resnet', name: 'ResNet18', batch: 8, optimizer: 'momentum', goal: 1 },
  { spec: 'googlenet', name: 'GoogLeNet', batch: 8, optimizer: 'momentum', goal: 1 },
  // today's networks (issues 19 and 20): goal half of PyTorch's speed
  { spec: 'mobilenet', name: 'MobileNetV2', batch: 16, optimizer: 'momentum', goal: 0.5 },
  { spec: 'efficientnet', name: 'EfficientNetB0', batch: 8, optimizer: 'momentum', goal: 0.5 },
  { spec: 'convnext', name: 'ConvNeXtTiny', batch: 4, optimizer: 'momentum', goal: 0.5 },
  { spec: 'vit', name: 'ViT_B_32', batch: 4, optimizer: 'momentum', goal: 0.5 },
  { spec: 'vit', name: 'ViT_Tiny28', batch: 64, optimizer: 'adam', goal: 0.5 },
].filter((n) => only.length === 0 || only.includes(n.name));

/** A line-protocol server process: send(obj) → the next JSON line it prints. */
async function server(label, cmd, args, env = {}) {
  const proc = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], cwd: root, env: { ...process.env, ...env } });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    for (;;) {
      const r = await lines.next();
      if (r.done) {
        // the error's own line and the frames under it, not only the last frames
        const lines = stderr.trim().split('\n').filter((l) => l.trim() && !l.includes('node:internal'));
        const at = lines.findIndex((l) => /Error|error:/.test(l));
        throw new Error(`${label} exited: ${(at >= 0 ? lines.slice(at, at + 8) : lines.slice(-6)).join(' | ') || 'no output'}`);
      }
      if (r.value.startsWith('{')) return JSON.parse(r.value);
    }
  };
  let ready;
  try {
    await new Promise((resolve, reject) => { proc.once('spawn', resolve); proc.once('error', reject); });
    ready = await next();
  } catch (e) {
    proc.kill();
    console.log(`  ${label} not measured: ${e.message}`);
    return undefined;
  }
  return {
    label,
    ready,
    async ask(q) { proc.stdin.write(JSON.stringify(q) + '\n'); return next(); },
    close() { proc.stdin.end(); proc.kill(); },
  };
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const h = s.length >> 1; return s.length === 0 ? NaN : s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2; };
const mb = (b) => (b === undefined ? '—' : `${(b / 2 ** 20).toFixed(0)} MB`);
const num = (v, d = 1) => (Number.isFinite(v) ? v.toFixed(v >= 100 ? 0 : d) : '—');

console.log(`Training throughput, alexnetc on pure tfjs's cpu backend (the compiled step where it applies, else tfjs with ${flag('stock') ? 'its STOCK kernels' : 'the fast kernels'}; ${THREADS} threads) vs PyTorch CPU`);
const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');
console.log(`${CORES} cores (load average ${load()}); ${ROUNDS} interleaved rounds of ≥ ${SECONDS} s (and ≥ 1 step) per configuration; medians of images/s`);

const rows = [];
let torchInfo;
for (const n of NETWORKS) {
  console.log(`\n${n.name} (batch ${n.batch}, ${n.optimizer}):`);
  const tfjs = await server('tfjs', process.execPath,
    [path.join(here, 'train-step.mjs'), n.file ?? path.join(root, 'specs', `${n.spec}.net`), n.name, String(n.batch), n.optimizer,
      ...(flag('stock') ? ['--stock'] : []), ...(flag('tfjs') ? ['--tfjs'] : [])],
    { ALEXNETC_THREADS: String(THREADS) });
  const torch = [];
  for (const t of [...new Set([1, CORES])]) {
    const s = await server(`PyTorch ${t} thread${t > 1 ? 's' : ''}`, '/usr/bin/python3', [path.join(here, 'train_torch.py'), n.name, String(n.batch), n.optimizer, String(t)]);
    if (s) torch.push(s);
  }
  const runs = new Map([[tfjs, []], ...torch.map((s) => [s, []])].filter(([s]) => s !== undefined));
  for (let r = 0; r < ROUNDS; r++) {
    for (const [s, list] of runs) {
      const res = await s.ask({ run: SECONDS, min: 1 });
      list.push(res);
    }
  }
  const rate = (list) => median(list.map((x) => x.images / x.wall));
  const cpuRate = (list) => median(list.map((x) => x.images / x.cpu));
  const rss = new Map();
  for (const [s] of runs) rss.set(s, await s.ask({ rss: true }));
  for (const [s] of runs) s.close();
  const row = { name: n.name + (n.heldOut ? ' (held out)' : ''), batch: n.batch, goal: n.goal, path: tfjs?.ready.path ?? '—' };
  for (const s of torch) {
    row.blas ??= s.ready.blas;
    torchInfo ??= `PyTorch ${s.ready.torch}, BLAS: ${s.ready.blas}`;
  }
  if (tfjs) console.log(`  alexnetc step: ${row.path}`);
  if (tfjs) {
    row.tfjs = rate(runs.get(tfjs));
    row.tfjsCpu = cpuRate(runs.get(tfjs));
    row.tfjsRss = rss.get(tfjs).maxRss;
    row.heapPeak = rss.get(tfjs).heapPeak;
    console.log(`  alexnetc          ${num(row.tfjs).padStart(8)} images/s   rounds ${runs.get(tfjs).map((x) => num(x.images / x.wall)).join(', ')}   (${num(row.tfjsCpu)} per CPU-second)   peak RSS ${mb(row.tfjsRss)}`);
  }
  for (const s of torch) {
    const v = rate(runs.get(s));
    console.log(`  ${s.label.padEnd(17)} ${num(v).padStart(8)} images/s   rounds ${runs.get(s).map((x) => num(x.images / x.wall)).join(', ')}   (${num(cpuRate(runs.get(s)))} per CPU-second)   peak RSS ${mb(rss.get(s).maxRss)}`);
    if (s.label.startsWith('PyTorch 1 ')) row.torch1 = v; else row.torchAll = v;
    if (!(v <= row.torch)) { row.torch = v; row.torchLabel = s.label; row.torchRss = rss.get(s).maxRss; }
  }
  if (row.blas !== undefined && /^reference|^none/.test(row.blas)) {
    console.log(`  no ratio: PyTorch ran on ${row.blas} (install libopenblas0-pthread; pip wheels carry MKL)`);
  } else if (row.tfjs !== undefined && row.torch !== undefined) {
    row.ratio = row.tfjs / row.torch;
    console.log(`  ratio alexnetc / best PyTorch (${row.torchLabel}): ${row.ratio.toFixed(2)}   (goal ≥ ${n.goal})`);
  }
  rows.push(row);
}

console.log(`\nload average at the end: ${load()}`);
console.log(`${torchInfo ?? 'PyTorch not measured'}; ${CORES} cores`);
console.log(`\n| network | batch | alexnetc step | alexnetc img/s | PyTorch img/s 1 thread | PyTorch img/s ${CORES} threads | ratio (vs the faster) | goal | peak RSS alexnetc | peak RSS PyTorch |`);
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  const step = r.path.startsWith('tfjs') ? 'tfjs' : r.path;
  console.log(`| ${r.name} | ${r.batch} | ${step} | ${num(r.tfjs)} | ${num(r.torch1)} | ${num(r.torchAll)} | ${r.ratio === undefined ? '—' : `**${r.ratio.toFixed(2)}**`} | ≥ ${r.goal} | ${mb(r.tfjsRss)} | ${mb(r.torchRss)} |`);
}

// The whole command: one epoch of the tutorial CNN on Fashion-MNIST, on the
// tfjs engine (the compiled step) and on the torch engine (PyTorch; the same
// data loading, batches and loop).
if (!flag('no-train') && (only.length === 0 || only.includes('CNN'))) {
  console.log('\n`alexnetc train specs/cnn.net` for one epoch on Fashion-MNIST (batch 64, Adam), whole command:');
  if (!existsSync(path.join(FASHION, 'train-images-idx3-ubyte.gz'))) {
    console.log(`  skipped: no Fashion-MNIST in ${FASHION}`);
  } else {
    for (const engine of ['tfjs', 'torch']) {
      const out = mkdtempSync(path.join(tmpdir(), 'alexnetc-bench-'));
      try {
        const args = [path.join(root, 'bin', 'alexnetc.js'), 'train', path.join(root, 'specs', 'cnn.net'), '--data', FASHION, '--epochs', '1', '--out', path.join(out, 'run'),
          '--engine', engine, ...(quick ? ['--limit', '6000', '--test-limit', '2000'] : [])];
        const t0 = performance.now();
        const r = spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, ALEXNETC_THREADS: String(THREADS) } });
        const secs = (performance.now() - t0) / 1000;
        const text = `${r.stdout}\n${r.stderr}`;
        const acc = /test accuracy: ([\d.]+)%/.exec(text);
        const label = engine === 'tfjs' ? 'alexnetc (tfjs engine)' : 'PyTorch (--engine torch)';
        if (r.status !== 0 || !acc) {
          console.log(`  ${label}: failed (exit ${r.status}): ${text.trim().split('\n').slice(-3).join(' | ')}`);
        } else {
          const epoch = /epoch 1\/1 loss.*?(\d+(?:\.\d+)?)s\s/.exec(text);
          const stepLine = /training step: (.*)/.exec(text);
          console.log(`  ${label.padEnd(26)} ${secs.toFixed(1).padStart(6)} s, test accuracy ${acc[1]}%${epoch ? ` (the epoch itself: ${epoch[1]} s)` : ''}${stepLine ? `; ${stepLine[1]}` : ''}${quick ? ' (--quick: 6,000 training and 2,000 test images)' : ''}`);
        }
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    }
  }
}
