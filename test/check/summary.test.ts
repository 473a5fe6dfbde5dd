// Totals must equal the published figures (torchvision's model docs, Caffe's
// bvlc_alexnet, the LeNet-5 paper); the per-stage tables are golden files.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compile.js';
import { renderSummary, summarize } from '../../src/summary.js';
import { expectGolden } from '../golden.js';

const specs = path.join(import.meta.dirname, '../../specs');
const golden = path.join(import.meta.dirname, '../fixtures/summary');

function net(file: string, name: string, set?: Record<string, string>) {
  const r = compile(readFileSync(path.join(specs, file), 'utf8'), { network: name, set });
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return r.network!;
}

const published: [string, string, number, number?][] = [
  ['alexnet.net', 'AlexNet', 60_965_224],
  ['alexnet.net', 'AlexNetTorchvision', 61_100_840, 714_188_480],
  ['lenet5.net', 'LeNet5', 61_706],
  ['vgg.net', 'VGG11', 132_863_336],
  ['vgg.net', 'VGG13', 133_047_848],
  ['vgg.net', 'VGG16', 138_357_544],
  ['vgg.net', 'VGG19', 143_667_240],
  ['vgg.net', 'VGG11_BN', 132_868_840],
  ['vgg.net', 'VGG13_BN', 133_053_736],
  ['vgg.net', 'VGG16_BN', 138_365_992],
  ['vgg.net', 'VGG19_BN', 143_678_248],
  ['resnet.net', 'ResNet18', 11_689_512],
  ['resnet.net', 'ResNet34', 21_797_672],
  ['googlenet.net', 'GoogLeNet', 6_624_904],
  // torchvision's GFLOPS for ViT (17.564, 4.409) count attention's two batched products with the projections
  ['vit.net', 'ViT_B_16', 86_567_656, 17_563_828_224],
  ['vit.net', 'ViT_B_32', 88_224_232, 4_409_186_304],
  ['mobilenet.net', 'MobileNetV2', 3_504_872, 300_774_272],
  ['mobilenet.net', 'MobileNetV3Small', 2_542_856, 56_510_400],
  ['mobilenet.net', 'MobileNetV3Large', 5_483_032, 216_589_760],
  ['densenet.net', 'DenseNet121', 7_978_856, 2_834_161_664],
  ['squeezenet.net', 'SqueezeNet1_0', 1_248_424, 818_924_576],
  ['squeezenet.net', 'SqueezeNet1_1', 1_235_496, 349_151_936],
  ['mnasnet.net', 'MNASNet1_0', 4_383_312, 314_415_872],
  ['shufflenet.net', 'ShuffleNetV2_x0_5', 1_366_792, 40_476_448],
  ['shufflenet.net', 'ShuffleNetV2_x1_0', 2_278_604, 144_907_992],
  ['efficientnet.net', 'EfficientNetB0', 5_288_548, 385_814_752],
  ['efficientnet.net', 'EfficientNetV2S', 21_458_488, 8_365_617_152],
  ['convnext.net', 'ConvNeXtTiny', 28_589_128, 4_455_531_264],
  ['regnet.net', 'RegNetX400MF', 5_495_976, 413_812_608],
  ['regnet.net', 'RegNetY400MF', 4_344_144, 401_842_848],
  ['inception.net', 'InceptionV3', 23_834_568, 5_713_216_096],
];

describe('published parameter counts', () => {
  for (const [file, name, params, macs] of published) {
    it(`${name}: ${params.toLocaleString('en-US')} parameters${macs ? `, ${macs.toLocaleString('en-US')} MACs` : ''}`, () => {
      const n = net(file, name);
      expect(n.totalParams).toBe(params);
      if (macs !== undefined) expect(n.totalMacs).toBe(macs);
    });
  }

  it('LeNet-5 at 28×28 (--set size=28) has the same parameters and a 28×28 input', () => {
    const n = net('lenet5.net', 'LeNet5', { size: '28' });
    expect(n.input).toEqual([1, 28, 28]);
    expect(n.totalParams).toBe(61_706);
  });

  it('--set classes=10 changes only the last layer', () => {
    const n = net('alexnet.net', 'AlexNetTorchvision', { classes: '10' });
    expect(n.totalParams).toBe(61_100_840 - 4_097_000 + 4096 * 10 + 10);
  });
});

describe('summary tables', () => {
  for (const [file, name] of published) {
    it(name, () => {
      const s = summarize(net(file, name));
      expect(s.rows.reduce((a, r) => a + r.params, 0)).toBe(s.totalParams);
      expectGolden(path.join(golden, `${name}.txt`), renderSummary(s) + '\n');
    });
  }
});
