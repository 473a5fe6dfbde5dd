// The fast kernels give the same bits on 1, 2 and 3 threads: work is split
// by the problem's size, not by the thread count, and sums are combined in a
// fixed order. Odd sizes and batches that are not a multiple of the thread
// count, for every parallel kernel, and a few training steps of a small
// network with batch norm, padding, pooling and dense layers.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../../src/compile.js';
import { toTfjs } from '../../src/emit/tfjs/index.js';
import { installFastKernels, kernelThreads, setKernelThreads, uninstallFastKernels } from '../../src/kernels/index.js';
import { randomStream } from './random.js';

const { randT, reseed } = randomStream(99);
const run = (name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown> = {}): Float32Array[] => {
  const out = tf.engine().runKernel(name, inputs as tf.NamedTensorMap, attrs as tf.NamedAttrMap) as tf.Tensor | tf.Tensor[];
  const list = Array.isArray(out) ? out : [out];
  const vals = list.map((t) => t.dataSync() as Float32Array);
  tf.dispose(list);
  return vals;
};

/** Every parallel kernel once, on inputs made from a fixed seed. */
function kernels(): Float32Array[] {
  reseed(99);
  const out: Float32Array[] = [];
  const x = randT([5, 17, 15, 6]), f = randT([3, 3, 6, 12]), f2 = randT([3, 3, 2, 12]);
  const conv = { strides: [2, 1], pads: [1, 0, 2, 1], dilations: [1, 2], groups: 1 };
  const y = tf.engine().runKernel('AlexnetcConv2D', { x, filter: f } as never, conv as never) as tf.Tensor;
  out.push(y.dataSync() as Float32Array);
  const dy = randT(y.shape);
  out.push(...run('AlexnetcConv2DBackpropInput', { dy, filter: f }, { ...conv, inputShape: x.shape }));
  out.push(...run('AlexnetcConv2DBackpropFilter', { x, dy }, { ...conv, filterShape: f.shape }));
  const grouped = { strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], groups: 3 };
  out.push(...run('AlexnetcConv2D', { x, filter: f2 }, grouped));
  const gy = randT([5, 17, 15, 12]);
  out.push(...run('AlexnetcConv2DBackpropInput', { dy: gy, filter: f2 }, { ...grouped, inputShape: x.shape }));
  out.push(...run('AlexnetcConv2DBackpropFilter', { x, dy: gy }, { ...grouped, filterShape: f2.shape }));
  const pool = { filterSize: [3, 3], strides: [2, 2], pad: [[0, 0], [1, 2], [1, 2], [0, 0]] };
  const p = tf.engine().runKernel('MaxPool', { x } as never, pool as never) as tf.Tensor;
  out.push(p.dataSync() as Float32Array);
  out.push(...run('MaxPoolGrad', { dy: randT(p.shape), input: x, output: p }, pool));
  out.push(...run('AvgPoolGrad', { dy: randT(p.shape), input: x }, { ...pool, pad: 'same' }));
  const [bn, mean, variance] = tf.engine().runKernel('AlexnetcBatchNormTrain', { x, scale: randT([6]), offset: randT([6]) } as never,
    { varianceEpsilon: 1e-5 } as never) as tf.Tensor[];
  out.push(...[bn!, mean!, variance!].map((t) => t.dataSync() as Float32Array));
  out.push(...run('AlexnetcBatchNormGrad', { x, dy: randT(x.shape), scale: randT([6]), mean: mean!, variance: variance! }, { varianceEpsilon: 1e-5 }));
  out.push(...run('Sum', { x: randT([70, 33, 5]) }, { axis: [0, 1] }));
  out.push(...run('BatchMatMul', { a: randT([1, 13, 301]), b: randT([1, 301, 37]) }, {}));
  out.push(...run('BatchMatMul', { a: randT([1, 5, 301]), b: randT([1, 301, 999]) }, {}));
  out.push(...run('BatchMatMul', { a: randT([1, 301, 263]), b: randT([1, 301, 333]) }, { transposeA: true }));
  // layer norm: 150 rows of 131 in blocks of rows, gamma's and beta's gradients summed by block
  const lx = randT([3, 50, 131]), lg = randT([131]), lb = randT([131]);
  const ln = tf.engine().runKernel('AlexnetcLayerNorm', { x: lx, gamma: lg, beta: lb } as never, { epsilon: 1e-5 } as never) as tf.Tensor[];
  out.push(...ln.map((t) => t.dataSync() as Float32Array));
  out.push(...run('AlexnetcLayerNormGrad', { x: lx, dy: randT([3, 50, 131]), gamma: lg, mean: ln[1]!, rstd: ln[2]! }));
  out.push(...run('BatchMatMul', { a: randT([1, 13, 301]), b: randT([1, 37, 301]) }, { transposeB: true }));
  out.push(...run('Transpose', { x: randT([3, 5, 7, 9]) }, { perm: [0, 3, 1, 2] }));
  // 3×3 and 5×5 stride-1 convolutions big enough for Winograd (16 × 15 outputs: F(4×4, 3×3), F(2×2, 5×5))
  const wx = randT([3, 16, 15, 16]), wf = randT([3, 3, 16, 20]);
  const same = { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', dilations: [1, 1] };
  out.push(...run('Conv2D', { x: wx, filter: wf }, same));
  const wdy = randT([3, 16, 15, 20]);
  out.push(...run('Conv2DBackpropInput', { dy: wdy, filter: wf }, { ...same, inputShape: wx.shape }));
  out.push(...run('Conv2DBackpropFilter', { x: wx, dy: wdy }, { ...same, filterShape: wf.shape }));
  const f5 = randT([5, 5, 16, 24]), dy5 = randT([3, 16, 15, 24]);
  out.push(...run('Conv2D', { x: wx, filter: f5 }, same));
  out.push(...run('Conv2DBackpropInput', { dy: dy5, filter: f5 }, { ...same, inputShape: wx.shape }));
  out.push(...run('Conv2DBackpropFilter', { x: wx, dy: dy5 }, { ...same, filterShape: f5.shape }));
  // 18 × 17 outputs: F(4×4, 3×3), with partial tiles
  const vx = randT([3, 18, 17, 16]), vdy = randT([3, 18, 17, 20]);
  out.push(...run('Conv2D', { x: vx, filter: wf }, same));
  out.push(...run('Conv2DBackpropInput', { dy: vdy, filter: wf }, { ...same, inputShape: vx.shape }));
  out.push(...run('Conv2DBackpropFilter', { x: vx, dy: vdy }, { ...same, filterShape: wf.shape }));
  // 10 × 9 outputs: F(2×2, 3×3); 7 × 7 on one image: a single block of 4 tiles, its 5 panels of
  // output channels shared among the threads
  const ux = randT([2, 10, 9, 16]), udy = randT([2, 10, 9, 20]), sx = randT([1, 7, 7, 16]), sf = randT([3, 3, 16, 40]), sdy = randT([1, 7, 7, 40]);
  for (const [ix, iw, idy] of [[ux, wf, udy], [sx, sf, sdy]] as const) {
    out.push(...run('Conv2D', { x: ix, filter: iw }, same));
    out.push(...run('Conv2DBackpropInput', { dy: idy, filter: iw }, { ...same, inputShape: ix.shape }));
    out.push(...run('Conv2DBackpropFilter', { x: ix, dy: idy }, { ...same, filterShape: iw.shape }));
  }
  tf.dispose([wx, wf, wdy, f5, dy5, vx, vdy, ux, udy, sx, sf, sdy]);
  tf.dispose([x, f, f2, y, dy, gy, p, bn!, mean!, variance!]);
  return out;
}

/** Three Adam steps of a small network with every kind of layer the shipped ones use. */
async function training(): Promise<number[]> {
  const src = `network T { input [3, 13, 11]
    conv(8, 3, stride 2, pad 1, bias false) | batchnorm | relu | maxpool(3, 2, pad 1, ceil true)
    residual { conv(8, 3, pad 1) | batchnorm | relu | conv(8, 3, pad 1) } | relu
    concat { branch { conv(4, 1) } branch { avgpool(3, 1, pad 1) } } | flatten | dropout(0.3) | dense(5) }`;
  const net = compile(src).network!;
  const model = toTfjs(tf, net, { seed: 1 });
  reseed(5);
  const x = randT([7, 13, 11, 3]);
  const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 0, 1], 'int32'), 5);
  const opt = tf.train.adam(0.01);
  const losses: number[] = [];
  const realRandom = Math.random;
  let r = 1;
  Math.random = () => ((r = (r * 48271) % 2147483647) / 2147483647);
  try {
    for (let i = 0; i < 3; i++) {
      const loss = opt.minimize(() => tf.losses.softmaxCrossEntropy(labels, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, true)!;
      losses.push(loss.dataSync()[0]!);
      loss.dispose();
    }
  } finally {
    Math.random = realRandom;
  }
  const w = model.getWeights().flatMap((t) => Array.from(t.dataSync()));
  tf.dispose([x, labels]);
  opt.dispose();
  model.dispose();
  return [...losses, ...w];
}

const initial = kernelThreads();
beforeAll(async () => {
  await tf.setBackend('cpu');
  installFastKernels(tf);
});
afterAll(() => {
  setKernelThreads(initial);
  uninstallFastKernels(tf);
});

describe('thread count', () => {
  it('does not change any kernel’s result', () => {
    setKernelThreads(1);
    const one = kernels();
    for (const n of [2, 3]) {
      setKernelThreads(n);
      const many = kernels();
      expect(many.length).toBe(one.length);
      many.forEach((v, i) => expect(Array.from(v), `output ${i} with ${n} threads`).toEqual(Array.from(one[i]!)));
    }
  });
  it('does not change training', async () => {
    setKernelThreads(1);
    const one = await training();
    setKernelThreads(3);
    const three = await training();
    expect(three).toEqual(one);
  });
  it('refuses a count that is not a whole number from 1', () => {
    expect(() => setKernelThreads(0)).toThrow(/whole number/);
    expect(() => setKernelThreads(1.5)).toThrow(/whole number/);
  });
});
