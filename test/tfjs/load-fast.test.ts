// What a library user gets: loadTf({ backend: 'cpu' }) → toTfjs → model.fit
// trains on the fast kernels (alexnetc's fused conv and batch-norm kernels
// show in the profile, the optimizer update is the fused one), and the thread
// count is validated before anything loads.
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compile.js';
import { loadTf, toTfjs } from '../../src/emit/tfjs/index.js';
import { kernelThreads } from '../../src/kernels/index.js';

describe('loadTf on pure tfjs', () => {
  it('installs the fast kernels, and model.fit trains on them', async () => {
    const { tf, backend, fastKernels } = await loadTf({ backend: 'cpu' });
    expect(backend).toBe('cpu');
    expect(fastKernels).toEqual(expect.arrayContaining(['Conv2D', 'MaxPoolGrad', 'AlexnetcConv2D', 'AlexnetcBatchNormTrain', 'Adam optimizer']));
    const net = compile(`network T { input [3, 12, 12]
      conv(8, 3, stride 2, pad 1) | batchnorm | relu | maxpool(2, ceil true) | flatten | dense(4) | softmax }`).network!;
    const model = toTfjs(tf, net, { seed: 1 });
    model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
    const x = tf.randomNormal([16, 12, 12, 3], 0, 1, 'float32', 1);
    const y = tf.oneHot(tf.tensor1d(Array.from({ length: 16 }, (_, i) => i % 4), 'int32'), 4);
    const info = await tf.profile(async () => {
      const h = await model.fit(x, y, { epochs: 3, batchSize: 8, verbose: 0, shuffle: false });
      expect(h.history.loss![2]).toBeLessThan(h.history.loss![0] as number);
    });
    expect(info.kernelNames).toEqual(expect.arrayContaining(['AlexnetcConv2D', 'AlexnetcConv2DBackpropFilter', 'AlexnetcBatchNormTrain', 'AlexnetcBatchNormGrad', 'MaxPoolGrad']));
    tf.dispose([x, y]);
    model.dispose();
  });
  it('takes a thread count, and refuses a bad one before loading anything', async () => {
    const { fastKernels } = await loadTf({ backend: 'cpu', threads: 3 });
    expect(fastKernels.length).toBeGreaterThan(0);
    expect(kernelThreads()).toBe(3);
    await expect(loadTf({ backend: 'cpu', threads: 0 })).rejects.toThrow(/whole number from 1/);
    await expect(loadTf({ backend: 'cpu', threads: 2.5 })).rejects.toThrow(/whole number from 1/);
  });
});
