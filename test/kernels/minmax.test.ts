// Minimum and Maximum (relu6 in tfjs-layers is minimum(6, relu(x))) and their
// fused gradients, against the stock kernels and the stock gradient: every
// result bit-identical (min and max pick an operand; the gradient is dy·1 or
// dy·0), with ties, ±0, NaN (any NaN) and ragged sizes; and the fused Relu6
// gradient (hard sigmoid and hard swish go through tf.relu6).
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installFastKernels, stockKernel, uninstallFastKernels } from '../../src/kernels/index.js';
import { randomStream } from './random.js';

const { rand } = randomStream(99);

/** Values with ties at 0.5, ±0 and NaN among random ones. */
function values(n: number): Float32Array {
  const v = rand(n).map((t) => t * 2);
  for (let i = 0; i < n; i += 7) v[i] = 0.5;
  if (n > 3) { v[1] = -0; v[2] = 0; v[3] = NaN; }
  return v;
}
const T = (shape: number[]) => tf.tensor(values(shape.reduce((p, d) => p * d, 1)), shape);
/** The bits of each value (±0 apart), every NaN as one (its sign bit varies with the machine's instruction). */
const bits = (v: ArrayLike<number>) => Array.from(new Uint32Array(Float32Array.from(v).buffer)).map((b, i) => (Number.isNaN(v[i]) ? 'NaN' : b));

beforeAll(async () => {
  await tf.setBackend('cpu');
  installFastKernels(tf);
});
afterAll(() => uninstallFastKernels(tf));

/** What `run` gives on the fast kernels, and then on the stock ones. */
function fastAndStock<R>(run: () => R): [R, R] {
  const fast = run();
  uninstallFastKernels(tf);
  const stock = run();
  installFastKernels(tf);
  return [fast, stock];
}

/** tf.grad(f) at x runs the fused kernel and none of `absent`, and gives the stock gradient's bits. */
async function expectFusedGradient(f: (t: tf.Tensor) => tf.Tensor, x: tf.Tensor, fused: string, absent: string[]): Promise<void> {
  const { kernelNames } = await tf.profile(() => tf.grad(f)(x));
  expect(kernelNames).toContain(fused);
  for (const k of absent) expect(kernelNames).not.toContain(k);
  const [fast, want] = fastAndStock(() => tf.grad(f)(x).dataSync());
  expect(bits(fast)).toEqual(bits(want));
}

const shapes: Array<[number[], number[]]> = [
  [[3, 5, 7], [3, 5, 7]],
  [[3, 5, 7], []],
  [[], [3, 5, 7]],
  [[2, 9], [9]], // a bias row of 9 (not a multiple of 4): the stock kernel
  [[2, 3, 8], [8]], // a bias row of 8: the row loop
  [[4, 1], [1, 5]], // a true broadcast: the stock kernel
];
// (the stock gradient refuses broadcasts other than a scalar: it returns the output's shape)

describe.each(['Minimum', 'Maximum'] as const)('%s', (kernel) => {
  const op = kernel === 'Minimum' ? tf.minimum : tf.maximum;
  it.each(shapes)('forward bit-identical to stock: %j with %j', (as, bs) => {
    const a = T(as), b = T(bs.length ? bs : []).mul(1);
    const fast = tf.engine().runKernel(kernel, { a, b }) as tf.Tensor;
    const info = stockKernel(tf, kernel)!({ inputs: { a, b }, attrs: {}, backend: tf.backend() }) as tf.TensorInfo;
    expect(fast.shape).toEqual(info.shape);
    expect(bits(fast.dataSync())).toEqual(bits(tf.backend().readSync(info.dataId) as Float32Array));
  });
  it.each([[[3, 5, 7], [3, 5, 7]], [[1037], [1037]]])('gradients bit-identical to the stock gradient: %j with %j', (as, bs) => {
    const a = T(as), b = tf.tensor(values(bs.reduce((p, d) => p * d, 1)).reverse(), bs);
    const outShape = tf.broadcastTo(a, tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape)).shape;
    const dy = T(outShape).mul(-3);
    const grads = () => tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(op(x, y), dy)))([a, b]).map((g) => g.dataSync());
    const [fast, want] = fastAndStock(grads);
    expect(bits(fast[0]!)).toEqual(bits(want[0]!));
    expect(bits(fast[1]!)).toEqual(bits(want[1]!));
  });
  it('a scalar operand: one fused kernel for the other input\'s gradient', async () => {
    const x = T([5, 13]), dy = T([5, 13]);
    const f = (t: tf.Tensor) => tf.sum(tf.mul(op(tf.scalar(6), tf.relu(t)), dy));
    await expectFusedGradient(f, x, 'AlexnetcMaskGrad', ['Greater', 'LessEqual']);
  });
});

describe('Relu6 gradient (hard sigmoid and hard swish)', () => {
  it('is one fused kernel, bit-identical to the stock gradient at 0, 6, ±0 and beyond', async () => {
    const v = values(1037).map((t) => (Number.isNaN(t) ? 6 : t * 5));
    v[10] = 0; v[11] = 6; v[12] = -0; v[13] = 6.5; v[14] = -7; v[15] = 5.999999;
    const x = tf.tensor(v), dy = T([1037]).mul(-2);
    const f = (t: tf.Tensor) => tf.sum(tf.mul(tf.relu6(t), dy));
    await expectFusedGradient(f, x, 'AlexnetcRelu6Grad', ['LessEqual']);
  });
});
