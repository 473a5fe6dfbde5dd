// Cross-check against PyTorch/torchvision: our ONNX file's initializers are
// loaded into the reference module (zipped in order with its state_dict),
// onnxruntime-node runs the file, and test/python/torch_crosscheck.py runs the
// reference on the same input and compares (max abs diff ≤ 1e-4).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NEEDS_BIG, skipping } from '../skip.js';
import type { Network } from '../../src/check/ir.js';
import { writeOnnx, type WeightSource } from '../../src/emit/onnx/index.js';
import { createRng, sizeOf } from '../../src/util/rng.js';
import { randomInput, requirePython, runOrt, runPython, tempDir, writeFloats } from './helpers.js';
import { compile } from '../../src/index.js';
import { alexnetTorchvision, lenet5, resnet18, spec, SPECS } from './specs.js';

/** specs/vit.net's encoder block in a network torchvision's VisionTransformer can be built as (3-channel 32×32 input, 4×4 patches) */
function vitSmall(): Network {
  const source = fs.readFileSync(path.join(SPECS, 'vit.net'), 'utf8').replace(/network ViT_B_16[\s\S]*$/, '');
  const r = compile(`${source}
network ViTSmall {
  input [3, 32, 32]
  conv(64, 4, stride 4) | tokens | classtoken | posembed
  repeat 2 { encoder(64, 4, 128) }
  layernorm(eps 1e-6) | token(0) | dense(10)
}`);
  if (!r.network) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return r.network;
}

const hasTorch = requirePython('onnx, torch, torchvision, numpy', 'PyTorch cross-checks');
const big = process.env.ALEXNETC_BIG_TESTS === '1';

/**
 * Seeded init makes batchnorm the identity (γ=1, β=0, μ=0, σ²=1) and biases
 * zero, which would hide a mix-up of those tensors. This source gives every
 * tensor distinct non-trivial values, keeping activations at a sane scale
 * (outputs of order 1–10, so that 1e-4 measures mistakes, not float32 rounding).
 */
function distinctWeights(seed: number): WeightSource {
  return {
    get(p, s) {
      const out = new Float32Array(sizeOf(s.shape));
      const rng = createRng(seed, `${p}.${s.name}`);
      const u = (lo: number, hi: number): number => lo + (hi - lo) * rng.next();
      const isBn = s.name === 'running_mean' || s.name === 'running_var' || s.shape.length === 1 && p.includes('batchnorm');
      for (let i = 0; i < out.length; i++) {
        if (s.init.kind === 'he_uniform') {
          const limit = Math.sqrt(6 / s.init.fanIn);
          out[i] = u(-limit, limit);
        } else if (s.name === 'running_var') out[i] = u(0.5, 1.5);
        // γ < 1 keeps ResNet's residual sums from growing to where float32 rounding alone exceeds 1e-4
        else if (isBn && s.name === 'weight') out[i] = u(0.25, 0.75);
        else out[i] = u(-0.1, 0.1);
      }
      return out;
    },
  };
}

const cases: [string, string, () => Network, boolean][] = [
  ['LeNet5 (specs/lenet5.net) vs a reference nn.Module', 'lenet5', lenet5, true],
  ['AlexNetTorchvision vs torchvision.models.alexnet', 'alexnet', alexnetTorchvision, true],
  ['ResNet18 vs torchvision.models.resnet18', 'resnet18', resnet18, true],
  ['GoogLeNet vs torchvision.models.googlenet', 'googlenet', () => spec('googlenet.net'), true],
  ['VGG11_BN vs torchvision.models.vgg11_bn', 'vgg11_bn', () => spec('vgg.net', 'VGG11_BN'), big],
  ['a small ViT (encoder blocks of specs/vit.net) vs torchvision VisionTransformer', 'vit_small', vitSmall, true],
  ['ViT_B_32 vs torchvision.models.vit_b_32', 'vit_b_32', () => spec('vit.net', 'ViT_B_32'), big],
  ['ViT_B_16 vs torchvision.models.vit_b_16', 'vit_b_16', () => spec('vit.net', 'ViT_B_16'), big],
  // today's CNNs (the larger ones with ALEXNETC_BIG_TESTS)
  ['MobileNetV2 vs torchvision.models.mobilenet_v2', 'mobilenet_v2', () => spec('mobilenet.net', 'MobileNetV2'), true],
  ['MobileNetV3Small vs torchvision.models.mobilenet_v3_small', 'mobilenet_v3_small', () => spec('mobilenet.net', 'MobileNetV3Small'), true],
  ['MobileNetV3Large vs torchvision.models.mobilenet_v3_large', 'mobilenet_v3_large', () => spec('mobilenet.net', 'MobileNetV3Large'), big],
  ['EfficientNetB0 vs torchvision.models.efficientnet_b0', 'efficientnet_b0', () => spec('efficientnet.net', 'EfficientNetB0'), true],
  ['ShuffleNetV2_x0_5 vs torchvision.models.shufflenet_v2_x0_5', 'shufflenet_v2_x0_5', () => spec('shufflenet.net', 'ShuffleNetV2_x0_5'), true],
  ['ShuffleNetV2_x1_0 vs torchvision.models.shufflenet_v2_x1_0', 'shufflenet_v2_x1_0', () => spec('shufflenet.net', 'ShuffleNetV2_x1_0'), big],
  ['SqueezeNet1_1 vs torchvision.models.squeezenet1_1', 'squeezenet1_1', () => spec('squeezenet.net', 'SqueezeNet1_1'), true],
  ['SqueezeNet1_0 vs torchvision.models.squeezenet1_0', 'squeezenet1_0', () => spec('squeezenet.net', 'SqueezeNet1_0'), big],
  ['MNASNet1_0 vs torchvision.models.mnasnet1_0', 'mnasnet1_0', () => spec('mnasnet.net', 'MNASNet1_0'), true],
  ['DenseNet121 vs torchvision.models.densenet121', 'densenet121', () => spec('densenet.net', 'DenseNet121'), big],
  ['ConvNeXtTiny vs torchvision.models.convnext_tiny', 'convnext_tiny', () => spec('convnext.net', 'ConvNeXtTiny'), big],
  ['EfficientNetV2S vs torchvision.models.efficientnet_v2_s', 'efficientnet_v2_s', () => spec('efficientnet.net', 'EfficientNetV2S'), big],
  ['RegNetX400MF vs torchvision.models.regnet_x_400mf', 'regnet_x_400mf', () => spec('regnet.net', 'RegNetX400MF'), big],
  ['RegNetY400MF vs torchvision.models.regnet_y_400mf', 'regnet_y_400mf', () => spec('regnet.net', 'RegNetY400MF'), big],
  ['InceptionV3 vs torchvision.models.inception_v3', 'inception_v3', () => spec('inception.net', 'InceptionV3'), big],
];

describe('PyTorch cross-check', () => {
  for (const [title, ref, make, enabled] of cases) {
    it.skipIf(!hasTorch || skipping(`PyTorch cross-check ${title}`, !enabled && NEEDS_BIG))(title, async () => {
      const net = make();
      const dir = tempDir(`torch-${ref}`);
      try {
        const file = path.join(dir, 'model.onnx');
        writeOnnx(net, file, { weights: distinctWeights(17) });
        const dims = [2, ...net.input];
        const input = randomInput(sizeOf(dims), 5);
        const out = await runOrt(file, input, dims);
        writeFloats(path.join(dir, 'input.f32'), input);
        writeFloats(path.join(dir, 'ort.f32'), out.data);
        const r = JSON.parse(
          runPython('torch_crosscheck.py', [ref, file, path.join(dir, 'input.f32'), path.join(dir, 'ort.f32'), dims.join(',')]),
        ) as { max_abs_diff: number; max_abs_output: number; output_shape: number[]; tensors: number };
        console.log(`${ref}: max |torch − onnxruntime| = ${r.max_abs_diff.toExponential(2)} (outputs up to ${r.max_abs_output.toFixed(3)}, ${r.tensors} tensors mapped)`);
        expect(r.output_shape).toEqual([2, ...net.output]);
        expect(r.max_abs_diff).toBeLessThanOrEqual(1e-4);
        // the outputs are not trivially equal (e.g. all zero)
        expect(r.max_abs_output).toBeGreaterThan(1e-3);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }, 300_000);
  }
});
