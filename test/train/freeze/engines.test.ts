// EngineSetup.frozen on both engines, at the engine boundary: after steps of
// momentum with weight decay and of Adam, every frozen weight — kernels,
// biases, batch-norm scale and shift and its running statistics — is bit for
// bit what it was, while the rest (an unfrozen batch norm's statistics
// included) changed; a frozen batch norm normalises with its stored
// statistics during training steps (the step's loss before the update is the
// inference-mode loss); a key that names no weight, or a set that leaves
// nothing to train, is refused.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compile } from '../../../src/compile.js';
import { frozenWeightKeys } from '../../../src/check/freeze.js';
import { layers, type Network } from '../../../src/check/ir.js';
import { seededWeights, type WeightSource } from '../../../src/emit/onnx/index.js';
import { readTfjsWeights } from '../../../src/weights/tfjs.js';
import type { EngineModule, TrainEngine } from '../../../src/train/engine.js';
import { tfjsEngine } from '../../../src/train/engines/tfjs/engine.js';
import { safetensorsWeights } from '../../../src/weights/safetensors.js';
import { tempDir } from '../../onnx/helpers.js';
import { hasTorch } from '../torch/helpers.js';
import { batch, engineSetup } from '../../engine-fixtures.js';

const dir = tempDir('freeze-engines');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

// two conv + batch-norm stages, the first of them a block call: `stage1` freezes conv1 and batchnorm1 under it
const NET = `network M {
  input [2, 6, 6]
  stage(4)
  conv(4, 3) | batchnorm | relu | flatten
  dense(8) | relu | dense(3)
}

block stage(c) {
  conv(c, 3, pad 1) | batchnorm | relu
}
`;
const file = path.join(dir, 'm.net');
fs.writeFileSync(file, NET);
const network = (): Network => compile(NET).network!;

/** Weights that are no engine's defaults: running statistics away from 0 and 1, so that inference and training modes differ. */
function startWeights(): WeightSource {
  const seeded = seededWeights(5);
  return {
    get(p, spec) {
      if (spec.name === 'running_mean') return Float32Array.from({ length: spec.shape[0]! }, (_, i) => 0.1 * (i + 1));
      if (spec.name === 'running_var') return Float32Array.from({ length: spec.shape[0]! }, (_, i) => 0.5 + 0.25 * i);
      return seeded.get(p, spec);
    },
  };
}

interface Engine {
  name: string;
  module: EngineModule;
  layout: 'NCHW' | 'NHWC';
  skip: boolean;
  /** the engine's weights now, canonical */
  weights(engine: TrainEngine, n: Network, tag: string): Promise<WeightSource>;
}

const ENGINES: Engine[] = [
  {
    name: 'tfjs',
    module: tfjsEngine,
    layout: 'NHWC',
    skip: false,
    async weights(engine, n, tag) {
      const out = path.join(dir, `tfjs-${tag}`);
      await engine.saveModel(out);
      return readTfjsWeights(path.join(out, 'model'), n);
    },
  },
  {
    name: 'torch',
    module: { create: async (s) => (await import('../../../src/train/engines/torch/engine.js')).torchEngine.create(s) },
    layout: 'NCHW',
    skip: !hasTorch,
    async weights(engine, n, tag) {
      const out = path.join(dir, `torch-${tag}`);
      fs.mkdirSync(out);
      await engine.saveCheckpoint(out);
      return safetensorsWeights(path.join(out, 'model.safetensors'), n);
    },
  },
];

const bits = (v: Float32Array): number[] => Array.from(new Uint32Array(v.buffer, v.byteOffset, v.length));

for (const e of ENGINES) {
  describe.skipIf(e.skip)(`EngineSetup.frozen (${e.name} engine)`, () => {
    for (const [optimizer, extra] of [
      ['momentum', { weightDecay: 0.01 }],
      ['adam', {}],
    ] as const) {
      it(`keeps frozen weights and batch-norm statistics bit for bit through ${optimizer} steps${'weightDecay' in extra ? ' with weight decay' : ''}, and trains the rest`, async () => {
        const n = network();
        const frozen = frozenWeightKeys(n.body, ['stage1']);
        expect([...frozen]).toEqual(['stage1/conv1.weight', 'stage1/conv1.bias', 'stage1/batchnorm1.weight', 'stage1/batchnorm1.bias', 'stage1/batchnorm1.running_mean', 'stage1/batchnorm1.running_var']);
        const init = startWeights();
        const engine = await e.module.create(engineSetup(n, file, { initialWeights: init, frozen }, { optimizer, ...extra }));
        try {
          for (let s = 0; s < 4; s++) expect(Number.isFinite((await engine.step(batch(s + 1, e.layout), 0.05, { epoch: 0, step: s })).loss)).toBe(true);
          const end = await e.weights(engine, n, `${optimizer}-end`);
          const changed: string[] = [];
          for (const l of layers(n.body))
            for (const w of l.weights) {
              const key = `${l.path}.${w.name}`;
              const before = init.get(l.path, w), after = end.get(l.path, w);
              if (frozen.has(key)) expect(bits(after), key).toEqual(bits(before));
              else if (bits(after).join() !== bits(before).join()) changed.push(key);
            }
          // every weight that is not frozen trained; the unfrozen batch norm updated its statistics
          expect(changed).toEqual([...layers(n.body)].flatMap((l) => l.weights.map((w) => `${l.path}.${w.name}`)).filter((k) => !frozen.has(k)));
          expect(changed).toContain('batchnorm1.running_mean');
        } finally {
          await engine.dispose();
        }
      }, 120_000);
    }

    it('runs a frozen batch norm in inference mode during training steps', async () => {
      // the only batch norm frozen, no dropout: the step's loss (before its update) is the inference-mode loss
      const NET2 = 'network B {\n  input [2, 6, 6]\n  conv(4, 3) | batchnorm | relu | flatten\n  dense(3)\n}\n';
      const f2 = path.join(dir, 'b.net');
      fs.writeFileSync(f2, NET2);
      const n = compile(NET2).network!;
      const frozen = frozenWeightKeys(n.body, ['conv1', 'batchnorm1']);
      const s = engineSetup(n, file, { initialWeights: startWeights(), frozen, source: { file: f2, network: 'B', set: {}, data: 'none' } }, { optimizer: 'sgd' });
      const engine = await e.module.create(s);
      try {
        const b = batch(3, e.layout);
        const inference = (await engine.evaluate(b)).loss;
        const training = (await engine.step(b, 0.05, { epoch: 0, step: 0 })).loss;
        expect(Math.abs(training - inference)).toBeLessThan(1e-5 * Math.max(1, inference));
      } finally {
        await engine.dispose();
      }
      // the control: with nothing frozen the step normalises by the batch's statistics, and the losses differ
      const free = await e.module.create({ ...s, frozen: undefined });
      try {
        const b = batch(3, e.layout);
        const inference = (await free.evaluate(b)).loss;
        const training = (await free.step(b, 0.05, { epoch: 0, step: 0 })).loss;
        expect(Math.abs(training - inference)).toBeGreaterThan(1e-3);
      } finally {
        await free.dispose();
      }
    }, 120_000);

    it('refuses a frozen key that names no weight, and a network with nothing left to train', async () => {
      const n = network();
      await expect(e.module.create(engineSetup(n, file, { frozen: new Set(['conv9.weight']) }))).rejects.toThrow(/frozen weight conv9.weight: the network M has no such weight/);
      const all = frozenWeightKeys(n.body, ['stage1', 'conv1', 'batchnorm1', 'dense1', 'dense2']);
      await expect(e.module.create(engineSetup(n, file, { frozen: all }))).rejects.toThrow(/every weight of M is frozen: nothing to train/);
    }, 60_000);
  });
}
