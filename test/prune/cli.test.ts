// `alexnetc prune` end to end on a LeNet-5 trained for a moment on real
// Fashion-MNIST: the new run directory, fine-tuning that keeps the pruned
// weights at zero (also across --resume), a narrower .net that checks and
// exports, accuracies that onnxruntime reproduces from the written files;
// and refusals that write nothing.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../../src/compile.js';
import { layers } from '../../src/check/ir.js';
import { readTfjsWeights } from '../../src/weights/tfjs.js';
import { readMasks } from '../../src/train/masks.js';
import { prepareData } from '../../src/train/prepare.js';
import { OnnxModel } from '../../src/emit/onnx/session.js';
import { onnxAccuracy } from '../../src/quantize/evaluate.js';
import { requirePython, runPython, tempDir } from '../onnx/helpers.js';

const root = path.join(import.meta.dirname, '../..');
const FASHION = process.env.ALEXNETC_FASHION_MNIST ?? '/usr/share/datasets/fashion-mnist';
const hasData = fs.existsSync(path.join(FASHION, 'train-images-idx3-ubyte.gz')) || fs.existsSync(path.join(FASHION, 'train-images-idx3-ubyte'));
if (!hasData) console.warn(`SKIPPED the prune CLI tests: Fashion-MNIST not found in ${FASHION}`);
const hasOnnx = requirePython('onnx', 'the onnx.checker check of a pruned export');

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [path.join(root, 'bin/alexnetc.js'), ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const dir = tempDir('prune-cli');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const run = path.join(dir, 'run');
const LENET = path.join(root, 'specs/lenet5.net');
const json = (f: string) => JSON.parse(fs.readFileSync(f, 'utf8'));

function lenet(text = fs.readFileSync(LENET, 'utf8'), set: Record<string, string> = { size: '28' }) {
  const r = compile(text, { network: 'LeNet5', set });
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return r.network!;
}

/** Zeros among the conv/dense weights of a saved model, and their total. */
function zeros(modelDir: string, text?: string, set?: Record<string, string>) {
  const net = lenet(text, set);
  const w = readTfjsWeights(modelDir, net);
  let zero = 0;
  let total = 0;
  const values = new Map<string, Float32Array>();
  for (const n of layers(net.body)) {
    if (n.layer.name !== 'conv' && n.layer.name !== 'dense') continue;
    const v = w.get(n.path, n.weights[0]!);
    values.set(`${n.path}.weight`, v);
    total += v.length;
    for (const x of v) if (x === 0) zero++;
  }
  return { zero, total, values };
}

describe.skipIf(!hasData)('alexnetc prune on a trained LeNet-5', () => {
  beforeAll(() => {
    const r = cli(['train', LENET, '--set', 'size=28', '--data', FASHION, '--limit', '1500', '--test-limit', '300', '--epochs', '1', '--out', run]);
    expect(r.code, r.stderr).toBe(0);
  }, 300_000);

  it('unstructured, fine-tuned: the zeros stay zeros, also when the fine-tuning is resumed', () => {
    const out = path.join(dir, 'sparse');
    const r = cli(['prune', run, '--sparsity', '0.6', '--finetune-epochs', '1', '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/removed 36,882 of 61,470 weights/); // round(0.6 · 61,470)
    expect(r.stdout).toMatch(/test accuracy \(300 images, onnxruntime\): [\d.]+% before, [\d.]+% pruned, [\d.]+% after 1 epoch of fine-tuning/);
    const report = json(path.join(out, 'prune.json'));
    expect(report).toMatchObject({ kind: 'unstructured', sparsity: 0.6, finetune: { epochs: 1, status: 'done', sparsityKept: true } });
    // the trainer's own test accuracy (tfjs) and onnxruntime's agree on the fine-tuned model
    expect(json(path.join(out, 'metrics.json')).accuracy).toBeCloseTo(report.accuracy.finetuned, 6);
    const masks = readMasks(out)!;
    const z = zeros(path.join(out, 'model'));
    expect(z.zero).toBeGreaterThanOrEqual(36_882);
    for (const [k, m] of masks) m.forEach((keep, i) => keep || expect(z.values.get(k)![i] === 0).toBe(true));
    // one more epoch through `alexnetc train --resume`: the loop reads the masks back
    const more = cli(['train', '--resume', out, '--epochs', '2']);
    expect(more.code, more.stderr).toBe(0);
    const z2 = zeros(path.join(out, 'model'));
    for (const [k, m] of masks) m.forEach((keep, i) => keep || expect(z2.values.get(k)![i] === 0).toBe(true));
    expect(z2.values.get('conv3.weight')).not.toEqual(z.values.get('conv3.weight')); // it did train
    // it exports like any run
    const onnx = path.join(dir, 'sparse.onnx');
    expect(cli(['compile', LENET, '--weights', out, '-o', onnx]).code).toBe(0);
  });

  it('structured: a narrower .net that checks, diffs cleanly and exports; onnxruntime reproduces the reported accuracy', async () => {
    const out = path.join(dir, 'narrow');
    const r = cli(['prune', run, '--structured', '--sparsity', '0.5', '-o', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.widths.map((w: { after: number }) => w.after)).toEqual([3, 8, 60, 42, 10]);
    expect(report.params).toEqual({ before: 61_706, after: lenet(fs.readFileSync(path.join(out, 'lenet5.net'), 'utf8')).totalParams });
    expect(report.macs.after / report.macs.before).toBeLessThan(0.4);
    expect(report.source.how).toBe('edited');
    const text = fs.readFileSync(path.join(out, 'lenet5.net'), 'utf8');
    // only the widths, the assertions that follow from them, and one comment changed
    const changed = text.split('\n').filter((l) => !fs.readFileSync(LENET, 'utf8').split('\n').includes(l));
    expect(changed.join('\n')).toMatch(/^# LeNet5 pruned by alexnetc prune --structured --sparsity 0.5/);
    expect(changed.filter((l) => !l.startsWith('#')).map((l) => l.trim().replace(/\s+/g, ' '))).toEqual([
      'conv(3, 5, pad (32 - size) / 2) | tanh | avgpool(2) : [3, 14, 14] # C1, S2',
      'conv(8, 5) | tanh | avgpool(2) : [8, 5, 5] # C3, S4',
      'conv(60, 5) | tanh : [60, 1, 1] # C5',
      'dense(42) | tanh # F6',
    ]);
    expect(cli(['check', path.join(out, 'lenet5.net')]).code).toBe(0);
    expect(json(path.join(out, 'config.json')).source).toMatchObject({ file: path.join(out, 'lenet5.net'), set: { size: '28' } });
    const onnx = path.join(dir, 'narrow.onnx');
    const c = cli(['compile', path.join(out, 'lenet5.net'), '--weights', out, '-o', onnx]);
    expect(c.code, c.stderr).toBe(0);
    if (hasOnnx) expect(() => runPython('onnx_check.py', ['--no-sums', onnx])).not.toThrow();
    expect(fs.statSync(onnx).size).toBeLessThan(0.3 * fs.statSync(path.join(run, 'model', 'weights.bin')).size);
    // the exported narrower model scores what prune reported, on the run's own 300 test images
    const cfg = json(path.join(run, 'config.json'));
    const data = prepareData(FASHION, lenet(), { seed: 0, valSplit: 0.1, limit: 1500, testLimit: 300 });
    const m = await OnnxModel.open(onnx);
    const acc = (await onnxAccuracy(m, data.test!, cfg.normalization, { flatten: false })).accuracy;
    await m.release();
    expect(acc).toBe(report.accuracy.pruned);
    expect(report.accuracy.images).toBe(300);
  });

  describe('refusals (nothing written)', () => {
    const refuse = (args: string[], code: number, message: RegExp) => {
      const out = path.join(dir, `refused-${Math.random().toString(36).slice(2)}`);
      const r = cli(['prune', ...args.map((a) => (a === 'OUT' ? out : a))]);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/internal error|at .*\.js:\d+/);
      expect(r.code).toBe(code);
      expect(fs.existsSync(out)).toBe(false);
    };
    it('a sparsity outside [0, 1)', () => {
      for (const s of ['1', '-0.1', '1.5', 'half']) refuse([run, '--sparsity', s, '-o', 'OUT'], 2, /--sparsity must be a fraction in \[0, 1\)/);
      refuse([run, '-o', 'OUT'], 2, /needs --sparsity/);
    });
    it('no output, or the run itself, or a run directory', () => {
      expect(cli(['prune', run, '--sparsity', '0.5']).stderr).toMatch(/needs -o OUT/);
      refuse([run, '--sparsity', '0.5', '-o', run], 2, /refusing to write the pruned run into its source/);
      const other = path.join(dir, 'other-run');
      fs.mkdirSync(path.join(other, 'model'), { recursive: true });
      const r = cli(['prune', run, '--sparsity', '0.5', '-o', other, '--force']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/already holds a run/);
      expect(fs.readdirSync(other)).toEqual(['model']);
      const foreign = path.join(dir, 'foreign');
      fs.mkdirSync(foreign);
      fs.writeFileSync(path.join(foreign, 'notes.txt'), 'mine');
      expect(cli(['prune', run, '--sparsity', '0.5', '-o', foreign]).stderr).toMatch(/refusing to write the run into .*foreign: it is not empty/);
      expect(fs.readdirSync(foreign)).toEqual(['notes.txt']);
    });
    it('not a run, or a run without a model', () => {
      refuse([path.join(dir, 'nowhere'), '--sparsity', '0.5', '-o', 'OUT'], 1, /nowhere: no such run directory/);
      refuse([root, '--sparsity', '0.5', '-o', 'OUT'], 1, /is not a training run \(no readable config.json\)/);
      const unfinished = path.join(dir, 'unfinished');
      fs.mkdirSync(unfinished);
      fs.copyFileSync(path.join(run, 'config.json'), path.join(unfinished, 'config.json'));
      refuse([unfinished, '--sparsity', '0.5', '-o', 'OUT'], 1, /has no trained model \(model\/\): the run has not finished/);
    });
    it('a network where no filter may go', () => {
      // one dense layer: its units are the classes
      const net = path.join(dir, 'linear.net');
      fs.writeFileSync(net, 'network Linear {\n  input [784]\n  dense(10) | softmax\n}\n');
      const lin = path.join(dir, 'linear-run');
      expect(cli(['train', net, '--data', FASHION, '--limit', '300', '--test-limit', '100', '--epochs', '1', '--out', lin]).code).toBe(0);
      refuse([lin, '--structured', '--sparsity', '0.5', '-o', 'OUT'], 1, /no filter or unit can be removed \(dense1: `softmax` at softmax1 mixes channels\)/);
    });
  });
});
