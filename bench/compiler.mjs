// Parse + check time per shipped spec and for generated networks of growing
// size (time per stage should stay flat: linear growth), `alexnetc check`'s
// whole process beside a bare `node -e 0` (the cold start), `alexnetc lsp`'s
// time from spawn to its first diagnostics beside the same, and ONNX export
// time of AlexNet and VGG-16 beside torch.onnx.export of the same models, same run.
//   node --expose-gc bench/compiler.mjs [--quick]   (--quick: no ONNX export)
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
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

/** median wall ms of `reps` runs; `cpu`: also the median CPU ms (this process's user + system time, GC threads included) */
function time(fn, reps, cpu) {
  const ts = [];
  const cs = [];
  for (let i = 0; i < reps; i++) {
    // each run starts from a collected heap: one run's garbage is not the next one's pause
    globalThis.gc?.();
    const c = process.cpuUsage();
    const t = process.hrtime.bigint();
    fn();
    ts.push(Number(process.hrtime.bigint() - t) / 1e6);
    const d = process.cpuUsage(c);
    cs.push((d.user + d.system) / 1000);
  }
  if (cpu) cpu.ms = median(cs);
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
// On a loaded machine the wall time is mostly waiting for a core; the CPU time (user + system of
// this process, GC threads included) is the work itself, and the ratio is read off it too.
console.log(`\ngenerated networks (median of 7; load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} CPUs): time per stage should not grow (linear total time)`);
console.log(`  ${'stages'.padStart(6)} ${'wall'.padStart(10)} ${'CPU'.padStart(10)} ${'CPU per stage'.padStart(15)}   vs 1,000 stages`);
let base;
for (const n of [1000, 2500, 5000, 10000]) {
  const text = generated(n);
  compile(text);
  const cpu = {};
  const ms = time(() => compile(text), 7, cpu);
  const perStage = (cpu.ms * 1000) / n;
  base ??= perStage;
  console.log(`  ${String(n).padStart(6)} ${ms.toFixed(1).padStart(7)} ms ${cpu.ms.toFixed(1).padStart(7)} ms ${perStage.toFixed(2).padStart(7)} µs/stage   ×${(perStage / base).toFixed(2)}`);
}

// the cold start: fresh processes, alternated so that the machine's load falls on both alike
const bin = path.join(root, 'bin', 'alexnetc.js');
const lenet = path.join(root, 'specs', 'lenet5.net');
// the child's CPU time (user + system) from GNU time where it is installed
const gnuTime = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const run = (args) => {
  const cmd = gnuTime ? [gnuTime, ['-f', 'CPU %U %S', process.execPath, ...args]] : [process.execPath, args];
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd[0], cmd[1], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const wall = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr}`);
  const m = /CPU ([\d.]+) ([\d.]+)/.exec(r.stderr);
  return { wall, cpu: m ? (Number(m[1]) + Number(m[2])) * 1000 : NaN };
};
const rows = [
  ['node -e 0', ['-e', '0']],
  ['alexnetc check specs/lenet5.net', [bin, 'check', lenet]],
  ['the same from dist/, unbundled', ['--input-type=module', '-e', `import { main } from './dist/cli/main.js'; process.exitCode = await main(['check', ${JSON.stringify(lenet)}]);`]],
].map(([name, args]) => ({ name, args, wall: [], cpu: [] }));
/** wall ms from spawning `alexnetc lsp` to its first publishDiagnostics for lenet5.net; then shut down and exit, as an editor does */
async function lspFirstDiagnostics() {
  const text = readFileSync(lenet, 'utf8');
  const t = process.hrtime.bigint();
  const p = spawn(process.execPath, [bin, 'lsp', '--stdio'], { cwd: root, stdio: ['pipe', 'pipe', 'ignore'] });
  const send = (m) => {
    const b = Buffer.from(JSON.stringify({ jsonrpc: '2.0', ...m }));
    p.stdin.write(Buffer.concat([Buffer.from(`Content-Length: ${b.length}\r\n\r\n`, 'ascii'), b]));
  };
  send({ id: 1, method: 'initialize', params: { processId: process.pid, rootUri: null, capabilities: {} } });
  send({ method: 'initialized', params: {} });
  send({ method: 'textDocument/didOpen', params: { textDocument: { uri: `file://${lenet}`, languageId: 'alexnet', version: 1, text } } });
  let seen = '';
  const exited = once(p, 'exit');
  const ms = await new Promise((resolve, reject) => {
    p.stdout.on('data', (d) => {
      seen += d;
      if (seen.includes('"textDocument/publishDiagnostics"')) resolve(Number(process.hrtime.bigint() - t) / 1e6);
    });
    exited.then(([code]) => reject(new Error(`alexnetc lsp exited (${code}) before publishing diagnostics`)));
  });
  send({ id: 2, method: 'shutdown' });
  send({ method: 'exit' });
  await exited;
  return ms;
}
const lsp = { name: 'alexnetc lsp, spawn → first diagnostics', wall: [], cpu: [] };
for (let i = 0; i < 15; i++) {
  for (const r of rows) {
    const x = run(r.args);
    r.wall.push(x.wall);
    r.cpu.push(x.cpu);
  }
  lsp.wall.push(await lspFirstDiagnostics());
  lsp.cpu.push(NaN);
}
console.log(`\ncold start, whole process (medians of 15, alternated; ${process.version}, load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} CPUs)`);
console.log(`  ${''.padEnd(40)} ${'wall'.padStart(8)} ${'over node -e 0'.padStart(15)} ${gnuTime ? `${'CPU'.padStart(8)} ${'over node -e 0'.padStart(15)}` : ''}`);
const [w0, c0] = [median(rows[0].wall), median(rows[0].cpu)];
for (const r of [...rows, lsp]) {
  const [w, c] = [median(r.wall), median(r.cpu)];
  const over = (x, y) => (r === rows[0] || Number.isNaN(x) ? '' : `+${(x - y).toFixed(0)} ms`).padStart(15);
  console.log(`  ${r.name.padEnd(40)} ${w.toFixed(0).padStart(5)} ms ${over(w, w0)} ${gnuTime && !Number.isNaN(c) ? `${c.toFixed(0).padStart(5)} ms ${over(c, c0)}` : ''}`);
}

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
