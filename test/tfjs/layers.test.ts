// Every layer of the catalogue, with argument combinations that stress what
// tfjs lacks (odd sizes, strides that do not divide, explicit / asymmetric /
// `same` padding, groups, dilation, ceil mode), and every construct: the tfjs
// model and the ONNX graph, given the same random weights, agree to 1e-4.
import { describe, expect, it } from 'vitest';
import { LAYERS } from '../../src/layers/registry.js';
import { toTfjs } from '../../src/emit/tfjs/index.js';
import { randomInput } from '../onnx/helpers.js';
import { CASES } from '../layer-cases.js';
import { conform, cpu, net, randomWeights, relDiff, runTfjs, tf } from './helpers.js';

const TOL = 1e-4;

describe('every layer and construct: tfjs = ONNX', () => {
  for (const [name, input, body] of CASES) {
    it(name, async () => {
      const n = net(`network T { input ${input}\n ${body} }`);
      const r = await conform(n, { weights: randomWeights(3) });
      expect(r.scale).toBeGreaterThan(0);
      expect(r.rel).toBeLessThanOrEqual(TOL);
    });
  }

  it('a batch of several examples', async () => {
    const n = net('network T { input [3, 9, 9] conv(4, 3, groups 1, stride 2) | lrn | maxpool(2, ceil true) | flatten | dense(3) }');
    const r = await conform(n, { weights: randomWeights(4), batch: 3 });
    expect(r.rel).toBeLessThanOrEqual(TOL);
  });

  // onnxruntime refuses even LRN sizes (its kernel asserts size % 2 == 1), so compare with the ONNX
  // definition directly: the window is floor((size-1)/2) channels before c and ceil((size-1)/2) after
  for (const size of [2, 4, 6]) {
    it(`lrn even size ${size} (against the ONNX formula)`, async () => {
      await cpu();
      const [c, h, w] = [7, 3, 4];
      const a = { alpha: 0.3, beta: 0.75, bias: 1.5 };
      const n = net(`network T { input [${c}, ${h}, ${w}]\n lrn(size ${size}, alpha ${a.alpha}, beta ${a.beta}, bias ${a.bias}) }`);
      const x = randomInput(c * h * w, size);
      const model = toTfjs(tf, n);
      const got = runTfjs(model, x, [1, c, h, w]);
      model.dispose();
      const want = new Float32Array(x.length);
      const lo = Math.floor((size - 1) / 2);
      const hi = Math.ceil((size - 1) / 2);
      for (let ch = 0; ch < c; ch++)
        for (let i = 0; i < h * w; i++) {
          let sum = 0;
          for (let k = Math.max(0, ch - lo); k <= Math.min(c - 1, ch + hi); k++) sum += x[k * h * w + i]! ** 2;
          want[ch * h * w + i] = x[ch * h * w + i]! / (a.bias + (a.alpha / size) * sum) ** a.beta;
        }
      expect(relDiff(got, want)).toBeLessThanOrEqual(TOL);
    });
  }

  it('every catalogue layer has a tfjs lowering and a case here', () => {
    const text = CASES.map((c) => c[2]).join(' ');
    for (const l of LAYERS) {
      expect(l.tfjs, l.name).toBeTypeOf('function');
      expect(new RegExp(`\\b${l.name}\\b`).test(text), `no conformance case uses ${l.name}`).toBe(true);
    }
  });
});
