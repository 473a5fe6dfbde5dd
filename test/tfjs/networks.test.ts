// Shipped networks at their real input size (batch 1): the tfjs model and the
// ONNX graph, built from one set of random weights, agree to 1e-4. These four
// hold every tfjs-specific lowering (LRN, grouped conv, explicit-pad and
// ceil-mode pools, residuals, concat) and run on tfjs's stock cpu kernels;
// the rest are in networks-fast.test.ts.
import { afterAll, describe, expect, it } from 'vitest';
import { checkShipped } from './helpers.js';

const STOCK: [string, string][] = [
  ['lenet5', 'LeNet5'],
  ['alexnet', 'AlexNet'],
  ['googlenet', 'GoogLeNet'],
  ['resnet', 'ResNet18'],
  ['vit', 'ViT_Tiny28'],
];

describe('shipped networks: tfjs = ONNX (stock cpu kernels)', () => {
  const results: string[] = [];
  afterAll(() => console.log(results.join('\n')));
  for (const [file, name] of STOCK) {
    it(name, async () => expect(await checkShipped(file, name, results)).toBeLessThanOrEqual(1e-4), 300_000);
  }
});
