// The remaining shipped networks at 224×224, batch 1. tfjs's stock cpu
// convolution needs ~25 s for one VGG11 forward pass on this machine, so these
// run on the same pure-JS cpu backend with the project's im2col+GEMM kernels
// (src/kernels, checked against the stock ones in test/train). The
// lowering under test is the same; networks.test.ts covers stock kernels.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installFastKernels, uninstallFastKernels } from '../../src/kernels/index.js';
import { checkShipped, cpu, tf } from './helpers.js';

const FAST: [string, string][] = [
  ['alexnet', 'AlexNetTorchvision'],
  ['resnet', 'ResNet34'],
  ...['VGG11', 'VGG13', 'VGG16', 'VGG19', 'VGG11_BN', 'VGG13_BN', 'VGG16_BN', 'VGG19_BN'].map((n): [string, string] => ['vgg', n]),
  // ~1 min each on two cores: with ALEXNETC_BIG_TESTS=1 (measured: ViT_B_32 max rel diff 1.2e-6)
  ...(process.env.ALEXNETC_BIG_TESTS === '1' ? ['ViT_B_32', 'ViT_B_16'].map((n): [string, string] => ['vit', n]) : []),
];

describe('shipped networks: tfjs = ONNX (fast cpu kernels)', () => {
  const results: string[] = [];
  beforeAll(async () => {
    await cpu();
    installFastKernels(tf as never);
  });
  afterAll(() => {
    uninstallFastKernels(tf as never);
    console.log(results.join('\n'));
  });
  for (const [file, name] of FAST) {
    it(name, async () => expect(await checkShipped(file, name, results)).toBeLessThanOrEqual(1e-4), 300_000);
  }
});
