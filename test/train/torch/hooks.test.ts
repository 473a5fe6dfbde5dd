// The engine hooks of EngineSetup, on the torch engine (test/prune/masks.test.ts
// checks the tfjs engine the same way): initialWeights starts from the given
// weights; masks keep the masked weights exactly zero through steps with
// momentum, Adam and weight decay while the rest train; a mask that names no
// weight or has the wrong length is refused before a worker starts.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { layers, type Network } from '../../../src/check/ir.js';
import { compile } from '../../../src/compile.js';
import { seededWeights, type WeightSource } from '../../../src/emit/onnx/index.js';
import type { TrainEngine } from '../../../src/train/engine.js';
import { torchEngine } from '../../../src/train/engines/torch/engine.js';
import { safetensorsWeights } from '../../../src/weights/safetensors.js';
import { hasTorch, tmp } from './helpers.js';
import { batch, engineSetup, halfMasks } from '../../engine-fixtures.js';

const dir = tmp();

const NET = 'network M {\n  input [2, 6, 6]\n  conv(4, 3) | relu | flatten\n  dense(8) | relu | dense(3)\n}\n';
const file = path.join(dir, 'm.net');
fs.writeFileSync(file, NET);
const network = (): Network => compile(NET).network!;

async function savedWeights(engine: TrainEngine, n: Network, name: string): Promise<WeightSource> {
  const out = path.join(dir, name);
  fs.mkdirSync(out);
  await engine.saveCheckpoint(out);
  return safetensorsWeights(path.join(out, 'model.safetensors'), n);
}

describe.skipIf(!hasTorch)('EngineSetup.initialWeights and .masks (torch engine)', () => {
  for (const [optimizer, extra] of [
    ['momentum', { weightDecay: 0.01 }],
    ['adam', {}],
  ] as const) {
    it(`keeps masked weights at zero through ${optimizer} steps${'weightDecay' in extra ? ' with weight decay' : ''}, and trains the rest`, async () => {
      const n = network();
      const masks = halfMasks(n);
      const init = seededWeights(9);
      const engine = await torchEngine.create(engineSetup(n, file, { initialWeights: init, masks }, { optimizer, ...extra }));
      try {
        // before any step: the given weights, masked
        const start = await savedWeights(engine, n, `${optimizer}-0`);
        for (const l of layers(n.body))
          for (const w of l.weights) {
            const m = masks.get(`${l.path}.${w.name}`);
            expect(Array.from(start.get(l.path, w), (v) => v + 0)).toEqual(Array.from(init.get(l.path, w), (v, i) => (m && !m[i] ? 0 : v)));
          }
        for (let s = 0; s < 5; s++) expect(Number.isFinite((await engine.step(batch(s + 1, 'NCHW'), 0.05, { epoch: 0, step: s })).loss)).toBe(true);
        const end = await savedWeights(engine, n, `${optimizer}-5`);
        for (const [key, m] of masks) {
          const l = [...layers(n.body)].find((x) => `${x.path}.weight` === key)!;
          const v = end.get(l.path, l.weights[0]!), s0 = start.get(l.path, l.weights[0]!);
          let moved = 0;
          m.forEach((keep, i) => {
            if (!keep) expect(v[i] === 0, `${key}[${i}] = ${v[i]}`).toBe(true);
            else if (v[i] !== s0[i]) moved++;
          });
          expect(moved).toBeGreaterThan(0);
        }
      } finally {
        await engine.dispose();
      }
    }, 120_000);
  }

  it('refuses a mask for a weight the network does not have, or of the wrong length', async () => {
    const n = network();
    await expect(torchEngine.create(engineSetup(n, file, { masks: new Map([['conv9.weight', new Uint8Array(4)]]) }))).rejects.toThrow(/mask for conv9.weight: the network M has no such weight/);
    await expect(torchEngine.create(engineSetup(n, file, { masks: new Map([['conv1.weight', new Uint8Array(5)]]) }))).rejects.toThrow(/mask for conv1.weight: 5 values, the weight \[4, 2, 3, 3\] has 72/);
  }, 60_000);
});
