// `alexnetc draw` on the largest shipped diagrams: layout + SVG and PNG in
// process, and the whole command (process start to file written), beside
// Graphviz laying out the same graph from our DOT (`dot -Tsvg`), measured
// interleaved in the same run. Target: every drawing well under a few seconds
// end to end (TARGET_MS, reported with the machine's load, not enforced); the ratio to Graphviz says how the layout compares
// to the tool people use for this.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile } from '../dist/compile.js';
import { buildDiagram, callLabels } from '../dist/inspect/draw/index.js';
import { renderDot } from '../dist/inspect/draw/dot.js';
import { layoutDiagram } from '../dist/inspect/draw/layout.js';
import { svgToPng } from '../dist/inspect/draw/png.js';
import { renderSvg } from '../dist/inspect/draw/svg.js';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin/alexnetc.js');
const TARGET_MS = 5000;
const REPS = 5;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function ms(fn) {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

const hasDot = spawnSync('dot', ['-V']).status === 0;
// CPU seconds of the command as well as its wall time: on a shared machine the wall time is mostly the others' load
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const dir = mkdtempSync(path.join(os.tmpdir(), 'alexnetc-bench-draw-'));
const cases = [
  ['vgg.net', 'VGG19', true],
  ['googlenet.net', 'GoogLeNet', false],
  ['googlenet.net', 'GoogLeNet', true],
  ['resnet.net', 'ResNet34', true],
];

console.log(`median of ${REPS}, ms; "command" is \`alexnetc draw … -o x.png\` from process start (node, ELK and resvg loading included): wall and CPU time`);
console.log(`  ${'network'.padEnd(22)} ${'boxes'.padStart(5)} ${'layout+svg'.padStart(10)} ${'png'.padStart(7)} ${'command'.padStart(8)} ${'cpu'.padStart(6)}   ${'dot -Tsvg'.padStart(9)}  ratio`);
let slow = 0;
for (const [file, name, expand] of cases) {
  const text = readFileSync(path.join(root, 'specs', file), 'utf8');
  const r = compile(text, { network: name });
  const d = buildDiagram(r.network, { expand, calls: callLabels(r.stageInfo, name, text) });
  // warm up ELK and the JIT, as later drawings in one process would be (the command's column has the cold start)
  let svg = renderSvg(d, await layoutDiagram(d));
  for (let i = 0; i < 2; i++) svg = renderSvg(d, await layoutDiagram(d));
  const dot = renderDot(d);
  const layout = [];
  const png = [];
  const command = [];
  const cpu = [];
  const graphviz = [];
  const out = path.join(dir, `${name}.png`);
  for (let i = 0; i < REPS; i++) {
    layout.push(await ms(async () => (svg = renderSvg(d, await layoutDiagram(d)))));
    png.push(await ms(() => svgToPng(svg)));
    command.push(
      await ms(() => {
        const args = [bin, 'draw', path.join(root, 'specs', file), '--network', name, ...(expand ? ['--expand'] : []), '-o', out];
        const c = TIME ? spawnSync(TIME, ['-f', 'CPU %U %S', process.execPath, ...args], { encoding: 'utf8' }) : spawnSync(process.execPath, args, { encoding: 'utf8' });
        if (c.status !== 0) throw new Error(`alexnetc draw failed: ${c.stderr}`);
        const t = /CPU ([\d.]+) ([\d.]+)/.exec(c.stderr);
        if (t) cpu.push((Number(t[1]) + Number(t[2])) * 1000);
      }),
    );
    if (hasDot) graphviz.push(await ms(() => spawnSync('dot', ['-Tsvg', '-o', path.join(dir, 'g.svg')], { input: dot })));
  }
  const cmd = median(command);
  if (cmd > TARGET_MS) slow++;
  const g = hasDot ? median(graphviz) : undefined;
  console.log(
    `  ${`${name}${expand ? ' --expand' : ''}`.padEnd(22)} ${String(d.nodes.length - 2).padStart(5)} ${median(layout).toFixed(0).padStart(10)} ${median(png).toFixed(0).padStart(7)} ${cmd.toFixed(0).padStart(8)} ${(cpu.length ? median(cpu).toFixed(0) : '-').padStart(6)}   ` +
      (g !== undefined ? `${g.toFixed(0).padStart(9)}  ×${(median(layout) / g).toFixed(2)} (layout+svg / dot)` : 'dot: Graphviz not installed (apt-get install graphviz)') +
      (cmd > TARGET_MS ? `  OVER the ${TARGET_MS} ms target` : ''),
  );
}
rmSync(dir, { recursive: true, force: true });
// a target, not a test: on a shared machine the load decides much of it, so it is printed beside the result
console.log(`${slow ? `${slow} drawing(s) OVER` : 'every drawing within'} the ${TARGET_MS} ms target (load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} CPUs)`);
