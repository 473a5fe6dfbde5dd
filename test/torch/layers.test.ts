// Every layer and construct of the tfjs conformance suite (test/layers/cases.ts)
// through the PyTorch target: the generated module, run by /usr/bin/python3's
// torch with weights it loads from a safetensors file alexnetc wrote, and the
// ONNX graph run by onnxruntime-node, given the same weights and input, agree
// to 1e-4 relative, and the modules' weight names are alexnetc's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAYERS } from '../../src/layers/registry.js';
import { CASES } from '../layers/cases.js';
import { checked, Conformance, describeResult, hasTorch, TOL, type CaseResult } from './helpers.js';
import { distinctWeights } from './weights.js';

describe.skipIf(!hasTorch())('every layer and construct: PyTorch = ONNX', () => {
  const conf = new Conformance();
  let results = new Map<string, CaseResult>();

  beforeAll(async () => {
    for (const [name, input, body] of CASES) {
      await conf.add({ id: name, module: checked(`network T { input ${input}\n ${body} }`), weights: distinctWeights(3) });
    }
    await conf.add({
      id: 'a batch of one',
      module: checked('network T { input [3, 9, 9]\n conv(4, 3, stride 2) | lrn | maxpool(2, ceil true) | flatten | dense(3) }'),
      weights: distinctWeights(4),
      batch: 1,
    });
    results = conf.run();
  }, 600_000);

  afterAll(() => {
    const rels = [...results.values()].map((r) => r.rel ?? Number.NaN);
    console.log(`${rels.length} cases: max relative difference ${Math.max(...rels).toExponential(2)}`);
    conf.dispose();
  });

  // even LRN sizes are refused by the checker (onnxruntime refuses them): no case here
  for (const id of [...CASES.map((c) => c[0]), 'a batch of one']) {
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
