// `alexnetc compile --quantize` end to end on a LeNet-5 trained for a moment
// on real Fashion-MNIST: both forms pass onnx.checker's full check, the int8
// file is under 0.3× of the float one, the accuracy on held-out test images
// stays within a point, onnxruntime runs int8-static with int8 kernels; and
// every misuse is refused with exit 2 (usage) or 1 (input), writing nothing.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadIdxDir, subset } from '../../src/train/data/index.js';
import { OnnxModel } from '../../src/emit/onnx/session.js';
import { onnxAccuracy } from '../../src/quantize/evaluate.js';
import { requirePython, runPython, tempDir } from '../onnx/helpers.js';

const root = path.join(import.meta.dirname, '../..');
const FASHION = process.env.ALEXNETC_FASHION_MNIST ?? '/usr/share/datasets/fashion-mnist';
const hasData = fs.existsSync(path.join(FASHION, 'train-images-idx3-ubyte.gz')) || fs.existsSync(path.join(FASHION, 'train-images-idx3-ubyte'));
if (!hasData) console.warn(`SKIPPED the quantization CLI tests: Fashion-MNIST not found in ${FASHION}`);
const hasOnnx = requirePython('onnx, numpy', 'the onnx.checker checks of quantized files');

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [path.join(root, 'bin/alexnetc.js'), ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const dir = tempDir('quantize-cli');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const run = path.join(dir, 'run');
const LENET = path.join(root, 'specs/lenet5.net');
const out = (name: string) => path.join(dir, name);

describe.skipIf(!hasData)('compile --quantize on a trained LeNet-5', () => {
  beforeAll(() => {
    const r = cli(['train', LENET, '--set', 'size=28', '--data', FASHION, '--limit', '2000', '--test-limit', '200', '--epochs', '1', '--out', run]);
    expect(r.code, r.stderr).toBe(0);
  }, 300_000);

  it('writes float, int8 and int8-static files that the checker accepts and onnxruntime runs', async () => {
    expect(cli(['compile', LENET, '--weights', run, '-o', out('float.onnx')]).code).toBe(0);
    const int8 = cli(['compile', LENET, '--weights', run, '--quantize', 'int8', '-o', out('int8.onnx')]);
    expect(int8.code, int8.stderr).toBe(0);
    expect(int8.stderr).toMatch(/int8: 0\.2\d× the float file/);
    const st = cli(['compile', LENET, '--weights', run, '--quantize', 'int8-static', '--calibrate', FASHION, '--calibrate-n', '200', '-o', out('static.onnx')]);
    expect(st.code, st.stderr).toBe(0);
    expect(st.stderr).toMatch(/calibrated 10 activation tensors on 200 images of .* \(minmax\)/);
    const pc = cli([
      'compile', LENET, '--weights', run, '--quantize', 'int8-static', '--calibrate', FASHION, '--calibrate-n', '200', '--calibrate-method', 'percentile', '--json', '-o', out('percentile.onnx'),
    ]);
    expect(pc.code, pc.stderr).toBe(0);
    const report = JSON.parse(pc.stdout);
    expect(report.output.quantization).toMatchObject({ mode: 'int8-static', format: 'QDQ', calibration: { images: 200, method: 'percentile' } });

    const size = (f: string) => fs.statSync(out(f)).size;
    expect(size('int8.onnx') / size('float.onnx')).toBeLessThan(0.3);
    expect(size('static.onnx') / size('float.onnx')).toBeLessThan(0.32);

    if (hasOnnx) {
      for (const f of ['int8.onnx', 'static.onnx', 'percentile.onnx']) {
        const r = JSON.parse(runPython('quant_check.py', [out('float.onnx'), out(f)]));
        expect(r.weights_checked).toBe(5);
        expect(r.worst_error_in_steps).toBeLessThanOrEqual(0.5 + 1e-4);
        expect(JSON.parse(r.metadata['alexnetc.quantization']).mode).toBe(f === 'int8.onnx' ? 'int8' : 'int8-static');
        expect(r.metadata['alexnetc.normalization']).toBeDefined();
      }
    }

    // accuracy on 1,000 test images (never seen by training or calibration)
    const config = JSON.parse(fs.readFileSync(path.join(run, 'config.json'), 'utf8'));
    const test = subset(loadIdxDir(FASHION).test!, Array.from({ length: 1000 }, (_, i) => i * 10));
    const acc: Record<string, number> = {};
    for (const f of ['float.onnx', 'int8.onnx', 'static.onnx', 'percentile.onnx']) {
      const m = await OnnxModel.open(out(f));
      acc[f] = (await onnxAccuracy(m, test, config.normalization, { flatten: false })).accuracy;
      await m.release();
    }
    expect(acc['float.onnx']).toBeGreaterThan(0.5);
    for (const f of ['int8.onnx', 'static.onnx', 'percentile.onnx']) expect(Math.abs(acc[f]! - acc['float.onnx']!), `${f}: ${JSON.stringify(acc)}`).toBeLessThanOrEqual(0.01);
  });

  describe('refusals (nothing written)', () => {
    const refuse = (args: string[], code: number, message: RegExp) => {
      const file = out(`refused-${Math.random().toString(36).slice(2)}.onnx`);
      const r = cli(['compile', LENET, ...args, '-o', file]);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/internal error|at .*\.js:\d+/);
      expect(r.code).toBe(code);
      expect(fs.existsSync(file)).toBe(false);
      expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    };
    it('without weights', () => refuse(['--set', 'size=28', '--quantize', 'int8'], 2, /--quantize needs trained weights/));
    it('int8-static without calibration data', () => refuse(['--weights', run, '--quantize', 'int8-static'], 2, /needs calibration images: --calibrate DIR/));
    it('calibration options without int8-static', () => {
      refuse(['--weights', run, '--quantize', 'int8', '--calibrate', FASHION], 2, /--calibrate belongs to --quantize int8-static/);
      refuse(['--weights', run, '--calibrate-n', '10'], 2, /--calibrate-n belongs to --quantize int8-static/);
    });
    it('a bad mode, method or count', () => {
      refuse(['--weights', run, '--quantize', 'int4'], 2, /argument 'int4' is invalid.*int8, int8-static/);
      refuse(['--weights', run, '--quantize', 'int8-static', '--calibrate', FASHION, '--calibrate-method', 'entropy'], 2, /invalid/);
      refuse(['--weights', run, '--quantize', 'int8-static', '--calibrate', FASHION, '--calibrate-n', '0'], 2, /--calibrate-n must be a whole number ≥ 1/);
    });
    it('another target', () => refuse(['--weights', run, '--quantize', 'int8', '--target', 'tfjs'], 2, /--quantize writes ONNX/));
    it('calibration data that are missing or do not fit the network', () => {
      refuse(['--weights', run, '--quantize', 'int8-static', '--calibrate', path.join(dir, 'nowhere')], 1, /nowhere: no such directory/);
      // an image folder of three classes for a ten-class network
      const folder = path.join(dir, 'three-classes');
      for (const c of ['a', 'b', 'c']) {
        fs.mkdirSync(path.join(folder, c), { recursive: true });
        const png = new PNG({ width: 28, height: 28 });
        png.data.fill(200);
        fs.writeFileSync(path.join(folder, c, '1.png'), PNG.sync.write(png));
      }
      refuse(['--weights', run, '--quantize', 'int8-static', '--calibrate', folder], 1, /ends in 10 output units, but the data in .* have 3 classes/);
    });
    it('a network with nothing to quantize', () => {
      const net = path.join(dir, 'pool.net');
      fs.writeFileSync(net, 'network P {\n  input [1, 4, 4]\n  maxpool(2) | flatten | softmax\n}\n');
      const model = path.join(dir, 'pool-model');
      expect(cli(['compile', net, '--target', 'tfjs', '-o', model]).code).toBe(0);
      const file = out('pool.onnx');
      const r = cli(['compile', net, '--weights', model, '--quantize', 'int8', '-o', file]);
      expect(r.stderr).toMatch(/P has no conv or dense layer: --quantize has nothing to quantize/);
      expect(r.code).toBe(1);
      expect(fs.existsSync(file)).toBe(false);
    });
  });
});
