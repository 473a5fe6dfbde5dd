// The shipped specs of today's CNNs have torchvision's parameter count and
// multiply-accumulates: torchvision counts its own models here
// (test/python/torchvision_counts.py, conv and dense MACs as alexnetc counts
// them), and each network must equal them. The figures are also written in
// test/check/summary.test.ts and the table of shipped specs.
import { describe, expect, it } from 'vitest';
import { requirePython, runPython } from '../onnx/helpers.js';
import { spec } from '../onnx/specs.js';

const hasTorchvision = requirePython('torch, torchvision', 'torchvision parameter counts');

/** [spec file, network, torchvision model, input size] */
export const TORCHVISION_SPECS: [string, string, string, number][] = [
  ['mobilenet.net', 'MobileNetV2', 'mobilenet_v2', 224],
  ['mobilenet.net', 'MobileNetV3Small', 'mobilenet_v3_small', 224],
  ['mobilenet.net', 'MobileNetV3Large', 'mobilenet_v3_large', 224],
  ['densenet.net', 'DenseNet121', 'densenet121', 224],
  ['squeezenet.net', 'SqueezeNet1_0', 'squeezenet1_0', 224],
  ['squeezenet.net', 'SqueezeNet1_1', 'squeezenet1_1', 224],
  ['mnasnet.net', 'MNASNet1_0', 'mnasnet1_0', 224],
  ['shufflenet.net', 'ShuffleNetV2_x0_5', 'shufflenet_v2_x0_5', 224],
  ['shufflenet.net', 'ShuffleNetV2_x1_0', 'shufflenet_v2_x1_0', 224],
  ['efficientnet.net', 'EfficientNetB0', 'efficientnet_b0', 224],
  ['efficientnet.net', 'EfficientNetV2S', 'efficientnet_v2_s', 384],
  ['convnext.net', 'ConvNeXtTiny', 'convnext_tiny', 224],
  ['regnet.net', 'RegNetX400MF', 'regnet_x_400mf', 224],
  ['regnet.net', 'RegNetY400MF', 'regnet_y_400mf', 224],
  ['inception.net', 'InceptionV3', 'inception_v3', 299],
];

describe('parameters and MACs equal torchvision\'s', () => {
  it.skipIf(!hasTorchvision)('every spec of a torchvision model', () => {
    const counts = JSON.parse(runPython('torchvision_counts.py', TORCHVISION_SPECS.map(([, , tv, size]) => `${tv}:${size}`))) as Record<string, { params: number; macs: number }>;
    for (const [file, name, tv] of TORCHVISION_SPECS) {
      const n = spec(file, name);
      expect({ params: n.totalParams, macs: n.totalMacs }, `${name} vs torchvision ${tv}`).toEqual(counts[tv]);
    }
  }, 240_000);
});
