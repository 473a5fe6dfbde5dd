// Dilated convolution gradients, which tfjs lacks: the Conv2D gradient
// installed with the fast kernels and alexnetc's own conv kernel, against the
// stock kernels on the equivalent undilated convolution (the kernel spread
// out with zeros between its taps): the same dx, and dW at the taps.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installFastKernels, uninstallFastKernels } from '../../src/kernels/index.js';
import { randomStream } from './random.js';
import { expectClose, stock } from './stock.js';

const { randT } = randomStream(7);

/** The filter [FH, FW, C, F] spread to [d(FH−1)+1, …] with zeros between taps. */
function spread(w: Float32Array, [FH, FW, C, F]: number[], [DH, DW]: number[]): { values: Float32Array; shape: number[] } {
  const sh = [DH * (FH! - 1) + 1, DW * (FW! - 1) + 1, C!, F!];
  const out = new Float32Array(sh.reduce((p, d) => p * d, 1));
  for (let r = 0; r < FH!; r++) for (let s = 0; s < FW!; s++) for (let k = 0; k < C! * F!; k++) {
    out[((r * DH! * sh[1]!) + s * DW!) * C! * F! + k] = w[(r * FW! + s) * C! * F! + k]!;
  }
  return { values: out, shape: sh };
}

/** The spread filter's gradient read back at the taps. */
function gather(dw: Float32Array, [FH, FW, C, F]: number[], [DH, DW]: number[], spreadShape: number[]): Float32Array {
  const out = new Float32Array(FH! * FW! * C! * F!);
  for (let r = 0; r < FH!; r++) for (let s = 0; s < FW!; s++) for (let k = 0; k < C! * F!; k++) {
    out[(r * FW! + s) * C! * F! + k] = dw[((r * DH! * spreadShape[1]!) + s * DW!) * C! * F! + k]!;
  }
  return out;
}

interface Case { x: number[]; f: number[]; s: [number, number]; d: [number, number]; pads: [number, number, number, number] }
const cases: Case[] = [
  { x: [2, 12, 11, 3], f: [3, 3, 3, 4], s: [1, 1], d: [2, 2], pads: [0, 0, 0, 0] },
  { x: [3, 12, 13, 2], f: [3, 2, 2, 5], s: [1, 1], d: [2, 3], pads: [2, 1, 2, 2] },
  { x: [1, 15, 14, 2], f: [3, 3, 2, 3], s: [2, 1], d: [2, 1], pads: [2, 0, 1, 1] },
  { x: [2, 13, 12, 4], f: [3, 3, 4, 6], s: [2, 2], d: [2, 2], pads: [1, 1, 1, 1] },
];

beforeAll(async () => {
  await tf.setBackend('cpu');
  installFastKernels(tf);
});
afterAll(() => uninstallFastKernels(tf));

describe.each(cases)('dilated conv x=$x f=$f s=$s d=$d pads=$pads', (c) => {
  const explicit = [[0, 0], [c.pads[0], c.pads[2]], [c.pads[1], c.pads[3]], [0, 0]];
  function reference(x: tf.Tensor, w: tf.Tensor, dy: tf.Tensor): { y: Float32Array; dx: Float32Array; dw: Float32Array } {
    const sp = spread(w.dataSync() as Float32Array, c.f, c.d);
    const ws = tf.tensor(sp.values, sp.shape);
    const attrs = { strides: c.s, pad: explicit, dataFormat: 'NHWC', dilations: [1, 1] };
    const y = stock('Conv2D', { x, filter: ws }, attrs);
    const dx = stock('Conv2DBackpropInput', { dy, filter: ws }, { ...attrs, inputShape: x.shape });
    const dws = stock('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: sp.shape });
    ws.dispose();
    return { y, dx, dw: gather(dws, c.f, c.d, sp.shape) };
  }
  it('alexnetc conv kernel: forward and both gradients', () => {
    const x = randT(c.x), w = randT(c.f);
    const attrs = { strides: c.s, pads: c.pads, dilations: c.d, groups: 1 };
    const y = tf.engine().runKernel('AlexnetcConv2D', { x, filter: w } as never, attrs as never) as tf.Tensor;
    const dy = randT(y.shape);
    const want = reference(x, w, dy);
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(tf.engine().runKernel('AlexnetcConv2D', { x: a, filter: b } as never, attrs as never) as tf.Tensor, dy)))([x, w]);
    expectClose(y.dataSync() as Float32Array, want.y);
    expectClose(dx!.dataSync() as Float32Array, want.dx);
    expectClose(dw!.dataSync() as Float32Array, want.dw);
  });
  if (c.s[0] === 1 && c.s[1] === 1) {
    // tfjs's own conv2d refuses stride and dilation together
    it('tf.conv2d gradient (which tfjs lacks)', () => {
      const x = randT(c.x), w = randT(c.f);
      const conv = (a: tf.Tensor, b: tf.Tensor) =>
        tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.s, explicit as never, 'NHWC', c.d);
      const dy = randT(conv(x, w).shape);
      const want = reference(x, w, dy);
      const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(conv(a, b), dy)))([x, w]);
      expectClose(dx!.dataSync() as Float32Array, want.dx);
      expectClose(dw!.dataSync() as Float32Array, want.dw);
    });
  }
});

// 3×3 and 5×5 stride-1 convolutions with enough channels and a big enough
// output run by Winograd F(2×2, 3×3) (6, 9, 10 outputs on a side),
// F(4×4, 3×3) (the other sizes) or F(2×2, 5×5) (forward, input gradient, filter
// gradient): against the stock kernels on odd sizes, every padding from 0 to
// r − 1 (asymmetric too), output widths that leave partial tiles (1, 2 and 3
// of F(4×4)'s 4), channel counts not a multiple of 8, batch 1, ResNet's 28²
// stage and AlexNet's conv2.
describe.each([
  { x: [2, 13, 11, 16], f: [3, 3, 16, 20], pad: [[0, 0], [1, 1], [1, 1], [0, 0]] },
  { x: [1, 12, 15, 20], f: [3, 3, 20, 16], pad: [[0, 0], [0, 2], [2, 0], [0, 0]] },
  { x: [3, 13, 12, 24], f: [3, 3, 24, 36], pad: 'valid' },
  { x: [2, 17, 9, 16], f: [3, 3, 16, 16], pad: [[0, 0], [2, 2], [1, 0], [0, 0]] },
  { x: [3, 7, 7, 32], f: [3, 3, 32, 24], pad: [[0, 0], [1, 1], [1, 1], [0, 0]] }, // ResNet's 7×7 stage: 3 of F(4×4)'s 4 outputs at the edges
  { x: [2, 10, 9, 16], f: [3, 3, 16, 20], pad: [[0, 0], [1, 1], [1, 1], [0, 0]] }, // F(2×2, 3×3)
  { x: [1, 7, 7, 16], f: [3, 3, 16, 40], pad: [[0, 0], [1, 1], [1, 1], [0, 0]] }, // one block of tiles, its output channels split among threads
  { x: [2, 17, 18, 16], f: [3, 3, 16, 20], pad: [[0, 0], [1, 1], [1, 1], [0, 0]] }, // F(4×4): 1 and 2 outputs in the last tiles
  { x: [1, 19, 16, 20], f: [3, 3, 20, 16], pad: [[0, 0], [0, 2], [2, 0], [0, 0]] },
  { x: [3, 21, 18, 24], f: [3, 3, 24, 36], pad: 'valid' }, // 19 × 16: 3 outputs in the last row of tiles
  { x: [1, 28, 28, 64], f: [3, 3, 64, 64], pad: [[0, 0], [1, 1], [1, 1], [0, 0]] }, // ResNet's 28² stage, 64 channels deep
  { x: [2, 13, 12, 16], f: [5, 5, 16, 20], pad: 'same' },
  { x: [1, 15, 11, 24], f: [5, 5, 24, 16], pad: [[0, 0], [4, 0], [1, 3], [0, 0]] },
  { x: [3, 12, 13, 16], f: [5, 5, 16, 32], pad: 'valid' },
  { x: [1, 27, 27, 64], f: [5, 5, 64, 192], pad: [[0, 0], [2, 2], [2, 2], [0, 0]] }, // AlexNet's conv2 (one image: the stock kernels' reference takes minutes on a loaded 2-core machine at two)
])('Winograd conv x=$x f=$f pad=$pad', (c) => {
  const attrs = { strides: [1, 1], pad: c.pad, dataFormat: 'NHWC', dilations: [1, 1] };
  const fast = (name: string, inputs: Record<string, tf.Tensor>, a: Record<string, unknown>) =>
    (tf.engine().runKernel(name, inputs as never, a as never) as tf.Tensor).dataSync() as Float32Array;
  it('forward, input and filter gradients match stock', () => {
    const x = randT(c.x), w = randT(c.f);
    const y = tf.engine().runKernel('Conv2D', { x, filter: w } as never, attrs as never) as tf.Tensor;
    expect(y.shape[1]! * y.shape[2]!).toBeGreaterThanOrEqual(36); // large enough for the Winograd path
    const dy = randT(y.shape);
    expectClose(y.dataSync() as Float32Array, stock('Conv2D', { x, filter: w }, attrs));
    expectClose(fast('Conv2DBackpropInput', { dy, filter: w }, { ...attrs, inputShape: c.x }), stock('Conv2DBackpropInput', { dy, filter: w }, { ...attrs, inputShape: c.x }));
    expectClose(fast('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: c.f }), stock('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: c.f }));
  }, 600_000); // the stock reference of AlexNet's conv2 took 159 s on a loaded 2-core machine (the suite's default is 120 s)
});

// The Winograd forward's output transform adds the bias to whole tiles and, at
// the image's edges, to the outputs a partial tile has (F(4×4): 1, 2 and 3 of 4;
// F(2×2): 1 of 2): FusedConv2D with a bias (linear: relu takes im2col) against
// stock Conv2D plus the bias.
describe.each([
  { x: [2, 7, 7, 32], f: [3, 3, 32, 24] },
  { x: [1, 17, 18, 16], f: [3, 3, 16, 20] },
  { x: [2, 9, 10, 16], f: [3, 3, 16, 20] },
  { x: [1, 13, 12, 16], f: [5, 5, 16, 20] },
])('Winograd conv with a bias x=$x f=$f', (c) => {
  it('matches stock conv + bias', () => {
    const x = randT(c.x), w = randT(c.f), bias = randT([c.f[3]!]);
    const attrs = { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', dilations: [1, 1] };
    const y = tf.engine().runKernel('FusedConv2D', { x, filter: w, bias } as never, { ...attrs, activation: 'linear' } as never) as tf.Tensor;
    expect(y.shape[1]! * y.shape[2]!).toBeGreaterThanOrEqual(36); // large enough for the Winograd path
    const conv = stock('Conv2D', { x, filter: w }, attrs), b = bias.dataSync() as Float32Array, F = c.f[3]!;
    expectClose(y.dataSync() as Float32Array, conv.map((v, i) => v + b[i % F]!));
  });
});
