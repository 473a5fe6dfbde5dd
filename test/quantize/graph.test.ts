// The int8 graph rewrite on its own (no data, seeded weights): the arithmetic,
// and for networks covering every construct (residual, concat, groups, batch
// norm, LRN, vector heads) that both forms pass onnx.checker's full check,
// that every int8 weight is within half a step of its float value (read back
// with onnx's numpy_helper), that onnxruntime computes nearly what the float
// model computes, and that onnxruntime really runs int8 kernels for
// int8-static (its optimized graph holds QLinearConv / QGemm).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compile } from '../../src/compile.js';
import { layers, type Network } from '../../src/check/ir.js';
import { calibrationTensors, exposeValues, quantizeGraph, toOnnxBytes, type Range } from '../../src/emit/onnx/index.js';
import { activationParams, quantizePerChannel } from '../../src/emit/onnx/quantize.js';
import { percentileRange } from '../../src/quantize/calibrate.js';
import { OnnxModel } from '../../src/emit/onnx/session.js';
import { randomInput, requirePython, runPython, tempDir } from '../onnx/helpers.js';

const root = path.join(import.meta.dirname, '../..');
const hasOnnx = requirePython('onnx, numpy', 'the onnx.checker checks of quantized models');
const dir = tempDir('quantize-graph');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('the arithmetic', () => {
  it('quantizes each output channel symmetrically to within half a step', () => {
    const w = new Float32Array([0.5, -1, 0.25, 0.1, /* channel 2 */ 0, 0, 0, 0, /* channel 3 */ 3e-3, -2e-3, 1e-3, 2.5e-3]);
    const { q, scale } = quantizePerChannel(w, 3);
    expect(Array.from(scale)).toEqual([Math.fround(1 / 127), 1, Math.fround(3e-3 / 127)]);
    expect(Array.from(q.slice(0, 4))).toEqual([64, -127, 32, 13]); // 0.5·127 = 63.5 rounds away from zero
    expect(Array.from(q.slice(4, 8))).toEqual([0, 0, 0, 0]);
    expect(q[8]).toBe(127);
    for (let i = 0; i < w.length; i++) expect(Math.abs(q[i]! * scale[Math.floor(i / 4)]! - w[i]!)).toBeLessThanOrEqual(scale[Math.floor(i / 4)]! / 2 + 1e-9);
  });

  it('gives activations a uint8 range that holds 0 exactly', () => {
    expect(activationParams({ min: 0, max: 2.55 })).toEqual({ scale: Math.fround(0.01), zeroPoint: 0 });
    const p = activationParams({ min: -1, max: 3 });
    expect(p.zeroPoint).toBe(64);
    expect(p.scale * (0 - p.zeroPoint)).toBeCloseTo(-1, 2);
    // a range that excludes 0 is widened to include it; a constant tensor gets scale 1
    expect(activationParams({ min: 2, max: 4 }).zeroPoint).toBe(0);
    expect(activationParams({ min: 0, max: 0 })).toEqual({ scale: 1, zeroPoint: 0 });
  });

  it('cuts the percentile range from both ends of the histogram', () => {
    const hist = new Float64Array(100);
    hist.fill(1000);
    hist[0] = 1; // one outlier far down, one far up
    hist[99] = 1;
    const r = percentileRange(hist, 0, 100, 99.99);
    expect(r).toEqual({ min: 1, max: 99 });
    expect(percentileRange(hist, 0, 100, 100)).toEqual({ min: 0, max: 100 });
  });
});

const ZOO = `
network Zoo(classes = 5) {
  input [3, 16, 16]
  conv(8, 3, pad 1) | batchnorm | relu
  residual { conv(8, 3, pad 1, bias false) | batchnorm | relu | conv(8, 3, pad 1) }
  relu | maxpool(2)
  concat {
    branch { conv(4, 1) | relu }
    branch { conv(4, 3, pad 1, groups 2) | leakyrelu }
  }
  lrn(size 3) | avgpool(2)
  conv(6, 1) | tanh | globalavgpool | flatten
  dense(16) | sigmoid | dense(classes)
}
network Mlp {
  input [20]
  dense(32) | relu | dense(32) | relu | dense(4) | softmax
}`;

function network(text: string, name: string, set?: Record<string, string>): Network {
  const r = compile(text, { network: name, set });
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return r.network!;
}

const NETWORKS: Array<[string, () => Network]> = [
  ['LeNet5', () => network(fs.readFileSync(path.join(root, 'specs/lenet5.net'), 'utf8'), 'LeNet5', { size: '28' })],
  ['CNN', () => network(fs.readFileSync(path.join(import.meta.dirname, 'fixtures/cnn.net'), 'utf8'), 'CNN')],
  ['Zoo', () => network(ZOO, 'Zoo')],
  ['Mlp', () => network(ZOO, 'Mlp')],
];

/** Ranges from the float model on the very input we compare on (the test checks the rewrite, not the calibration). */
async function rangesFor(net: Network, x: Float32Array, dims: number[]): Promise<Map<string, Range>> {
  let tensors: string[] = [];
  const bytes = toOnnxBytes(net, { seed: 3, transform: (g) => exposeValues(g, (tensors = calibrationTensors(g))) });
  const m = await OnnxModel.open(bytes);
  const got = await m.run(x, dims, tensors.filter((t) => t !== 'input'));
  await m.release();
  got.set('input', x);
  return new Map(tensors.map((t) => [t, got.get(t)!.reduce((r, v) => ({ min: Math.min(r.min, v), max: Math.max(r.max, v) }), { min: Infinity, max: -Infinity })]));
}

async function outputs(model: Uint8Array | string, x: Float32Array, dims: number[]): Promise<Float32Array> {
  const m = await OnnxModel.open(model);
  const out = (await m.run(x, dims)).get('output')!;
  await m.release();
  return out;
}

const quantizable = (net: Network) => [...layers(net.body)].filter((n) => n.layer.name === 'conv' || n.layer.name === 'dense');

function relativeError(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(a[i]!));
  }
  return diff / scale;
}

describe.each(NETWORKS)('%s', (name, make) => {
  const net = make();
  const batch = 8;
  const dims = [batch, ...net.input];
  const x = randomInput(dims.reduce((a, b) => a * b, 1), 7);
  const floatFile = path.join(dir, `${name}.onnx`);
  fs.writeFileSync(floatFile, toOnnxBytes(net, { seed: 3 }));

  it('int8: int8 weights within half a step, about a quarter of the size, nearly the float outputs', async () => {
    const file = path.join(dir, `${name}-int8.onnx`);
    const bytes = toOnnxBytes(net, { seed: 3, transform: (g) => quantizeGraph(g, 'int8') });
    fs.writeFileSync(file, bytes);
    const ratio = bytes.length / fs.statSync(floatFile).size;
    if (net.totalParams > 50_000) expect(ratio).toBeLessThan(0.3);
    const err = relativeError(await outputs(floatFile, x, dims), await outputs(bytes, x, dims));
    expect(err).toBeLessThan(0.02); // measured ≤ 0.006
    if (hasOnnx) {
      const r = JSON.parse(runPython('quant_check.py', [floatFile, file]));
      expect(r.weights_checked).toBe(quantizable(net).length);
      expect(r.worst_error_in_steps).toBeLessThanOrEqual(0.5 + 1e-4);
      expect(r.ops.QuantizeLinear).toBeUndefined();
    }
  });

  it('int8-static: QDQ that onnxruntime runs as int8 kernels, nearly the float outputs', async () => {
    const ranges = await rangesFor(net, x, dims);
    const file = path.join(dir, `${name}-static.onnx`);
    const bytes = toOnnxBytes(net, { seed: 3, transform: (g) => quantizeGraph(g, 'int8-static', ranges) });
    fs.writeFileSync(file, bytes);
    const err = relativeError(await outputs(floatFile, x, dims), await outputs(bytes, x, dims));
    expect(err).toBeLessThan(0.05); // measured ≤ 0.015
    const optimized = path.join(dir, `${name}-static.optimized.onnx`);
    const m = await OnnxModel.open(file, { optimizedModelFile: optimized });
    await m.release();
    if (hasOnnx) {
      const r = JSON.parse(runPython('quant_check.py', [floatFile, file]));
      expect(r.worst_error_in_steps).toBeLessThanOrEqual(0.5 + 1e-4);
      expect(r.int32_initializers).toBeGreaterThan(0);
      // the graph onnxruntime runs: every conv and dense layer became an int8 kernel
      const ops = JSON.parse(runPython('quant_check.py', ['--ops', optimized])) as Record<string, number>;
      const kinds = quantizable(net).map((n) => n.layer.name);
      expect(ops.QLinearConv ?? 0).toBe(kinds.filter((k) => k === 'conv').length);
      expect(ops.QGemm ?? 0).toBe(kinds.filter((k) => k === 'dense').length);
      expect(ops.Conv ?? 0).toBe(0);
      expect(ops.Gemm ?? 0).toBe(0);
    }
  });
});

describe('ViT_Tiny28 (tokens)', () => {
  it('int8: dense on tokens and attention\'s projections get int8 weights too (MatMul by a transposed weight), nearly the float outputs', async () => {
    const net = network(fs.readFileSync(path.join(root, 'specs/vit.net'), 'utf8'), 'ViT_Tiny28');
    const dims = [4, ...net.input];
    const x = randomInput(dims.reduce((a, b) => a * b, 1), 7);
    const floatFile = path.join(dir, 'vit.onnx');
    fs.writeFileSync(floatFile, toOnnxBytes(net, { seed: 3 }));
    const file = path.join(dir, 'vit-int8.onnx');
    const bytes = toOnnxBytes(net, { seed: 3, transform: (g) => quantizeGraph(g, 'int8') });
    fs.writeFileSync(file, bytes);
    expect(bytes.length / fs.statSync(floatFile).size).toBeLessThan(0.4);
    const err = relativeError(await outputs(floatFile, x, dims), await outputs(bytes, x, dims));
    expect(err).toBeLessThan(0.05); // measured 0.022: eighteen int8 matrices through four residual blocks
    if (hasOnnx) {
      const r = JSON.parse(runPython('quant_check.py', [floatFile, file]));
      // the patch conv, the head, and per block: in_proj, out_proj and the MLP's two dense layers
      expect(r.weights_checked).toBe(2 + 4 * 4);
      expect(r.worst_error_in_steps).toBeLessThanOrEqual(0.5 + 1e-4);
    }
  });
});

describe('refusals', () => {
  it('a network without conv or dense has nothing to quantize', () => {
    const net = network('network P { input [2, 4, 4]\n maxpool(2) | flatten | softmax }', 'P');
    expect(() => toOnnxBytes(net, { transform: (g) => quantizeGraph(g, 'int8') })).toThrow(/nothing to quantize/);
  });
  it('int8-static without a range for a tensor is an internal error, not a silent guess', () => {
    const net = NETWORKS[0]![1]();
    expect(() => toOnnxBytes(net, { transform: (g) => quantizeGraph(g, 'int8-static', new Map()) })).toThrow(/no calibration range for input/);
  });
});
