import { formatShape } from '../diagnostics/index.js';
import { py } from './python.js';
import { defineLayer, type TfjsWeight, type WeightSpec } from './types.js';
import { needImage, pads, pair, windowOutput, type Pads, type Pair } from './window.js';

export interface ConvArgs {
  filters: number;
  k: Pair;
  stride: Pair;
  pads: Pads;
  dilation: Pair;
  groups: number;
  bias: boolean;
  inChannels: number;
}

export const conv = defineLayer<ConvArgs>({
  name: 'conv',
  summary: '2-D convolution over an image [C, H, W].',
  aliases: ['conv2d', 'convolution', 'convolution2d'],
  doc:
    'out[f] = bias[f] + Σ_c Σ_ij w[f, c, i, j] · x[c, s·y + d·i − pt, s·x + d·j − pl]\n' +
    'Output [filters, ⌊(H + pt + pb − d(k−1) − 1)/s⌋ + 1, …]. `groups g` splits input and output channels ' +
    'into g independent groups (AlexNet\'s two towers); both must be divisible by g. `pad same` pads as ' +
    'TensorFlow does so that the output is ⌈H/s⌉.',
  args: [
    { name: 'filters', type: 'int', min: 1, doc: 'number of output channels', aliases: ['out_channels', 'units', 'num_filters', 'channels', 'features'] },
    { name: 'k', type: 'int2', min: 1, doc: 'kernel size: k or [kh, kw]', aliases: ['kernel_size', 'kernel', 'kernel_shape', 'ksize', 'size'] },
    { name: 'stride', type: 'int2', default: 1, min: 1, doc: 'step between windows', aliases: ['strides', 'subsample'] },
    { name: 'pad', type: 'pad', default: 0, min: 0, doc: 'zero padding: p, [ph, pw], [top, left, bottom, right] or same', aliases: ['padding', 'pads'] },
    { name: 'dilation', type: 'int2', default: 1, min: 1, doc: 'spacing between kernel taps', aliases: ['dilation_rate', 'dilations'] },
    { name: 'groups', type: 'int', default: 1, min: 1, doc: 'channel groups', aliases: ['group'] },
    { name: 'bias', type: 'bool', default: true, doc: 'add a learned bias per filter', aliases: ['use_bias'] },
  ],
  infer(raw, input, ctx) {
    if (!needImage(input, ctx, 'conv')) return undefined;
    const k = pair(raw.k!);
    const stride = pair(raw.stride!);
    const dilation = pair(raw.dilation!);
    const p = pads(raw.pad!, [input[1]!, input[2]!], k, stride, dilation);
    const filters = raw.filters as number;
    const groups = raw.groups as number;
    const c = input[0]!;
    let ok = true;
    if (c % groups !== 0) {
      ctx.error('E304', `conv input channels ${c} (input ${formatShape(input)}) are not divisible by groups ${groups}`, 'groups');
      ok = false;
    } else if (filters % groups !== 0) {
      ctx.error('E304', `conv filters ${filters} are not divisible by groups ${groups}`, 'groups');
      ok = false;
    }
    if (raw.pad !== 'same' && p.some((x, i) => x >= k[i % 2]!)) {
      ctx.warn('W503', `conv padding ${JSON.stringify(raw.pad)} is at least the kernel size ${k[0]}×${k[1]}: the outermost outputs see only zeros`, 'pad');
    }
    const hw = windowOutput({ k, stride, pads: p, dilation, ceil: false }, input, ctx, 'conv');
    if (!hw || !ok) return undefined;
    return {
      args: { filters, k, stride, pads: p, dilation, groups, bias: raw.bias as boolean, inChannels: c },
      shape: [filters, hw[0], hw[1]],
    };
  },
  weights(a) {
    const fanIn = (a.inChannels / a.groups) * a.k[0] * a.k[1];
    const w: WeightSpec[] = [
      {
        name: 'weight',
        shape: [a.filters, a.inChannels / a.groups, a.k[0], a.k[1]],
        init: { kind: 'he_uniform', fanIn },
        trainable: true,
      },
    ];
    if (a.bias) w.push({ name: 'bias', shape: [a.filters], init: { kind: 'zeros' }, trainable: true });
    return w;
  },
  macs(a, _input, out) {
    return out[0]! * out[1]! * out[2]! * (a.inChannels / a.groups) * a.k[0] * a.k[1];
  },
  onnx(a, g) {
    const inputs = [g.input, g.weight('weight')];
    if (a.bias) inputs.push(g.weight('bias'));
    return g.node('Conv', inputs, {
      kernel_shape: { ints: a.k },
      strides: { ints: a.stride },
      pads: { ints: a.pads },
      dilations: { ints: a.dilation },
      group: { i: a.groups },
    });
  },
  tfjs(a, g) {
    const weights: TfjsWeight[] = [{ tfjs: 'kernel', from: 'weight', layout: 'oihw' }];
    if (a.bias) weights.push({ tfjs: 'bias', from: 'bias', layout: 'same' });
    const dilated = a.dilation[0] > 1 || a.dilation[1] > 1;
    const mode = g.padding(a.pads, a.k, a.stride, a.dilation);
    // tfjs's Conv2D says `valid` and `same` but no other pads, no groups, and has no gradient for
    // dilation: alexnetc's own conv layer does the rest, with the pads inside the convolution
    if (a.groups > 1 || dilated || mode === 'explicit') {
      const config = { filters: a.filters, kernelSize: a.k, strides: a.stride, pads: a.pads, dilationRate: a.dilation, groups: a.groups, useBias: a.bias };
      return g.layer('AlexnetcConv2D', config, { weights });
    }
    const config = {
      filters: a.filters,
      kernelSize: a.k,
      strides: a.stride,
      padding: mode,
      useBias: a.bias,
      kernelInitializer: 'zeros', // the real values are set right after; zeros are cheap to make
    };
    return g.layer('Conv2D', config, { weights });
  },
  // nn.Conv2d pads symmetrically: other pads (`same` with an odd total, [t, l, b, r]) zero-pad first
  torch: {
    uses: ['whole', 'pair', 'explicit_pads', 'window_output', 'he_uniform'],
    body: py`
      channels, height, width = self.image("conv")
      k, stride = pair(k, "k"), pair(stride, "stride")
      dilation = pair(dilation, "dilation")
      pads = explicit_pads(pad, (height, width), k, stride, dilation)
      filters, groups = whole(filters, "filters"), whole(groups, "groups")
      out = window_output((height, width), k, stride, pads, dilation)
      top, left, bottom, right = pads
      if top == bottom and left == right:
          conv = nn.Conv2d(channels, filters, k, stride=stride,
                           padding=(top, left), dilation=dilation,
                           groups=groups, bias=bias)
      else:
          conv = PaddedConv2d(channels, filters, k, stride=stride, pads=pads,
                              dilation=dilation, groups=groups, bias=bias)
      return self.append("conv", he_uniform(conv), (filters,) + out)
    `,
    classes: py`
      class PaddedConv2d(nn.Conv2d):
          """nn.Conv2d after zero padding (top, left, bottom, right): the
          asymmetric padding that nn.Conv2d's own padding cannot express."""

          def __init__(self, in_channels, out_channels, k, pads, **kwargs):
              super().__init__(in_channels, out_channels, k, **kwargs)
              self.pads = tuple(pads)

          def forward(self, x):
              top, left, bottom, right = self.pads
              return super().forward(F.pad(x, (left, right, top, bottom)))

          def extra_repr(self):
              return f"{super().extra_repr()}, pads={self.pads}"
    `,
  },
});
