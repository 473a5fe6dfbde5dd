// Fine-tuning's starting point (src/train/init.ts): from every weights
// format `compile --weights` reads — ONNX, safetensors (alexnetc's names and
// PyTorch's state_dict keys), a tfjs model directory, a run directory — the
// weights that match by name and shape are loaded with their exact values,
// the others keep the seeded initialisation a fresh run gives them, and one
// table says which (loaded / shape differs / missing / not in --init-only).
// --init-strict refuses any mismatch as compile --weights does; a file with
// nothing that fits, and values that are not finite, are refused.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../../../src/compile.js';
import { layers, type Network } from '../../../src/check/ir.js';
import { seededWeights, toOnnxBytes, type WeightSource } from '../../../src/emit/onnx/index.js';
import { loadTf, saveTfjs, toTfjs } from '../../../src/emit/tfjs/index.js';
import { initFrom, renderInit } from '../../../src/train/init.js';
import { networkTensors, stateDictKey, writeSafetensors } from '../../../src/weights/safetensors.js';
import { tempDir } from '../../onnx/helpers.js';

const dir = tempDir('freeze-init');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

// the stored model: 5 classes, a block; the network fine-tuned: 3 classes and a dense layer more
const SOURCE = `network Src(classes = 5) {
  input [1, 8, 8]
  stage(4)
  flatten | dense(classes)
}
block stage(c) {
  conv(c, 3) | batchnorm | relu
}
`;
const TARGET = SOURCE.replace('network Src', 'network Dst').replace('dense(classes)', 'dense(6) | relu | dense(classes)');
const src = compile(SOURCE).network!;
const dst = (classes = 3): Network => compile(TARGET, { set: { classes: String(classes) } }).network!;
const stored = seededWeights(11);

const files = {
  onnx: path.join(dir, 'src.onnx'),
  safetensors: path.join(dir, 'src.safetensors'),
  torchKeys: path.join(dir, 'state-dict.safetensors'),
  tfjs: path.join(dir, 'tfjs-model'),
  run: path.join(dir, 'run'),
};

beforeAll(async () => {
  fs.writeFileSync(files.onnx, toOnnxBytes(src, { weights: stored }));
  await writeSafetensors(files.safetensors, networkTensors(src, stored));
  // a PyTorch state_dict of the generated module: dotted keys, and num_batches_tracked
  const dotted = networkTensors(src, stored).map((t) => ({ ...t, name: t.name.replace(/\//g, '.') }));
  await writeSafetensors(files.torchKeys, [...dotted, { name: 'stage1.batchnorm1.num_batches_tracked', shape: [], values: () => new Float32Array([7]) }]);
  const { tf } = await loadTf({ backend: 'cpu' });
  const model = toTfjs(tf, src, { weights: stored });
  await saveTfjs(model, files.tfjs);
  fs.mkdirSync(files.run);
  await saveTfjs(model, path.join(files.run, 'model'));
  model.dispose();
});

const same = (a: Float32Array, b: Float32Array): boolean => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

function valuesOf(n: Network, w: WeightSource): Map<string, Float32Array> {
  const m = new Map<string, Float32Array>();
  for (const l of layers(n.body)) for (const s of l.weights) m.set(`${l.path}.${s.name}`, w.get(l.path, s));
  return m;
}

describe('train --init', () => {
  for (const [format, p] of Object.entries(files)) {
    const what = { onnx: 'an ONNX file', safetensors: 'a safetensors file', torchKeys: "a safetensors file with PyTorch's state_dict keys", tfjs: 'a tfjs model directory', run: 'a run directory' }[format];
    it(`loads what fits from ${what}, seeds the rest, and says which in one table`, async () => {
      const n = dst();
      const { weights, record } = await initFrom(p, n, { seed: 4 });
      const got = valuesOf(n, weights);
      const seeded = valuesOf(n, seededWeights(4));
      const want = valuesOf(src, stored);
      const loaded = ['stage1/conv1.weight', 'stage1/conv1.bias', 'stage1/batchnorm1.weight', 'stage1/batchnorm1.bias', 'stage1/batchnorm1.running_mean', 'stage1/batchnorm1.running_var'];
      for (const [k, v] of got) expect(same(v, loaded.includes(k) ? want.get(k)! : seeded.get(k)!), k).toBe(true);
      expect(record.loaded).toBe(6);
      expect(record.seeded).toBe(4);
      // the source's dense1 ([5, 144]) is the target's dense1 ([6, 144]): same name, another shape; dense2 is new
      expect(record.rows).toEqual([
        { stage: 'stage1/conv1', weights: ['weight', 'bias'], status: 'loaded' },
        { stage: 'stage1/batchnorm1', weights: ['weight', 'bias', 'running_mean', 'running_var'], status: 'loaded' },
        { stage: 'dense1', weights: ['weight', 'bias'], status: 'shape-differs', detail: 'weight [6, 144] here, [5, 144] there; bias [6] here, [5] there' },
        { stage: 'dense2', weights: ['weight', 'bias'], status: 'missing' },
      ]);
      expect(record.unused).toEqual([]);
      expect(record.from).toBe(path.resolve(p));
      const table = renderInit(record).join('\n');
      expect(table).toContain('init: 6 of 10 weights loaded from');
      expect(table).toMatch(/dense1 +weight, bias +seeded: shape differs \(weight \[6, 144\] here, \[5, 144\] there/);
      expect(table).toMatch(/dense2 +weight, bias +seeded: missing/);
    });
  }

  it('loads everything, bit for bit, when the network is the stored one', async () => {
    const { weights, record } = await initFrom(files.tfjs, src, { seed: 0, strict: true });
    expect(record.seeded).toBe(0);
    const got = valuesOf(src, weights), want = valuesOf(src, stored);
    for (const [k, v] of got) expect(same(v, want.get(k)!), k).toBe(true);
  });

  it('--init-only loads the named stages only: a new head of the same size starts from its seeded initialisation', async () => {
    const n = compile(SOURCE).network!;
    const { weights, record } = await initFrom(files.onnx, n, { seed: 4, only: ['stage1'] });
    expect(record.rows.map((r) => [r.stage, r.status])).toEqual([
      ['stage1/conv1', 'loaded'],
      ['stage1/batchnorm1', 'loaded'],
      ['dense1', 'not-selected'],
    ]);
    const dense = [...layers(n.body)].find((l) => l.path === 'dense1')!;
    expect(same(weights.get('dense1', dense.weights[0]!), seededWeights(4).get('dense1', dense.weights[0]!))).toBe(true);
    expect(renderInit(record).join('\n')).toContain('seeded: not in --init-only');
  });

  it('names stored tensors no weight uses', async () => {
    const n = compile('network Small {\n  input [1, 8, 8]\n  stage(4)\n  flatten | dense(3)\n}\nblock stage(c) {\n  conv(c, 3) | batchnorm | relu\n}\n').network!;
    // Small's dense1 is [3, 144]: shape differs; nothing unused. A network without the batch norm leaves its four tensors unused.
    const m = compile('network NoBn {\n  input [1, 8, 8]\n  stage(4)\n  flatten | dense(5)\n}\nblock stage(c) {\n  conv(c, 3) | relu\n}\n').network!;
    expect((await initFrom(files.safetensors, n, { seed: 0 })).record.unused).toEqual([]);
    const r = (await initFrom(files.safetensors, m, { seed: 0 })).record;
    expect(r.unused).toEqual(['stage1/batchnorm1.weight [4]', 'stage1/batchnorm1.bias [4]', 'stage1/batchnorm1.running_mean [4]', 'stage1/batchnorm1.running_var [4]']);
    expect(renderInit(r).join('\n')).toContain('not used (no weight of this network has the name): stage1/batchnorm1.weight [4]');
  });

  it('--init-strict refuses any mismatch, naming the layer and both shapes, as compile --weights does', async () => {
    await expect(initFrom(files.onnx, dst(), { seed: 0, strict: true })).rejects.toThrow(
      /--init .*src\.onnx: layer dense1: the network expects dense1\.weight with shape \[6, 144\], the ONNX file .* has shape \[5, 144\] \(--init-strict refuses any mismatch/,
    );
    // with --init-only, only the named stages must fit
    await expect(initFrom(files.onnx, dst(), { seed: 0, strict: true, only: ['stage1'] })).resolves.toBeDefined();
  });

  it('refuses weights of which nothing fits, a path that is no weights format, and values that are not finite', async () => {
    const other = compile('network O {\n  input [3, 8, 8]\n  conv(2, 1) | flatten | dense(2)\n}\n').network!;
    await expect(initFrom(files.safetensors, other, { seed: 0 })).rejects.toThrow(/--init .*src\.safetensors: none of O's weights is there with the same name and shape \(layer conv1: the network expects conv1\.weight with shape \[2, 3, 1, 1\]/);
    await expect(initFrom(path.join(dir, 'nothing-here'), other, { seed: 0 })).rejects.toThrow(/--init .*nothing-here: no such file or directory/);
    const text = path.join(dir, 'notes.txt');
    fs.writeFileSync(text, 'hello');
    await expect(initFrom(text, other, { seed: 0 })).rejects.toThrow(/--init .*notes\.txt: not a weights format alexnetc reads/);
    const nan = path.join(dir, 'nan.safetensors');
    await writeSafetensors(nan, networkTensors(src, { get: (p, s) => (p === 'stage1/conv1' && s.name === 'bias' ? new Float32Array(s.shape[0]!).fill(Number.NaN) : stored.get(p, s)) }));
    const { weights } = await initFrom(nan, dst(), { seed: 0 });
    const conv = [...layers(dst().body)].find((l) => l.path === 'stage1/conv1')!;
    expect(() => weights.get('stage1/conv1', conv.weights[1]!)).toThrow(/--init .*nan\.safetensors: .*stage1\/conv1\.bias holds NaN at index 0; refusing weights that are not finite numbers/);
  });

  it('matches PyTorch state_dict keys to the weights they name', () => {
    expect(stateDictKey('stage1/conv1', 'weight')).toBe('stage1.conv1.weight');
  });
});
