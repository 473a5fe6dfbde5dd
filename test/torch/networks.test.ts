// Every shipped network through the PyTorch target, at its real input size,
// batch 2, with random weights loaded from safetensors: the generated module
// (torch) and the ONNX graph (onnxruntime-node) agree to 1e-4 relative, and
// so do the logits of the networks that end in softmax (a saturated softmax
// could hide an error). The VGGs (0.5 GB of weights each) run with
// ALEXNETC_BIG_TESTS=1, as elsewhere.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shippedNetworks, SPECS } from '../onnx/specs.js';
import { checked, Conformance, describeResult, hasTorch, TOL, type CaseResult } from './helpers.js';
import { distinctWeights } from './weights.js';

const big = process.env.ALEXNETC_BIG_TESTS === '1';
const NETWORKS = shippedNetworks().filter(([, name]) => big || !(name.startsWith('VGG') || name.startsWith('ViT_B')));
const skipped = shippedNetworks().filter(([, name]) => !NETWORKS.some(([, n]) => n === name));

describe.skipIf(!hasTorch())('shipped networks: PyTorch = ONNX', () => {
  const ids: string[] = [];
  const results = new Map<string, CaseResult>();

  beforeAll(async () => {
    if (skipped.length) console.warn(`SKIPPED ${skipped.map((s) => s[1]).join(', ')}: set ALEXNETC_BIG_TESTS=1`);
    // one process per network keeps at most one network's files on disk
    for (const [file, name] of NETWORKS) {
      const conf = new Conformance();
      try {
        const module = checked(fs.readFileSync(path.join(SPECS, file), 'utf8'), name);
        const t = Date.now();
        await conf.add({ id: name, module, weights: distinctWeights(1), opts: { source: file } });
        const last = module.network.body[module.network.body.length - 1];
        if (last?.kind === 'layer' && last.layer.name === 'softmax') {
          await conf.add({ id: `${name} logits`, module, weights: distinctWeights(1), dropLast: true, opts: { source: file } });
        }
        for (const [id, r] of conf.run()) {
          results.set(id, r);
          ids.push(id);
        }
        console.log(`${name}: ${describeResult(results.get(name))}${results.has(`${name} logits`) ? `, logits ${describeResult(results.get(`${name} logits`))}` : ''}, ${Date.now() - t} ms`);
      } finally {
        conf.dispose();
      }
    }
  }, 900_000);

  afterAll(() => expect(ids.length).toBeGreaterThanOrEqual(NETWORKS.length));

  for (const [, name] of NETWORKS) {
    it(name, () => {
      for (const id of [name, `${name} logits`]) {
        const r = results.get(id);
        if (!r && id !== name) continue;
        expect(r?.error ?? r?.names ?? null, `${id}: ${describeResult(r)}`).toBeNull();
        expect(r!.scale).toBeGreaterThan(1e-3);
        expect(r!.rel, `${id}: ${describeResult(r)}`).toBeLessThanOrEqual(TOL);
      }
    });
  }
});
