// PReLU and its fused gradient against the stock kernel and gradient: a
// slope per channel over an image ([1, 1, C] on [N, H, W, C], as the tfjs
// lowering's sharedAxes [1, 2] gives) and over features ([C] on [N, C]), odd
// sizes, zeros in x. The forward and dx bit-identical, dalpha within 1e-6.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installFastKernels, stockKernel, uninstallFastKernels } from '../../src/kernels/index.js';
import { randomStream } from './random.js';

const { randT } = randomStream(41);

beforeAll(async () => {
  await tf.setBackend('cpu');
  installFastKernels(tf);
});
afterAll(() => uninstallFastKernels(tf));

describe.each([[[2, 5, 3, 7], [1, 1, 7]], [[9, 13], [13]], [[3, 4, 6], [6]]])('prelu of %j with alpha %j', (xs, as) => {
  it('forward and gradients match stock', async () => {
    const xv = randT(xs).dataSync().map((v, i) => (i % 11 === 0 ? 0 : v));
    const x = tf.tensor(xv, xs), alpha = randT(as).mul(0.5), dy = randT(xs);
    const fast = tf.engine().runKernel('Prelu', { x, alpha }) as tf.Tensor;
    const info = stockKernel(tf, 'Prelu')!({ inputs: { x, alpha }, attrs: {}, backend: tf.backend() }) as tf.TensorInfo;
    expect(Array.from(fast.dataSync())).toEqual(Array.from(tf.backend().readSync(info.dataId) as Float32Array));
    const f = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.prelu(a, b), dy));
    const { kernelNames } = await tf.profile(() => tf.grads(f)([x, alpha]));
    expect(kernelNames).toContain('AlexnetcPreluGrad');
    const [gx, ga] = tf.grads(f)([x, alpha]).map((g) => g.dataSync());
    uninstallFastKernels(tf);
    const [wx, wa] = tf.grads(f)([x, alpha]).map((g) => g.dataSync());
    installFastKernels(tf);
    expect(Array.from(gx!)).toEqual(Array.from(wx!));
    for (let i = 0; i < wa!.length; i++) expect(Math.abs(ga![i]! - wa![i]!)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(wa![i]!)));
  });
});
