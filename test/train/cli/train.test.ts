// `alexnetc train` end to end on real Fashion-MNIST (a small subset, so the
// suite stays quick on two cores): accuracy well above chance, reports,
// exact resume (also after Ctrl-C), divergence, data/network mismatches, and
// the ONNX export of the trained weights predicting what the tfjs model does.
// Skipped, visibly, when Debian's dataset-fashion-mnist is not installed.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { PNG } from 'pngjs';
import { writeFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../../../src/compile.js';
import { toOnnxBytes } from '../../../src/emit/onnx/index.js';
import { loadTfjs } from '../../../src/emit/tfjs/io.js';
import { readTfjsWeights } from '../../../src/weights/tfjs.js';
import { batches, loadIdxDir, subset } from '../../../src/train/data/index.js';

const root = path.join(import.meta.dirname, '../../..');
const runner = path.join(import.meta.dirname, 'run-train.mjs');
const FASHION = process.env.ALEXNETC_FASHION_MNIST ?? '/usr/share/datasets/fashion-mnist';
const hasData = existsSync(path.join(FASHION, 'train-images-idx3-ubyte.gz')) || existsSync(path.join(FASHION, 'train-images-idx3-ubyte'));
if (!hasData) console.warn(`SKIPPED: Fashion-MNIST not found in ${FASHION} (install dataset-fashion-mnist or set ALEXNETC_FASHION_MNIST)`);

const tmp = (): string => mkdtempSync(path.join(os.tmpdir(), 'alexnetc-train-'));

const hasOnnx = spawnSync('/usr/bin/python3', ['-c', 'import onnx'], { stdio: 'ignore' }).status === 0;
if (!hasOnnx) console.warn('SKIPPED the ONNX metadata check: /usr/bin/python3 has no onnx');

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [path.join(root, 'bin/alexnetc.js'), ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function train(args: string[]) {
  const r = spawnSync(process.execPath, [runner, ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The documented command (examples/fashion-mnist.md) on a small budget: 2,000 training / 500 test images, 2 epochs. */
const LENET = ['specs/lenet5.net', '--set', 'size=28', '--data', FASHION, '--limit', '2000', '--test-limit', '500'];

function weights(runDir: string, sub = 'model'): Float32Array {
  const b = readFileSync(path.join(runDir, sub, 'weights.bin'));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const json = (file: string) => JSON.parse(readFileSync(file, 'utf8'));

/** Train, and at the first progress line of epoch 1 (well inside the run) send `count` SIGINTs at once. */
function interruptTraining(args: string[], count: number): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [runner, ...args], { cwd: root });
  let stderr = '';
  let sent = false;
  return new Promise((resolve) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!sent && /epoch 1\/2 step/.test(stderr)) {
        sent = true;
        for (let i = 0; i < count; i++) child.kill('SIGINT');
      }
    });
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

describe.skipIf(!hasData)('alexnetc train on Fashion-MNIST', () => {
  let straight: string;
  let straightRun: ReturnType<typeof train>;

  beforeAll(() => {
    straight = path.join(tmp(), 'run');
    straightRun = train([...LENET, '--epochs', '2', '--out', straight]);
  }, 600_000);

  it('trains LeNet-5 well above chance and writes the reports', () => {
    expect(straightRun.stderr).toMatch(/backend: cpu/);
    expect(straightRun.stderr).toMatch(/1800 training \/ 200 validation \/ 500 test images, 10 classes/);
    expect(straightRun.stderr).toMatch(/epoch 1\/2 step \d+\/29 loss/);
    expect(straightRun.stderr).toMatch(/epoch 2\/2 loss [\d.]+ {2}acc [\d.]+% {2}val_loss [\d.]+ {2}val_acc/);
    expect(straightRun.code, straightRun.stderr).toBe(0);
    const metrics = json(path.join(straight, 'metrics.json'));
    expect(metrics.evaluatedOn).toBe('test');
    expect(metrics.examples).toBe(500);
    expect(metrics.accuracy).toBeGreaterThan(0.55); // chance is 0.10
    expect(metrics.confusionMatrix.flat().reduce((a: number, b: number) => a + b, 0)).toBe(500);
    expect(straightRun.stderr).toContain(`test accuracy: ${(100 * metrics.accuracy).toFixed(2)}%`);
    const history = json(path.join(straight, 'history.json'));
    expect(history).toHaveLength(2);
    expect(history[1].loss).toBeLessThan(history[0].loss);
    for (const f of ['loss.svg', 'accuracy.svg', 'confusion.svg']) expect(readFileSync(path.join(straight, f), 'utf8')).toMatch(/^<svg/);
    // PNG copies, rendered in process: the magic number, and not blank
    for (const f of ['loss.png', 'accuracy.png', 'confusion.png']) {
      const png = PNG.sync.read(readFileSync(path.join(straight, f)));
      expect(png.width).toBe(900);
      let dark = 0;
      for (let i = 0; i < png.data.length; i += 4) if (png.data[i]! < 128) dark++;
      expect(dark / (png.width * png.height), f).toBeGreaterThan(0.005);
    }
    expect(json(path.join(straight, 'normalization.json')).std[0]).toBeGreaterThan(0.3);
    expect(json(path.join(straight, 'model', 'model.json')).userDefinedMetadata.alexnetc.classes[0]).toBe('T-shirt/top');
  });

  it('gives the same weights when 2 epochs are run as 1 + resume 1', () => {
    const dir = path.join(tmp(), 'run');
    const first = train([...LENET, '--epochs', '1', '--out', dir]);
    expect(first.code, first.stderr).toBe(0);
    expect(json(path.join(dir, 'checkpoint', 'state.json'))).toMatchObject({ epoch: 1, step: 0 });
    const second = train(['--resume', dir, '--epochs', '2']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain('resuming');
    expect(maxAbsDiff(weights(dir), weights(straight))).toBeLessThanOrEqual(1e-6);
    expect(json(path.join(dir, 'metrics.json')).accuracy).toBe(json(path.join(straight, 'metrics.json')).accuracy);
  });

  it('writes a checkpoint on Ctrl-C, exits 130, and resumes mid-epoch to the same weights', async () => {
    const dir = path.join(tmp(), 'run');
    const { code, stderr } = await interruptTraining([...LENET, '--epochs', '2', '--out', dir], 1);
    expect(stderr).toMatch(/interrupted at epoch 1, step \d+\/29: checkpoint written/);
    expect(code, stderr).toBe(130);
    const state = json(path.join(dir, 'checkpoint', 'state.json'));
    expect(state.epoch).toBe(0);
    expect(state.step).toBeGreaterThan(0);
    expect(existsSync(path.join(dir, 'model'))).toBe(false); // the final model comes only at the end
    const resumed = train(['--resume', dir]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resuming .* at epoch 1, step \d+/);
    expect(maxAbsDiff(weights(dir), weights(straight))).toBeLessThanOrEqual(1e-6);
    expect(json(path.join(dir, 'history.json'))[0].loss).toBeCloseTo(json(path.join(straight, 'history.json'))[0].loss, 6);
  }, 600_000);

  it('two SIGINTs delivered at once (as `timeout` does) still write a checkpoint', async () => {
    const dir = path.join(tmp(), 'run');
    const { code, stderr } = await interruptTraining([...LENET, '--epochs', '2', '--out', dir], 2);
    expect(stderr).toMatch(/interrupted at epoch 1, step \d+\/29: checkpoint written/);
    expect(stderr).not.toContain('quitting without a checkpoint');
    expect(code, stderr).toBe(130);
    expect(json(path.join(dir, 'checkpoint', 'state.json')).step).toBeGreaterThan(0);
  }, 600_000);

  it('--resume of a finished run says it is complete and how to extend it, and changes nothing', () => {
    const before = readFileSync(path.join(straight, 'metrics.json'), 'utf8');
    const r = train(['--resume', straight]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`${straight} is complete: it trained all 2 epochs`);
    expect(r.stderr).toContain(`alexnetc train --resume ${straight} --epochs 12`);
    expect(r.stderr).not.toMatch(/accuracy: /);
    expect(readFileSync(path.join(straight, 'metrics.json'), 'utf8')).toBe(before);
  });

  it('compile --weights RUN uses the run\'s --set values, says so, and refuses a conflicting --set', () => {
    const out = path.join(tmp(), 'lenet.onnx');
    const ok = cli(['compile', 'specs/lenet5.net', '--weights', straight, '-o', out, '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toContain(`using the settings of the run ${straight}: --network LeNet5 --set size=28`);
    expect(JSON.parse(ok.stdout).output).toMatchObject({ path: out, target: 'onnx', network: 'LeNet5', params: 61_706, seeded: false });
    const bad = cli(['compile', 'specs/lenet5.net', '--weights', straight, '--set', 'size=32', '-o', path.join(tmp(), 'x.onnx')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--set size=32 conflicts with');
    expect(bad.stderr).toContain('which was trained with --set size=28');
    if (hasOnnx) {
      // the file says how to feed it: classes, normalisation, layout, source
      const meta = JSON.parse(
        spawnSync('/usr/bin/python3', ['-c', 'import onnx,sys,json; m=onnx.load(sys.argv[1]); print(json.dumps({p.key: p.value for p in m.metadata_props}))', out], { encoding: 'utf8' }).stdout,
      );
      expect(JSON.parse(meta['alexnetc.classes'])[0]).toBe('T-shirt/top');
      expect(JSON.parse(meta['alexnetc.normalization'])).toEqual(json(path.join(straight, 'config.json')).normalization);
      expect(meta).toMatchObject({ 'alexnetc.network': 'LeNet5', 'alexnetc.input_layout': 'NCHW', 'alexnetc.input_shape': '[1,28,28]', 'alexnetc.source': 'specs/lenet5.net' });
    }
  });

  it('exports trained weights to ONNX that predict what the tfjs model predicts', async () => {
    const net = compile(readFileSync(path.join(root, 'specs/lenet5.net'), 'utf8'), { set: { size: '28' } }).network!;
    const modelDir = path.join(straight, 'model');
    const onnx = toOnnxBytes(net, { weights: readTfjsWeights(modelDir, net) });
    const norm = json(path.join(straight, 'normalization.json'));
    const test = loadIdxDir(FASHION).test!;
    const images = subset(test, [...Array(200).keys()]);
    const [nchw] = [...batches(images, { batchSize: 200, layout: 'NCHW', normalization: norm })];
    const [nhwc] = [...batches(images, { batchSize: 200, layout: 'NHWC', normalization: norm })];

    await tf.setBackend('cpu');
    (tf.backend() as unknown as { firstUse: boolean }).firstUse = false; // no "install tfjs-node" banner in test logs
    const model = await loadTfjs(tf, modelDir);
    const tfOut = tf.tidy(() => (model.predict(tf.tensor4d(nhwc!.x, nhwc!.shape)) as tf.Tensor).dataSync() as Float32Array);
    const session = await ort.InferenceSession.create(onnx);
    const ortOut = (await session.run({ input: new ort.Tensor('float32', nchw!.x, nchw!.shape) })).output!.data as Float32Array;
    await session.release();
    expect(maxAbsDiff(tfOut, ortOut)).toBeLessThan(1e-5);
    const argmax = (p: Float32Array, i: number) => {
      const row = Array.from(p.subarray(i * 10, i * 10 + 10));
      return row.indexOf(Math.max(...row));
    };
    for (let i = 0; i < 200; i++) expect(argmax(ortOut, i)).toBe(argmax(tfOut, i));
    // and the predictions are the trained ones: most of them right
    let hits = 0;
    for (let i = 0; i < 200; i++) if (argmax(ortOut, i) === images.labels[i]) hits++;
    expect(hits / 200).toBeGreaterThan(0.55);
  });

  it('stops on a NaN loss naming the epoch and step, and keeps the last good checkpoint', () => {
    const dir = path.join(tmp(), 'run');
    const r = train(['test/train/cli/fixtures/mlp.net', '--data', FASHION, '--limit', '500', '--test-limit', '100', '--epochs', '1', '--out', dir]);
    expect(r.stderr).toMatch(/training diverged: the loss became (NaN|Infinity|-Infinity) at epoch 1, step \d+\/8/);
    expect(r.stderr).toContain('the last good checkpoint (the initial weights) is kept');
    expect(r.code).toBe(1);
    expect(json(path.join(dir, 'checkpoint', 'state.json'))).toMatchObject({ epoch: 0, step: 0 });
    expect(weights(dir, 'checkpoint/model').every(Number.isFinite)).toBe(true);
    expect(existsSync(path.join(dir, 'metrics.json'))).toBe(false);
  });

  it('trains a vector network (input [784]) on IDX images, flattened in C, H, W order', () => {
    const dir = path.join(tmp(), 'run');
    const r = train(['test/train/cli/fixtures/vector-mlp.net', '--data', FASHION, '--limit', '2000', '--test-limit', '500', '--out', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('flattened to vectors of 784');
    expect(r.stderr).toContain('augmentation: none');
    expect(json(path.join(dir, 'metrics.json')).accuracy).toBeGreaterThan(0.55);
  });

  it('refuses data that do not fit the network, naming both sides, before training', () => {
    const size = train(['specs/lenet5.net', '--data', FASHION, '--out', path.join(tmp(), 'run')]);
    expect(size.stderr).toContain('network LeNet5 takes images [1, 32, 32] (channels, height, width), but the IDX data in');
    expect(size.stderr).toContain('are [1, 28, 28]; try `--set size=28`');
    expect(size.code).toBe(1);
    const classes = train(['specs/lenet5.net', '--set', 'size=28', '--set', 'classes=5', '--data', FASHION, '--out', path.join(tmp(), 'run')]);
    expect(classes.stderr).toMatch(/network LeNet5 ends in 5 output units, but the data in .* have 10 classes; try `--set classes=10`/);
    expect(classes.code).toBe(1);
    expect(classes.stderr).not.toMatch(/epoch/);
    const vec = path.join(tmp(), 'v.net');
    writeFileSync(vec, 'network V {\n  input [100]\n  dense(10)\n}\n');
    const vector = train([vec, '--data', FASHION, '--out', path.join(tmp(), 'run')]);
    expect(vector.stderr).toContain('network V takes vectors of 100 values, but the IDX images in');
    expect(vector.stderr).toContain('are [1, 28, 28] = 784 values flattened; declare `input [784]`');
    expect(vector.code).toBe(1);
  });
});

describe('alexnetc train: usage and other data sources', () => {
  it('refuses bad flags and missing data with one line each', () => {
    const noData = train(['specs/lenet5.net']);
    expect(noData.stderr).toMatch(/needs --data DIR/);
    expect(noData.code).toBe(2);
    const badLr = train(['specs/lenet5.net', '--data', '/nonexistent', '--lr', 'fast']);
    expect(badLr.stderr).toContain("--lr must be a positive number, got 'fast'");
    expect(badLr.code).toBe(2);
    const missing = train(['specs/lenet5.net', '--set', 'size=28', '--data', '/nonexistent/dir']);
    expect(missing.stderr).toContain('/nonexistent/dir: no such directory');
    expect(missing.code).toBe(1);
    const resume = train(['--resume', '/nonexistent/run']);
    expect(resume.stderr).toMatch(/no checkpoint to resume/);
    expect(resume.code).toBe(1);
    for (const r of [noData, badLr, missing, resume]) expect(r.stderr).not.toMatch(/\n\s+at /); // no stack traces
  });

  it.skipIf(existsSync(path.join(root, 'node_modules/@tensorflow/tfjs-node')))('says how to install a forced backend that is missing', () => {
    const r = train(['specs/lenet5.net', '--set', 'size=28', '--data', '/nonexistent', '--backend', 'node']);
    expect(r.stderr).toContain('npm install @tensorflow/tfjs-node');
    expect(r.code).toBe(1);
  });

  it('trains from an image folder (resized, grey), evaluating on the validation split when there is no test set', () => {
    const data = tmp();
    // three classes told apart by where the light is; 12×12 RGB files, the network takes 8×8 grey
    const classes = ['left', 'top', 'dark'];
    classes.forEach((cls, c) => {
      mkdirSync(path.join(data, cls));
      for (let i = 0; i < 16; i++) {
        const png = new PNG({ width: 12, height: 12 });
        for (let y = 0; y < 12; y++) {
          for (let x = 0; x < 12; x++) {
            const lit = c === 0 ? x < 6 : c === 1 ? y < 6 : false;
            const v = lit ? 200 + ((i * 7 + x) % 50) : (i * 13 + y * 3) % 40;
            png.data.set([v, v, v, 255], (y * 12 + x) * 4);
          }
        }
        writeFileSync(path.join(data, cls, `${i}.png`), PNG.sync.write(png));
      }
    });
    const dir = path.join(tmp(), 'run');
    const r = train(['test/train/cli/fixtures/tiny.net', '--data', data, '--epochs', '2', '--batch', '8', '--val-split', '0.25', '--lr', '0.01', '--no-augment', '--out', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('(image folder), 36 training / 12 validation / 0 test images, 3 classes');
    expect(r.stderr).toContain('the data have no test set: the final metrics are on the validation split');
    const metrics = json(path.join(dir, 'metrics.json'));
    expect(metrics).toMatchObject({ evaluatedOn: 'validation', examples: 12, classes: ['dark', 'left', 'top'] });
  });
});
