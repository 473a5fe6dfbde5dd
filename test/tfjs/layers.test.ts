// Every layer of the catalogue, with argument combinations that stress what
// tfjs lacks (odd sizes, strides that do not divide, explicit / asymmetric /
// `same` padding, groups, dilation, ceil mode), and every construct: the tfjs
// model and the ONNX graph, given the same random weights, agree to 1e-4.
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compile.js';
import { LAYERS } from '../../src/layers/registry.js';
import { CASES } from '../layers/cases.js';
import { conform, net, randomWeights } from './helpers.js';

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
    const n = net('network T { input [3, 9, 9]\n conv(4, 3, groups 1, stride 2) | lrn | maxpool(2, ceil true) | flatten | dense(3) }');
    const r = await conform(n, { weights: randomWeights(4), batch: 3 });
    expect(r.rel).toBeLessThanOrEqual(TOL);
  });

  // An empty body, shortcut or branch passes its input on, so a merge can take
  // one tensor twice; tfjs 4.22 alone disposes such a tensor too early when it
  // also feeds another layer ("Tensor is disposed"), which the lowering avoids.
  it.each([
    ['residual of an add of two empty branches', 'relu | residual { add { branch { } branch { } } }'],
    ['concat of two empty branches and a conv', 'relu | concat { branch { } branch { conv(2, 1) } branch { } } | conv(3, 1)'],
    ['empty residual body, used again', 'relu | residual { } | residual { add { branch { } branch { relu } branch { } } }'],
  ])('a merge taking one tensor twice: %s', async (_name, body) => {
    const n = net(`network T { input [3, 5, 5]\n ${body} }`);
    const r = await conform(n, { weights: randomWeights(6), batch: 2 });
    expect(r.scale).toBeGreaterThan(0);
    expect(r.rel).toBeLessThanOrEqual(TOL);
  });

  // onnxruntime refuses even LRN sizes (its kernel asserts size % 2 == 1), so the checker does too (E202):
  // a network the checker accepts must run in every back end
  it('lrn even sizes are refused by the checker', () => {
    for (const size of [2, 4, 6]) {
      const r = compile(`network T { input [7, 3, 4]\n lrn(size ${size}) }`);
      expect(r.network).toBeUndefined();
      expect(r.diagnostics.map((d) => d.code)).toEqual(['E202']);
    }
  });

  it('every catalogue layer has a tfjs lowering and a case here', () => {
    const text = CASES.map((c) => c[2]).join(' ');
    for (const l of LAYERS) {
      expect(l.tfjs, l.name).toBeTypeOf('function');
      expect(new RegExp(`\\b${l.name}\\b`).test(text), `no conformance case uses ${l.name}`).toBe(true);
    }
  });
});
