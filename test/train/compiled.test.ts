// The compiled training step against the tfjs path: a LeNet-style, a
// VGG-style and a ResNet-style network (tanh and average pooling, a dense
// layer after an image's flatten, relu fused into conv and dense epilogues,
// batch norm, max pooling with padding and ceil mode, explicit pads, a strided
// projection shortcut, global average pooling) and an Inception-style one
// (concat, an identity branch), MobileNet-, ShuffleNet- and ViT-style ones
// (attention, layer norm, drop path and dropout with tfjs's masks) trained 5 steps of SGD with
// momentum from the same seed, once through toTfjs and tfjs's autodiff the
// way `alexnetc train` does, once as a compiled step: the same losses
// (≤ 1e-5 relative) step by step, and the same weights after. The compiled
// step gives the same bits on 1 and 2 threads. Networks with layers the
// step has no kernel for are reported, not compiled; the tfjs engine runs the
// compiled step when it can (its model then predicts what the step
// evaluates) and says in the log which step runs and why.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../../src/compile.js';
import { toTfjs } from '../../src/emit/tfjs/index.js';
import { installFastKernels, kernelThreads, setKernelThreads } from '../../src/kernels/index.js';
import { runtime } from '../../src/kernels/runtime/index.js';
import { GEOM, GEOM_FIELDS } from '../../src/kernels/wasm/im2col.js';
import { compiledTrainingSupport, createCompiledTraining, NotCompilable, type CompiledSettings } from '../../src/train/compiled/index.js';
import { createRng, deriveSeed, rng } from '../../src/util/rng.js';
import { DEFAULTS } from '../../src/train/config.js';
import { createTfjsEngine } from '../../src/train/engines/tfjs/engine.js';
import { resnetStyle, vggStyle } from '../style-networks.js';

const LENET = `
network LeNetStyle {
  input [1, 20, 20]
  conv(6, 5, pad 2) | tanh | avgpool(2)
  conv(16, 5) | tanh | avgpool(2)
  flatten | dense(32) | tanh | dense(10) | softmax
}`;

// the seed tutorial's Keras LeNet: relu, 2×2 max pooling (windows that tile: maxpool_tile_*), a padded first conv (its input padded once)
const KERAS_LENET = `
network KerasLeNetStyle {
  input [1, 16, 16]
  conv(6, 5, pad 2) | relu | maxpool(2)
  conv(16, 5) | relu | maxpool(2)
  flatten | dense(24) | relu | dense(12) | relu | dense(10) | softmax
}`;

const VGG = vggStyle();

const RESNET = resnetStyle();

const INCEPTION = `
block cbr(c, k, pad = 0) {
  conv(c, k, pad pad, bias false) | batchnorm(eps 0.001) | relu
}
network InceptionStyle {
  input [3, 12, 11]
  cbr(8, 3, pad 1)
  concat {
    branch { cbr(4, 1) }
    branch { cbr(4, 1) | cbr(6, 3, pad 1) }
    branch { maxpool(3, 1, pad 1, ceil true) | cbr(4, 1) }
  }
  maxpool(2, 2, ceil true)
  concat {
    branch { cbr(6, 1) }
    branch { }
  }
  globalavgpool | flatten | dense(10)
}`;

// depthwise convolutions (3×3 and a strided 5×5), relu6, hard swish, a squeeze-and-excitation
// gate (silu, hard sigmoid), gelu exact and tanh, as MobileNet, EfficientNet and the transformers use them
const MOBILE = `
network MobileStyle {
  input [4, 12, 11]
  conv(16, 1, bias false) | batchnorm | relu6
  conv(16, 3, pad 1, groups 16, bias false) | batchnorm | hardswish
  gate { globalavgpool | conv(4, 1) | silu | conv(16, 1) | hardsigmoid }
  conv(16, 5, stride 2, pad 2, groups 16) | gelu
  conv(12, 1) | gelu(approximate tanh)
  globalavgpool | flatten | dense(10)
}`;

// ShuffleNet's unit: a split whose first half passes, a depthwise branch, a channel shuffle
const SHUFFLE = `
network ShuffleStyle {
  input [3, 10, 9]
  conv(8, 3, pad 1, bias false) | batchnorm | relu
  split {
    branch {}
    branch { conv(4, 1, bias false) | batchnorm | relu | conv(4, 3, pad 1, groups 4, bias false) | batchnorm | conv(4, 1) | relu }
  }
  shuffle(2)
  conv(12, 1) | relu | globalavgpool | flatten | dense(10)
}`;

// a Vision Transformer: patch embedding, class token, position embeddings, pre-norm encoder blocks
// (layer norm, multi-head attention, dense on tokens, gelu), the class token to the head
const VIT = `
block enc(dim, heads, mlp) {
  residual { layernorm(eps 1e-6) | attention(heads) }
  residual { layernorm(eps 1e-6) | dense(mlp) | gelu | dense(dim) }
}
network ViTStyle {
  input [3, 12, 12]
  conv(16, 4, stride 4) | tokens
  classtoken | posembed
  repeat 2 { enc(16, 4, 32) }
  layernorm(eps 1e-6) | token(0)
  dense(10)
}`;

// the random parts (attention-weight dropout, drop path, dropout) drawn as the tfjs path draws them
// (a mask from another stream fails this); layer scale and tokens back to an image, as ConvNeXt has
// them; the tokens' mean; a layer norm over an image's channels and one over a vector of odd size
const VIT_DROP = `
network ViTDropStyle {
  input [3, 12, 12]
  conv(16, 4, stride 4) | layernorm | tokens | posembed
  residual { layernorm | attention(4, dropout 0.2) | droppath(0.3) }
  residual { layernorm | dense(32) | gelu | dropout(0.1) | dense(16) | image(3, 3) | scale(0.5) | droppath(0.3) | tokens }
  image(3, 3) | conv(8, 1) | tokens
  avgtokens | dense(9) | layernorm | dense(10)
}`;

const B = 6;
const LABELS = Int32Array.from([0, 3, 5, 7, 9, 1]);
const settings = (optimizer: CompiledSettings['optimizer']): CompiledSettings =>
  ({ optimizer, lr: 0.01, momentum: 0.9, beta1: 0.9, beta2: 0.999, weightDecay: 0, seed: 3 });

function batch(net: { input: readonly number[] }): Float32Array {
  const [c, h, w] = net.input as [number, number, number];
  const rx = createRng(1, 'x');
  return Float32Array.from({ length: B * h * w * c }, () => 2 * rx.next() - 1);
}

interface Trained { losses: number[]; weights: Map<string, Float32Array> }

/** The tfjs path: the engine's step (autodiff, softmax cross-entropy on the logits, tfjs's optimizer). */
function trainTfjs(source: string, steps: number, optimizer: 'momentum' | 'adam'): Trained {
  const net = compile(source).network!;
  const model = toTfjs(tf, net, { seed: 3 });
  const out = model.outputs[0]!;
  const logits = out.sourceLayer.getClassName() === 'Softmax' ? tf.model({ inputs: model.inputs, outputs: out.sourceLayer.input as tf.SymbolicTensor }) : model;
  const vars = logits.trainableWeights.map((w) => w.read() as tf.Variable);
  const opt = optimizer === 'adam' ? tf.train.adam(0.01, 0.9, 0.999) : tf.train.momentum(0.01, 0.9);
  const [c, h, w] = net.input as [number, number, number];
  const x = tf.tensor4d(batch(net), [B, h, w, c]);
  const y = tf.oneHot(tf.tensor1d(LABELS, 'int32'), 10);
  const losses: number[] = [];
  const realRandom = Math.random;
  for (let s = 0; s < steps; s++) {
    // dropout draws from Math.random, as the tfjs engine seeds it for each step
    Math.random = rng(deriveSeed(3, 'dropout', s));
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, logits.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, vars);
      losses.push(value.dataSync()[0]!);
      opt.applyGradients(grads);
    });
    Math.random = realRandom;
  }
  const weights = new Map(model.weights.map((v) => [v.originalName, v.read().dataSync() as Float32Array]));
  tf.dispose([x, y]);
  opt.dispose();
  model.dispose();
  return { losses, weights };
}

function initialWeights(source: string): Map<string, Float32Array> {
  const net = compile(source).network!;
  const model = toTfjs(tf, net, { seed: 3 });
  const w = new Map(model.weights.map((v) => [v.originalName, Float32Array.from(v.read().dataSync() as Float32Array)]));
  model.dispose();
  return w;
}

function trainCompiled(source: string, steps: number, optimizer: 'momentum' | 'adam'): Trained {
  const net = compile(source).network!;
  const step = createCompiledTraining(net, settings(optimizer), initialWeights(source));
  const x = batch(net);
  const losses: number[] = [];
  try {
    for (let s = 0; s < steps; s++) losses.push(step.step(x, LABELS, B, { random: rng(deriveSeed(3, 'dropout', s)) }).loss);
    return { losses, weights: step.weights() };
  } finally {
    step.dispose();
  }
}

function expectSameTraining(a: Trained, b: Trained): void {
  expect(a.losses.every(Number.isFinite)).toBe(true);
  if (process.env.DEBUG_COMPILED) console.log(a.losses, b.losses);
  for (let s = 0; s < a.losses.length; s++) expect(Math.abs(a.losses[s]! - b.losses[s]!) / Math.abs(b.losses[s]!)).toBeLessThanOrEqual(1e-5);
  // the loss moved: the steps did something
  expect(a.losses[a.losses.length - 1]).not.toBe(a.losses[0]);
  expect([...a.weights.keys()].sort()).toEqual([...b.weights.keys()].sort());
  for (const [name, w] of a.weights) {
    const v = b.weights.get(name)!;
    let scale = 0, diff = 0;
    for (let i = 0; i < w.length; i++) {
      scale = Math.max(scale, Math.abs(v[i]!));
      diff = Math.max(diff, Math.abs(w[i]! - v[i]!));
    }
    expect(diff, name).toBeLessThanOrEqual(1e-5 * Math.max(scale, 1e-3));
  }
}

describe('compiled training step', () => {
  let threads: number;
  beforeAll(async () => {
    await tf.setBackend('cpu');
    installFastKernels(tf);
    threads = kernelThreads();
    setKernelThreads(2);
  });
  afterAll(() => setKernelThreads(threads));

  for (const [name, source] of [['LeNet-style', LENET], ['Keras-LeNet-style (relu, max pooling)', KERAS_LENET], ['VGG-style', VGG], ['ResNet-style', RESNET], ['Inception-style (concat)', INCEPTION],
    ['MobileNet-style (depthwise, relu6, hard swish, gate, silu, gelu)', MOBILE], ['ShuffleNet-style (split, shuffle)', SHUFFLE],
    ['ViT-style (tokens, class token, position embeddings, layer norm, attention, dense on tokens)', VIT],
    ['ViT-style with dropout (attention dropout, drop path, dropout, layer scale, image, avgtokens)', VIT_DROP]] as const) {
    it(`${name}: 5 momentum steps train to the tfjs path's losses and weights`, () => {
      expectSameTraining(trainCompiled(source, 5, 'momentum'), trainTfjs(source, 5, 'momentum'));
    });
  }

  it('Keras-LeNet-style: the first convolution (its input padded first) computes no input gradient', () => {
    const rt = runtime()!;
    const parallel = rt.parallel;
    const channels: number[] = [];
    rt.parallel = (name, items, args, serial) => {
      // the geometry block's C: the convolution's input channels (1 for the first, 6 for the second)
      if (name === 'conv_bwd_input' && items > 0) channels.push(new Int32Array(rt.heap.f32.buffer, args[0]!, GEOM_FIELDS)[GEOM.C]!);
      parallel(name, items, args, serial);
    };
    try {
      trainCompiled(KERAS_LENET, 1, 'momentum');
    } finally {
      rt.parallel = parallel;
    }
    expect(channels.length).toBeGreaterThan(0);
    expect(channels.every((ch) => ch === 6)).toBe(true);
  });

  it('LeNet-style: Adam too', () => {
    expectSameTraining(trainCompiled(LENET, 5, 'adam'), trainTfjs(LENET, 5, 'adam'));
  });

  for (const [name, source] of [['Keras-LeNet-style', KERAS_LENET], ['ResNet-style', RESNET], ['MobileNet-style', MOBILE], ['ShuffleNet-style', SHUFFLE], ['ViT-style', VIT_DROP]] as const) {
    it(`${name}: gives the same bits on one thread and on two`, () => {
      const two = trainCompiled(source, 3, 'momentum');
      setKernelThreads(1);
      try {
        const one = trainCompiled(source, 3, 'momentum');
        expect(one.losses).toEqual(two.losses);
        for (const [k, w] of one.weights) expect(Buffer.from(w.buffer).equals(Buffer.from(two.weights.get(k)!.buffer)), k).toBe(true);
      } finally {
        setKernelThreads(2);
      }
    });
  }

  it('says which layer has no kernel, and refuses to compile it', () => {
    const net = compile('network G { input [8, 6, 6]\n conv(8, 3, pad 1) | lrn(5) | globalavgpool | flatten | dense(4) }').network!;
    expect(compiledTrainingSupport(net)).toMatch(/lrn has no compiled kernel/);
    expect(() => createCompiledTraining(net, settings('sgd'), initialWeights('network G { input [8, 6, 6]\n conv(8, 3, pad 1) | lrn(5) | globalavgpool | flatten | dense(4) }')))
      .toThrow(NotCompilable);
    expect(compiledTrainingSupport(compile(LENET).network!)).toBeNull();
    expect(compiledTrainingSupport(compile(INCEPTION).network!)).toBeNull();
    expect(compiledTrainingSupport(compile(VIT_DROP).network!)).toBeNull();
  });
});

describe('the tfjs engine picks its step', () => {
  const SMALL = `
network Small {
  input [1, 8, 8]
  conv(4, 3, pad 1) | relu | maxpool(2) | flatten | dense(10) | softmax
}`;
  const LRN = `
network WithLrn {
  input [1, 8, 8]
  conv(4, 3, pad 1) | lrn(3) | maxpool(2) | flatten | dense(10) | softmax
}`;

  async function engineFor(source: string): Promise<{ lines: string[]; engine: Awaited<ReturnType<typeof createTfjsEngine>> }> {
    const lines: string[] = [];
    const network = compile(source).network!;
    const engine = await createTfjsEngine({
      network,
      settings: { ...DEFAULTS, optimizer: 'momentum', lr: 0.01, seed: 5, augment: 'none' },
      classes: Array.from({ length: 10 }, (_, i) => String(i)),
      normalization: { mean: [0], std: [1] },
      source: { file: 'small.net', network: network.name, set: {} },
      backend: 'cpu',
      say: (line) => lines.push(line),
    });
    return { lines, engine };
  }

  const batch = { x: Float32Array.from({ length: 4 * 64 }, (_, i) => Math.sin(i)), labels: Int32Array.from([1, 2, 3, 4]), count: 4, shape: [4, 8, 8, 1] };

  it('compiles a network whose layers all have kernels, says so, and hands the model the trained weights', async () => {
    const { lines, engine } = await engineFor(SMALL);
    try {
      expect(lines.join('\n')).toMatch(/training step: compiled step/);
      const before = engine.model.weights.map((w) => Float32Array.from(w.read().dataSync() as Float32Array));
      const first = await engine.step(batch, 0.01, { epoch: 1, step: 1 });
      const second = await engine.step(batch, 0.01, { epoch: 1, step: 2 });
      expect(second.loss).toBeLessThan(first.loss);
      const after = engine.model.weights.map((w) => w.read().dataSync() as Float32Array);
      expect(after.some((w, i) => w.some((v, j) => v !== before[i]![j]))).toBe(true);
      // the model predicts what the compiled step evaluates
      const evaluated = await engine.evaluate(batch);
      const predicted = tf.tidy(() => (engine.model.predict(tf.tensor4d(batch.x, [4, 8, 8, 1])) as tf.Tensor).argMax(1).dataSync());
      expect(Array.from(predicted)).toEqual(Array.from(evaluated.predicted));
    } finally {
      await engine.dispose();
    }
  });

  it('falls back to tfjs for a layer without a kernel, naming it, and for ALEXNETC_COMPILED=0', async () => {
    const lrn = await engineFor(LRN);
    try {
      expect(lrn.lines.join('\n')).toMatch(/training step: tfjs layers and autodiff \(not compiled: .*lrn has no compiled kernel\)/);
      expect(Number.isFinite((await lrn.engine.step(batch, 0.01, { epoch: 1, step: 1 })).loss)).toBe(true);
    } finally {
      await lrn.engine.dispose();
    }
    process.env.ALEXNETC_COMPILED = '0';
    try {
      const off = await engineFor(SMALL);
      expect(off.lines.join('\n')).toMatch(/not compiled: ALEXNETC_COMPILED=0/);
      await off.engine.dispose();
    } finally {
      delete process.env.ALEXNETC_COMPILED;
    }
  });
});
