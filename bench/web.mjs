// The playground in headless Chromium (`alexnetc playground`, web/):
//   1. keystroke to diagnostics: for every shipped spec, characters typed into
//      its first line (a comment, so every version checks as the spec does);
//      the time from the editor's change to the diagnostics of that version
//      shown in the editor (posting the text to the analysis worker, the
//      analysis, the answer, CodeMirror's update). Median and 95th percentile;
//      the goal is p95 < 16 ms (a frame). The baseline, alternated with it in
//      blocks of ten keystrokes: the same round trip answered by an echo from
//      the worker (no analysis), so what the analysis adds is told from what
//      the browser's scheduling costs on a loaded machine; and the analysis
//      alone, timed in its worker.
//   2. bundle sizes, gzipped (level 9), from what the page actually fetched:
//      the editor page (load, diagram, ONNX export) and what training adds
//      (tfjs, the kernels, the engine); goal: the editor page ≤ 1 MB.
//   3. LeNet-5 (--set size=28) trained one epoch on the page's Fashion-MNIST
//      subset (9,000 training images after the 10 % validation split), images
//      per second as `alexnetc train` counts an epoch (its steps and its
//      validation pass), in the page and on the command line, alternated,
//      medians; goal: the page at ≥ 0.8× the command line.
//   node bench/web.mjs [--keys N] [--rounds N] [--quick]
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const arg = (name, dflt) => (argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : dflt);
const quick = argv.includes('--quick');
const KEYS = Math.ceil(arg('--keys', quick ? 10 : 60) / 10) * 10;
const ROUNDS = arg('--rounds', quick ? 1 : 3);
const CHROMIUM = '/usr/bin/chromium';
const DATA = path.join(root, 'dist/web/data/fashion-mnist');

if (!existsSync(CHROMIUM)) {
  console.log(`skipped: ${CHROMIUM} is missing (apt-get install chromium)`);
  process.exit(0);
}
execFileSync(process.execPath, [path.join(root, 'web/build.mjs'), '--quiet'], { stdio: 'inherit' });

const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const p95 = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.ceil(0.95 * s.length) - 1)];
};

const server = spawn(process.execPath, [path.join(root, 'bin/alexnetc.js'), 'playground', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise((resolve, reject) => {
  let out = '';
  server.stdout.on('data', (d) => {
    out += d;
    const m = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
    if (m) resolve(m[1]);
  });
  server.on('exit', (c) => reject(new Error(`playground exited with ${c}`)));
});

const { chromium } = await import('playwright-core');
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'] });
try {
  const page = await browser.newPage({ acceptDownloads: true });
  const fetched = new Set();
  page.on('request', (r) => r.url().startsWith(url) && fetched.add(r.url().slice(url.length).split('#')[0] || 'index.html'));
  await page.goto(url);
  await page.waitForFunction(() => window.alexnetcPlayground?.ready && window.alexnetcPlayground.analyzedVersion > 0);

  // ------------------------------------------------------------ 1. keystroke → diagnostics
  const specs = await page.evaluate(() => [...document.querySelectorAll('#spec option')].map((o) => o.value).filter(Boolean));
  console.log(`keystroke → diagnostics in the page (${KEYS} keystrokes per spec, typed 50 ms apart into its first line; in blocks of 10`);
  console.log('alternated with as many answered by an echo from the analysis worker instead of an analysis: the same path, no analysis):');
  console.log(`  ${'spec'.padEnd(15)} ${'p50'.padStart(8)} ${'p95'.padStart(8)}   ${'echo p50'.padStart(9)} ${'echo p95'.padStart(9)}   analysis alone p50 / p95`);
  const all = [];
  const allEcho = [];
  const allAnalysis = [];
  for (const spec of specs) {
    await page.selectOption('#spec', spec);
    await page.waitForFunction((s) => window.alexnetcPlayground.view.state.doc.toString().length > 0 && document.getElementById('spec').value === s, spec);
    await page.waitForTimeout(300);
    await page.evaluate(() => {
      const v = window.alexnetcPlayground.view;
      v.focus();
      v.dispatch({ selection: { anchor: v.state.doc.line(1).to } });
    });
    await page.evaluate(() => {
      for (const k of ['latencies', 'analysisMs', 'echoLatencies']) window.alexnetcPlayground[k].length = 0;
    });
    for (let i = 0; i < 2 * KEYS; i++) {
      if (i % 10 === 0) {
        await page.waitForTimeout(100);
        await page.evaluate((echo) => (window.alexnetcPlayground.echo = echo), Math.floor(i / 10) % 2 === 1);
      }
      await page.keyboard.type('x');
      await page.waitForTimeout(50);
    }
    await page.waitForFunction((n) => window.alexnetcPlayground.latencies.length >= n && window.alexnetcPlayground.echoLatencies.length >= n, KEYS, { timeout: 30_000 });
    await page.evaluate(() => (window.alexnetcPlayground.echo = false));
    const { latencies, analysisMs, echoLatencies } = await page.evaluate(() => ({ ...window.alexnetcPlayground }));
    all.push(...latencies);
    allEcho.push(...echoLatencies);
    allAnalysis.push(...analysisMs);
    const f = (x) => `${x.toFixed(1)} ms`;
    console.log(`  ${spec.padEnd(15)} ${f(median(latencies)).padStart(8)} ${f(p95(latencies)).padStart(8)}   ${f(median(echoLatencies)).padStart(9)} ${f(p95(echoLatencies)).padStart(9)}   ${median(analysisMs).toFixed(1)} / ${p95(analysisMs).toFixed(1)} ms`);
  }
  console.log(
    `  ${'all'.padEnd(15)} ${`${median(all).toFixed(1)} ms`.padStart(8)} ${`${p95(all).toFixed(1)} ms`.padStart(8)}   ${`${median(allEcho).toFixed(1)} ms`.padStart(9)} ${`${p95(allEcho).toFixed(1)} ms`.padStart(9)}   ${median(allAnalysis).toFixed(1)} / ${p95(allAnalysis).toFixed(1)} ms`,
  );
  console.log(`  goal p95 < 16 ms: ${p95(all) < 16 ? 'met' : 'NOT met'}; the analysis adds ${(median(all) - median(allEcho)).toFixed(1)} ms (p50) to the page's own round trip`);

  // ------------------------------------------------------------ 2. bundle sizes
  await page.selectOption('#spec', 'lenet5.net');
  await page.click('#tabs button[data-tab=diagram]');
  await page.waitForSelector('#diagram svg');
  await page.click('#tabs button[data-tab=export]');
  await Promise.all([page.waitForEvent('download'), page.click('#dl-onnx')]);
  const editor = new Set(fetched);
  const gz = (files) => [...files].filter((f) => !f.startsWith('data/')).reduce((a, f) => a + gzipSync(readFileSync(path.join(root, 'dist/web', f)), { level: 9 }).length, 0);
  const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;

  // ------------------------------------------------------------ 3. training, page vs command line
  const hasData = ROUNDS > 0 && existsSync(path.join(DATA, 'train-images-idx3-ubyte.gz'));
  const pageRates = [];
  const cliRates = [];
  let accuracy;
  let threads;
  if (hasData) {
    const lenet = readFileSync(path.join(root, 'specs/lenet5.net'), 'utf8').replace('epochs 10', 'epochs 1');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'alexnetc-bench-web-'));
    try {
      for (let r = 0; r < ROUNDS; r++) {
        // the command line, on the very same files
        const run = path.join(dir, `run${r}`);
        execFileSync(process.execPath, [path.join(root, 'bin/alexnetc.js'), 'train', path.join(root, 'specs/lenet5.net'), '--set', 'size=28', '--epochs', '1', '--data', DATA, '-o', run], { stdio: 'pipe' });
        const m = JSON.parse(readFileSync(path.join(run, 'metrics.json'), 'utf8'));
        cliRates.push(9000 / m.final.seconds);
        // the page
        await page.evaluate((t) => window.alexnetcPlayground.setText(t, 'lenet5.net'), lenet);
        await page.click('#tabs button[data-tab=train]');
        await page.waitForFunction(() => document.getElementById('train-set').value === 'size=28, classes=10' && !document.getElementById('train-start').disabled);
        await page.click('#train-start');
        await page.waitForFunction(() => window.alexnetcTrain.done || window.alexnetcTrain.error, null, { timeout: 600_000, polling: 250 });
        const s = await page.evaluate(() => window.alexnetcTrain);
        if (s.error) throw new Error(s.error);
        pageRates.push(s.done.history[0].imagesPerSecond);
        accuracy = s.done.testAccuracy;
        threads = s.started.threads;
        console.log(`  round ${r + 1}: command line ${cliRates.at(-1).toFixed(0)} images/s, page ${pageRates.at(-1).toFixed(0)} images/s`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const training = new Set([...fetched].filter((f) => !editor.has(f)));

  console.log('\nbundle sizes (gzip -9 of the files the page fetched):');
  console.log(`  editor page (load, diagram, ONNX export): ${kib(gz(editor))} in ${[...editor].filter((f) => !f.startsWith('data/')).length} files (goal ≤ 1024 KiB: ${gz(editor) <= 1024 * 1024 ? 'met' : 'NOT met'}); tfjs among them: ${[...editor].some((f) => /train/.test(f)) ? 'yes' : 'no'}`);
  if (training.size) {
    const data = [...training].filter((f) => f.startsWith('data/')).reduce((a, f) => a + readFileSync(path.join(root, 'dist/web', f)).length, 0);
    console.log(`  loaded when training starts (tfjs, kernels, engine): ${kib(gz(training))} in ${[...training].filter((f) => !f.startsWith('data/')).length} files; the Fashion-MNIST subset ${kib(data)} (already gzipped)`);
  }
  if (hasData) {
    const ratio = median(pageRates) / median(cliRates);
    console.log(`\nLeNet-5, one epoch on the subset (${ROUNDS} rounds, alternated; page kernels on ${threads} threads):`);
    console.log(`  command line ${median(cliRates).toFixed(0)} images/s, page ${median(pageRates).toFixed(0)} images/s (medians): page/command line ${ratio.toFixed(2)}× (goal ≥ 0.8×: ${ratio >= 0.8 ? 'met' : 'NOT met'}); test accuracy in the page ${(100 * accuracy).toFixed(2)} %`);
  } else console.log(`\ntraining: skipped (${ROUNDS ? 'the Fashion-MNIST subset is not built: apt-get install dataset-fashion-mnist' : '--rounds 0'})`);
} finally {
  await browser.close();
  server.kill('SIGINT');
}
