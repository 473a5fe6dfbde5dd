// Every layer and construct of the tfjs conformance suite (test/layer-cases.ts)
// through the PyTorch target: the generated module, run by /usr/bin/python3's
// torch with weights it loads from a safetensors file alexnetc wrote, and the
// ONNX graph run by onnxruntime-node, given the same weights and input, agree
// to 1e-4 relative, and the modules' weight names are alexnetc's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAYERS } from '../../src/layers/registry.js';
import { CASES } from '../layer-cases.js';
import { checked, Conformance, describeResult, hasTorch, TOL, type CaseResult } from './helpers.js';
import { distinctWeights } from './weights.js';

/** ONNX's LRN for any size (onnxruntime refuses even ones): floor((size-1)/2) channels before c, ceil((size-1)/2) after. */
function lrnFormula(size: number, a: { alpha: number; beta: number; bias: number }) {
  return (x: Float32Array, dims: number[]): Float32Array => {
    const [n, c, h, w] = dims as [number, number, number, number];
    const out = new Float32Array(x.length);
    const lo = Math.floor((size - 1) / 2);
    const hi = Math.ceil((size - 1) / 2);
    const plane = h * w;
    for (let b = 0; b < n; b++)
      for (let ch = 0; ch < c; ch++)
        for (let i = 0; i < plane; i++) {
          let sum = 0;
          for (let k = Math.max(0, ch - lo); k <= Math.min(c - 1, ch + hi); k++) sum += x[(b * c + k) * plane + i]! ** 2;
          const at = (b * c + ch) * plane + i;
          out[at] = x[at]! / (a.bias + (a.alpha / size) * sum) ** a.beta;
        }
    return out;
  };
}

const EVEN_LRN = [2, 4, 6].map((size) => ({ id: `lrn even size ${size} (against the ONNX formula)`, size, a: { alpha: 0.3, beta: 0.75, bias: 1.5 } }));

describe.skipIf(!hasTorch())('every layer and construct: PyTorch = ONNX', () => {
  const conf = new Conformance();
  let results = new Map<string, CaseResult>();

  beforeAll(async () => {
    for (const [name, input, body] of CASES) {
      await conf.add({ id: name, module: checked(`network T { input ${input}\n ${body} }`), weights: distinctWeights(3) });
    }
    await conf.add({
      id: 'a batch of one',
      module: checked('network T { input [3, 9, 9] conv(4, 3, stride 2) | lrn | maxpool(2, ceil true) | flatten | dense(3) }'),
      weights: distinctWeights(4),
      batch: 1,
    });
    for (const { id, size, a } of EVEN_LRN) {
      const module = checked(`network T { input [7, 3, 4]\n lrn(size ${size}, alpha ${a.alpha}, beta ${a.beta}, bias ${a.bias}) }`);
      await conf.add({ id, module, weights: distinctWeights(1), expected: lrnFormula(size, a) });
    }
    results = conf.run();
  }, 600_000);

  afterAll(() => {
    const rels = [...results.values()].map((r) => r.rel ?? Number.NaN);
    console.log(`${rels.length} cases: max relative difference ${Math.max(...rels).toExponential(2)}`);
    conf.dispose();
  });

  for (const id of [...CASES.map((c) => c[0]), 'a batch of one', ...EVEN_LRN.map((c) => c.id)]) {
    it(id, () => {
      const r = results.get(id);
      expect(r?.error ?? r?.names ?? null, describeResult(r)).toBeNull();
      expect(r!.scale, describeResult(r)).toBeGreaterThan(0);
      expect(r!.rel, describeResult(r)).toBeLessThanOrEqual(TOL);
    });
  }

  it('every catalogue layer has a PyTorch lowering and a case here', () => {
    const text = CASES.map((c) => c[2]).join(' ');
    for (const l of LAYERS) {
      expect(l.torch?.body, l.name).toBeTypeOf('string');
      expect(new RegExp(`\\b${l.name}\\b`).test(text), `no conformance case uses ${l.name}`).toBe(true);
    }
  });
});
