// `alexnetc explain` on a LeNet-5 trained here on real Fashion-MNIST: the
// saliency is concentrated on the garment (more per pixel inside its
// silhouette than outside, unlike the same values shuffled), the numbers are
// right (feature maps recomputed from the weights by hand, saliency against
// finite differences, Grad-CAM against the gradient of the network's tail),
// index.html loads in headless Chromium with every image, any checked network
// (residual, shortcut, concat, add, groups) is explained, and outputs and bad
// input are handled like compile's.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { PNG } from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../../src/compile.js';
import type { Network } from '../../src/check/ir.js';
import { layers } from '../../src/check/ir.js';
import { loadTf, toTfjs, type LayersModel } from '../../src/emit/tfjs/index.js';
import { readTfjsWeights } from '../../src/weights/tfjs.js';
import { explainExample } from '../../src/inspect/explain/index.js';
import { idxExamples, normalise } from '../../src/inspect/predict/index.js';
import { permutation, rng, deriveSeed } from '../../src/train/data/index.js';
import { cli, FASHION, fashionPng, hasData, rgbaOf, root, tmp, trainLenet, writePng } from './lenet-run.js';

if (!hasData) console.warn(`SKIPPED: Fashion-MNIST not found in ${FASHION} (install dataset-fashion-mnist or set ALEXNETC_FASHION_MNIST)`);
const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`SKIPPED the browser check: ${CHROMIUM} is not installed (Debian: apt-get install chromium)`);

const json = (f: string) => JSON.parse(readFileSync(f, 'utf8'));

function png(file: string): PNG {
  return PNG.sync.read(readFileSync(file));
}

/** Share of pixels that are not (near) white: a picture, not an empty page. */
function inked(p: PNG): number {
  let n = 0;
  for (let i = 0; i < p.data.length; i += 4) if (p.data[i]! < 200 || p.data[i + 1]! < 200 || p.data[i + 2]! < 200) n++;
  return n / (p.width * p.height);
}

/** Mean saliency per pixel inside the garment (non-background pixels) over the mean outside. */
function insideOverOutside(sal: ArrayLike<number>, raw: Uint8Array): number {
  let a = 0, na = 0, b = 0, nb = 0;
  for (let i = 0; i < raw.length; i++) {
    if (raw[i]! > 0) (a += sal[i]!), na++;
    else (b += sal[i]!), nb++;
  }
  return a / na / (b / nb);
}

const median = (v: number[]): number => [...v].sort((x, y) => x - y)[v.length >> 1]!;

describe.skipIf(!hasData)('alexnetc explain with a LeNet-5 trained on Fashion-MNIST', () => {
  const work = tmp();
  const run = path.join(work, 'run');
  let net: Network;
  let model: LayersModel;
  let norm: { mean: number[]; std: number[]; scale: number };

  beforeAll(async () => {
    const t = trainLenet(run);
    expect(t.code, t.stderr).toBe(0);
    net = compile(readFileSync(path.join(root, 'specs/lenet5.net'), 'utf8'), { set: { size: '28' } }).network!;
    norm = json(path.join(run, 'config.json')).normalization;
    await loadTf({ backend: 'cpu' });
    model = toTfjs(tf, net, { weights: readTfjsWeights(path.join(run, 'model'), net) });
  }, 600_000);

  it('concentrates the saliency on the garment, not uniformly (60 test images)', () => {
    const { examples } = idxExamples(FASHION, 'test', [...Array(60).keys()], net.input);
    const real: number[] = [];
    const shuffled: number[] = [];
    for (const ex of examples) {
      const e = explainExample(tf, model, net, normalise(ex.raw, 1, norm));
      real.push(insideOverOutside(e.saliency, ex.raw));
      // the same values at random places: the control a uniform map would give
      const p = permutation(784, rng(deriveSeed(real.length, 'control')));
      shuffled.push(insideOverOutside(Array.from(p, (j) => e.saliency[j]!), ex.raw));
    }
    const good = real.filter((r) => r > 1).length / real.length;
    console.log(`saliency per pixel inside / outside the garment: median ${median(real).toFixed(2)}, > 1 for ${(100 * good).toFixed(0)}% of images; shuffled: median ${median(shuffled).toFixed(2)}`);
    expect(median(real)).toBeGreaterThan(1.25);
    expect(good).toBeGreaterThanOrEqual(0.8);
    expect(median(shuffled)).toBeGreaterThan(0.85);
    expect(median(shuffled)).toBeLessThan(1.15);
    expect(median(real)).toBeGreaterThan(median(shuffled) + 0.2);
  });

  it('computes the right numbers: feature maps from the weights, saliency by finite differences, Grad-CAM from the tail', () => {
    const ex = idxExamples(FASHION, 'test', [0], net.input).examples[0]!;
    const x = normalise(ex.raw, 1, norm);
    const e = explainExample(tf, model, net, x);
    expect(e.score).toBe('logit');
    expect(e.maps.map((m) => [m.stage.path, m.stage.followers, m.stage.shape])).toEqual([
      ['conv1', ['tanh1'], [6, 28, 28]],
      ['conv2', ['tanh2'], [16, 10, 10]],
      ['conv3', ['tanh3'], [120, 1, 1]],
    ]);
    // conv1 → tanh by hand: 5×5 kernels, pad 2, from the canonical weights
    const w = readTfjsWeights(path.join(run, 'model'), net);
    const conv1 = [...layers(net.body)].find((n) => n.path === 'conv1')!;
    const W = w.get('conv1', conv1.weights[0]!), B = w.get('conv1', conv1.weights[1]!);
    let worst = 0;
    for (let f = 0; f < 6; f++)
      for (let y = 0; y < 28; y++)
        for (let xx = 0; xx < 28; xx++) {
          let s = B[f]!;
          for (let ky = 0; ky < 5; ky++)
            for (let kx = 0; kx < 5; kx++) {
              const iy = y + ky - 2, ix = xx + kx - 2;
              if (iy >= 0 && iy < 28 && ix >= 0 && ix < 28) s += W[f * 25 + ky * 5 + kx]! * x[iy * 28 + ix]!;
            }
          worst = Math.max(worst, Math.abs(Math.tanh(s) - e.maps[0]!.values[f * 784 + y * 28 + xx]!));
        }
    expect(worst).toBeLessThan(1e-4);

    // saliency = |∂ logit / ∂ pixel|: central differences on the logits model
    const logitsModel = tf.model({ inputs: model.inputs, outputs: model.layers[model.layers.length - 1]!.input as tf.SymbolicTensor });
    const logit = (v: Float32Array): number => tf.tidy(() => (logitsModel.predict(tf.tensor4d(v, [1, 28, 28, 1])) as tf.Tensor).dataSync()[e.target]!);
    const maxSal = Math.max(...e.saliency);
    for (const p of [100, 300, 406, 430, 500, 700]) {
      const h = 0.02;
      const up = x.slice(), down = x.slice();
      up[p]! += h;
      down[p]! -= h;
      const fd = (logit(up) - logit(down)) / (2 * h);
      expect(Math.abs(Math.abs(fd) - e.saliency[p]!), `pixel ${p}`).toBeLessThan(0.05 * e.saliency[p]! + 0.005 * maxSal);
    }

    // Grad-CAM: the gradient at conv2 → tanh2 from the network's tail, taken apart by hand
    expect(e.gradcam!.probe.path).toBe('conv2');
    const names = model.layers.map((l) => l.name);
    const A = tf.model({ inputs: model.inputs, outputs: model.getLayer('tanh2').output as tf.SymbolicTensor }).predict(tf.tensor4d(x, [1, 28, 28, 1])) as tf.Tensor;
    const tail = (a: tf.Tensor): tf.Tensor => model.layers.slice(names.indexOf('tanh2') + 1, -1).reduce((t, l) => l.apply(t) as tf.Tensor, a);
    const G = tf.grad((a: tf.Tensor) => tail(a).slice([0, e.target], [1, 1]).sum())(A).dataSync();
    const Ad = A.dataSync();
    const cam = new Float32Array(100);
    for (let k = 0; k < 16; k++) {
      let alpha = 0;
      for (let p = 0; p < 100; p++) alpha += G[p * 16 + k]! / 100;
      for (let p = 0; p < 100; p++) cam[p]! += alpha * Ad[p * 16 + k]!;
    }
    const camMax = Math.max(...e.gradcam!.coarse);
    expect(camMax).toBeGreaterThan(0);
    for (let p = 0; p < 100; p++) expect(Math.abs(Math.max(0, cam[p]!) - e.gradcam!.coarse[p]!)).toBeLessThan(1e-5 * camMax + 1e-7);
    expect(e.gradcam!.map).toHaveLength(784);
  });

  it('writes the PNGs, explain.json and an index.html that loads in headless Chromium with every image', () => {
    const out = path.join(tmp(), 'ex');
    const r = cli(['explain', run, '--data', FASHION, '--index', '0', '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/LeNet5 predicts \S/);
    expect(r.stderr).toContain(`open ${path.join(out, 'index.html')}`);
    const files = readdirSync(out).sort();
    expect(files).toEqual(['explain.json', 'features-01-conv1.png', 'features-02-conv2.png', 'features-03-conv3.png', 'gradcam.png', 'index.html', 'input.png', 'saliency.png']);
    const summary = json(path.join(out, 'explain.json'));
    expect(summary).toMatchObject({ network: 'LeNet5', input: { data: FASHION, split: 'test', index: 0 }, label: { index: 9, class: 'Ankle boot' }, explained: { score: 'logit (the input of the final softmax)' } });
    expect(summary.gradcam).toMatchObject({ stage: 'conv2', followers: ['tanh2'], shape: [16, 10, 10] });
    expect(summary.stages.map((s: { title: string }) => s.title)).toEqual(['conv1 → tanh', 'conv2 → tanh', 'conv3 → tanh']);
    expect(summary.prediction).toHaveLength(5);
    // the pictures: sizes as laid out, and not blank
    expect([png(path.join(out, 'input.png')).width, png(path.join(out, 'input.png')).height]).toEqual([224, 224]);
    for (const f of ['saliency.png', 'gradcam.png']) {
      const p = png(path.join(out, f));
      expect(p.width, f).toBe(3 * 224 + 2 * 24 + 32);
      expect(inked(p), f).toBeGreaterThan(0.3);
    }
    for (const f of files.filter((n) => n.startsWith('features-'))) expect(inked(png(path.join(out, f))), f).toBeGreaterThan(0.1);
    const html = readFileSync(path.join(out, 'index.html'), 'utf8');
    const srcs = [...html.matchAll(/<img src="([^"]+)"/g)].map((m) => decodeURIComponent(m[1]!));
    expect(srcs.sort()).toEqual(files.filter((f) => f.endsWith('.png')).sort());
    expect(html).toContain('Ankle boot');
    expect(html).not.toMatch(/<script|https?:\/\//);

    if (!hasChromium) return;
    // the page itself, plus a script that reports every image as the browser loaded it
    const probe = html.replace('</body>', `<pre id="probe"></pre><script>addEventListener('load', () => { document.getElementById('probe').textContent = JSON.stringify([...document.images].map((i) => [i.getAttribute('src'), i.complete, i.naturalWidth, i.naturalHeight])); });</script></body>`);
    writeFileSync(path.join(out, 'probe.html'), probe);
    const c = spawnSync(
      CHROMIUM,
      ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', `--user-data-dir=${tmp('alexnetc-chromium-')}`, '--virtual-time-budget=10000', '--dump-dom', `file://${path.join(out, 'probe.html')}`],
      { encoding: 'utf8', timeout: 120_000 },
    );
    expect(c.status, c.stderr).toBe(0);
    const loaded = JSON.parse(/<pre id="probe">(.*?)<\/pre>/s.exec(c.stdout)![1]!.replace(/&quot;/g, '"').replace(/&amp;/g, '&')) as Array<[string, boolean, number, number]>;
    expect(loaded.map((l) => l[0]).sort()).toEqual(srcs.sort());
    for (const [src, complete, w, h] of loaded) {
      expect(complete, src).toBe(true);
      const p = png(path.join(out, src));
      expect([w, h], src).toEqual([p.width, p.height]);
    }
  });

  it('explains another class on request, and image files as their IDX examples', () => {
    const d = tmp();
    const shoe = fashionPng(path.join(d, 'shoe.png'), 0);
    const out = path.join(d, 'why');
    const r = cli(['explain', run, shoe, '--class', 'Sneaker', '-o', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.explained).toMatchObject({ class: 'Sneaker', index: 7 });
    expect(s.input).toEqual({ file: shoe });
    expect(s.output.files).toContain('index.html');
    expect(json(path.join(out, 'explain.json')).prediction).toEqual(s.prediction);
    const bad = cli(['explain', run, shoe, '--class', 'Hat', '-o', path.join(d, 'x')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--class Hat: not one of the classes \(T-shirt\/top, .*Ankle boot\), nor an index from 0 to 9/);
  });

  it('refuses what it must not overwrite, and replaces only its own earlier output', () => {
    const d = tmp();
    const shoe = fashionPng(path.join(d, 'shoe.png'), 0);
    const foreign = path.join(d, 'mine');
    mkdirSync(foreign);
    writeFileSync(path.join(foreign, 'notes.txt'), 'keep me');
    const refused = cli(['explain', run, shoe, '-o', foreign]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/refusing to write into .*mine: it holds files alexnetc did not write \(notes\.txt\)/);
    expect(readdirSync(foreign)).toEqual(['notes.txt']);
    const forced = cli(['explain', run, shoe, '-o', foreign, '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(readFileSync(path.join(foreign, 'notes.txt'), 'utf8')).toBe('keep me');
    expect(readdirSync(foreign)).toContain('index.html');

    // an earlier explain's directory is replaced, its stale feature maps removed
    const ours = path.join(d, 'ours');
    expect(cli(['explain', run, shoe, '-o', ours]).code).toBe(0);
    writeFileSync(path.join(ours, 'features-09-conv9.png'), 'stale');
    const again = cli(['explain', run, shoe, '-o', ours]);
    expect(again.code, again.stderr).toBe(0);
    expect(readdirSync(ours)).not.toContain('features-09-conv9.png');
    expect(readdirSync(ours).filter((f) => f.startsWith('.'))).toEqual([]); // no temporaries left

    const runBefore = readdirSync(run).sort();
    for (const [o, message] of [
      [run, /refusing to write into the input/],
      [shoe, /refusing to replace the input .*shoe\.png/],
      [path.join(run, 'config.json'), /refusing to replace the input|is a file/],
    ] as Array<[string, RegExp]>) {
      const r = cli(['explain', run, shoe, '-o', o]);
      expect(r.code, o).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    expect(readdirSync(run).sort()).toEqual(runBefore);
    expect(readFileSync(shoe).subarray(0, 4).toString('latin1')).toBe('\x89PNG');
  });

  it('refuses bad input with exit 1, a clear line and nothing written', () => {
    const d = tmp();
    const text = path.join(d, 'shoe.jpg');
    writeFileSync(text, 'not a jpeg at all');
    // LeNet-5 with 8 maps in C1: the run's weights do not fit it
    const other = path.join(d, 'lenet8.net');
    writeFileSync(other, readFileSync(path.join(root, 'specs/lenet5.net'), 'utf8').replace('conv(6, 5,', 'conv(8, 5,').replace(': [6, 14, 14]', ': [8, 14, 14]'));
    // a copy of the run whose recorded .net file is gone
    const moved = path.join(d, 'moved');
    cpSync(run, moved, { recursive: true });
    const cfg = json(path.join(moved, 'config.json'));
    cfg.source.file = path.join(d, 'gone', 'lenet5.net');
    writeFileSync(path.join(moved, 'config.json'), JSON.stringify(cfg));
    const shoe = fashionPng(path.join(d, 'real.png'), 0);
    const cases: Array<[string[], RegExp]> = [
      [[run, text], /shoe\.jpg: not a PNG or JPEG image \(unrecognised file signature\)/],
      [[run, shoe, '--source', other], /does not match network LeNet5 of .*lenet8\.net: layer conv1: the network expects conv1\/kernel with shape \[5, 5, 1, 8\], .* has shape \[5, 5, 1, 6\]/],
      [[moved, shoe], /gone\/lenet5\.net: no such file \(the \.net source .*moved recorded; pass it with --source FILE if it has moved\)/],
      [[path.join(d, 'nothing'), shoe], /nothing: no such run or model directory/],
      [[d, shoe], /neither a run directory \(no config\.json\) nor a tfjs model directory/],
      [[run, '--data', FASHION, '--index', '10000'], /--index 10000: the test split .* has 10000 images/],
    ];
    for (const [args, message] of cases) {
      const out = path.join(d, 'out');
      const r = cli(['explain', ...args, '-o', out]);
      expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(out), args.join(' ')).toBe(false);
    }
    // the moved run works when told where its source is
    const ok = cli(['explain', moved, shoe, '--source', path.join(root, 'specs/lenet5.net'), '-o', path.join(d, 'fine')]);
    expect(ok.code, ok.stderr).toBe(0);
    // usage
    for (const [args, message] of [
      [[run, shoe], /explain needs -o DIR/],
      [[run, '-o', 'x'], /explain needs an IMAGE/],
      [[run, shoe, '--data', FASHION, '--index', '0', '-o', 'x'], /not both/],
      [[run, '--data', FASHION, '--index', '1,2', '-o', 'x'], /--index expects one whole number/],
    ] as Array<[string[], RegExp]>) {
      const r = cli(['explain', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });
});

describe('alexnetc explain on any checked network', () => {
  it('explains residual, shortcut, concat, add and grouped convolutions (a tfjs model directory alexnetc wrote)', () => {
    const d = tmp();
    const src = path.join(d, 'mixed.net');
    writeFileSync(
      src,
      `network Mixed(classes = 4, width = 8) {
  input [3, 24, 24]
  conv(width, 3, pad 1) | batchnorm | relu
  residual {
    conv(width, 3, pad 1, groups 2) | batchnorm | leakyrelu
    conv(2 * width, 3, stride 2, pad 1)
  } shortcut {
    conv(2 * width, 1, stride 2)
  }
  relu
  concat {
    branch { conv(8, 1) | relu }
    branch { maxpool(3, 1, pad 1) | conv(8, 3, pad 1) | sigmoid }
  }
  add {
    branch { conv(16, 3, pad 1) }
    branch { identity }
  }
  tanh
  globalavgpool | flatten
  dense(classes) | softmax
}
`,
    );
    const modelDir = path.join(d, 'model');
    const c = cli(['compile', src, '--set', 'width=6', '--target', 'tfjs', '-o', modelDir]);
    expect(c.code, c.stderr).toBe(0);
    const image = path.join(d, 'stripes.png');
    writePng(image, 40, 30, rgbaOf(40, 30, (x, y) => [x * 6, (y * 8) % 256, x % 7 < 3 ? 250 : 10]));
    const out = path.join(d, 'out');
    const r = cli(['explain', modelDir, image, '-o', out, '--class', '2']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('records no normalisation');
    const s = json(path.join(out, 'explain.json'));
    const net = compile(readFileSync(src, 'utf8'), { set: { width: '6' } }).network!;
    const convs = [...layers(net.body)].filter((n) => n.layer.name === 'conv').map((n) => n.path);
    expect(convs).toHaveLength(7);
    expect(s.stages.map((x: { path: string }) => x.path)).toEqual(convs);
    expect(s.stages[0]).toMatchObject({ title: 'conv1 → batchnorm → relu', shape: [6, 24, 24] });
    expect(s.stages[1].shape).toEqual([6, 24, 24]);
    // Grad-CAM on the last construct holding a convolution, read through its activation
    expect(s.gradcam).toMatchObject({ stage: 'add1', followers: ['tanh1'], shape: [16, 12, 12] });
    expect(s.explained).toMatchObject({ index: 2, class: '2' });
    expect(s.notes.join()).toContain('records no normalisation');
    for (const f of readdirSync(out).filter((n) => n.endsWith('.png'))) expect(inked(png(path.join(out, f))), f).toBeGreaterThan(0.05);
  });

  it('refuses a vector network: there is no image to draw on', () => {
    const d = tmp();
    const src = path.join(d, 'mlp.net');
    writeFileSync(src, 'network MLP {\n  input [784]\n  dense(10) | softmax\n}\n');
    const modelDir = path.join(d, 'model');
    expect(cli(['compile', src, '--target', 'tfjs', '-o', modelDir]).code).toBe(0);
    const image = path.join(d, 'x.png');
    writePng(image, 28, 28, rgbaOf(28, 28, () => [0, 0, 0]));
    const r = cli(['explain', modelDir, image, '-o', path.join(d, 'out')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/network MLP takes vectors \[784\]; explain draws images/);
    expect(existsSync(path.join(d, 'out'))).toBe(false);
  });
});
