// End to end: a ResNet-style and a VGG-style network (batch norm, max
// pooling with padding and ceil mode, explicit conv padding, a strided
// projection shortcut, dropout, dense layers) built by toTfjs and trained a
// few Adam and momentum steps the way `alexnetc train` does, once on tfjs's
// stock cpu kernels and once on the fast ones, from the same seed: the same
// losses (≤ 1e-4 relative), step by step, and with momentum the same weights
// after (≤ 1e-5 of each tensor's scale). (No conv before a batch norm has a
// bias: its true gradient is zero, and Adam turns the rounding noise that
// stands for it into full-size steps of either sign.)
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../../src/compile.js';
import { toTfjs } from '../../src/emit/tfjs/index.js';
import { installFastKernels, uninstallFastKernels } from '../../src/kernels/index.js';
import { createRng } from '../../src/util/rng.js';
import { resnetStyle, vggStyle } from '../style-networks.js';

const RESNET = resnetStyle({ dropout: true });

const VGG = vggStyle({ dropout: true });

interface Trained { losses: number[]; weights: Float32Array[] }

function train(source: string, steps: number, optimizer: 'adam' | 'momentum'): Trained {
  const net = compile(source).network!;
  const model = toTfjs(tf, net, { seed: 3 });
  const out = model.outputs[0]!;
  const logits = out.sourceLayer.getClassName() === 'Softmax' ? tf.model({ inputs: model.inputs, outputs: out.sourceLayer.input as tf.SymbolicTensor }) : model;
  const vars = logits.trainableWeights.map((w) => w.read() as tf.Variable);
  const opt = optimizer === 'adam' ? tf.train.adam(0.01) : tf.train.momentum(0.01, 0.9);
  const [c, h, w] = net.input as [number, number, number];
  const rx = createRng(1, 'x');
  const B = 6;
  const x = tf.tensor4d(Float32Array.from({ length: B * h * w * c }, () => 2 * rx.next() - 1), [B, h, w, c]);
  const y = tf.oneHot(tf.tensor1d([0, 3, 5, 7, 9, 1], 'int32'), 10);
  const losses: number[] = [];
  const realRandom = Math.random;
  try {
    for (let s = 0; s < steps; s++) {
      const rng = createRng(7, `dropout ${s}`); // the trainer seeds dropout per step the same way
      Math.random = () => rng.next();
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, logits.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, vars);
        losses.push(value.dataSync()[0]!);
        opt.applyGradients(grads);
      });
    }
  } finally {
    Math.random = realRandom;
  }
  const weights = model.weights.map((v) => v.read().dataSync() as Float32Array);
  tf.dispose([x, y]);
  opt.dispose();
  model.dispose();
  return { losses, weights };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => uninstallFastKernels(tf));

describe.each([['ResNet-style', RESNET], ['VGG-style', VGG]])('%s network, 4 steps', (_name, source) => {
  // Adam: the same losses. Adam divides each gradient by its own running
  // size, so where a weight's true gradient is all but zero it turns float
  // rounding (which Winograd's transforms distribute differently from
  // im2col's sums) into a visible share of a step; its weights are not compared.
  // Momentum is linear in the gradients: the same losses and the same weights.
  it.each(['adam', 'momentum'] as const)('%s: the stock kernels’ losses (and, with momentum, weights) on the fast kernels', (optimizer) => {
    uninstallFastKernels(tf);
    const stock = train(source, 4, optimizer);
    expect(installFastKernels(tf).length).toBeGreaterThan(0);
    const fast = train(source, 4, optimizer);
    expect(stock.losses.every(Number.isFinite)).toBe(true);
    expect(stock.losses[3]).toBeLessThan(stock.losses[0]!); // it does learn
    fast.losses.forEach((l, i) => expect(Math.abs(l - stock.losses[i]!) / Math.abs(stock.losses[i]!), `step ${i}`).toBeLessThanOrEqual(1e-4));
    if (optimizer === 'adam') return;
    fast.weights.forEach((w, i) => {
      const want = stock.weights[i]!;
      let err = 0, scale = 0;
      for (let j = 0; j < w.length; j++) {
        err = Math.max(err, Math.abs(w[j]! - want[j]!));
        scale = Math.max(scale, Math.abs(want[j]!));
      }
      expect(err / Math.max(scale, 1e-12), `weight ${i}`).toBeLessThanOrEqual(1e-5);
    });
  });
});
