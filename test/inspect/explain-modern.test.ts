// explain on today's networks, with seeded weights: Grad-CAM on the last
// convolution of MobileNetV2 and EfficientNet (through gates, residuals and
// stochastic depth) equals Grad-CAM computed by hand from the gradient of the
// network's tail, and the saliency equals central differences through those
// constructs; for a Vision Transformer Grad-CAM reads the tokens entering the
// last block's attention, the class token left out and the patch tokens laid
// on the patch grid, and equals the same computed by hand from a gradient
// taken apart (an offset added to those tokens, checked by finite
// differences). ImageNet-sized MobileNetV2 and EfficientNet-B0 with ALEXNETC_BIG_TESTS.
import * as fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../../src/compile.js';
import type { Network } from '../../src/check/ir.js';
import { seededWeights } from '../../src/emit/onnx/index.js';
import { layerName, loadTf, toTfjs, type LayersModel } from '../../src/emit/tfjs/index.js';
import { explainExample, probeLabel } from '../../src/inspect/explain/index.js';
import { NEEDS_BIG, skipping } from '../skip.js';

const root = path.join(import.meta.dirname, '../..');

// EfficientNet's MBConv at 32²: the last convolution (the projection) sits in a residual with a
// squeeze-and-excitation gate and stochastic depth, so Grad-CAM reads the residual's output
const MBCONV = `
block mbconv(c, e) {
  residual {
    conv(c * e, 1, bias false) | batchnorm | silu
    conv(c * e, 3, pad 1, groups c * e, bias false) | batchnorm | silu
    gate { globalavgpool | conv(4, 1) | silu | conv(c * e, 1) | sigmoid }
    conv(c, 1, bias false) | batchnorm | droppath(0.2)
  }
}
network Tiny(classes = 5) {
  input [3, 32, 32]
  conv(8, 3, stride 2, pad 1, bias false) | batchnorm | hardswish   : [8, 16, 16]
  mbconv(8, 4)
  conv(16, 3, stride 2, pad 1) | batchnorm | relu6
  mbconv(16, 2)                                                       : [16, 8, 8]
  globalavgpool | flatten | dropout(0.2) | dense(classes)
}`;

function net(text: string, name: string): Network {
  const r = compile(text, { network: name, set: { classes: '10' } });
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return r.network!;
}

const spec = (file: string): string => fs.readFileSync(path.join(root, 'specs', file), 'utf8');

function input(n: Network, seed: number): Float32Array {
  const size = n.input.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: size }, (_, i) => Math.sin(i * 0.37 + seed) + 0.3 * Math.cos(i * 0.011));
}

/** NHWC input tensor from channels-first values */
const nhwc = (n: Network, x: Float32Array): tf.Tensor4D => tf.tidy(() => tf.tensor4d(x, [1, ...n.input] as [number, number, number, number]).transpose([0, 2, 3, 1]));

beforeAll(async () => {
  await loadTf({ backend: 'cpu' });
});

/** Grad-CAM from activations A and gradients G, both NHWC [1, h, w, c] values */
function camByHand(A: ArrayLike<number>, G: ArrayLike<number>, plane: number, c: number): Float32Array {
  const cam = new Float32Array(plane);
  for (let k = 0; k < c; k++) {
    let alpha = 0;
    for (let p = 0; p < plane; p++) alpha += G[p * c + k]! / plane;
    for (let p = 0; p < plane; p++) cam[p]! += alpha * A[p * c + k]!;
  }
  return cam.map((v) => Math.max(0, v));
}

function expectClose(got: Float32Array, want: Float32Array, rel: number): void {
  const max = Math.max(...want);
  expect(max).toBeGreaterThan(0);
  expect(got).toHaveLength(want.length);
  for (let p = 0; p < want.length; p++) expect(Math.abs(got[p]! - want[p]!), `cell ${p}`).toBeLessThan(rel * max + 1e-9);
}

/** The explanation of a CNN checked against its tail: the probe's maps, the gradient the layers after it give. */
function checkCnn(n: Network, model: LayersModel, probePath: string, followers: string[], fd: boolean): void {
  const x = input(n, 1);
  const e = explainExample(tf, model, n, x);
  const g = e.gradcam!;
  expect([g.probe.path, g.probe.followers]).toEqual([probePath, followers]);
  const last = followers.length ? followers[followers.length - 1]! : probePath;
  const names = model.layers.map((l) => l.name);
  const at = names.indexOf(layerName(last));
  expect(at).toBeGreaterThan(0);
  const xi = nhwc(n, x);
  const A = tf.model({ inputs: model.inputs, outputs: model.layers[at]!.output as tf.SymbolicTensor }).predict(xi) as tf.Tensor;
  // the tail: global pooling, flatten, dropout, the classifier — applied layer after layer
  const tail = (a: tf.Tensor): tf.Tensor => model.layers.slice(at + 1).reduce((t, l) => l.apply(t) as tf.Tensor, a);
  const G = tf.grad((a: tf.Tensor) => tail(a).slice([0, e.target], [1, 1]).sum())(A);
  const [, h, w, c] = A.shape as number[];
  expect(g.probe.shape).toEqual([c, h, w]);
  expectClose(g.coarse, camByHand(A.dataSync(), G.dataSync(), h! * w!, c!), 1e-4);
  expect(g.map).toHaveLength(n.input[1]! * n.input[2]!);
  if (fd) {
    // the saliency through every gate, residual and stochastic depth: central differences of the logit
    const logit = (v: Float32Array): number => tf.tidy(() => (model.predict(nhwc(n, v)) as tf.Tensor).dataSync()[e.target]!);
    const maxSal = Math.max(...e.saliency);
    const [C, H, W] = n.input;
    for (const p of [37, 300, 517, 800]) {
      // the pixel's largest-gradient channel is what the saliency keeps: check every channel's derivative bound
      let best = 0;
      for (let ch = 0; ch < C!; ch++) {
        const i = ch * H! * W! + p;
        const step = 0.01;
        const up = x.slice(), down = x.slice();
        up[i]! += step;
        down[i]! -= step;
        best = Math.max(best, Math.abs((logit(up) - logit(down)) / (2 * step)));
      }
      expect(Math.abs(best - e.saliency[p]!), `pixel ${p}`).toBeLessThan(0.03 * e.saliency[p]! + 0.01 * maxSal);
    }
  }
  tf.dispose([xi, A, G]);
}

describe('Grad-CAM on the last convolution of today\'s CNNs', () => {
  it('an MBConv network (gate, residual, droppath): the last residual\'s output, equal to the tail\'s gradient by hand; saliency = finite differences', () => {
    const n = net(MBCONV, 'Tiny');
    const model = toTfjs(tf, n, { weights: seededWeights(4) });
    checkCnn(n, model, 'mbconv2/residual1', [], true);
    model.dispose();
  });

  it.skipIf(skipping('MobileNetV2 Grad-CAM', NEEDS_BIG))('MobileNetV2 (224²): its last convolution, read after batch norm and ReLU6', () => {
    const n = net(spec('mobilenet.net'), 'MobileNetV2');
    const model = toTfjs(tf, n, { weights: seededWeights(2) });
    checkCnn(n, model, 'conv2', ['batchnorm2', 'relu62'], false);
    model.dispose();
  }, 60_000);

  it.skipIf(skipping('EfficientNetB0 Grad-CAM', NEEDS_BIG))('EfficientNetB0 (224²): its last convolution, read after batch norm and SiLU', () => {
    const n = net(spec('efficientnet.net'), 'EfficientNetB0');
    const model = toTfjs(tf, n, { weights: seededWeights(2) });
    checkCnn(n, model, 'conv2', ['batchnorm2', 'silu2'], false);
    model.dispose();
  }, 120_000);
});

describe('Grad-CAM of a Vision Transformer on the patch grid', () => {
  it('reads the tokens entering the last block\'s attention, the class token left out, as the 7×7 grid; equal to a hand computation', () => {
    const n = net(spec('vit.net'), 'ViT_Tiny28');
    const model = toTfjs(tf, n, { weights: seededWeights(6) });
    const x = input(n, 2);
    const e = explainExample(tf, model, n, x);
    const g = e.gradcam!;
    expect(g.probe.path).toBe('encoder4/residual1/layernorm1');
    expect(g.probe.tokens).toEqual({ skip: 1, grid: [7, 7] });
    expect(g.probe.shape).toEqual([64, 7, 7]);
    expect(probeLabel(g.probe)).toBe('encoder4/residual1/layernorm1 (tokens 2–50 as the 7×7 patch grid)');
    expect(g.coarse).toHaveLength(49);
    expect(g.map).toHaveLength(28 * 28);

    // the gradient taken apart: an offset added to the probe's tokens, differentiated at zero
    const layer = model.getLayer(layerName(g.probe.path));
    const original = layer.call;
    let offset: tf.Tensor | undefined;
    layer.call = function (this: typeof layer, inputs, kwargs) {
      const y = original.call(this, inputs, kwargs) as tf.Tensor;
      return offset ? tf.add(y, offset) : y;
    } as typeof layer.call;
    const xi = nhwc(n, x);
    const logitWith = (d: tf.Tensor): tf.Tensor => {
      offset = d;
      return (model.apply(xi, { training: false }) as tf.Tensor).slice([0, e.target], [1, 1]).sum();
    };
    const G = tf.grad(logitWith)(tf.zeros([1, 50, 64]));
    const Gv = G.dataSync();
    // central differences at a few tokens, the class token among them
    for (const [t, k] of [[0, 3], [1, 0], [9, 17], [30, 63], [49, 40]] as const) {
      const step = 0.02;
      const at = (s: number): number => tf.tidy(() => logitWith(tf.zeros([1, 50, 64]).add(tf.oneHot([t * 64 + k], 50 * 64).reshape([1, 50, 64]).mul(s))).dataSync()[0]!);
      const fd = (at(step) - at(-step)) / (2 * step);
      expect(Math.abs(fd - Gv[t * 64 + k]!), `token ${t} feature ${k}`).toBeLessThan(0.02 * Math.abs(Gv[t * 64 + k]!) + 1e-4);
    }
    offset = undefined;
    delete (layer as { call?: unknown }).call;
    // the class token's gradient is not 0 but is left out: the patch tokens alone make the map
    const A = (tf.model({ inputs: model.inputs, outputs: layer.output as tf.SymbolicTensor }).predict(xi) as tf.Tensor).dataSync();
    expectClose(g.coarse, camByHand(A.subarray(64), Gv.subarray(64), 49, 64), 1e-4);
    tf.dispose([xi, G]);
    model.dispose();
  });

  it('a post-norm block (attention first in its residual: no pre-norm to read) falls back to the last convolution', () => {
    const n = net(
      `network T(classes = 4) { input [1, 8, 8]
  conv(16, 2, stride 2) | tokens | classtoken
  residual { attention(2) }
  avgtokens | dense(classes) }`,
      'T',
    );
    const model = toTfjs(tf, n, { weights: seededWeights(1) });
    const e = explainExample(tf, model, n, input(n, 0));
    expect(e.gradcam!.probe.path).toBe('conv1');
    expect(e.gradcam!.probe.tokens).toBeUndefined();
    model.dispose();
  });
});
