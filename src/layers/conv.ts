import { formatShape } from '../diagnostics/index.js';
import { one, padArg, pairArg, readWindow } from './onnx-import.js';
import { py } from './python.js';
import { defineLayer, type ArgValue, type ImportContext, type ImportResult, type OnnxNodeView, type TfjsWeight, type WeightSpec } from './types.js';
import { documented } from './reference.js';
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

export const conv = documented(defineLayer<ConvArgs>({
  name: 'conv',
  kind: 'conv',
  mixes: 'both',
  positional: 2,
  // a depthwise conv(c, k, groups c) filters each channel alone: its channels follow its input's, and
  // when the input narrows its filters and groups arguments are written with the new width (a MobileNet
  // expansion prunes the depthwise groups with it); any other conv makes new channels from its group's inputs
  channels: (a) =>
    a.groups > 1 && a.groups === a.inChannels && a.filters === a.groups
      ? { kind: 'each', width: ['filters', 'groups'] }
      : { kind: 'new', groups: a.groups, inputs: ['weight'], width: 'filters' },
  onnxImport: { ops: ['Conv', 'Pad'], convert: (c) => (c.node.op === 'Pad' ? importPad(c) : importConv(c)) },
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
    if (raw.pad !== 'same' && (p[0] >= k[0] || p[1] >= k[1] || p[2] >= k[0] || p[3] >= k[1])) {
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
}), { output: '`[filters, ⌊(H+pt+pb−d(k−1)−1)/s⌋+1, …]`', onnx: 'Conv' });

function importConv(c: ImportContext, extraPads: number[] = [0, 0, 0, 0]): ImportResult {
  const w = c.weight(1, 'weight');
  if (w.dims.length !== 4) c.fail(`has a ${w.dims.length - 2}-D kernel [${w.dims.join(', ')}]; alexnetc's conv is 2-D`);
  const kernel = c.ints('kernel_shape') ?? w.dims.slice(2);
  if (kernel[0] !== w.dims[2] || kernel[1] !== w.dims[3]) c.fail(`kernel_shape [${kernel.join(', ')}] disagrees with its weight [${w.dims.join(', ')}]`);
  const win = readWindow(c, kernel);
  if (extraPads.some((p) => p > 0) && c.string('auto_pad', 'NOTSET') !== 'NOTSET') c.fail('combines auto_pad with a Pad before it');
  win.pads = win.pads.map((p, i) => p + extraPads[i]!);
  const groups = c.int('group', 1);
  const weights = [w];
  if (c.hasInput(2)) weights.push(c.weight(2, 'bias'));
  const args: Record<string, ArgValue> = {
    filters: w.dims[0]!,
    k: pairArg(kernel),
    stride: pairArg(win.stride),
    pad: padArg(win.pads),
    dilation: pairArg(win.dilation),
    groups,
    bias: weights.length === 2,
  };
  return one(c, c.layer('conv', args, weights));
}

/**
 * Zero padding before a Conv (what tf2onnx and some PyTorch exports write):
 * folded into the Conv's own pads. Before an AveragePool it is the
 * padding of `avgpool(…, countpad true)` (PyTorch's count_include_pad=True
 * export); before anything else it is refused.
 */
function importPad(c: ImportContext): ImportResult {
  const n = c.node;
  const mode = c.string('mode', 'constant');
  const pads = c.hasInput(1) ? (c.constInts(1) as number[]) : (c.ints('pads') ?? []);
  const value = c.hasInput(2) ? (c.floats(2).values[0] ?? 0) : c.float('value', 0);
  if (c.hasInput(3)) c.fail('pads chosen axes (the axes input); alexnetc folds only padding of height and width');
  const next = c.next();
  const rank = c.inShape.length + 1;
  // ONNX pads: all begins, then all ends, over [N, C, H, W]
  const spatialOnly = rank === 4 && pads.length === 8 && [0, 1, 4, 5].every((i) => pads[i] === 0) && pads.every((p) => p >= 0);
  const zeros = mode === 'constant' && value === 0 && spatialOnly && next !== undefined && next.inputs[0] === n.outputs[0];
  // PyTorch exports avg_pool2d(count_include_pad=True) as a zero Pad and an AveragePool without pads: avgpool countpad
  if (zeros && next.op === 'AveragePool') return importCountPad(c, next, [pads[2]!, pads[3]!, pads[6]!, pads[7]!]);
  if (mode !== 'constant' || value !== 0 || !spatialOnly || !next || next.op !== 'Conv' || next.inputs[0] !== n.outputs[0]) {
    const why =
      next?.op === 'AveragePool'
        ? "pads before an AveragePool, which then counts the padding in its averages; alexnetc's avgpool leaves padding out of the mean (PyTorch: count_include_pad=False)"
        : `is a ${mode} padding${mode === 'constant' ? ` with ${value}` : ''} of [${pads.join(', ')}] followed by ${next ? `${next.op} '${next.name}'` : 'more than one node'}; alexnetc folds only zero padding of height and width into a Conv`;
    c.fail(why);
  }
  const r = importConv(c.at(next!), [pads[2]!, pads[3]!, pads[6]!, pads[7]!]);
  r.layers[0]!.nodes.unshift(n);
  return r;
}

/** A zero Pad then an AveragePool of its own without pads: the padding counts in the mean (avgpool countpad). */
function importCountPad(c: ImportContext, poolNode: OnnxNodeView, pads: number[]): ImportResult {
  const p = c.at(poolNode);
  const kernel = p.ints('kernel_shape');
  if (!kernel) p.fail('has no kernel_shape');
  const win = readWindow(p, kernel!);
  if (win.pads.some((x) => x !== 0) || p.int('ceil_mode', 0) !== 0 || win.dilation.some((d) => d !== 1)) {
    p.fail('follows a Pad and pads, dilates or rounds up itself; alexnetc reads a Pad before an AveragePool only as the padding of `avgpool(…, countpad true)`');
  }
  // a Pad of nothing (DenseNet's transition: AvgPool2d(2) with count_include_pad=True, no padding) counts nothing
  const padded = pads.some((x) => x > 0);
  const args: Record<string, ArgValue> = { k: pairArg(win.k), stride: pairArg(win.stride), pad: padArg(pads), ...(padded ? { countpad: true } : {}) };
  return { layers: [p.layer('avgpool', args, [], [c.node, poolNode])], out: poolNode.outputs[0]! };
}
