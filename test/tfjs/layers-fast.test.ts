// Every conformance case again, on the fast cpu kernels (src/kernels),
// which the tfjs lowering calls through alexnetc's fused kernels (padding
// inside the convolution, batch norm in two passes):
// - inference: the tfjs model and the ONNX graph agree to 1e-4, as with the
//   stock kernels (layers.test.ts);
// - training: one training-mode forward and backward pass (loss Σ y·r for a
//   fixed random r) gives the same loss, the same gradients for every weight
//   and for the input, and the same moving statistics as the stock kernels'
//   compositions, within 1e-5 of each tensor's largest magnitude (dilated
//   convolutions aside: tfjs has no gradient for them to compare with).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toTfjs } from '../../src/emit/tfjs/index.js';
import { installFastKernels, uninstallFastKernels } from '../../src/kernels/index.js';
import { createRng } from '../../src/util/rng.js';
import { CASES } from '../layers/cases.js';
import { conform, cpu, net, randomWeights, relDiff, tf } from './helpers.js';

const maxAbs = (a: Float32Array): number => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

interface Pass { loss: number; grads: Float32Array[]; state: Float32Array[]; x: Float32Array }

/** One training-mode pass of the network on a fixed batch; dropout draws from a seeded generator. */
function pass(source: string): Pass {
  const n = net(source);
  const model = toTfjs(tf, n, { weights: randomWeights(3) });
  const realRandom = Math.random;
  const rng = createRng(11, 'dropout');
  Math.random = () => rng.next();
  try {
    return tf.tidy(() => {
      const [c, h, w] = n.input.length === 3 ? n.input : [n.input[0]!, 0, 0];
      // images channels-last; vectors and tokens [T, D] as they are
      const shape = n.input.length === 3 ? [3, h!, w!, c!] : [3, ...n.input];
      const r1 = createRng(5, 'x'), r2 = createRng(5, 'r');
      const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
      const x = tf.variable(tf.tensor(Float32Array.from({ length: size(shape) }, () => 2 * r1.next() - 1), shape), true, 'x');
      const vars = [x, ...model.trainableWeights.map((v) => v.read() as tf.Variable)];
      let r: tf.Tensor | undefined;
      const { value, grads } = tf.variableGrads(() => {
        const y = model.apply(x, { training: true }) as tf.Tensor;
        r ??= tf.tensor(Float32Array.from({ length: y.size }, () => 2 * r2.next() - 1), y.shape);
        return tf.sum(tf.mul(y, r));
      }, vars);
      const out = {
        x: x.dataSync() as Float32Array,
        loss: value.dataSync()[0]!,
        grads: vars.map((v) => (grads[v.name] ? grads[v.name]!.dataSync() as Float32Array : new Float32Array(0))),
        state: model.weights.filter((wt) => !wt.trainable).map((wt) => wt.read().dataSync() as Float32Array),
      };
      x.dispose();
      return out;
    });
  } finally {
    Math.random = realRandom;
    model.dispose();
  }
}

describe('every layer and construct on the fast kernels', () => {
  beforeAll(async () => {
    await cpu();
    installFastKernels(tf as never);
  });
  afterAll(() => uninstallFastKernels(tf as never));

  describe('inference: tfjs = ONNX', () => {
    for (const [name, input, body] of CASES) {
      it(name, async () => {
        const r = await conform(net(`network T { input ${input}\n ${body} }`), { weights: randomWeights(3), batch: 2 });
        expect(r.scale).toBeGreaterThan(0);
        expect(r.rel).toBeLessThanOrEqual(1e-4);
      });
    }
  });

  describe('training: the same loss, gradients and moving statistics as the stock kernels', () => {
    // tfjs has no gradient for dilated convolutions, so no stock reference: those gradients are
    // checked against an undilated convolution with a zero-filled kernel in test/train/kernels-conv.test.ts
    for (const [name, input, body] of CASES.filter((c) => !c[2].includes('dilation'))) {
      it(name, () => {
        const source = `network T { input ${input}\n ${body} }`;
        const fast = pass(source);
        uninstallFastKernels(tf as never);
        let stock: Pass;
        try {
          stock = pass(source);
        } finally {
          installFastKernels(tf as never);
        }
        expect(Math.abs(fast.loss - stock.loss)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(stock.loss)));
        expect(fast.grads.length).toBe(stock.grads.length);
        if (name.startsWith('avgpool')) {
          // tfjs's stock AvgPoolGrad divides by the whole window even where `same` padding cuts it (its
          // forward counts only the cells inside): no reference there. Average pooling is linear, so the
          // true gradient g of Σ pool(x)·r satisfies Σ g·x = Σ pool(x)·r, the loss itself.
          const g = fast.grads[0]!;
          let dot = 0;
          for (let i = 0; i < g.length; i++) dot += g[i]! * fast.x[i]!;
          expect(Math.abs(dot - fast.loss)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(fast.loss)));
          return;
        }
        // each gradient to 1e-5 of its largest magnitude, but no finer than 1e-7 of the largest gradient
        // of the pass: a bias followed by batch norm has a gradient of zero, computed as rounding noise
        const largest = Math.max(...stock.grads.map(maxAbs));
        fast.grads.forEach((g, i) => {
          const want = stock.grads[i]!;
          expect(g.length, `gradient ${i}`).toBe(want.length);
          if (g.length === 0) return;
          let err = 0;
          for (let j = 0; j < g.length; j++) err = Math.max(err, Math.abs(g[j]! - want[j]!));
          expect(err / Math.max(maxAbs(want), 1e-2 * largest), `gradient ${i}`).toBeLessThanOrEqual(1e-5);
        });
        fast.state.forEach((s, i) => expect(relDiff(s, stock.state[i]!), `state ${i}`).toBeLessThanOrEqual(1e-5));
      });
    }
  });
});
