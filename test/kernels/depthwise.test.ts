// The direct depthwise convolution kernels (AlexnetcConv2D with groups =
// channels): forward, input gradient and filter gradient against tfjs's stock
// depthwise kernels, on odd sizes: channel counts that leave a scalar tail
// (not a multiple of four), 3×3, 5×5 and 7×7 windows, strides 1 and 2 (also
// mixed), padding none, symmetric and asymmetric, dilation (against the
// stock kernel on the filter spread out with zeros), outputs of one cell,
// and a bias.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installFastKernels, uninstallFastKernels } from '../../src/kernels/index.js';
import { randomStream } from './random.js';
import { expectClose, stock } from './stock.js';

const { randT } = randomStream(11);

/** [K, K, 1, C] spread to [d(K−1)+1, …] with zeros between taps. */
function spread(w: Float32Array, K: number, C: number, [DH, DW]: number[]): { values: Float32Array; shape: number[] } {
  const sh = [DH! * (K - 1) + 1, DW! * (K - 1) + 1, C, 1];
  const out = new Float32Array(sh[0]! * sh[1]! * C);
  for (let r = 0; r < K; r++) for (let s = 0; s < K; s++) for (let c = 0; c < C; c++) out[(r * DH! * sh[1]! + s * DW!) * C + c] = w[(r * K + s) * C + c]!;
  return { values: out, shape: sh };
}

function gather(dw: Float32Array, K: number, C: number, [DH, DW]: number[], sh: number[]): Float32Array {
  const out = new Float32Array(K * K * C);
  for (let r = 0; r < K; r++) for (let s = 0; s < K; s++) for (let c = 0; c < C; c++) out[(r * K + s) * C + c] = dw[(r * DH! * sh[1]! + s * DW!) * C + c]!;
  return out;
}

interface Case { x: number[]; k: number; s: [number, number]; d?: [number, number]; pads: [number, number, number, number]; bias?: boolean }
const cases: Case[] = [
  { x: [2, 13, 11, 7], k: 3, s: [1, 1], pads: [1, 1, 1, 1] },
  { x: [3, 12, 15, 12], k: 3, s: [2, 2], pads: [1, 1, 1, 1], bias: true },
  { x: [1, 14, 9, 33], k: 3, s: [2, 1], pads: [0, 1, 1, 2] },
  { x: [2, 9, 10, 5], k: 3, s: [1, 1], pads: [0, 0, 0, 0] },
  { x: [2, 11, 13, 18], k: 5, s: [1, 1], pads: [2, 2, 2, 2] },
  { x: [1, 16, 15, 9], k: 5, s: [2, 2], pads: [1, 2, 2, 1], bias: true },
  { x: [2, 10, 9, 20], k: 7, s: [1, 1], pads: [3, 3, 3, 3] },
  { x: [2, 3, 3, 6], k: 3, s: [2, 2], pads: [0, 0, 0, 0] }, // one output cell
  { x: [2, 12, 11, 6], k: 3, s: [1, 1], d: [2, 2], pads: [2, 2, 2, 2] },
  { x: [1, 13, 14, 11], k: 3, s: [2, 1], d: [2, 3], pads: [1, 3, 2, 2] },
];

beforeAll(async () => {
  await tf.setBackend('cpu');
  installFastKernels(tf);
});
afterAll(() => uninstallFastKernels(tf));

describe.each(cases)('depthwise x=$x k=$k s=$s d=$d pads=$pads bias=$bias', (c) => {
  const C = c.x[3]!, d = c.d ?? [1, 1];
  it('forward, input and filter gradients match the stock depthwise kernels', () => {
    const x = randT(c.x), w = randT([c.k, c.k, 1, C]), b = c.bias ? randT([C]) : undefined;
    const attrs = { strides: c.s, pads: c.pads, dilations: d, groups: C };
    const conv = (a: tf.Tensor, f: tf.Tensor, bb?: tf.Tensor) =>
      tf.engine().runKernel('AlexnetcConv2D', (bb ? { x: a, filter: f, bias: bb } : { x: a, filter: f }) as never, attrs as never) as tf.Tensor;
    const y = conv(x, w, b);
    const dy = randT(y.shape);
    const sp = spread(w.dataSync() as Float32Array, c.k, C, d);
    const ws = tf.tensor(sp.values, sp.shape);
    const sattrs = { strides: c.s, pad: [[0, 0], [c.pads[0], c.pads[2]], [c.pads[1], c.pads[3]], [0, 0]], dilations: [1, 1], dataFormat: 'NHWC' };
    let want = stock('DepthwiseConv2dNative', { x, filter: ws }, sattrs);
    if (b) {
      const bv = b.dataSync();
      want = want.map((v, i) => v + bv[i % C]!);
    }
    expect(y.shape).toEqual([c.x[0], ...[1, 2].map((i) => (c.x[i]! + c.pads[i - 1]! + c.pads[i + 1]! - (d[i - 1]! * (c.k - 1) + 1)) / c.s[i - 1]! + 1).map(Math.floor), C]);
    expectClose(y.dataSync() as Float32Array, want);
    const [dx, dw] = tf.grads((a: tf.Tensor, f: tf.Tensor) => tf.sum(tf.mul(conv(a, f, b), dy)))([x, w]);
    expectClose(dx!.dataSync() as Float32Array, stock('DepthwiseConv2dNativeBackpropInput', { dy, filter: ws }, { ...sattrs, inputShape: c.x }));
    const dws = stock('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { ...sattrs, filterShape: sp.shape });
    expectClose(dw!.dataSync() as Float32Array, gather(dws, c.k, C, d, sp.shape));
    ws.dispose();
  });
});
