// The engine hooks pruning needs, at the engine boundary (what every engine
// must do, whatever computes its steps): EngineSetup.initialWeights starts
// from the given weights, EngineSetup.masks keeps the masked weights exactly
// zero through steps with momentum, Adam and weight decay, and a mask that
// names no weight or has the wrong length is refused. Plus the masks file of
// a run directory, bit for bit.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compile } from '../../src/compile.js';
import { layers, type Network } from '../../src/check/ir.js';
import { seededWeights, type WeightSource } from '../../src/emit/onnx/index.js';
import { readTfjsWeights } from '../../src/weights/tfjs.js';
import { tfjsEngine } from '../../src/train/engines/tfjs/engine.js';
import { readMasks, weightShapes, writeMasks } from '../../src/train/masks.js';
import { tempDir } from '../onnx/helpers.js';
import { batch, engineSetup, halfMasks } from '../engine-fixtures.js';

const dir = tempDir('masks');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const NET = 'network M {\n  input [2, 6, 6]\n  conv(4, 3) | relu | flatten\n  dense(8) | relu | dense(3)\n}';
const network = (): Network => compile(NET).network!;

async function savedWeights(engine: Awaited<ReturnType<typeof tfjsEngine.create>>, n: Network, name: string): Promise<WeightSource> {
  const out = path.join(dir, name);
  await engine.saveModel(out);
  return readTfjsWeights(path.join(out, 'model'), n);
}

describe('EngineSetup.initialWeights and .masks (tfjs engine)', () => {
  for (const [optimizer, extra] of [
    ['momentum', { weightDecay: 0.01 }],
    ['adam', {}],
  ] as const) {
    it(`keeps masked weights at zero through ${optimizer} steps${'weightDecay' in extra ? ' with weight decay' : ''}, and trains the rest`, async () => {
      const n = network();
      const masks = halfMasks(n);
      const init = seededWeights(9);
      const engine = await tfjsEngine.create(engineSetup(n, 'm.net', { initialWeights: init, masks }, { optimizer, ...extra }));
      // before any step: the given weights, masked
      const start = await savedWeights(engine, n, `${optimizer}-0`);
      for (const l of layers(n.body))
        for (const w of l.weights) {
          const m = masks.get(`${l.path}.${w.name}`);
          const want = init.get(l.path, w);
          // (a masked negative weight reads −0: zero all the same)
          expect(Array.from(start.get(l.path, w), (v) => v + 0)).toEqual(Array.from(want, (v, i) => (m && !m[i] ? 0 : v)));
        }
      for (let s = 0; s < 5; s++) expect(Number.isFinite((await engine.step(batch(s + 1, 'NHWC'), 0.05, { epoch: 0, step: s })).loss)).toBe(true);
      const end = await savedWeights(engine, n, `${optimizer}-5`);
      for (const [key, m] of masks) {
        const l = [...layers(n.body)].find((x) => `${x.path}.weight` === key)!;
        const v = end.get(l.path, l.weights[0]!);
        const s0 = start.get(l.path, l.weights[0]!);
        let moved = 0;
        m.forEach((keep, i) => {
          if (!keep) expect(v[i] === 0, `${key}[${i}] = ${v[i]}`).toBe(true);
          else if (v[i] !== s0[i]) moved++;
        });
        expect(moved).toBeGreaterThan(0);
      }
      await engine.dispose();
    });
  }

  it('refuses a mask for a weight the network does not have, or of the wrong length', async () => {
    const n = network();
    await expect(tfjsEngine.create(engineSetup(n, 'm.net', { masks: new Map([['conv9.weight', new Uint8Array(4)]]) }))).rejects.toThrow(/mask for conv9.weight: the network M has no such weight/);
    await expect(tfjsEngine.create(engineSetup(n, 'm.net', { masks: new Map([['conv1.weight', new Uint8Array(5)]]) }))).rejects.toThrow(/mask for conv1.weight: 5 values, the weight \[4, 2, 3, 3\] has 72/);
  });
});

describe('masks.json / masks.bin', () => {
  it('round-trips masks of any length bit for bit', () => {
    const n = network();
    const masks = halfMasks(n);
    masks.set('dense2.weight', Uint8Array.from({ length: 24 }, (_, i) => (i % 3 === 0 ? 1 : 0)));
    const d = path.join(dir, 'run');
    fs.mkdirSync(d);
    expect(readMasks(d)).toBeUndefined();
    writeMasks(d, masks, weightShapes(n));
    expect(readMasks(d)).toEqual(masks);
    const meta = JSON.parse(fs.readFileSync(path.join(d, 'masks.json'), 'utf8'));
    expect(meta.masks.find((e: { weight: string }) => e.weight === 'dense2.weight')).toMatchObject({ shape: [3, 8], count: 24, kept: 8 });
    fs.truncateSync(path.join(d, 'masks.bin'), 3);
    expect(() => readMasks(d)).toThrow(/too short for the mask of/);
  });
});
