// The ONNX files themselves: decoded and checked by the official onnx package,
// run in onnxruntime-node, deterministic, and written atomically.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Network } from '../../src/check/ir.js';
import { layers } from '../../src/check/ir.js';
import { toOnnxBytes, writeOnnx, type WeightSource } from '../../src/emit/onnx/index.js';
import { initWeight } from '../../src/util/rng.js';
import { requirePython, randomInput, runOrt, runPython, tempDir } from './helpers.js';
import { alexnetTorchvision, fixture, kitchenSink, lenet5, resnet18 } from './specs.js';

const hasOnnx = requirePython('onnx', 'onnx checker tests');

interface Summary {
  ir_version: number;
  opset: [string, number][];
  producer_name: string;
  graph_name: string;
  inputs: [string, (string | number)[], number][];
  outputs: [string, (string | number)[], number][];
  nodes: [string, string, string[], string[]][];
  initializers: [string, number[], number][];
  value_info: number;
  inferred_output: (string | number)[];
  metadata: Record<string, string>;
  weight_sums: Record<string, number>;
  attributes: Record<string, Record<string, unknown>>;
}

function check(file: string): Summary {
  return JSON.parse(runPython('onnx_check.py', [file])) as Summary;
}

const small: [string, () => Network][] = [
  ['LeNet5', lenet5],
  ['KitchenSink', kitchenSink],
  ['ResNet18', resnet18],
];

describe('onnx checker (full_check) accepts our files', () => {
  for (const [name, make] of small) {
    it.skipIf(!hasOnnx)(name, () => {
      const net = make();
      const dir = tempDir('check');
      const file = path.join(dir, `${name}.onnx`);
      writeOnnx(net, file, { seed: 3 });
      const s = check(file);
      expect(s.ir_version).toBe(8);
      expect(s.opset).toEqual([['', 17]]);
      expect(s.producer_name).toBe('alexnetc');
      expect(s.graph_name).toBe(name);
      expect(s.inputs).toEqual([['input', ['N', ...net.input], 1]]);
      expect(s.outputs).toEqual([['output', ['N', ...net.output], 1]]);
      expect(s.inferred_output).toEqual(['N', ...net.output]);
      // initializers: every declared weight, named path.weight, in execution order
      const expected = [...layers(net.body)].flatMap((n) => n.weights.map((w) => [`${n.path}.${w.name}`, w.shape, 1]));
      expect(s.initializers).toEqual(expected);
      // the values survived the round trip: sums match what the generator gives
      for (const n of layers(net.body))
        for (const w of n.weights) {
          const key = `${n.path}.${w.name}`;
          const want = initWeight(w, 3, key).reduce((a, b) => a + b, 0);
          expect(s.weight_sums[key]).toBeCloseTo(want, 3);
        }
      fs.rmSync(dir, { recursive: true });
    });
  }

  it.skipIf(!hasOnnx)('lowers constructs and attributes as specified', () => {
    const dir = tempDir('ks');
    const file = path.join(dir, 'ks.onnx');
    writeOnnx(kitchenSink(), file);
    const s = check(file);
    const ops = Object.fromEntries(s.nodes.map(([name, op, inputs]) => [name, { op, inputs }]));
    expect(ops['residual1']).toEqual({ op: 'Add', inputs: ['residual1/relu1', 'maxpool1'] });
    expect(ops['concat1']!.op).toBe('Concat');
    expect(ops['concat1']!.inputs).toEqual(['concat1/branch1/conv1', 'concat1/branch2/sigmoid1', 'concat1/branch3/avgpool1', 'concat1/branch4/identity1']);
    expect(s.attributes['concat1']).toEqual({ axis: 1 });
    expect(ops['add1']).toEqual({ op: 'Sum', inputs: ['add1/branch1/conv1', 'add1/branch2/identity1', 'add1/branch3/tanh1'] });
    expect(ops['add2']).toEqual({ op: 'Add', inputs: ['add2/branch1/conv1', 'add1'] });
    expect(s.attributes['conv1']).toEqual({ kernel_shape: [3, 5], strides: [1, 2], pads: [1, 0, 2, 2], dilations: [1, 1], group: 1 });
    expect(s.attributes['maxpool1']).toMatchObject({ ceil_mode: 1, pads: [1, 1, 1, 1] });
    expect(s.attributes['leakyrelu1']!.alpha).toBeCloseTo(0.2, 6);
    expect(s.attributes['batchnorm1']!.momentum).toBeCloseTo(0.9, 6);
    // dropout makes no node; the last node's output is renamed to `output`
    expect(s.nodes.some(([, op]) => op === 'Dropout')).toBe(false);
    expect(s.nodes.at(-1)).toEqual(['softmax1', 'Softmax', ['dense1'], ['output']]);
    fs.rmSync(dir, { recursive: true });
  });
});

describe('onnxruntime-node runs our files', () => {
  for (const [name, make] of [...small, ['AlexNetTorchvision', alexnetTorchvision] as const]) {
    it(name, async () => {
      const net = make();
      const bytes = toOnnxBytes(net);
      const dims = [2, ...net.input];
      const out = await runOrt(bytes, randomInput(dims.reduce((a, b) => a * b, 1)), dims);
      expect([...out.dims]).toEqual([2, ...net.output]);
      expect(out.data.every(Number.isFinite)).toBe(true);
    }, 60_000);
  }

  it('softmax output sums to one per example', async () => {
    const net = kitchenSink();
    const dims = [3, ...net.input];
    const out = await runOrt(toOnnxBytes(net, { seed: 7 }), randomInput(dims.reduce((a, b) => a * b, 1), 9), dims);
    for (let b = 0; b < 3; b++) {
      const row = out.data.subarray(b * 10, b * 10 + 10);
      expect(row.reduce((a, v) => a + v, 0)).toBeCloseTo(1, 5);
    }
  });
});

describe('degenerate graphs', () => {
  it('a network with no inference-time node gets an Identity to `output`', async () => {
    const bytes = toOnnxBytes(fixture('passthrough.net'));
    const x = new Float32Array([1, -2, 3, -4]);
    const out = await runOrt(bytes, x, [1, 4]);
    expect([...out.data]).toEqual([1, -2, 3, -4]);
    if (hasOnnx) {
      const dir = tempDir('pass');
      const file = path.join(dir, 'p.onnx');
      fs.writeFileSync(file, bytes);
      expect(check(file).nodes).toEqual([['output', 'Identity', ['input'], ['output']]]);
      fs.rmSync(dir, { recursive: true });
    }
  });
});

describe('determinism', () => {
  it('same network and seed give byte-identical files; bytes match toOnnxBytes', () => {
    const dir = tempDir('det');
    const a = path.join(dir, 'a.onnx');
    const b = path.join(dir, 'b.onnx');
    writeOnnx(kitchenSink(), a, { seed: 42 });
    writeOnnx(kitchenSink(), b, { seed: 42 });
    const fa = fs.readFileSync(a);
    expect(fa.equals(fs.readFileSync(b))).toBe(true);
    expect(Buffer.from(toOnnxBytes(kitchenSink(), { seed: 42 })).equals(fa)).toBe(true);
    fs.rmSync(dir, { recursive: true });
  });

  it('different seeds give different weights, same structure', () => {
    const a = toOnnxBytes(lenet5(), { seed: 0 });
    const b = toOnnxBytes(lenet5(), { seed: 1 });
    expect(a.length).toBe(b.length);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
  });

  it('default seed is 0', () => {
    expect(Buffer.from(toOnnxBytes(lenet5())).equals(Buffer.from(toOnnxBytes(lenet5(), { seed: 0 })))).toBe(true);
  });
});

describe('weight sources', () => {
  it('uses the given source, one tensor at a time, only while writing', () => {
    const net = lenet5();
    const calls: string[] = [];
    const source: WeightSource = {
      get(p, spec) {
        calls.push(`${p}.${spec.name}`);
        return new Float32Array(spec.shape.reduce((a, b) => a * b, 1)).fill(0.5);
      },
    };
    const bytes = toOnnxBytes(net, { weights: source });
    expect(calls).toEqual([...layers(net.body)].flatMap((n) => n.weights.map((w) => `${n.path}.${w.name}`)));
    // 0.5f little-endian = 00 00 00 3f
    expect(Buffer.from(bytes).includes(Buffer.from([0, 0, 0, 0x3f, 0, 0, 0, 0x3f]))).toBe(true);
  });

  it('rejects a source that returns the wrong number of values', () => {
    const bad: WeightSource = { get: () => new Float32Array(3) };
    expect(() => toOnnxBytes(lenet5(), { weights: bad })).toThrow(/expected 150 values for shape \[6, 1, 5, 5\], got 3/);
  });
});

describe('atomic writing', () => {
  it('a failing weight source leaves neither the file nor a temporary behind', () => {
    const dir = tempDir('atomic');
    const file = path.join(dir, 'm.onnx');
    let n = 0;
    const failing: WeightSource = {
      get(_p, spec) {
        if (++n === 4) throw new Error('disk on fire');
        return new Float32Array(spec.shape.reduce((a, b) => a * b, 1));
      },
    };
    expect(() => writeOnnx(lenet5(), file, { weights: failing })).toThrow('disk on fire');
    expect(fs.readdirSync(dir)).toEqual([]);
    fs.rmSync(dir, { recursive: true });
  });

  it('a failed rewrite keeps the previous file intact', () => {
    const dir = tempDir('atomic2');
    const file = path.join(dir, 'm.onnx');
    writeOnnx(lenet5(), file);
    const before = fs.readFileSync(file);
    const failing: WeightSource = { get: () => { throw new Error('nope'); } };
    expect(() => writeOnnx(lenet5(), file, { weights: failing })).toThrow('nope');
    expect(fs.readFileSync(file).equals(before)).toBe(true);
    expect(fs.readdirSync(dir)).toEqual(['m.onnx']);
    fs.rmSync(dir, { recursive: true });
  });
});
