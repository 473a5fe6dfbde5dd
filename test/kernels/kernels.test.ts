// Conformance of the fast cpu kernels against the stock tfjs ones, called
// directly on the same inputs: outputs and gradients within 1e-5 relative to
// the largest magnitude, bit-identical where the summation order allows.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { installFastKernels, stockKernel, uninstallFastKernels } from '../../src/kernels/index.js';
import { runtime } from '../../src/kernels/runtime/index.js';
import { FLAG_ADD, FLAG_RELU, gemm, gemmSplit, packB, packedBytes, splitGemm } from '../../src/kernels/ops/gemm.js';
import { Io } from '../../src/kernels/runtime/tensors.js';
import { poolBackward, poolForward, poolFusesRelu } from '../../src/kernels/ops/pool.js';
import type { CpuBackend } from '../../src/kernels/backend.js';
import { randomStream } from './random.js';
import { expectClose } from './stock.js';

type Pad = 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];

const { rand, randT, reseed } = randomStream(12345);

function runStock(name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown>): Float32Array {
  const k = stockKernel(tf, name)!;
  const info = k({ inputs, attrs: attrs as tf.NamedAttrMap, backend: tf.backend() }) as tf.TensorInfo;
  return tf.backend().readSync(info.dataId) as Float32Array;
}
function runFast(name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown>): Float32Array {
  return tf.engine().runKernel(name, inputs as tf.NamedTensorMap, attrs as tf.NamedAttrMap)
    .dataSync() as Float32Array;
}

interface Case { x: [number, number, number, number]; f: [number, number, number, number]; s: [number, number]; pad: Pad; d?: [number, number] }
const cases: Case[] = [
  { x: [2, 9, 7, 3], f: [3, 3, 3, 5], s: [1, 1], pad: 'valid' },
  { x: [3, 11, 10, 2], f: [5, 4, 2, 7], s: [2, 3], pad: 'valid' },
  { x: [2, 13, 9, 4], f: [3, 5, 4, 6], s: [3, 2], pad: 'same' },
  { x: [1, 8, 8, 1], f: [5, 5, 1, 6], s: [1, 1], pad: 2 },
  { x: [2, 10, 11, 3], f: [3, 3, 3, 4], s: [2, 2], pad: [[0, 0], [1, 2], [0, 3], [0, 0]] },
  { x: [4, 7, 7, 5], f: [1, 1, 5, 9], s: [1, 1], pad: 'valid' },
  { x: [2, 6, 5, 16], f: [6, 5, 16, 17], s: [1, 1], pad: 'valid' },
  { x: [64, 14, 14, 6], f: [5, 5, 6, 16], s: [1, 1], pad: 'valid' },
  // filter rows of 2 to 8 floats (one or two channels): im2col's short-run copies inside, the general walk at the border
  { x: [3, 10, 9, 1], f: [3, 3, 1, 4], s: [1, 1], pad: 1 },
  { x: [2, 9, 8, 2], f: [2, 4, 2, 3], s: [2, 1], pad: 'same' },
  { x: [2, 7, 9, 1], f: [4, 2, 1, 3], s: [1, 2], pad: 'valid' },
];
const dilated: Case[] = [
  { x: [2, 12, 11, 3], f: [3, 3, 3, 4], s: [1, 1], pad: 'valid', d: [2, 2] },
  { x: [2, 12, 13, 2], f: [3, 2, 2, 5], s: [1, 1], pad: 'same', d: [2, 3] },
  { x: [1, 15, 14, 2], f: [3, 3, 2, 3], s: [2, 1], pad: [[0, 0], [2, 0], [1, 1], [0, 0]], d: [2, 1] },
];

function outShape(c: Case): number[] {
  const ci = tf.backend_util.computeConv2DInfo(c.x, c.f, c.s, c.d ?? 1, c.pad as 'valid', undefined, false, 'channelsLast');
  return ci.outShape;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  installFastKernels(tf);
});

describe('installFastKernels', () => {
  it('is idempotent and keeps the stock kernels reachable', () => {
    const again = installFastKernels(tf);
    expect(again).toContain('Conv2DBackpropFilter');
    const stock = stockKernel(tf, 'Conv2D')!;
    expect(stock).not.toBe(tf.getKernel('Conv2D', 'cpu')!.kernelFunc);
    // A second install must not wrap the wrapper: the stock func is unchanged.
    expect(stockKernel(tf, 'Conv2D')).toBe(stock);
  });
});

describe.each([...cases, ...dilated])('conv x=$x f=$f s=$s pad=$pad d=$d', (c) => {
  it('Conv2D matches stock', () => {
    const x = randT(c.x), filter = randT(c.f);
    const attrs = { strides: c.s, pad: c.pad, dataFormat: 'NHWC', dilations: c.d ?? [1, 1] };
    expectClose(runFast('Conv2D', { x, filter }, attrs), runStock('Conv2D', { x, filter }, attrs));
  });
  it('FusedConv2D with bias and relu matches stock', () => {
    const x = randT(c.x), filter = randT(c.f), bias = randT([c.f[3]]);
    const attrs = { strides: c.s, pad: c.pad, dataFormat: 'NHWC', dilations: c.d ?? [1, 1], activation: 'relu' };
    expectClose(runFast('FusedConv2D', { x, filter, bias }, attrs), runStock('FusedConv2D', { x, filter, bias }, attrs));
  });
  it('FusedConv2D with one bias value for all channels matches stock', () => {
    const x = randT(c.x), filter = randT(c.f), bias = randT([1]);
    const attrs = { strides: c.s, pad: c.pad, dataFormat: 'NHWC', dilations: c.d ?? [1, 1], activation: 'linear' };
    expectClose(runFast('FusedConv2D', { x, filter, bias }, attrs), runStock('FusedConv2D', { x, filter, bias }, attrs));
  });
  if (c.d !== undefined) return; // tfjs has no conv gradients for dilation > 1
  it('Conv2DBackpropFilter matches stock', () => {
    const x = randT(c.x), dy = randT(outShape(c));
    const attrs = { strides: c.s, pad: c.pad, dataFormat: 'NHWC', filterShape: c.f };
    expectClose(runFast('Conv2DBackpropFilter', { x, dy }, attrs), runStock('Conv2DBackpropFilter', { x, dy }, attrs));
  });
  it('Conv2DBackpropInput matches stock', () => {
    const filter = randT(c.f), dy = randT(outShape(c));
    const attrs = { strides: c.s, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x };
    expectClose(runFast('Conv2DBackpropInput', { dy, filter }, attrs), runStock('Conv2DBackpropInput', { dy, filter }, attrs));
  });
});

describe('AvgPoolGrad', () => {
  it.each([
    { x: [2, 8, 8, 3], k: [2, 2], s: [2, 2] },
    { x: [3, 9, 7, 2], k: [3, 2], s: [2, 1] },
    { x: [1, 10, 10, 4], k: [3, 3], s: [3, 3] },
    { x: [64, 10, 10, 16], k: [2, 2], s: [2, 2] },
    { x: [2, 11, 10, 6], k: [3, 3], s: [3, 3] }, // wasm tiles, uncovered edge
    { x: [2, 9, 9, 3], k: [3, 3], s: [3, 3] }, // odd C: JS tiles
  ])('matches stock without padding: x=$x k=$k s=$s', ({ x: xs, k, s }) => {
    const input = randT(xs);
    const attrs = { filterSize: k, strides: s, pad: 'valid' };
    const y = tf.avgPool(input as tf.Tensor4D, k as [number, number], s as [number, number], 'valid');
    const dy = randT(y.shape);
    const got = runFast('AvgPoolGrad', { dy, input }, attrs), want = runStock('AvgPoolGrad', { dy, input }, attrs);
    expectClose(got, want);
    if (k[0] === s[0] && k[1] === s[1]) expect(Array.from(got)).toEqual(Array.from(want));
  });
  it('is the true gradient of the forward under same padding (pads not counted)', () => {
    // Finite-difference-free check: avgPool is linear, so <dy, pool(x)> = <grad, x>.
    const x = randT([2, 7, 6, 3]);
    const y = tf.avgPool(x as tf.Tensor4D, 3, 2, 'same');
    const dy = randT(y.shape);
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.avgPool(t as tf.Tensor4D, 3, 2, 'same'), dy)))(x);
    const lhs = tf.sum(tf.mul(dy, y)).dataSync()[0]!;
    const rhs = tf.sum(tf.mul(g, x)).dataSync()[0]!;
    expect(Math.abs(lhs - rhs)).toBeLessThan(1e-4 * Math.max(1, Math.abs(lhs)));
  });
});

describe('MaxPool and MaxPoolGrad (the first maximum of each window)', () => {
  it.each([
    { x: [2, 8, 8, 3], k: [2, 2], s: [2, 2], pad: 'valid' },
    { x: [3, 9, 7, 6], k: [3, 3], s: [1, 1], pad: 'same' }, // overlapping windows, C tail after a vector
    { x: [2, 11, 10, 8], k: [3, 3], s: [2, 2], pad: 1 },
    { x: [1, 9, 8, 5], k: [3, 2], s: [2, 3], pad: 'valid' },
    { x: [2, 13, 12, 16], k: [3, 3], s: [2, 2], pad: [[0, 0], [0, 1], [1, 0], [0, 0]] }, // ceil-mode style pads
    // windows that tile the image (maxpool_tile_*): covering it, or leaving rows, columns or gaps out; C < 4, a tail, vectors
    { x: [3, 8, 6, 6], k: [2, 2], s: [2, 2], pad: 'valid' },
    { x: [2, 9, 7, 6], k: [2, 2], s: [2, 2], pad: 'valid' },
    { x: [2, 10, 10, 16], k: [2, 2], s: [2, 2], pad: 'valid' },
    { x: [2, 9, 9, 5], k: [3, 3], s: [3, 3], pad: 'valid' },
    { x: [2, 11, 9, 2], k: [2, 3], s: [3, 4], pad: 'valid' },
    { x: [2, 7, 8, 4], k: [1, 2], s: [2, 2], pad: 'valid' },
  ])('x=$x k=$k s=$s pad=$pad', ({ x: xs, k, s, pad }) => {
    // few distinct values: ties in most windows, so which maximum takes the gradient matters
    const v = rand(xs.reduce((a, b) => a * b, 1)).map((t) => Math.round(t * 3));
    v[1] = NaN; // the maximum ignores NaN
    const x = tf.tensor4d(v, xs as [number, number, number, number]);
    const attrs = { filterSize: k, strides: s, pad };
    const y = runStock('MaxPool', { x }, attrs);
    expect(Array.from(runFast('MaxPool', { x }, attrs))).toEqual(Array.from(y));
    // the gradient on a NaN-free input (stock's positions treat NaN its own way)
    const xf = tf.tensor4d(v.map((t) => (Number.isNaN(t) ? 0 : t)), xs as [number, number, number, number]);
    const output = tf.engine().runKernel('MaxPool', { x: xf }, attrs as never) as tf.Tensor;
    const dy = randT(output.shape);
    const inputs = { dy, input: xf, output };
    const got = runFast('MaxPoolGrad', inputs, attrs), want = runStock('MaxPoolGrad', inputs, attrs);
    // the driver the compiled step calls, into a dx full of garbage (an arena's reused block): every cell written or zeroed
    const rt = runtime()!;
    const io = new Io(rt, tf.backend() as unknown as CpuBackend);
    const output_ = io.output.bind(io);
    io.output = (n: number) => {
      const o = output_(n);
      o.view.fill(NaN);
      return o;
    };
    const [N, H, W, C] = xs as [number, number, number, number], [, OH, OW] = output.shape as number[];
    const pads = attrs.pad === 'valid' ? [0, 0] : pad === 1 ? [1, 1] : typeof pad === 'object' ? [pad[1]![0], pad[2]![0]] : null;
    if (pads !== null) {
      const g = { N, H, W, C, OH: OH!, OW: OW!, F: C, FH: k[0]!, FW: k[1]!, SH: s[0]!, SW: s[1]!, DH: 1, DW: 1, top: pads[0]!, left: pads[1]!, groups: 1 };
      const dx = poolBackward(io, 'max', g, io.input(xf), io.input(output), io.input(dy));
      if (k[0]! <= s[0]! && k[1]! <= s[1]!) expect(Array.from(dx.view)).toEqual(Array.from(want));
      else expectClose(dx.view, want);
      expect(Array.from(poolForward(io, 'max', g, io.input(xf)).view)).toEqual(Array.from(output.dataSync()));
      if (poolFusesRelu('max', g)) {
        // a relu's gradient taken along: relu_grad's step(x) · dx (x > 0: 1, else 0)
        const xv = xf.dataSync();
        const fused = poolBackward(io, 'max', g, io.input(xf), io.input(output), io.input(dy), true);
        expect(Array.from(fused.view)).toEqual(Array.from(dx.view, (d, i) => Math.fround((xv[i]! > 0 ? 1 : 0) * d)));
      }
    }
    io.release();
    // overlapping windows sum into dx in another order than the stock gather
    if (k[0]! <= s[0]! && k[1]! <= s[1]!) expect(Array.from(got)).toEqual(Array.from(want));
    else expectClose(got, want);
  });
});

describe('AvgPool and Tanh', () => {
  it.each([
    { x: [2, 8, 8, 3], k: [2, 2], s: [2, 2], pad: 'valid' },
    { x: [3, 9, 7, 2], k: [3, 2], s: [2, 1], pad: 'same' },
    { x: [1, 9, 9, 4], k: [3, 3], s: [2, 2], pad: 1 },
    { x: [2, 9, 8, 3], k: [3, 2], s: [2, 3], pad: 'valid' }, // odd C: JS
    { x: [2, 9, 8, 4], k: [3, 2], s: [2, 3], pad: 'valid' },
    { x: [64, 28, 28, 6], k: [2, 2], s: [2, 2], pad: 'valid' },
  ])('AvgPool matches stock: x=$x k=$k s=$s pad=$pad', ({ x: xs, k, s, pad }) => {
    const x = randT(xs);
    const attrs = { filterSize: k, strides: s, pad };
    const got = runFast('AvgPool', { x }, attrs), want = runStock('AvgPool', { x }, attrs);
    expectClose(got, want);
    if (pad === 'valid') expect(Array.from(got)).toEqual(Array.from(want)); // same double sums
  });
  it('Tanh matches stock, including saturation and NaN', () => {
    const v = rand(1000).map((t) => t * 12);
    v[0] = 0; v[1] = 1e-7; v[2] = -400; v[3] = 400;
    const x = tf.tensor(v);
    expectClose(runFast('Tanh', { x }, {}), runStock('Tanh', { x }, {}));
    expect(Number.isNaN(runFast('Tanh', { x: tf.tensor([NaN]) }, {})[0])).toBe(true);
    const long = new Float32Array(203).fill(0.5);
    long[101] = NaN;
    const t = runFast('Tanh', { x: tf.tensor(long) }, {}); // the wasm path
    expect(Number.isNaN(t[101])).toBe(true);
    expect(t[102]).toBeCloseTo(Math.tanh(0.5), 6);
    expect(t[202]).toBeCloseTo(Math.tanh(0.5), 6);
    expect(runFast('Tanh', { x: tf.tensor([1e-7]) }, {})[0]).toBeCloseTo(1e-7, 12);
  });
});

describe('Sum', () => {
  it.each([
    { shape: [5, 4, 3, 7], axis: [0, 1, 2], keepDims: false },
    { shape: [5, 4, 3, 7], axis: [0], keepDims: true },
    { shape: [6, 9], axis: 0, keepDims: false },
    { shape: [5, 4, 3], axis: [1, 2], keepDims: false },
    { shape: [5, 4, 3], axis: [0, 2], keepDims: true },
    { shape: [64, 28, 28, 6], axis: [0, 1, 2], keepDims: false }, // wasm, 3 lane pairs
    { shape: [64, 5, 5, 16], axis: [0, 1, 2], keepDims: false },
    { shape: [64, 7, 5], axis: [0, 1], keepDims: false }, // odd inner
    // up to 8 columns the sums stay in locals: 1, an odd 3, 8, and more rows than one chunk
    { shape: [300, 1], axis: 0, keepDims: false },
    { shape: [7, 11, 3], axis: [0, 1], keepDims: false },
    { shape: [9, 13, 8], axis: [0, 1], keepDims: true },
    { shape: [40000, 5], axis: 0, keepDims: false },
  ])('matches stock: $shape over $axis', ({ shape, axis, keepDims }) => {
    const x = randT(shape);
    const attrs = { axis, keepDims };
    const fast = tf.engine().runKernel('Sum', { x }, attrs) as tf.Tensor;
    const stockInfo = stockKernel(tf, 'Sum')!({ inputs: { x }, attrs, backend: tf.backend() }) as tf.TensorInfo;
    expect(fast.shape).toEqual(stockInfo.shape);
    const want = tf.backend().readSync(stockInfo.dataId) as Float32Array;
    expectClose(fast.dataSync() as Float32Array, want);
    const axes = Array.isArray(axis) ? axis : [axis];
    if (axes.every((a, i) => a === i)) {
      // Leading axes: the same double sums in the same order, bit for bit.
      expect(Array.from(fast.dataSync())).toEqual(Array.from(want));
    }
  });
});

describe('element-wise binary kernels', () => {
  const shapes: Array<[number[], number[]]> = [
    [[4, 5, 6], [4, 5, 6]], // equal
    [[4, 5, 6], []], // scalar b
    [[], [3, 7]], // scalar a
    [[1], [2, 3]], // size-1 a with rank
    [[4, 5, 6], [6]], // bias row b
    [[1, 6], [4, 5, 6]], // bias row a
    [[3, 1], [1, 4]], // a true broadcast: stock fallback
    [[4, 5, 6], [5, 1]], // b broadcast along the last axis: stock fallback
  ];
  describe.each(['Add', 'Sub', 'Multiply', 'RealDiv'])('%s', (name) => {
    it.each(shapes)('matches stock: %j with %j', (as, bs) => {
      const a = randT(as), b = randT(bs);
      const fast = tf.engine().runKernel(name, { a, b }) as tf.Tensor;
      const stockInfo = stockKernel(tf, name)!({ inputs: { a, b }, attrs: {}, backend: tf.backend() }) as tf.TensorInfo;
      expect(fast.shape).toEqual(stockInfo.shape);
      // Same double arithmetic rounded to float32: bit-identical.
      expect(Array.from(fast.dataSync())).toEqual(Array.from(tf.backend().readSync(stockInfo.dataId) as Float32Array));
    });
  });
  it('leaves int32 to the stock kernel', () => {
    const r = tf.engine().runKernel('Add', { a: tf.tensor([1, 2], [2], 'int32'), b: tf.tensor([3, 4], [2], 'int32') }) as tf.Tensor;
    expect(r.dtype).toBe('int32');
    expect(Array.from(r.dataSync())).toEqual([4, 6]);
  });
});

describe('BatchMatMul and _FusedMatMul', () => {
  const mm: Array<{ a: number[]; b: number[]; ta: boolean; tb: boolean }> = [
    { a: [1, 64, 120], b: [1, 120, 84], ta: false, tb: false },
    { a: [1, 64, 84], b: [1, 120, 84], ta: false, tb: true },
    { a: [1, 64, 120], b: [1, 64, 84], ta: true, tb: false },
    { a: [3, 7, 5], b: [3, 9, 7], ta: true, tb: true },
    { a: [5, 300], b: [300, 3], ta: false, tb: false },
    { a: [2, 2, 3, 601], b: [2, 2, 601, 13], ta: false, tb: false },
    { a: [1, 4, 5], b: [2, 5, 3], ta: false, tb: false }, // broadcast batch: stock fallback
    { a: [1, 301, 263], b: [1, 301, 333], ta: true, tb: false }, // Xᵀ·dY: A packed per item, two row items
    { a: [1, 13, 301], b: [1, 37, 301], ta: false, tb: true }, // dY·Wᵀ: B packed from rows, K and N ragged
    { a: [1, 9, 40], b: [1, 41, 40], ta: false, tb: true },
  ];
  it.each(mm)('BatchMatMul matches stock: a=$a b=$b ta=$ta tb=$tb', ({ a: as, b: bs, ta, tb }) => {
    const a = randT(as), b = randT(bs);
    const attrs = { transposeA: ta, transposeB: tb };
    const fast = tf.engine().runKernel('BatchMatMul', { a, b }, attrs) as tf.Tensor;
    const stockInfo = stockKernel(tf, 'BatchMatMul')!({ inputs: { a, b }, attrs, backend: tf.backend() }) as tf.TensorInfo;
    expect(fast.shape).toEqual(stockInfo.shape);
    expectClose(fast.dataSync() as Float32Array, tf.backend().readSync(stockInfo.dataId) as Float32Array);
  });
  it.each([
    { act: 'linear', bias: [84] }, { act: 'relu', bias: [84] }, { act: 'sigmoid', bias: [1] }, { act: 'elu', bias: null },
  ])('_FusedMatMul matches stock: activation=$act bias=$bias', ({ act, bias }) => {
    const a = randT([1, 33, 120]), b = randT([1, 84, 120]);
    const inputs: Record<string, tf.Tensor> = { a, b };
    if (bias !== null) inputs.bias = randT(bias);
    const attrs = { transposeA: false, transposeB: true, activation: act };
    const fast = tf.engine().runKernel('_FusedMatMul', inputs, attrs) as tf.Tensor;
    const stockInfo = stockKernel(tf, '_FusedMatMul')!({ inputs, attrs, backend: tf.backend() }) as tf.TensorInfo;
    expect(fast.shape).toEqual(stockInfo.shape);
    expectClose(fast.dataSync() as Float32Array, tf.backend().readSync(stockInfo.dataId) as Float32Array);
  });
});

describe('wasm GEMM', () => {
  it.each([[1, 4, 1], [5, 12, 7], [9, 4, 300], [13, 20, 513], [4, 8, 0], [7, 16, 256], [3, 3, 5], [70, 9, 260]])(
    'C = A·B + bias for M=%i N=%i K=%i (odd rows, narrow panels, K blocks)', (M, N, K) => {
      const rt = runtime()!;
      const h = rt.heap;
      const A = rand(M * K), B = rand(K * N), bias = rand(N);
      const pa = h.allocF32(M * K), pb = h.allocF32(K * N), pp = h.alloc(packedBytes(K, N)), pc = h.allocF32(M * N), pbias = h.allocF32(N);
      h.f32.set(A, pa / 4); h.f32.set(B, pb / 4); h.f32.set(bias, pbias / 4);
      h.f32.fill(NaN, pc / 4, pc / 4 + M * N); // no stale values may leak into C
      rt.parallel('pack_b', Math.ceil(N / 8), [pb, N * 4, 0, K, N, pp]);
      const s = splitGemm(M, N, rt.threads);
      rt.parallel('gemm_row', s.items, [M, N, K, pa, K * 4, 4, pp, pc, N * 4, pbias, 0, s.mb, s.nb, s.ncb]);
      const want = new Float32Array(M * N);
      for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
        let v = bias[j]!;
        for (let k = 0; k < K; k++) v += A[i * K + k]! * B[k * N + j]!;
        want[i * N + j] = v;
      }
      const got = h.f32.slice(pc / 4, pc / 4 + M * N);
      for (const p of [pa, pb, pp, pc, pbias]) h.free_(p);
      if (K === 0) expect(Array.from(got)).toEqual(Array.from(want));
      else expectClose(got, want);
    });
});

describe('gemm()', () => {
  // the driver the dense layers, the compiled step and 1×1 convolutions call: its own split, A packed
  // per item when column-major; against float64 sums of the same products
  it.each([
    [300, 77, 513, true, false], [263, 333, 301, true, true], [13, 40, 9, true, false], [70, 9, 260, false, true],
    [5, 300, 1, true, false], [200, 96, 768, false, false],
  ])('M=%i N=%i K=%i column-major A=%s transposed B=%s, with bias, then relu, then added', (M, N, K, colA, transB) => {
    const rt = runtime()!;
    const h = rt.heap;
    const io = new Io(rt, tf.backend() as unknown as CpuBackend);
    const A = rand(M * K), B = rand(K * N), bias = rand(N), C0 = rand(M * N);
    const pa = io.temp(M * K), pb = io.temp(K * N), pc = io.temp(M * N), pbias = io.temp(N);
    // colA: A[i, k] at k·M + i; transB: B[k, j] at j·K + k
    for (let i = 0; i < M; i++) for (let k = 0; k < K; k++) h.f32[pa / 4 + (colA ? k * M + i : i * K + k)] = A[i * K + k]!;
    for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) h.f32[pb / 4 + (transB ? j * K + k : k * N + j)] = B[k * N + j]!;
    h.f32.set(bias, pbias / 4);
    const bp = packB(io, pb, (transB ? K : N) * 4, transB, K, N);
    const ab = new Float64Array(M * N);
    for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
      let v = 0;
      for (let k = 0; k < K; k++) v += A[i * K + k]! * B[k * N + j]!;
      ab[i * N + j] = v;
    }
    const run = (flags: number, withBias: boolean): Float32Array => {
      gemm(io, { M, N, K, a: pa, rs: colA ? 4 : K * 4, cs: colA ? M * 4 : 4, bp, c: pc, ldc: N * 4, bias: withBias ? pbias : 0, flags });
      return h.f32.slice(pc / 4, pc / 4 + M * N);
    };
    h.f32.fill(NaN, pc / 4, pc / 4 + M * N);
    expectClose(run(0, true), Float32Array.from(ab, (v, q) => v + bias[q % N]!));
    expectClose(run(FLAG_RELU, true), Float32Array.from(ab, (v, q) => Math.max(0, v + bias[q % N]!)));
    h.f32.set(C0, pc / 4);
    expectClose(run(FLAG_ADD, false), Float32Array.from(ab, (v, q) => v + C0[q]!));
    io.release();
  });
  it('splits C into whole row blocks of at most 256 rows, evenly among the threads', () => {
    for (const [M, N, threads] of [[200, 2304, 1], [200, 768, 2], [768, 3072, 2], [3072, 768, 3], [5, 13, 2], [1, 1, 2]] as const) {
      const s = gemmSplit(M, N, threads);
      const panels = Math.ceil(N / 8);
      expect(s.mb % 4).toBe(0);
      expect(s.mb).toBeLessThanOrEqual(256);
      expect(s.mb * Math.ceil(M / s.mb)).toBeGreaterThanOrEqual(M);
      expect(s.nb * s.ncb).toBeGreaterThanOrEqual(panels);
      expect(s.nb * (s.ncb - 1)).toBeLessThan(panels);
      expect(s.items).toBe(Math.ceil(M / s.mb) * s.ncb);
      if (threads > 1 && s.items < panels * Math.ceil(M / s.mb)) expect(s.items % threads).toBe(0);
    }
    expect(gemmSplit(200, 2304, 1).mb).toBe(200);
  });
});

describe('Tanh gradient', () => {
  it('is one cpu kernel, bit-identical to the stock (1 − y²)·dy', () => {
    const x = tf.tensor(rand(777).map((t) => t * 3), [7, 111]); // 777: wasm lanes and a ragged tail
    const w = randT([7, 111]);
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.tanh(t), w)))(x).dataSync();
    const y = tf.tanh(x).dataSync(), wv = w.dataSync();
    const fr = Math.fround;
    for (let i = 0; i < y.length; i++) expect(g[i]).toBe(fr(fr(1 - fr(y[i]! * y[i]!)) * wv[i]!));
  });
  it('leaves the stock formula to tapes that record the gradient itself', async () => {
    const cfg = tf.getGradient('Tanh')!;
    const x = randT([5, 6]), dy = randT([5, 6]);
    const y = tf.tanh(x);
    const kernels = async () => (await tf.profile(() => (cfg.gradFunc(dy, [y], {}) as { x: () => tf.Tensor }).x())).kernelNames;
    expect(await kernels()).toEqual(['AlexnetcTanhGrad']);
    // Inside the forward pass of a tf.grad the gradient is itself recorded:
    // there the stock ops, which have gradients, must be used.
    let recorded: string[] = [];
    tf.grad((t: tf.Tensor) => {
      const g = (cfg.gradFunc(dy, [y], {}) as { x: () => tf.Tensor }).x();
      const tape = (tf.engine() as unknown as { state: { activeTape: Array<{ kernelName: string }> } }).state.activeTape;
      recorded = tape.map((n) => n.kernelName);
      return tf.sum(tf.mul(g, t));
    })(x);
    expect(recorded).toContain('Square');
    expect(recorded).not.toContain('AlexnetcTanhGrad');
  });
  it('is restored by uninstall and comes back on install', () => {
    const fast = tf.getGradient('Tanh')!;
    uninstallFastKernels(tf);
    const stock = tf.getGradient('Tanh')!;
    expect(stock).not.toBe(fast);
    expect(tf.getKernel('Conv2D', 'cpu')!.kernelFunc).toBe(stockKernel(tf, 'Conv2D'));
    installFastKernels(tf);
    expect(tf.getGradient('Tanh')!.gradFunc).not.toBe(stock.gradFunc);
  });
});

describe('lazy Conv2DBackpropInput', () => {
  it('computes from the values captured at call time, after its inputs are gone', () => {
    const c = cases[7]!;
    const filter = randT(c.f), dy = randT(outShape(c));
    const attrs = { strides: c.s, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x };
    const want = runStock('Conv2DBackpropInput', { dy, filter }, attrs);
    const dx = tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, attrs) as tf.Tensor;
    tf.dispose([dy, filter]);
    expectClose(dx.dataSync() as Float32Array, want);
    dx.dispose();
  });
  it('releases what it holds when disposed unread', () => {
    const c = cases[7]!;
    const filter = randT(c.f), dy = randT(outShape(c));
    const attrs = { strides: c.s, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x };
    const before = tf.memory().numTensors;
    const dx = tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, attrs) as tf.Tensor;
    expect(tf.memory().numTensors).toBeGreaterThan(before + 1); // dx, and its held inputs
    dx.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([dy, filter]);
  });
});

describe('LeNet-style training end to end', () => {
  // A few SGD steps through tf.layers with stock kernels, then with the fast
  // ones from the same initial weights: the trained weights must agree.
  async function train(): Promise<Float32Array[]> {
    reseed(777);
    const m = tf.sequential();
    m.add(tf.layers.conv2d({ inputShape: [16, 16, 1], filters: 6, kernelSize: 5, activation: 'tanh' }));
    m.add(tf.layers.averagePooling2d({ poolSize: 2 }));
    m.add(tf.layers.conv2d({ filters: 10, kernelSize: 3, activation: 'tanh' }));
    m.add(tf.layers.flatten());
    m.add(tf.layers.dense({ units: 12, activation: 'tanh' }));
    m.add(tf.layers.dense({ units: 5, activation: 'softmax' }));
    m.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
    m.setWeights(m.getWeights().map((w) => randT(w.shape).mul(0.3)));
    const x = randT([8, 16, 16, 1]);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 0, 1, 2], 'int32'), 5);
    for (let i = 0; i < 3; i++) await m.trainOnBatch(x, y);
    const out = m.getWeights().map((w) => w.dataSync() as Float32Array);
    m.dispose();
    return out;
  }
  it('matches the stock kernels after three steps', async () => {
    uninstallFastKernels(tf);
    const stock = await train();
    installFastKernels(tf);
    const fast = await train();
    expect(fast.length).toBe(stock.length);
    fast.forEach((w, i) => expectClose(w, stock[i]!));
  });
});

describe('Concat, SplitV and Transpose (copies: bit-identical)', () => {
  const stockOut = (name: string, inputs: Record<string, tf.Tensor> | tf.Tensor[], attrs: Record<string, unknown>): Float32Array[] => {
    const out = stockKernel(tf, name)!({ inputs: inputs as never, attrs: attrs as tf.NamedAttrMap, backend: tf.backend() }) as tf.TensorInfo | tf.TensorInfo[];
    return (Array.isArray(out) ? out : [out]).map((o) => tf.backend().readSync(o.dataId) as Float32Array);
  };
  const fastOut = (name: string, inputs: Record<string, tf.Tensor> | tf.Tensor[], attrs: Record<string, unknown>): Float32Array[] => {
    const out = tf.engine().runKernel(name, inputs as never, attrs as tf.NamedAttrMap) as tf.Tensor | tf.Tensor[];
    return (Array.isArray(out) ? out : [out]).map((o) => o.dataSync() as Float32Array);
  };
  it.each([
    { shapes: [[2, 5, 4, 3], [2, 5, 4, 7], [2, 5, 4, 1]], axis: -1 },
    { shapes: [[3, 2, 5], [3, 4, 5]], axis: 1 },
    { shapes: [[2, 3], [5, 3]], axis: 0 },
    { shapes: [[64, 7, 7, 64], [64, 7, 7, 128], [64, 7, 7, 32], [64, 7, 7, 32]], axis: 3 },
  ])('Concat $shapes on axis $axis', ({ shapes, axis }) => {
    const ins = shapes.map((s) => randT(s));
    const got = fastOut('Concat', ins, { axis }), want = stockOut('Concat', ins, { axis });
    expect(Array.from(got[0]!)).toEqual(Array.from(want[0]!));
  });
  it.each([
    { shape: [2, 5, 4, 11], sizes: [3, 7, 1], axis: 3 },
    { shape: [3, 6, 5], sizes: 3, axis: 1 },
    { shape: [8, 3], sizes: [5, -1], axis: 0 },
  ])('SplitV $shape into $sizes on axis $axis', ({ shape, sizes, axis }) => {
    const x = randT(shape);
    const attrs = { numOrSizeSplits: sizes, axis };
    const got = fastOut('SplitV', { x }, attrs), want = stockOut('SplitV', { x }, attrs);
    expect(got.length).toBe(want.length);
    got.forEach((g, i) => expect(Array.from(g)).toEqual(Array.from(want[i]!)));
  });
  it.each([
    { shape: [3, 5, 7, 9], perm: [0, 3, 1, 2] },
    { shape: [3, 5, 7, 9], perm: [0, 2, 3, 1] },
    { shape: [13, 17], perm: [1, 0] },
    { shape: [2, 3, 4, 5], perm: [0, 1, 3, 2] },
    { shape: [2, 3, 4, 5], perm: [3, 1, 2, 0] }, // not a batched 2-D transpose: stock
  ])('Transpose $shape by $perm', ({ shape, perm }) => {
    const x = randT(shape);
    expect(Array.from(fastOut('Transpose', { x }, { perm })[0]!)).toEqual(Array.from(stockOut('Transpose', { x }, { perm })[0]!));
  });
});

describe('LRN and its gradient', () => {
  it.each([
    { shape: [2, 5, 7, 12], r: 2, beta: 0.75, alpha: 1e-4 / 5, bias: 1 },
    { shape: [1, 3, 3, 96], r: 2, beta: 0.75, alpha: 5e-4 / 5, bias: 2 },
    { shape: [3, 4, 5, 8], r: 1, beta: 0.5, alpha: 0.3, bias: 1.5 },
    { shape: [2, 3, 3, 4], r: 3, beta: 1, alpha: 0.1, bias: 1 }, // window wider than the channels
    { shape: [2, 3, 3, 6], r: 2, beta: 0.75, alpha: 0.1, bias: 1 }, // C not a multiple of 4: stock
    { shape: [2, 3, 3, 8], r: 2, beta: 0.6, alpha: 0.1, bias: 1 }, // β with no fast path: stock
  ])('matches stock: $shape r=$r β=$beta', ({ shape, r, beta, alpha, bias }) => {
    const x = tf.tensor(rand(shape.reduce((p, d) => p * d, 1)).map((v) => v * 4), shape);
    const attrs = { depthRadius: r, bias, alpha, beta };
    const y = runFast('LRN', { x }, attrs);
    expectClose(y, runStock('LRN', { x }, attrs));
    const yt = tf.tensor(y, shape), dy = randT(shape);
    expectClose(runFast('LRNGrad', { x, y: yt, dy }, attrs), runStock('LRNGrad', { x, y: yt, dy }, attrs));
  });
});
