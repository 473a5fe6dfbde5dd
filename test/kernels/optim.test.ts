// The fused optimizer updates (src/kernels/optimizers.ts) against
// tfjs's own SGD, momentum (with and without Nesterov) and Adam: a few steps
// on the same variables and gradients give bit-identical weights and slots,
// the same slot names for checkpoints, and the update is done in place once
// the weights live in the kernels' heap.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installFastKernels, uninstallFastKernels } from '../../src/kernels/index.js';
import { randomStream } from './random.js';

const { rand, reseed } = randomStream(4242);

const makers: Array<[string, () => tf.Optimizer]> = [
  ['sgd', () => tf.train.sgd(0.1)],
  ['momentum', () => tf.train.momentum(0.05, 0.9)],
  ['nesterov', () => tf.train.momentum(0.05, 0.9, true)],
  ['adam', () => tf.train.adam(0.01, 0.9, 0.999)],
];

interface Run { weights: Float32Array[]; slots: Array<{ name: string; values: Float32Array }> }

/** Three steps on two variables (one with an odd size) from fixed values and gradients. */
async function run(make: () => tf.Optimizer): Promise<Run> {
  reseed(4242);
  const shapes = [[7, 5], [64, 3]];
  const vars = shapes.map((s, i) => tf.variable(tf.tensor(rand(s[0]! * s[1]!), s), true, `w${i}_${Math.random()}`));
  const opt = make();
  for (let step = 0; step < 3; step++) {
    const grads: tf.NamedTensorMap = {};
    vars.forEach((v) => (grads[v.name] = tf.tensor(rand(v.size), v.shape)));
    opt.applyGradients(grads);
    tf.dispose(Object.values(grads));
  }
  const weights = vars.map((v) => v.dataSync() as Float32Array);
  const slots = (await opt.getWeights()).map((w) => ({ name: w.name.replace(/w(\d)_[0-9.]+/, 'w$1'), values: w.tensor.dataSync() as Float32Array }));
  opt.dispose();
  tf.dispose(vars);
  return { weights, slots };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => uninstallFastKernels(tf));

describe.each(makers)('%s', (_name, make) => {
  it('gives the stock optimizer’s weights and slots bit for bit', async () => {
    uninstallFastKernels(tf);
    const stock = await run(make);
    installFastKernels(tf);
    const fast = await run(make);
    fast.weights.forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(stock.weights[i]!)));
    expect(fast.slots.map((s) => s.name)).toEqual(stock.slots.map((s) => s.name));
    fast.slots.forEach((s, i) => expect(Array.from(s.values)).toEqual(Array.from(stock.slots[i]!.values)));
  });
});

describe('in place', () => {
  it('updates a weight held in the heap without new tensors', () => {
    installFastKernels(tf);
    const v = tf.variable(tf.ones([1000]));
    const opt = tf.train.sgd(0.5);
    const g = tf.ones([1000]);
    opt.applyGradients({ [v.name]: g }); // first step: the weight moves into the heap
    const view = (tf.backend() as unknown as { data: { get(id: object): { values: Float32Array } } }).data.get(v.dataId).values;
    const before = tf.memory().numTensors;
    opt.applyGradients({ [v.name]: g });
    expect(tf.memory().numTensors).toBe(before);
    expect(view[0]).toBe(0); // 1 − 0.5 − 0.5, written into the same memory
    expect(v.dataSync()[999]).toBe(0);
    tf.dispose([v, g]);
    opt.dispose();
  });
  it('leaves a tensor that shares the weight’s data alone', () => {
    installFastKernels(tf);
    const v = tf.variable(tf.ones([100]));
    const opt = tf.train.sgd(1);
    const g = tf.ones([100]);
    opt.applyGradients({ [v.name]: g });
    const alias = tf.reshape(v, [10, 10]); // shares v's data
    opt.applyGradients({ [v.name]: g });
    expect(alias.dataSync()[0]).toBe(0);
    expect(v.dataSync()[0]).toBe(-1);
    tf.dispose([v, g, alias]);
    opt.dispose();
  });
});
