// MobileNetV2 on Fashion-MNIST, briefly: specs/mobilenet.net's MobileNetV2_28
// (the inverted residuals on 28×28 grey images) learns with both engines —
// the tfjs engine on 960 images, the torch engine on 2,000, one epoch each,
// far above chance on held-out test images — and the torch run, exported
// with --quantize int8 and int8-static, classifies 2,000 test images in
// onnxruntime within 0.5 points of the float export; pruned with
// --structured it is a narrower .net that checks and runs. The accuracies of
// longer runs are in docs/training.md and docs/deploy.md.
import * as fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { OnnxModel } from '../../src/emit/onnx/session.js';
import { onnxAccuracy } from '../../src/quantize/evaluate.js';
import { loadIdxDir, subset } from '../../src/train/data/index.js';
import { requirePython, runPython } from '../onnx/helpers.js';
import { cli, FASHION, hasData, hasTorch, json, root, tmp, train } from './torch/helpers.js';

const SPEC = path.join(root, 'specs/mobilenet.net');
const ARGS = [SPEC, '--network', 'MobileNetV2_28', '--data', FASHION, '--epochs', '1', '--seed', '1'];
const hasOnnx = requirePython('onnx, numpy', 'the onnx.checker checks of the quantized MobileNetV2');

describe.skipIf(!hasData)('MobileNetV2_28 on Fashion-MNIST', () => {
  it('learns with the tfjs engine (960 images in batches of 32, one epoch)', () => {
    const run = path.join(tmp(), 'tfjs');
    const r = train([...ARGS, '--limit', '960', '--batch', '32', '--val-split', '0', '--test-limit', '500', '-o', run]);
    expect(r.code, r.stderr).toBe(0);
    const m = json(path.join(run, 'metrics.json'));
    console.log(`MobileNetV2_28, tfjs engine, 960 images, 1 epoch: test accuracy ${(100 * m.accuracy).toFixed(1)} % (500 images), loss ${m.loss.toFixed(3)}`);
    expect(m.evaluatedOn).toBe('test');
    // chance is 10 % and a loss of ln 10 = 2.30
    expect(m.accuracy, r.stderr).toBeGreaterThan(0.25);
    expect(m.loss).toBeLessThan(2.1);
  }, 300_000);

  it.skipIf(!hasTorch)('learns with the torch engine (2,000 images, one epoch); int8 and int8-static stay within 0.5 points in onnxruntime; pruned, a narrower .net that checks and runs', async () => {
    const d = tmp();
    const run = path.join(d, 'torch');
    const r = train([...ARGS, '--limit', '2000', '--test-limit', '500', '--engine', 'torch', '-o', run]);
    expect(r.code, r.stderr).toBe(0);
    expect(json(path.join(run, 'metrics.json')).accuracy, r.stderr).toBeGreaterThan(0.5);

    const out = (f: string) => path.join(d, f);
    const base = ['compile', SPEC, '--network', 'MobileNetV2_28', '--weights', run];
    for (const [file, extra] of [
      ['float.onnx', []],
      ['int8.onnx', ['--quantize', 'int8']],
      ['static.onnx', ['--quantize', 'int8-static', '--calibrate', FASHION, '--calibrate-n', '200']],
    ] as const) {
      const c = cli([...base, ...extra, '-o', out(file)]);
      expect(c.code, c.stderr).toBe(0);
    }
    if (hasOnnx) {
      for (const f of ['int8.onnx', 'static.onnx']) {
        const q = JSON.parse(runPython('quant_check.py', [out('float.onnx'), out(f)]));
        // the stem, each of the 7 blocks' depthwise and projection convs, 6 expansions (the first block has none), the last conv, the dense layer
        expect(q.weights_checked).toBe(1 + 2 * 7 + 6 + 1 + 1);
        expect(q.worst_error_in_steps).toBeLessThanOrEqual(0.5 + 1e-4);
      }
    }
    // 2,000 test images spread over the test set (the run evaluated itself on another 500 of them; no training image)
    const all = loadIdxDir(FASHION).test!;
    const test = subset(all, Array.from({ length: 2000 }, (_, i) => i * 5));
    const norm = json(path.join(run, 'config.json')).normalization;
    const acc: Record<string, number> = {};
    for (const f of ['float.onnx', 'int8.onnx', 'static.onnx']) {
      const m = await OnnxModel.open(out(f));
      acc[f] = (await onnxAccuracy(m, test, norm, { flatten: false })).accuracy;
      await m.release();
    }
    console.log(`MobileNetV2_28, torch engine, 2,000 images, 1 epoch, on 2,000 test images in onnxruntime: ${Object.entries(acc).map(([f, a]) => `${f} ${(100 * a).toFixed(2)} %`).join(', ')}`);
    expect(acc['float.onnx']).toBeGreaterThan(0.5);
    for (const f of ['int8.onnx', 'static.onnx']) expect(Math.abs(acc[f]! - acc['float.onnx']!), `${f}: ${JSON.stringify(acc)}`).toBeLessThanOrEqual(0.005);
    expect(fs.statSync(out('int8.onnx')).size / fs.statSync(out('float.onnx')).size).toBeLessThan(0.45);

    // prune --structured of the trained run: every expansion halves, its depthwise conv with it; a narrower .net that checks and runs
    const pruned = path.join(d, 'pruned');
    const pr = cli(['prune', run, '--structured', '--sparsity', '0.5', '-o', pruned]);
    expect(pr.code, pr.stderr).toBe(0);
    const report = json(path.join(pruned, 'prune.json'));
    expect(report.params).toEqual({ before: 134_250, after: 67_690 });
    const narrow = path.join(pruned, 'mobilenet.net');
    expect(fs.readFileSync(narrow, 'utf8')).toContain('conv(48, 1, bias false) | batchnorm | relu6\n  conv(48, 3, stride 2, pad 1, groups 48, bias false)');
    expect(cli(['check', narrow]).code).toBe(0);
    const c = cli(['compile', narrow, '--weights', pruned, '-o', out('pruned.onnx')]);
    expect(c.code, c.stderr).toBe(0);
    const m = await OnnxModel.open(out('pruned.onnx'));
    const a = (await onnxAccuracy(m, test, norm, { flatten: false })).accuracy;
    await m.release();
    expect(a).toBeGreaterThanOrEqual(0);
    expect(report.accuracy.pruned).toBeGreaterThanOrEqual(0);
  }, 600_000);
});
