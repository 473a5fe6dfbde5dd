// The playground in headless Chromium (`alexnetc playground`, web/):
//   1. keystroke to diagnostics: for every shipped spec, characters typed into
//      its first line (a comment, so every version checks as the spec does);
//      the time from the key's event (its timeStamp: when the browser got the
//      key) to the start of the frame that draws the editor with the
//      diagnostics of that version (the editor handling the key, posting the
//      text to the analysis worker, the analysis, the answer, CodeMirror's
//      update, the wait for the frame): what the user sees. Median and 95th
//      percentile; the goal is p95 < 16 ms (a frame). The baseline, alternated
//      with it in blocks of ten keystrokes: the same path answered by an echo
//      from the worker (no analysis), so what the analysis adds is told from
//      what the editor and the browser's scheduling cost; and the analysis
//      alone, timed in its worker. The floor that the browser's frame clock
//      (60 Hz) sets: from the key event to the first frame after it, which
//      draws the keystroke itself ("own frame"), and how many keystrokes have
//      their diagnostics drawn in that frame. For comparison with the figures before
//      2026-12-07 17:50 UTC, also the span those measured: from posting the
//      text (in the editor's update) to the answer applied to the editor's
//      state, before the frame ("posted → applied").
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

const ms = (x) => `${x.toFixed(1)} ms`;
const row = (name, shown, echoShown, frame, same, old, oldEcho, analysis) =>
  console.log(
    `  ${name.padEnd(15)} ${ms(median(shown)).padStart(8)} ${ms(p95(shown)).padStart(8)}   ${ms(median(echoShown)).padStart(9)} ${ms(p95(echoShown)).padStart(9)}   ` +
      `${`${median(frame).toFixed(1)} / ${p95(frame).toFixed(1)} ms, ${((100 * same) / shown.length).toFixed(0)} %`.padEnd(30)} ` +
      `${`${median(old).toFixed(1)} / ${p95(old).toFixed(1)}, echo ${median(oldEcho).toFixed(1)} / ${p95(oldEcho).toFixed(1)} ms`.padEnd(44)} ${median(analysis).toFixed(1)} / ${p95(analysis).toFixed(1)} ms`,
  );

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
  console.log('alternated with as many answered by an echo from the analysis worker instead of an analysis: the same path, no analysis);');
  console.log('from the key event to the frame that draws the diagnostics; the key event to its own frame (the floor) and the keystrokes whose diagnostics');
  console.log('are drawn in it; then, as measured before, from the text posted to the answer applied:');
  console.log(`  ${'spec'.padEnd(15)} ${'p50'.padStart(8)} ${'p95'.padStart(8)}   ${'echo p50'.padStart(9)} ${'echo p95'.padStart(9)}   ${'own frame p50 / p95, in it'.padEnd(30)} ${'posted → applied p50 / p95, echo p50 / p95'.padEnd(44)} analysis alone p50 / p95`);
  const all = [];
  const allEcho = [];
  const allOld = [];
  const allFrame = [];
  let allSame = 0;
  const allOldEcho = [];
  const allAnalysis = [];
  let worstOld = { spec: '', p95: 0 };
  for (const spec of specs) {
    await page.selectOption('#spec', spec);
    await page.waitForFunction((s) => window.alexnetcPlayground.view.state.doc.toString().length > 0 && document.getElementById('spec').value === s, spec);
    // the new text analysed and its panels built (a fresh file is parsed and checked whole, its tables made, its
    // highlighting done in idle time): on a busy machine 300 ms may not be enough, and the first keystrokes
    // would wait on the switch of spec rather than measure a keystroke
    await page.waitForTimeout(300);
    await page.waitForFunction(() => window.alexnetcPlayground.analyzedVersion === window.alexnetcPlayground.postedVersion);
    await page.evaluate(() => new Promise((resolve) => requestIdleCallback(() => resolve(), { timeout: 2000 })));
    await page.evaluate(() => {
      const v = window.alexnetcPlayground.view;
      v.focus();
      v.dispatch({ selection: { anchor: v.state.doc.line(1).to } });
    });
    await page.evaluate(() => {
      for (const k of ['shown', 'echoShown', 'keyFrame', 'latencies', 'analysisMs', 'echoLatencies']) window.alexnetcPlayground[k].length = 0;
      window.alexnetcPlayground.sameFrame = 0;
    });
    for (let i = 0; i < 2 * KEYS; i++) {
      if (i % 10 === 0) {
        await page.waitForTimeout(100);
        await page.evaluate((echo) => (window.alexnetcPlayground.echo = echo), Math.floor(i / 10) % 2 === 1);
      }
      await page.keyboard.type('x');
      await page.waitForTimeout(50);
    }
    await page.waitForFunction(
      (n) => ['shown', 'echoShown', 'latencies', 'echoLatencies'].every((k) => window.alexnetcPlayground[k].length >= n),
      KEYS,
      { timeout: 30_000 },
    );
    await page.evaluate(() => (window.alexnetcPlayground.echo = false));
    const { shown, echoShown, keyFrame, sameFrame, latencies, analysisMs, echoLatencies } = await page.evaluate(() => ({ ...window.alexnetcPlayground }));
    allFrame.push(...keyFrame);
    allSame += sameFrame;
    all.push(...shown);
    allEcho.push(...echoShown);
    allOld.push(...latencies);
    if (p95(latencies) > worstOld.p95) worstOld = { spec, p95: p95(latencies) };
    allOldEcho.push(...echoLatencies);
    allAnalysis.push(...analysisMs);
    row(spec, shown, echoShown, keyFrame, sameFrame, latencies, echoLatencies, analysisMs);
  }
  row('all', all, allEcho, allFrame, allSame, allOld, allOldEcho, allAnalysis);
  // The goal as the issue set it, on the measure this bench had then: from the keystroke's text posted to
  // the worker to its diagnostics applied in the editor, p95 < 16 ms for every spec. To the frame that draws
  // them (a stricter measure, added later) a 60 Hz frame clock sets a floor: the keystroke's own frame.
  console.log(
    `  goal p95 < 16 ms for every spec, text posted → diagnostics applied: ${worstOld.p95 < 16 ? 'met' : 'NOT met'} (worst ${worstOld.spec} ${worstOld.p95.toFixed(1)} ms); ` +
      `to the frame that draws them: ${p95(all).toFixed(1)} ms at p95, ${p95(all) < 16 ? 'under' : 'over'} 16 ms, where the keystroke's own frame alone takes ${p95(allFrame).toFixed(1)} ms ` +
      `(the frame clock's floor); diagnostics drawn in the keystroke's own frame for ${((100 * allSame) / all.length).toFixed(0)} % of the keystrokes; the analysis adds ${(median(all) - median(allEcho)).toFixed(1)} ms (p50) to the page's own path`,
  );

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
