// `npm run bench -- quantize`: int8 against float, for a trained LeNet-5
// (specs/lenet5.net --set size=28), the tutorial CNN (specs/cnn.net) and
// MobileNetV2_28 (specs/mobilenet.net) on
// the Fashion-MNIST test set: accuracy on all 10,000 test images, file size,
// and onnxruntime latency at batch 1 and 64 (1 intra-op thread, interleaved
// rounds, medians), for float, int8 (weights only) and int8-static (QDQ,
// minmax and percentile calibration on 300 training images). Also the file
// sizes of every shipped network, float against int8 (no weights needed: the
// sizes are known before a weight is generated).
//
// The trained runs: QUANT_RUN_LENET5 / QUANT_RUN_CNN / QUANT_RUN_MOBILENET
// name existing run directories; otherwise each network is trained here
// (cached under $TMPDIR/alexnetc-bench-quantize/) with QUANT_EPOCHS epochs
// (default: LeNet-5 its recipe's 10, the CNN 3, MobileNetV2_28 3 with the
// torch engine on 20,000 images) on QUANT_LIMIT training images (default
// all). QUANT_ONLY=MobileNetV2_28 (comma-separated names) runs only those.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile } from '../dist/compile.js';
import { encodeModel, quantizeGraph } from '../dist/emit/onnx/index.js';
import { OnnxModel } from '../dist/emit/onnx/session.js';
import { onnxAccuracy } from '../dist/quantize/evaluate.js';
import { loadIdxDir } from '../dist/train/data/index.js';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(root, 'bin/alexnetc.js');
const DATA = process.env.ALEXNETC_FASHION_MNIST ?? '/usr/share/datasets/fashion-mnist';
const cache = path.join(os.tmpdir(), 'alexnetc-bench-quantize');
mkdirSync(cache, { recursive: true });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mib = (b) => `${(b / 2 ** 20).toFixed(3)} MiB`;
console.log(`onnxruntime-node ${JSON.parse(readFileSync(path.join(root, 'node_modules/onnxruntime-node/package.json'), 'utf8')).version}; load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} on ${os.cpus().length} cores`);

// ---- file sizes of the shipped networks (lazy encoding: no weight is generated)
console.log('\nONNX file size, float → int8 weights (every shipped network, sizes only)');
for (const f of readdirSync(path.join(root, 'specs')).filter((x) => x.endsWith('.net')).sort()) {
  for (const net of compile(readFileSync(path.join(root, 'specs', f), 'utf8'), { all: true }).networks) {
    const float = encodeModel(net).size;
    const int8 = encodeModel(net, { transform: (g) => quantizeGraph(g, 'int8') }).size;
    console.log(`  ${net.name.padEnd(20)} ${mib(float).padStart(14)} → ${mib(int8).padStart(14)}  ${(int8 / float).toFixed(3)}×`);
  }
}

if (!existsSync(path.join(DATA, 't10k-images-idx3-ubyte.gz')) && !existsSync(path.join(DATA, 't10k-images-idx3-ubyte'))) {
  console.log(`\nskipped the accuracy and latency part: no Fashion-MNIST in ${DATA}`);
  process.exit(0);
}

const cnnSpec = existsSync(path.join(root, 'specs/cnn.net')) ? path.join(root, 'specs/cnn.net') : path.join(root, 'test/quantize/fixtures/cnn.net');
const NETS = [
  { name: 'LeNet5', file: path.join(root, 'specs/lenet5.net'), set: ['--set', 'size=28'], env: 'QUANT_RUN_LENET5', epochs: 10 },
  { name: 'CNN', file: cnnSpec, set: [], env: 'QUANT_RUN_CNN', epochs: 3 },
  // inverted residuals, depthwise convs, ReLU6 (Clip): trained with the torch engine, 3 epochs on 20,000 images
  { name: 'MobileNetV2_28', file: path.join(root, 'specs/mobilenet.net'), set: ['--network', 'MobileNetV2_28'], env: 'QUANT_RUN_MOBILENET', epochs: 3, limit: '20000', train: ['--engine', 'torch', '--test-limit', '2000'] },
].filter((n) => !process.env.QUANT_ONLY || process.env.QUANT_ONLY.split(',').includes(n.name));

function cli(args, inherit = false) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: root, encoding: 'utf8', stdio: inherit ? 'inherit' : 'pipe', env: { ...process.env, NO_COLOR: '1' } });
  if (r.status !== 0) throw new Error(`alexnetc ${args.join(' ')} failed (${r.status}):\n${r.stderr ?? ''}`);
  return r;
}

function trainedRun(n) {
  if (process.env[n.env]) return process.env[n.env];
  const epochs = Number(process.env.QUANT_EPOCHS ?? n.epochs);
  const limit = process.env.QUANT_LIMIT ?? n.limit;
  const dir = path.join(cache, `${n.name}-e${epochs}${limit ? `-l${limit}` : ''}`);
  if (existsSync(path.join(dir, 'model', 'model.json'))) return dir;
  console.log(`\ntraining ${n.name} for ${epochs} epochs${limit ? ` on ${limit} images` : ''} into ${dir} (cached for later runs)`);
  if (existsSync(path.join(dir, 'checkpoint', 'state.json'))) cli(['train', '--resume', dir], true);
  else cli(['train', n.file, ...n.set, ...(n.train ?? []), '--data', DATA, '--epochs', String(epochs), ...(limit ? ['--limit', limit] : []), '--out', dir], true);
  return dir;
}

const test = loadIdxDir(DATA).test;
// [label, file slug, compile flags, onnxruntime session options]
const VARIANTS = [
  ['float', 'float', []],
  ['int8', 'int8', ['--quantize', 'int8']],
  // the same file, with onnxruntime told to fold the dequantized weights once at load
  ['int8, folded at load', 'int8', null, { foldDequantize: true }],
  ['int8-static minmax', 'static-minmax', ['--quantize', 'int8-static', '--calibrate', DATA]],
  ['int8-static percentile', 'static-percentile', ['--quantize', 'int8-static', '--calibrate', DATA, '--calibrate-method', 'percentile']],
];

for (const n of NETS) {
  const run = trainedRun(n);
  const config = JSON.parse(readFileSync(path.join(run, 'config.json'), 'utf8'));
  const history = existsSync(path.join(run, 'history.json')) ? JSON.parse(readFileSync(path.join(run, 'history.json'), 'utf8')) : [];
  console.log(`\n${n.name}: ${path.relative(root, n.file)}${n.set.length ? ' ' + n.set.join(' ') : ''}, trained ${history.length} epochs (${run})`);
  const models = [];
  for (const [label, slug, flags, options = {}] of VARIANTS) {
    const file = path.join(cache, `${n.name}-${slug}.onnx`);
    if (flags) cli(['compile', n.file, '--weights', run, ...flags, '-o', file]);
    const optimized = `${file}.${label.replace(/\W+/g, '-')}.ort.onnx`;
    const m = await OnnxModel.open(file, { threads: 1, optimizedModelFile: optimized, ...options });
    await m.release();
    const ops = JSON.parse(spawnSync('/usr/bin/python3', [path.join(root, 'test/python/quant_check.py'), '--ops', optimized], { encoding: 'utf8' }).stdout || '{}');
    rmSync(optimized, { force: true });
    const session = await OnnxModel.open(file, { threads: 1, ...options });
    const acc = (await onnxAccuracy(session, test, config.normalization, { flatten: false })).accuracy;
    models.push({ label, file, session, acc, bytes: statSync(file).size, kernels: Object.keys(ops).filter((k) => /^Q|Integer/.test(k)).join(' ') || (ops.DequantizeLinear ? 'float, weights dequantized every run' : 'float') });
  }

  // latency: real test images, interleaved rounds so that load from others hits every model alike
  const times = new Map(models.map((m) => [m, { 1: [], 64: [] }]));
  for (const batch of [1, 64]) {
    const size = 28 * 28;
    const x = new Float32Array(batch * size);
    const { mean, std, scale } = config.normalization;
    for (let i = 0; i < x.length; i++) x[i] = (test.images[i] * scale - mean[0]) / std[0];
    const dims = [batch, 1, 28, 28];
    const reps = batch === 1 ? 40 : 8;
    for (const m of models) for (let i = 0; i < 10; i++) await m.session.run(x, dims);
    for (let round = 0; round < 15; round++) {
      for (const m of models) {
        for (let i = 0; i < reps; i++) {
          const t = process.hrtime.bigint();
          await m.session.run(x, dims);
          times.get(m)[batch].push(Number(process.hrtime.bigint() - t) / 1e6);
        }
      }
    }
  }
  const float = models[0];
  const lat = (m, b) => median(times.get(m)[b]);
  console.log(`  ${'model'.padEnd(24)} ${'test acc'.padStart(8)}  ${'Δ points'.padStart(8)}  ${'file'.padStart(12)}  ${'×'.padStart(5)}  ${'batch 1'.padStart(9)}  ${'batch 64'.padStart(9)}  ${'speed-up 1/64'.padStart(13)}  kernels`);
  for (const m of models) {
    console.log(
      `  ${m.label.padEnd(24)} ${(100 * m.acc).toFixed(2).padStart(7)}%  ${(100 * (m.acc - float.acc)).toFixed(2).padStart(8)}  ${mib(m.bytes).padStart(12)}  ${(m.bytes / float.bytes).toFixed(2).padStart(5)}  ` +
        `${lat(m, 1).toFixed(3).padStart(6)} ms  ${lat(m, 64).toFixed(3).padStart(6)} ms  ${`${(lat(float, 1) / lat(m, 1)).toFixed(2)}× / ${(lat(float, 64) / lat(m, 64)).toFixed(2)}×`.padStart(13)}  ${m.kernels}`,
    );
  }
  for (const m of models) await m.session.release();
}
console.log('\n(accuracy: all 10,000 Fashion-MNIST test images; latency: onnxruntime-node CPU, 1 intra-op thread, median of 15 interleaved rounds)');
