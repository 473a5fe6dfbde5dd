// Reference architectures built by hand (see build.ts), mirroring PyTorch's
// module order so that initializers zip with state_dict entries.
import type { Network } from '../../src/check/ir.js';
import { buildNetwork, l, type Item } from './build.js';

export function lenet5(): Network {
  return buildNetwork('LeNet5', [1, 32, 32], [
    l('conv', { filters: 6, k: 5 }), l('tanh'), l('avgpool', { k: 2 }),
    l('conv', { filters: 16, k: 5 }), l('tanh'), l('avgpool', { k: 2 }),
    l('conv', { filters: 120, k: 5 }), l('tanh'),
    l('flatten'), l('dense', { units: 84 }), l('tanh'), l('dense', { units: 10 }),
  ]);
}

/** torchvision.models.alexnet; its AdaptiveAvgPool2d((6, 6)) is the identity at 224×224 */
export function alexnetTorchvision(classes = 1000): Network {
  return buildNetwork('AlexNetTorchvision', [3, 224, 224], [
    l('conv', { filters: 64, k: 11, stride: 4, pad: 2 }), l('relu'), l('maxpool', { k: 3, stride: 2 }),
    l('conv', { filters: 192, k: 5, pad: 2 }), l('relu'), l('maxpool', { k: 3, stride: 2 }),
    l('conv', { filters: 384, k: 3, pad: 1 }), l('relu'),
    l('conv', { filters: 256, k: 3, pad: 1 }), l('relu'),
    l('conv', { filters: 256, k: 3, pad: 1 }), l('relu'), l('maxpool', { k: 3, stride: 2 }),
    l('flatten'),
    l('dropout'), l('dense', { units: 4096 }), l('relu'),
    l('dropout'), l('dense', { units: 4096 }), l('relu'),
    l('dense', { units: classes }),
  ]);
}

function basicBlock(filters: number, stride: number, downsample: boolean): Item[] {
  return [
    {
      residual: [
        l('conv', { filters, k: 3, stride, pad: 1, bias: false }), l('batchnorm'), l('relu'),
        l('conv', { filters, k: 3, pad: 1, bias: false }), l('batchnorm'),
      ],
      shortcut: downsample ? [l('conv', { filters, k: 1, stride, bias: false }), l('batchnorm')] : undefined,
    },
    l('relu'),
  ];
}

/** torchvision.models.resnet18 */
export function resnet18(classes = 1000): Network {
  const stage = (f: number, first: boolean): Item[] => [...basicBlock(f, first ? 1 : 2, !first), ...basicBlock(f, 1, false)];
  return buildNetwork('ResNet18', [3, 224, 224], [
    l('conv', { filters: 64, k: 7, stride: 2, pad: 3, bias: false }), l('batchnorm'), l('relu'),
    l('maxpool', { k: 3, stride: 2, pad: 1 }),
    ...stage(64, true), ...stage(128, false), ...stage(256, false), ...stage(512, false),
    l('globalavgpool'), l('flatten'), l('dense', { units: classes }),
  ]);
}

/** Every layer kind and construct at least once, on a small input. */
export function kitchenSink(): Network {
  return buildNetwork('KitchenSink', [3, 19, 17], [
    l('conv', { filters: 8, k: [3, 5], stride: [1, 2], pad: [1, 0, 2, 2] }), l('batchnorm', { eps: 1e-3 }), l('leakyrelu', { alpha: 0.2 }),
    l('lrn', { size: 3, alpha: 5e-4, bias: 2 }),
    l('maxpool', { k: 3, stride: 2, pad: 1, ceil: true }),
    { residual: [l('conv', { filters: 8, k: 3, pad: 'same', groups: 2 }), l('relu')] },
    {
      concat: [
        [l('conv', { filters: 4, k: 1 })],
        [l('conv', { filters: 6, k: 3, pad: 2, dilation: 2 }), l('sigmoid')],
        [l('avgpool', { k: 3, stride: 1, pad: 1 })],
        [],
      ],
    },
    { add: [[l('conv', { filters: 26, k: 1, bias: false })], [l('identity')], [l('tanh')]] },
    { add: [[l('conv', { filters: 26, k: 1 })], []] },
    l('avgpool', { k: 2, ceil: true }), l('globalavgpool'),
    l('flatten'), l('dropout', { rate: 0.3 }), l('dense', { units: 10, bias: false }), l('softmax'),
  ]);
}

/** VGG layouts: numbers are conv widths, 'M' a 2×2 max pool (torchvision's cfgs). */
export const VGG_CFG = {
  VGG11: [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
  VGG19: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M', 512, 512, 512, 512, 'M'],
} as const;

export function vgg(name: string, cfg: readonly (number | 'M')[], input: number[]): Network {
  const features = cfg.flatMap((c): Item[] => (c === 'M' ? [l('maxpool', { k: 2 })] : [l('conv', { filters: c, k: 3, pad: 1 }), l('relu')]));
  return buildNetwork(name, input, [
    ...features,
    l('flatten'), l('dense', { units: 4096 }), l('relu'), l('dropout'),
    l('dense', { units: 4096 }), l('relu'), l('dropout'), l('dense', { units: 1000 }),
  ]);
}

/** VGG-11 at 64×64 input: ~28M parameters (~113 MB), enough to exercise the streaming path in a test. */
export const vggSmallInput = (): Network => vgg('VGG11At64', VGG_CFG.VGG11, [3, 64, 64]);
