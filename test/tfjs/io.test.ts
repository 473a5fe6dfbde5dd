// Saving, loading, and carrying weights across: a saved model reloads and
// computes the same; a tfjs model's weights written into ONNX compute what
// the tfjs model computes; a model directory that does not fit the network
// is refused naming the layer and both shapes, and nothing is written.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { toOnnxBytes, writeOnnx } from '../../src/emit/onnx/index.js';
import {
  BackendUnavailableError,
  CUSTOM_LAYERS,
  loadTf,
  loadTfjs,
  planWeights,
  saveTfjs,
  tfjsModelWeights,
  toTfjs,
  WeightsMismatchError,
} from '../../src/emit/tfjs/index.js';
import { readTfjsWeights } from '../../src/weights/tfjs.js';
import { fromTfjs, toTfjs as toTfjsLayout } from '../../src/emit/tfjs/layout.js';
import { paddingMode } from '../../src/emit/tfjs/plan.js';
import { randomInput, runOrt, tempDir } from '../onnx/helpers.js';
import { cpu, net, randomWeights, relDiff, runTfjs, tf } from './helpers.js';

// every custom layer (gelu is AlexnetcActivation, scale AlexnetcScale, a split AlexnetcSlice; the token layers), grouped conv, batchnorm statistics, a residual and a concat: small but complete
const SOURCE = `
network Small(classes = 5) {
  input [3, 17, 15]
  conv(8, 3, stride 2, pad [1, 0, 1, 1]) | batchnorm | gelu | lrn(size 3)
  maxpool(3, 2, pad [1, 0, 0, 1], ceil true)
  residual { conv(8, 3, pad 1, groups 2) | batchnorm | scale } shortcut { conv(8, 1) }
  concat { branch { conv(4, 1) } branch { avgpool(3, 1, pad 1) } }
  split { branch { } branch { relu } }
  conv(8, 1) | tokens | classtoken | posembed | attention(2) | layernorm | token(0)
  dropout(0.5) | dense(classes) | softmax
}`;

const small = () => net(SOURCE);
const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

async function savedModel(dir: string, seed = 9) {
  await cpu();
  const n = small();
  const model = toTfjs(tf, n, { weights: randomWeights(seed) });
  await saveTfjs(model, dir);
  return { n, model };
}

describe('save and load', () => {
  it('writes model.json and weights.bin, and the reloaded model computes the same', async () => {
    const dir = path.join(tempDir('tfjs-save'), 'model');
    const { n, model } = await savedModel(dir);
    expect(fs.readdirSync(dir).sort()).toEqual(['model.json', 'weights.bin']);
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
    expect(json.format).toBe('layers-model');
    expect(json.weightsManifest[0].paths).toEqual(['./weights.bin']);
    const classes = new Set(JSON.stringify(json.modelTopology).match(/"class_name":"(\w+)"/g));
    for (const c of CUSTOM_LAYERS) expect(classes, c).toContain(`"class_name":"${c}"`);

    const loaded = await loadTfjs(tf, dir);
    const x = randomInput(size(n.input), 4);
    const a = runTfjs(model, x, [1, ...n.input]);
    const b = runTfjs(loaded, x, [1, ...n.input]);
    expect(Array.from(b)).toEqual(Array.from(a));
    model.dispose();
    loaded.dispose();
  });

  it('replaces the model files in an existing directory, keeps everything else, and leaves no temporaries', async () => {
    const parent = tempDir('tfjs-replace');
    const dir = path.join(parent, 'model');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'stale.txt'), 'old');
    const { model } = await savedModel(dir);
    model.dispose();
    expect(fs.readdirSync(dir).sort()).toEqual(['model.json', 'stale.txt', 'weights.bin']);
    expect(fs.readFileSync(path.join(dir, 'stale.txt'), 'utf8')).toBe('old');
    expect(fs.readdirSync(parent)).toEqual(['model']);
  });

  it('a failing save leaves the old model in place', async () => {
    await cpu();
    const parent = tempDir('tfjs-fail');
    const dir = path.join(parent, 'model');
    const { model } = await savedModel(dir);
    const before = fs.readFileSync(path.join(dir, 'weights.bin'));
    const broken = Object.create(model) as typeof model;
    broken.save = async () => {
      throw new Error('disk full');
    };
    await expect(saveTfjs(broken, dir)).rejects.toThrow('disk full');
    expect(fs.readFileSync(path.join(dir, 'weights.bin')).equals(before)).toBe(true);
    expect(fs.readdirSync(parent)).toEqual(['model']);
    model.dispose();
  });

  it('the runtime entry registers the custom layers for plain tf.loadLayersModel', async () => {
    await import('../../src/emit/tfjs/runtime.js');
    const map = tf.serialization.SerializationMap.getMap().classNameMap;
    for (const c of CUSTOM_LAYERS) expect(map[c], c).toBeDefined();
  });
});

describe('tfjs weights → ONNX', () => {
  it('a saved model’s weights, written into ONNX, give the tfjs model’s outputs', async () => {
    const dir = path.join(tempDir('tfjs-transfer'), 'model');
    const { n, model } = await savedModel(dir, 21);
    const source = readTfjsWeights(dir, n);
    const x = randomInput(size(n.input) * 2, 8);
    const dims = [2, ...n.input];
    const fromTf = runTfjs(model, x, dims);
    const fromOnnx = (await runOrt(toOnnxBytes(n, { weights: source }), x, dims)).data;
    expect(relDiff(fromTf, fromOnnx)).toBeLessThanOrEqual(1e-5);
    // and the values are exactly the ones the model was built from
    const want = randomWeights(21);
    for (const p of planWeights(n)) expect(Array.from(source.get(p.path, p.spec))).toEqual(Array.from(want.get(p.path, p.spec)));
    model.dispose();
  });

  it('after a training step, the in-memory and the saved weights carry over identically', async () => {
    await cpu();
    const n = net('network T { input [2, 6, 6]\n conv(4, 3, groups 2) | batchnorm | relu | flatten | dense(3) | softmax }');
    const model = toTfjs(tf, n, { weights: randomWeights(2) });
    model.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
    const xs = tf.tensor(randomInput(4 * 72, 3), [4, 6, 6, 2]);
    const ys = tf.oneHot(tf.tensor1d([0, 1, 2, 1], 'int32'), 3);
    await model.fit(xs, ys, { epochs: 1, batchSize: 4, verbose: 0 });
    const dir = path.join(tempDir('tfjs-trained'), 'model');
    await saveTfjs(model, dir);
    const x = randomInput(72, 5);
    const want = runTfjs(model, x, [1, 2, 6, 6]);
    for (const source of [tfjsModelWeights(model, n), readTfjsWeights(dir, n)]) {
      const got = (await runOrt(toOnnxBytes(n, { weights: source }), x, [1, 2, 6, 6])).data;
      expect(relDiff(got, want)).toBeLessThanOrEqual(1e-5);
    }
    tf.dispose([xs, ys]);
    model.dispose();
  });
});

describe('a model directory that does not fit the network is refused', () => {
  async function refuse(dir: string, n: ReturnType<typeof small>): Promise<WeightsMismatchError> {
    const out = path.join(tempDir('tfjs-refuse'), 'trained.onnx');
    let err: unknown;
    try {
      writeOnnx(n, out, { weights: readTfjsWeights(dir, n) });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WeightsMismatchError);
    expect(fs.readdirSync(path.dirname(out))).toEqual([]); // nothing written
    return err as WeightsMismatchError;
  }

  it('another architecture', async () => {
    const dir = path.join(tempDir('tfjs-other'), 'model');
    const { model } = await savedModel(dir);
    model.dispose();
    const other = net('network Other { input [3, 17, 15]\n conv(6, 5) | relu | flatten | dense(5) }');
    const e = await refuse(dir, other);
    expect(e.layer).toBe('conv1');
    expect(e.message).toMatch(/layer conv1: the network expects conv1\/kernel with shape \[5, 5, 3, 6\], .* has shape \[3, 3, 3, 8\]/);
  });

  it('same layers, other sizes (--set classes=7)', async () => {
    const dir = path.join(tempDir('tfjs-shape'), 'model');
    const { model } = await savedModel(dir);
    model.dispose();
    const r = net(SOURCE.replace('classes = 5', 'classes = 7'));
    const e = await refuse(dir, r);
    expect(e.layer).toBe('dense1');
    expect(e.expected).toEqual([8, 7]);
    expect(e.actual).toEqual([8, 5]);
    expect(e.message).toContain('[8, 7]');
    expect(e.message).toContain('[8, 5]');
  });

  it('a network with more layers than the model', async () => {
    const dir = path.join(tempDir('tfjs-more'), 'model');
    const { model } = await savedModel(dir);
    model.dispose();
    const bigger = net(SOURCE.replace('dense(classes) | softmax', 'dense(16) | dense(classes) | softmax'));
    const e = await refuse(dir, bigger);
    expect(e.layer).toBe('dense1');
  });

  it('a missing weight file', async () => {
    const dir = path.join(tempDir('tfjs-missing'), 'model');
    const { n, model } = await savedModel(dir);
    model.dispose();
    fs.rmSync(path.join(dir, 'weights.bin'));
    const e = await refuse(dir, n);
    expect(e.message).toMatch(/weights\.bin is missing \(it holds layer conv1: conv1\/kernel \[3, 3, 3, 8\]\)/);
  });

  it('a truncated weight file', async () => {
    const dir = path.join(tempDir('tfjs-trunc'), 'model');
    const { n, model } = await savedModel(dir);
    model.dispose();
    const file = path.join(dir, 'weights.bin');
    const bytes = fs.readFileSync(file);
    fs.writeFileSync(file, bytes.subarray(0, bytes.length - 10));
    const e = await refuse(dir, n);
    expect(e.message).toMatch(/truncated/);
    expect(e.layer).toBeDefined();
  });

  it('no model.json', async () => {
    const e = await refuse(tempDir('tfjs-empty'), small());
    expect(e.message).toMatch(/model\.json: cannot read the model/);
  });
});

describe('layouts and padding', () => {
  it('conv and dense layouts round-trip', () => {
    const conv = Float32Array.from({ length: 4 * 3 * 2 * 5 }, (_, i) => i);
    const t = toTfjsLayout(conv, [4, 3, 2, 5], 'oihw');
    // canonical [o, i, h, w] = [1, 2, 1, 3] sits at tfjs [h, w, i, o] = [1, 3, 2, 1]
    expect(t[((1 * 5 + 3) * 3 + 2) * 4 + 1]).toBe(conv[((1 * 3 + 2) * 2 + 1) * 5 + 3]);
    expect(Array.from(fromTfjs(t, [4, 3, 2, 5], 'oihw'))).toEqual(Array.from(conv));
    const dense = Float32Array.from({ length: 6 }, (_, i) => i);
    expect(Array.from(toTfjsLayout(dense, [2, 3], 'oi'))).toEqual([0, 3, 1, 4, 2, 5]);
    expect(Array.from(fromTfjs(toTfjsLayout(dense, [2, 3], 'oi'), [2, 3], 'oi'))).toEqual(Array.from(dense));
  });

  it('uses tfjs’s own valid/same padding only where it is exact', () => {
    // [input, output, pads, k, stride] → mode
    const table: [number[], number[], number[], number, number, string][] = [
      [[3, 9, 9], [3, 7, 7], [0, 0, 0, 0], 3, 1, 'valid'],
      [[3, 9, 9], [3, 9, 9], [1, 1, 1, 1], 3, 1, 'same'],
      [[3, 112, 112], [3, 56, 56], [1, 1, 1, 1], 3, 2, 'explicit'], // ResNet's maxpool: TF would pad 0 before, 1 after
      [[3, 112, 112], [3, 56, 56], [0, 0, 0, 0], 3, 2, 'same'], // GoogLeNet's ceil-mode maxpool
      [[3, 10, 10], [3, 5, 5], [0, 0, 0, 0], 2, 2, 'valid'],
      [[3, 9, 9], [3, 5, 5], [1, 1, 1, 1], 3, 2, 'same'],
      [[3, 9, 9], [3, 5, 5], [1, 0, 1, 0], 3, 2, 'explicit'],
    ];
    for (const [inp, out, pads, k, s, mode] of table) expect(paddingMode(inp, out, pads, [k, k], [s, s], [1, 1]), JSON.stringify([inp, pads, k, s])).toBe(mode);
  });
});

describe('backend selection', () => {
  it('auto falls back to pure tfjs when the native packages are missing', async () => {
    const { name, backend, tf: loaded } = await loadTf();
    // the native packages cannot be installed on this machine; where they can, this names them
    expect(['@tensorflow/tfjs', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu']).toContain(name);
    if (name === '@tensorflow/tfjs') {
      expect(backend).toBe('cpu');
      expect(loaded.layers).toBe(tf.layers); // the one tfjs the tests use: no second copy
    }
  });

  it('a forced backend that is missing fails with the install hint', async () => {
    let available = true;
    try {
      await import('@tensorflow/tfjs-node' as string);
    } catch {
      available = false;
    }
    if (available) return;
    const e = await loadTf({ backend: 'node' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(BackendUnavailableError);
    expect((e as Error).message).toContain('npm install @tensorflow/tfjs-node');
  });
});
