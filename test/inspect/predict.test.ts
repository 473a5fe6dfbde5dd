// `alexnetc predict` on a LeNet-5 trained here on real Fashion-MNIST: the
// accuracy it reports on the run's own test images equals the run's metrics;
// the run, its tfjs model directory and its ONNX export (onnxruntime) give the
// same top-K; image files are prepared exactly as the training image-folder
// loader prepares them; bad input is refused with exit 1 and a clear message.
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import protobuf from 'protobufjs/minimal.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadOrt } from '../../src/emit/onnx/session.js';
import { imageExample, parseIndices } from '../../src/inspect/predict/index.js';
import { readOnnxFile } from '../../src/weights/onnx-read.js';
import { loadImageFolderSplit } from '../../src/train/data/index.js';
import { UserError } from '../../src/util/errors.js';
import { cli, FASHION, fashionImage, fashionPng, fashionTest, hasData, rgbaOf, testLimitIndices, tmp, trainLenet, writeJpeg, writePng } from './lenet-run.js';

if (!hasData) console.warn(`SKIPPED: Fashion-MNIST not found in ${FASHION} (install dataset-fashion-mnist or set ALEXNETC_FASHION_MNIST)`);

interface PredictJson {
  model: { kind: string; network?: string; input: number[]; outputs: string; classes: string[] | null; normalization: { mean: number[]; std: number[]; scale: number; from: string } };
  notes: string[];
  predictions: Array<{ input: unknown; label?: { index: number; class: string }; top: Array<{ index: number; class: string; probability: number }> }>;
  accuracy?: { correct: number; total: number; fraction: number };
}

function predictJson(args: string[]): PredictJson {
  const r = cli(['predict', ...args, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as PredictJson;
}

/** An ONNX file without its metadata_props (as from another exporter): every top-level field but 14 copied. */
function stripMetadata(bytes: Uint8Array): Uint8Array {
  const r = protobuf.Reader.create(bytes);
  const parts: Uint8Array[] = [];
  while (r.pos < r.len) {
    const start = r.pos;
    const tag = r.uint32();
    r.skipType(tag & 7);
    if (tag >>> 3 !== 14) parts.push(bytes.subarray(start, r.pos));
  }
  return Buffer.concat(parts);
}

describe.skipIf(!hasData)('alexnetc predict with a LeNet-5 trained on Fashion-MNIST', () => {
  const work = tmp();
  const run = path.join(work, 'run');
  const onnx = path.join(work, 'lenet.onnx');
  const tfjsDir = path.join(work, 'lenet-tfjs');
  let metrics: { accuracy: number; examples: number };
  let indices: number[];

  beforeAll(() => {
    const t = trainLenet(run);
    expect(t.code, t.stderr).toBe(0);
    metrics = JSON.parse(readFileSync(path.join(run, 'metrics.json'), 'utf8'));
    for (const args of [['-o', onnx], ['--target', 'tfjs', '-o', tfjsDir]]) {
      const c = cli(['compile', 'specs/lenet5.net', '--weights', run, ...args]);
      expect(c.code, c.stderr).toBe(0);
    }
    indices = testLimitIndices(10_000, 500);
  }, 600_000);

  it("reports, on the run's own 500 test images, exactly the accuracy in its metrics.json", async () => {
    // the indices are the trainer's subset: check against what prepareData hands the trainer
    const { prepareData } = await import('../../src/train/index.js');
    const { compile } = await import('../../src/compile.js');
    const net = compile(readFileSync('specs/lenet5.net', 'utf8'), { set: { size: '28' } }).network!;
    const prepared = prepareData(FASHION, net, { seed: 0, valSplit: 0.1, limit: 2000, testLimit: 500 });
    indices.forEach((i, k) => expect(Buffer.from(fashionImage(i)).equals(Buffer.from(prepared.test!.images.subarray(k * 784, (k + 1) * 784)))).toBe(true));

    const r = cli(['predict', run, '--data', FASHION, '--index', indices.join(',')]);
    expect(r.code, r.stderr).toBe(0);
    const correct = Math.round(metrics.accuracy * metrics.examples);
    expect(r.stdout).toContain(`accuracy: ${(100 * metrics.accuracy).toFixed(2)}% (${correct}/500)`);
    expect(metrics.accuracy).toBeGreaterThan(0.55); // chance is 0.10
    // one line per image: the name, the top 5 (recorded class names), the truth
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(501);
    expect(lines[0]).toMatch(new RegExp(`^fashion-mnist test #${indices[0]} +\\S`));
    expect(lines[0]).toMatch(/\(true: (T-shirt\/top|Trouser|Pullover|Dress|Coat|Sandal|Shirt|Sneaker|Bag|Ankle boot) [✓✗]\)$/);
    expect(r.stderr).toMatch(/tfjs backend: .*cpu/);
  });

  it('gives the same top-K from the run, its tfjs model directory and its ONNX export (onnxruntime)', () => {
    const some = indices.slice(0, 200).join(',');
    const [fromRun, fromDir, fromOnnx] = [run, tfjsDir, onnx].map((m) => predictJson([m, '--data', FASHION, '--index', some, '--top', '3']));
    expect(fromRun!.model).toMatchObject({ kind: 'run', network: 'LeNet5', input: [1, 28, 28], outputs: 'probabilities' });
    expect(fromDir!.model.kind).toBe('tfjs');
    expect(fromOnnx!.model).toMatchObject({ kind: 'onnx', network: 'LeNet5', input: [1, 28, 28], outputs: 'probabilities' });
    for (const other of [fromDir!, fromOnnx!]) {
      expect(other.model.classes).toEqual(fromRun!.model.classes);
      expect(other.model.normalization).toEqual(fromRun!.model.normalization);
      expect(other.notes).toEqual([]);
      other.predictions.forEach((p, i) => {
        const q = fromRun!.predictions[i]!;
        expect(p.top.map((t) => t.class)).toEqual(q.top.map((t) => t.class));
        p.top.forEach((t, j) => expect(Math.abs(t.probability - q.top[j]!.probability)).toBeLessThan(1e-5));
      });
      expect(other.accuracy).toEqual(fromRun!.accuracy);
    }
    expect(fromRun!.model.normalization.from).toBe('recorded');
    expect(fromRun!.model.normalization.std[0]).toBeGreaterThan(0.3);
  });

  it('classifies PNG and JPEG files as it classifies the IDX examples they hold', () => {
    const d = tmp();
    const grey = fashionPng(path.join(d, 'grey.png'), 0);
    // the same pixels as RGB (r = g = b): converted to one channel by the luma weights, as training does
    const g = fashionImage(0);
    const rgb = path.join(d, 'rgb.png');
    writePng(rgb, 28, 28, rgbaOf(28, 28, (x, y) => [g[y * 28 + x]!, g[y * 28 + x]!, g[y * 28 + x]!]), 2);
    const jpg = path.join(d, 'big.jpg');
    writeJpeg(jpg, 84, 84, rgbaOf(84, 84, (x, y) => { const v = g[Math.floor(y / 3) * 28 + Math.floor(x / 3)]!; return [v, v, v]; }));
    const fromIdx = predictJson([run, '--data', FASHION, '--index', '0']).predictions[0]!;
    const files = predictJson([run, grey, rgb, jpg]);
    expect(files.predictions.map((p) => p.input)).toEqual([{ file: grey }, { file: rgb }, { file: jpg }]);
    for (const p of files.predictions.slice(0, 2)) expect(p.top).toEqual(fromIdx.top);
    // a 3× JPEG, resized back down: the same class
    expect(files.predictions[2]!.top[0]!.class).toBe(fromIdx.top[0]!.class);
    expect(fromIdx.label).toEqual({ index: fashionTest().labels[0], class: 'Ankle boot' });
  });

  it('reads an ONNX file without alexnetc metadata: class indices, a note, and --mean/--std', () => {
    const bare = path.join(tmp(), 'bare.onnx');
    writeFileSync(bare, stripMetadata(readFileSync(onnx)));
    expect(readOnnxFile(bare).metadata).toEqual({});
    expect(readOnnxFile(onnx).metadata['alexnetc.classes']).toContain('Ankle boot');
    const plain = predictJson([bare, '--data', FASHION, '--index', '0-49']);
    expect(plain.model.classes).toBeNull();
    expect(plain.model.normalization).toMatchObject({ mean: [0], std: [1], from: 'none' });
    expect(plain.notes.join('\n')).toMatch(/records no normalisation: pixels are fed scaled to \[0, 1\].*--mean\/--std/);
    expect(plain.predictions[0]!.top[0]!.class).toMatch(/^\d$/);
    const norm = JSON.parse(readFileSync(path.join(run, 'normalization.json'), 'utf8')) as { mean: number[]; std: number[] };
    const given = predictJson([bare, '--data', FASHION, '--index', '0-49', '--mean', String(norm.mean[0]), '--std', String(norm.std[0])]);
    const recorded = predictJson([onnx, '--data', FASHION, '--index', '0-49']);
    expect(given.model.normalization.from).toBe('flags');
    given.predictions.forEach((p, i) => expect(p.top.map((t) => t.index)).toEqual(recorded.predictions[i]!.top.map((t) => t.index)));
    // text output says so on stderr
    const text = cli(['predict', bare, '--data', FASHION, '--index', '0']);
    expect(text.code).toBe(0);
    expect(text.stderr).toContain('note: ');
    expect(text.stderr).toContain('records no class names: classes are shown by index');
  });

  it('refuses bad input with exit 1 and one clear line', () => {
    const d = tmp();
    const text = path.join(d, 'notes.png');
    writeFileSync(text, 'this is not an image\n');
    const truncated = path.join(d, 'cut.png');
    fashionPng(truncated, 1);
    writeFileSync(truncated, readFileSync(truncated).subarray(0, 60));
    const garbage = path.join(d, 'garbage.onnx');
    writeFileSync(garbage, Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3]));
    const emptyDir = path.join(d, 'empty');
    mkdirSync(emptyDir);
    // a run directory whose model is not the network it says it trained
    const mixed = path.join(d, 'mixed-run');
    cpSync(run, mixed, { recursive: true });
    const cfg = JSON.parse(readFileSync(path.join(mixed, 'config.json'), 'utf8'));
    cfg.network.input = [1, 32, 32];
    writeFileSync(path.join(mixed, 'config.json'), JSON.stringify(cfg));
    const cases: Array<[string[], RegExp]> = [
      [[run, text], /notes\.png: not a PNG or JPEG image \(unrecognised file signature\)/],
      [[run, truncated], /cut\.png: corrupt PNG image/],
      [[run, path.join(d, 'missing.png')], /missing\.png: no such file/],
      [[run, d], /is a directory, expected a PNG or JPEG image/],
      [[path.join(d, 'nothing'), text], /nothing: no such file or directory \(expected a run directory, a tfjs model directory or an ONNX file\)/],
      [[emptyDir, text], /neither a run directory \(no config\.json\) nor a tfjs model directory/],
      [[garbage, text], /garbage\.onnx: not an ONNX model/],
      [[mixed, text], /mixed-run: its model .* takes \[1, 28, 28\], but the run trained LeNet5 on \[1, 32, 32\] \(config\.json\): the run directory does not match its model/],
      [[text, text], /notes\.png: not an ONNX model|notes\.png: onnxruntime cannot load it/],
      [[run, '--data', FASHION, '--index', '10000'], /--index 10000: the test split of .* has 10000 images \(0 to 9999\)/],
    ];
    for (const [args, message] of cases) {
      const r = cli(['predict', ...args]);
      expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n').filter((l) => l.startsWith('alexnetc:'))).toHaveLength(1);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(r.stdout).toBe('');
    }
  });
});

describe('predict: usage and pieces', () => {
  it('bad usage exits 2', () => {
    for (const [args, message] of [
      [['x'], /predict needs images .* or --data DIR --index I/],
      [['x', 'a.png', '--top', '0'], /--top must be a whole number ≥ 1/],
      [['x', '--index', '3'], /--index needs --data DIR/],
      [['x', '--data', 'd'], /--data needs --index/],
      [['x', 'a.png', '--mean', '0.5'], /--mean and --std go together/],
      [['x', 'a.png', '--mean', 'a', '--std', '1'], /--mean expects comma-separated numbers/],
      [['x', 'a.png', '--mean', '0', '--std', '0'], /--std expects comma-separated positive numbers/],
    ] as Array<[string[], RegExp]>) {
      const r = cli(['predict', ...args]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });

  it('--index takes numbers, lists and ranges', () => {
    expect(parseIndices('3')).toEqual([3]);
    expect(parseIndices('0,5, 7-9')).toEqual([0, 5, 7, 8, 9]);
    expect(() => parseIndices('9-7')).toThrow(/runs backwards/);
    expect(() => parseIndices('x')).toThrow(UserError);
    expect(() => parseIndices('0-2000000')).toThrow(/too many/);
  });

  it('prepares image files exactly as the training image-folder loader does (decode, grey ↔ RGB, bilinear resize, rounding)', () => {
    const d = tmp();
    mkdirSync(path.join(d, 'cls'));
    const colourful = rgbaOf(37, 23, (x, y) => [(x * 7) % 256, (y * 11) % 256, (x * y) % 256]);
    writePng(path.join(d, 'cls', 'a.png'), 37, 23, colourful);
    writeJpeg(path.join(d, 'cls', 'b.jpg'), 37, 23, colourful);
    for (const shape of [[3, 20, 20], [1, 20, 20], [3, 64, 48], [1, 23, 37]] as Array<[number, number, number]>) {
      const { split } = loadImageFolderSplit(d, shape);
      const size = shape[0] * shape[1] * shape[2];
      ['a.png', 'b.jpg'].forEach((f, i) => {
        const ex = imageExample(path.join(d, 'cls', f), shape);
        expect(Buffer.from(ex.raw).equals(Buffer.from(split.images.subarray(i * size, (i + 1) * size))), `${f} ${shape}`).toBe(true);
      });
    }
    // a grey image on an RGB network: three equal planes
    const grey = imageExample(path.join(d, 'cls', 'a.png'), [1, 8, 8]).raw;
    writePng(path.join(d, 'g.png'), 8, 8, rgbaOf(8, 8, (x, y) => [grey[y * 8 + x]!, grey[y * 8 + x]!, grey[y * 8 + x]!]), 0);
    const rgb = imageExample(path.join(d, 'g.png'), [3, 8, 8]).raw;
    for (let c = 0; c < 3; c++) expect(Buffer.from(rgb.subarray(c * 64, (c + 1) * 64)).equals(Buffer.from(grey))).toBe(true);
    expect(() => imageExample(path.join(d, 'g.png'), [4, 8, 8])).toThrow(/4-channel images .* give 1 \(grey\) or 3 \(RGB\) channels/);
    expect(() => imageExample(path.join(d, 'g.png'), [64])).toThrow(/takes vectors \[64\].*--data DIR --index I/);
  });

  it('a missing onnxruntime-node is a clear install hint, not a stack trace', async () => {
    await expect(loadOrt('onnxruntime-node-that-is-not-installed')).rejects.toThrow(/ONNX models run in onnxruntime-node, which could not be loaded .*npm install onnxruntime-node/);
    await expect(loadOrt('onnxruntime-node-that-is-not-installed')).rejects.toBeInstanceOf(UserError);
    expect(existsSync(path.join(import.meta.dirname, '../../node_modules/onnxruntime-node'))).toBe(true);
  });
});
