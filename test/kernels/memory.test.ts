// The kernels' heap: freed memory is merged and reused for other sizes (so a
// training step's peak, not the sum of its phases, sets the heap's size), a
// training step in steady state allocates nothing new, tensors handed out
// by dataSync() are copies, and a full heap (wasm32's 4 GiB) sends kernels
// back to tfjs's stock ones instead of failing.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../../src/compile.js';
import { toTfjs } from '../../src/emit/tfjs/index.js';
import { installFastKernels, kernelMemory, stockKernel, uninstallFastKernels } from '../../src/kernels/index.js';
import { Heap, OutOfKernelMemory } from '../../src/kernels/runtime/heap.js';
import { runtime } from '../../src/kernels/runtime/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
  installFastKernels(tf);
});
afterAll(() => uninstallFastKernels(tf));

describe('heap allocator', () => {
  it('merges freed neighbours and reuses them for a larger block', () => {
    const h = new Heap(1);
    const a = h.alloc(1000), b = h.alloc(1000), c = h.alloc(1000);
    h.free_(a);
    h.free_(b);
    const big = h.alloc(1900); // fits in a + b merged
    expect(big).toBe(a);
    h.free_(big);
    h.free_(c); // the top block: the heap shrinks back to nothing in use
    expect(h.liveBytes).toBe(64);
    expect(h.alloc(3000)).toBe(a);
  });
  it('keeps blocks 64-byte aligned with 16 bytes of slack', () => {
    const h = new Heap(1);
    for (const n of [1, 15, 16, 17, 63, 64, 100]) {
      const p = h.alloc(n);
      expect(p % 64).toBe(0);
      expect(h.sizeOf(p)! - n).toBeGreaterThanOrEqual(16);
    }
  });
  it('refuses to free what it did not allocate', () => {
    expect(() => new Heap(1).free_(128)).toThrow(/unknown block/);
  });
});

describe('training steps', () => {
  it('stop growing the heap after the first', () => {
    const net = compile(`network T { input [3, 16, 16]
      conv(16, 3, pad 1) | batchnorm | relu | maxpool(2) | conv(16, 3, pad 1) | relu | flatten | dense(10) }`).network!;
    const model = toTfjs(tf, net, { seed: 1 });
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const opt = tf.train.adam(1e-3);
    const x = tf.randomNormal([8, 16, 16, 3], 0, 1, 'float32', 3);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], 'int32'), 10);
    const step = () => tf.tidy(() => {
      const { grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, vars);
      opt.applyGradients(grads);
    });
    step();
    step();
    const peak = kernelMemory()!.peakBytes, tensors = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) step();
    expect(kernelMemory()!.peakBytes).toBe(peak);
    expect(tf.memory().numTensors).toBe(tensors);
    tf.dispose([x, y]);
    opt.dispose();
    model.dispose();
  });
});

describe('reads', () => {
  it('hand out copies that outlive the tensor', () => {
    const a = tf.tensor([1, 2, 3, 4, 5, 6, 7, 8]);
    const r = tf.relu(tf.sub(a, 4)); // made in the heap
    const values = r.dataSync();
    expect(runtime()!.heap.owns(values)).toBe(false);
    r.dispose();
    const other = tf.relu(tf.sub(a, 100)); // may reuse the freed block
    expect(Array.from(values)).toEqual([0, 0, 0, 0, 1, 2, 3, 4]);
    tf.dispose([a, other]);
  });
});

describe('a full heap', () => {
  it('sends a kernel back to the stock one, with the same result', () => {
    const heap = runtime()!.heap;
    const x = tf.randomNormal([2, 9, 9, 4], 0, 1, 'float32', 5), w = tf.randomNormal([3, 3, 4, 6], 0, 1, 'float32', 6);
    const attrs = { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', dilations: [1, 1] };
    const want = tf.backend().readSync((stockKernel(tf, 'Conv2D')!({ inputs: { x, filter: w }, attrs, backend: tf.backend() } as never) as tf.TensorInfo).dataId);
    const alloc = heap.alloc.bind(heap);
    heap.alloc = () => { throw new OutOfKernelMemory(1 << 30); };
    try {
      const got = (tf.engine().runKernel('Conv2D', { x, filter: w } as never, attrs as never) as tf.Tensor).dataSync();
      expect(Array.from(got)).toEqual(Array.from(want as Float32Array));
    } finally {
      heap.alloc = alloc;
    }
    tf.dispose([x, w]);
  });
  it('sends alexnetc’s conv and batch-norm layers back to their compositions', () => {
    const net = compile('network T {\n  input [4, 8, 8]\n  conv(6, 3, stride 2, pad [1, 0, 1, 0]) | batchnorm | relu }').network!;
    const model = toTfjs(tf, net, { seed: 2 });
    const x = tf.randomNormal([3, 8, 8, 4], 0, 1, 'float32', 7);
    const want = (model.apply(x, { training: true }) as tf.Tensor).dataSync();
    const heap = runtime()!.heap;
    const alloc = heap.alloc.bind(heap);
    heap.alloc = () => { throw new OutOfKernelMemory(1 << 30); };
    try {
      const got = (model.apply(x, { training: true }) as tf.Tensor).dataSync();
      let err = 0;
      for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(got[i]! - want[i]!));
      expect(err).toBeLessThan(1e-4);
    } finally {
      heap.alloc = alloc;
    }
    x.dispose();
    model.dispose();
  });
});
