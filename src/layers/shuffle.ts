import { py } from './python.js';
import { defineLayer } from './types.js';
import { documented } from './reference.js';
import { needImage } from './window.js';

export interface ShuffleArgs {
  groups: number;
}

/**
 * ShuffleNet's channel shuffle: the channels, seen as `groups` groups of C/g,
 * are interleaved (channel g·(C/g) + i goes to i·groups + g), so the next
 * grouped convolution or split mixes information across groups.
 */
export const shuffle = documented(defineLayer<ShuffleArgs>({
  name: 'shuffle',
  kind: 'reshape',
  mixes: 'channels',
  positional: 1,
  channels: () => ({ kind: 'mixes' }),
  onnxImport: {
    none: 'exporters write a channel shuffle as Reshape to [N, g, C/g, H, W], Transpose and Reshape back: a pattern the importer recognises from its first Reshape (src/import)',
  },
  summary: 'Channel shuffle (ShuffleNet): interleaves `groups` groups of channels.',
  aliases: ['channel_shuffle', 'channelshuffle'],
  doc:
    'The channels viewed as [groups, C/groups] and transposed to [C/groups, groups]: output channel i·groups + g is ' +
    'input channel g·(C/groups) + i, as torchvision\'s channel_shuffle (nn.ChannelShuffle).',
  args: [{ name: 'groups', type: 'int', min: 1, doc: 'the number of groups interleaved' }],
  infer(raw, input, ctx) {
    if (!needImage(input, ctx, 'shuffle')) return undefined;
    const groups = raw.groups as number;
    if (input[0]! % groups !== 0) {
      ctx.error('E304', `shuffle: ${input[0]} channels do not divide into ${groups} groups`, 'groups');
      return undefined;
    }
    return { args: { groups }, shape: [...input] };
  },
  weights: () => [],
  macs: () => 0,
  onnx(a, g, input) {
    const [c, h, w] = input as [number, number, number];
    const grouped = g.node('Reshape', [g.input, g.int64s([0, a.groups, c / a.groups, h, w])]);
    const swapped = g.node('Transpose', [grouped], { perm: { ints: [0, 2, 1, 3, 4] } });
    return g.node('Reshape', [swapped, g.int64s([0, c, h, w])]);
  },
  // channels-last inside tfjs: [H, W, g, C/g] → [H, W, C/g, g] → [H, W, C]
  tfjs(a, g, input) {
    const [c, h, w] = input as [number, number, number];
    const grouped = g.layer('Reshape', { targetShape: [h, w, a.groups, c / a.groups] }, { suffix: 'groups' });
    const swapped = g.layer('Permute', { dims: [1, 2, 4, 3] }, { inputs: [grouped], suffix: 'swap' });
    return g.layer('Reshape', { targetShape: [h, w, c] }, { inputs: [swapped] });
  },
  torch: {
    body: py`
      return self.append("shuffle", ChannelShuffle(groups), self.shape)
    `,
    classes: py`
      class ChannelShuffle(nn.Module):
          """torchvision's channel_shuffle: [groups, C/groups] transposed."""

          def __init__(self, groups):
              super().__init__()
              self.groups = groups

          def forward(self, x):
              n, c, h, w = x.shape
              x = x.view(n, self.groups, c // self.groups, h, w)
              return x.transpose(1, 2).contiguous().view(n, c, h, w)

          def extra_repr(self):
              return f"groups={self.groups}"
    `,
  },
}), { note: ': channel shuffle (ShuffleNet), channels as [groups, C/groups] transposed', output: 'same', onnx: 'Reshape, Transpose, Reshape' });
