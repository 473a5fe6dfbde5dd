// Structured pruning, checked where it can be checked exactly: in a network
// whose removable filters were first made inert (their weights, bias and the
// batch-norm shift of their channel set to zero, so they output zeros), the
// narrower network must compute what the original computes, to float
// rounding, in onnxruntime. That exercises every cut: the next conv's input
// channels (inside groups), flattened features, batch-norm statistics,
// concat offsets, residual bodies; and the narrower .net must pass the
// checker — edited in place where the layers are written once, written out
// in full where they sit in blocks or repeats.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compile.js';
import { layers, type LayerNode, type Network } from '../../src/check/ir.js';
import { seededWeights, toOnnxBytes, type WeightSource } from '../../src/emit/onnx/index.js';
import { channelFlow, narrowedSource, newWidths, selectFilters, slicedWeights } from '../../src/prune/index.js';
import { magnitudeMasks, maskedWeights } from '../../src/prune/unstructured.js';
import { OnnxModel } from '../../src/emit/onnx/session.js';
import { deriveSeed, permutation, rng } from '../../src/util/rng.js';
import { randomInput } from '../onnx/helpers.js';

const root = path.join(import.meta.dirname, '../..');

const FLAT = `
network Flat(classes = 5) {
  input [3, 16, 16]
  conv(8, 3, pad 1) | batchnorm | relu                   : [8, 16, 16]
  residual { conv(8, 3, pad 1, bias false) | batchnorm | relu | conv(8, 3, pad 1) | batchnorm }
  relu | maxpool(2)
  concat {
    branch { conv(6, 1) | relu }
    branch { conv(8, 3, pad 1, groups 2) | tanh | conv(6, 3, pad 1, groups 2) | relu }
  }                                                        : [12, 8, 8]
  conv(10, 3) | leakyrelu | avgpool(2)                      : [10, 3, 3]
  flatten                                                   : [90]
  dense(16) | relu | dropout(0.5)
  dense(classes) | softmax                                  : [classes]
}`;

const BLOCKS = `
block stage(c, n) {
  repeat n { conv(c, 3, pad 1) | batchnorm | relu }
  maxpool(2)
}
block basic(c) {
  residual { conv(c, 3, pad 1, bias false) | batchnorm | relu | conv(c, 3, pad 1, bias false) | batchnorm }
  relu
}
block inception(a, b) {
  concat {
    branch { conv(a, 1) | relu }
    branch { conv(b, 1) | relu | conv(b, 3, pad 1) | relu }
    branch { maxpool(3, 1, pad 1) | conv(a, 1) | relu }
  }
}
network Blocks(classes = 4) {
  input [1, 16, 16]
  stage(8, 2)
  basic(8)
  residual { conv(12, 3, stride 2, pad 1) | batchnorm | relu | conv(12, 3, pad 1) } shortcut { conv(12, 1, stride 2) }
  inception(4, 6) | inception(6, 4)
  globalavgpool | flatten
  dense(classes)
}`;

function net(text: string, name: string, set?: Record<string, string>): Network {
  const r = compile(text, { network: name, set });
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return r.network!;
}

/** All weights of the network in memory (seeded), so a test can change them. */
function materialise(n: Network, seed: number): Map<string, Float32Array> {
  const src = seededWeights(seed);
  const m = new Map<string, Float32Array>();
  for (const l of layers(n.body)) for (const w of l.weights) {
    let v = src.get(l.path, w);
    // seeded batch norm is the identity; give it real statistics so slicing them matters
    if (l.layer.name === 'batchnorm') v = Float32Array.from(v, (_, i) => (w.name === 'running_var' ? 0.5 + ((i * 7) % 5) / 5 : w.name === 'weight' ? 1 + ((i * 3) % 4) / 4 : ((i * 5) % 7) / 10 - 0.3));
    m.set(`${l.path}.${w.name}`, v);
  }
  return m;
}

const source = (m: Map<string, Float32Array>): WeightSource => ({ get: (p, spec) => m.get(`${p}.${spec.name}`)! });

/** Make `count` outputs per chunk of every removable layer inert; returns them per layer path. */
function inert(n: Network, m: Map<string, Float32Array>, sparsity: number): Map<string, Set<number>> {
  const flow = channelFlow(n);
  const chosen = new Map<string, Set<number>>();
  flow.producers.forEach((p, id) => {
    if (p.kept !== undefined) return;
    const size = p.width / p.chunks;
    const drop = size - Math.max(1, Math.round((1 - sparsity) * size));
    const set = new Set<number>();
    // a different choice in every chunk (rotated), so that a cut mixing up groups shows
    const perm = permutation(size, rng(deriveSeed(5, p.node.path)));
    for (let c = 0; c < p.chunks; c++) for (let i = 0; i < drop; i++) set.add(c * size + perm[(i + c) % size]!);
    chosen.set(p.node.path, set);
    const w = m.get(`${p.node.path}.weight`)!;
    const per = w.length / p.width;
    for (const f of set) {
      w.fill(0, f * per, (f + 1) * per);
      const b = m.get(`${p.node.path}.bias`);
      if (b) b[f] = 0;
    }
    // batch norm on those channels: zero in, zero out (no mean to subtract, no shift to add)
    for (const l of layers(n.body)) {
      if (l.layer.name !== 'batchnorm') continue;
      flow.inputs.get(l)!.forEach((r, c) => {
        if (r.producer === id && set.has(r.channel)) {
          m.get(`${l.path}.bias`)![c] = 0;
          m.get(`${l.path}.running_mean`)![c] = 0;
        }
      });
    }
  });
  return chosen;
}

async function run(n: Network, weights: WeightSource, x: Float32Array): Promise<Float32Array> {
  const model = await OnnxModel.open(toOnnxBytes(n, { weights }));
  const out = (await model.run(x, [4, ...n.input])).get('output')!;
  await model.release();
  return out;
}

describe.each([
  ['Flat', FLAT, 'edited'],
  ['Blocks', BLOCKS, 'expanded'],
] as const)('%s', (name, text, how) => {
  it(`removes exactly the inert filters; the narrower network (${how}) computes the same`, async () => {
    const old = net(text, name);
    const m = materialise(old, 11);
    const zeroed = inert(old, m, 0.5);
    const sel = selectFilters(old, source(m), 0.5);
    // the selection removed exactly the inert outputs
    sel.flow.producers.forEach((p, id) => {
      const removed = new Set(Array.from({ length: p.width }, (_, i) => i).filter((i) => !sel.kept.get(id)!.includes(i)));
      expect([...removed].sort(), p.node.path).toEqual([...(zeroed.get(p.node.path) ?? [])].sort());
    });
    const ns = narrowedSource(text, `${name}.net`, old, {}, newWidths(sel), ['pruned for a test']);
    expect(ns.how).toBe(how);
    const again = compile(ns.text, { network: name, set: ns.set });
    expect(again.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(again.network!.totalParams).toBeLessThan(old.totalParams);
    expect(ns.network.totalParams).toBe(again.network!.totalParams);

    const x = randomInput(4 * old.input.reduce((a, b) => a * b, 1), 3);
    const before = await run(old, source(m), x);
    const after = await run(ns.network, slicedWeights(old, ns.network, sel, source(m)), x);
    let worst = 0;
    let scale = 0;
    for (let i = 0; i < before.length; i++) {
      worst = Math.max(worst, Math.abs(before[i]! - after[i]!));
      scale = Math.max(scale, Math.abs(before[i]!));
    }
    expect(scale).toBeGreaterThan(0);
    expect(worst / scale).toBeLessThan(1e-5);
  });
});

describe('what may shrink', () => {
  it('keeps the layers whose channels reach a residual add, LRN, softmax or the output', () => {
    const flow = channelFlow(net(BLOCKS, 'Blocks'));
    const kept = Object.fromEntries(flow.producers.map((p) => [p.node.path, p.kept ?? null]));
    // the first conv of a residual body may shrink, its last may not; a projection shortcut neither
    expect(kept['basic1/residual1/conv1']).toBeNull();
    expect(kept['basic1/residual1/conv2']).toMatch(/the residual basic1\/residual1 adds it/);
    expect(kept['residual1/conv1']).toBeNull();
    expect(kept['residual1/shortcut/conv1']).toMatch(/the residual residual1 adds it/);
    // the last conv of the stage feeds an identity shortcut
    expect(kept['stage1/conv1']).toBeNull();
    expect(kept['stage1/conv2']).toMatch(/the residual basic1\/residual1 adds it/);
    // concat branches may all shrink
    expect(Object.entries(kept).filter(([p, k]) => p.includes('concat') && k !== null)).toEqual([]);
    expect(kept['dense1']).toBe('it is the network output');
    const lenet = channelFlow(net(fs.readFileSync(path.join(root, 'specs/lenet5.net'), 'utf8'), 'LeNet5', { size: '28' }));
    expect(lenet.producers.map((p) => p.kept ?? 'may shrink')).toEqual(['may shrink', 'may shrink', 'may shrink', 'may shrink', expect.stringMatching(/softmax/)]);
    const alex = channelFlow(net(fs.readFileSync(path.join(root, 'specs/alexnet.net'), 'utf8'), 'AlexNet'));
    // conv1 and conv2 feed LRN; conv3 feeds the grouped conv4 (removing per group of 2)
    expect(alex.producers.map((p) => [p.node.path, p.kept === undefined ? p.chunks : 'kept'])).toEqual([
      ['conv1', 'kept'],
      ['conv2', 'kept'],
      ['conv3', 2],
      ['conv4', 2],
      ['conv5', 2],
      ['dense1', 1],
      ['dense2', 1],
      ['dense3', 'kept'],
    ]);
  });

  it('writes the shipped networks with blocks out in full, and they check', () => {
    for (const [file, name] of [['resnet.net', 'ResNet18'], ['googlenet.net', 'GoogLeNet']] as const) {
      const text = fs.readFileSync(path.join(root, 'specs', file), 'utf8');
      const old = net(text, name, { classes: '10' });
      const sel = selectFilters(old, seededWeights(1), 0.25);
      const ns = narrowedSource(text, file, old, { classes: '10' }, newWidths(sel), ['test']);
      expect(ns.how).toBe('expanded');
      expect(ns.network.totalParams).toBeLessThan(old.totalParams);
      expect(ns.network.output).toEqual([10]);
      expect([...layers(ns.network.body)].length).toBe([...layers(old.body)].length);
    }
  });
});

describe('unstructured', () => {
  it('removes exactly round(S · n) of the conv/dense weights, the smallest first, across layers', () => {
    const old = net(FLAT, 'Flat');
    const m = materialise(old, 2);
    const r = magnitudeMasks(old, source(m), 0.3);
    expect(r.pruned).toBe(Math.round(0.3 * r.total));
    let kept = 0;
    let smallestKept = Infinity;
    let largestCut = 0;
    for (const [key, mask] of r.masks) {
      const v = m.get(key)!;
      mask.forEach((k, i) => {
        if (k) {
          kept++;
          smallestKept = Math.min(smallestKept, Math.abs(v[i]!));
        } else largestCut = Math.max(largestCut, Math.abs(v[i]!));
      });
    }
    expect(kept).toBe(r.total - r.pruned);
    expect(largestCut).toBeLessThanOrEqual(smallestKept);
    expect(largestCut).toBe(r.threshold);
    // biases are never masked, and masked weights read back as zeros
    expect([...r.masks.keys()].every((k) => k.endsWith('.weight'))).toBe(true);
    const masked = maskedWeights(source(m), r.masks);
    const first = [...layers(old.body)].find((l) => l.layer.name === 'conv') as LayerNode;
    const v = masked.get(first.path, first.weights[0]!);
    r.masks.get(`${first.path}.weight`)!.forEach((k, i) => k || expect(v[i]).toBe(0));
  });

  it('ties at the threshold are broken by position, so the count is exact', () => {
    const n = net('network T { input [4]\n dense(4) | dense(2) }', 'T');
    const m = new Map<string, Float32Array>([
      ['dense1.weight', new Float32Array(16).fill(0.5)],
      ['dense1.bias', new Float32Array(4)],
      ['dense2.weight', new Float32Array(8).fill(0.5)],
      ['dense2.bias', new Float32Array(2)],
    ]);
    const r = magnitudeMasks(n, source(m), 0.25);
    expect(r.pruned).toBe(6);
    expect(Array.from(r.masks.get('dense1.weight')!).slice(0, 7)).toEqual([0, 0, 0, 0, 0, 0, 1]);
  });
});
