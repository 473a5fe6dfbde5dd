import { one, padArg, pairArg, readWindow } from './onnx-import.js';
import { py } from './python.js';
import { defineLayer, type ArgValue, type ImportContext, type ImportResult, type LayerDef, type TorchLowering } from './types.js';
import { documented } from './reference.js';
import { needImage, onnxWindow, pads, pair, windowOutput, type Pads, type Pair } from './window.js';

export interface PoolArgs {
  k: Pair;
  stride: Pair;
  pads: Pads;
  ceil: boolean;
  /** avgpool: padding counts in the mean (PyTorch's count_include_pad=True) */
  countpad: boolean;
}

function pool(name: 'maxpool' | 'avgpool', op: 'MaxPool' | 'AveragePool', summary: string, doc: string, aliases: string[]): LayerDef<PoolArgs> {
  return defineLayer<PoolArgs>({
    name,
    summary,
    doc,
    aliases,
    kind: 'pool',
    mixes: 'space',
    positional: 2,
    channels: () => ({ kind: 'each' }),
    onnxImport: { ops: [op], convert: (c) => importPool(c, name) },
    args: [
      { name: 'k', type: 'int2', min: 1, doc: 'window size: k or [kh, kw]', aliases: ['pool_size', 'kernel_size', 'kernel', 'kernel_shape', 'ksize', 'size'] },
      // the default stride is the window size (PyTorch, Keras)
      { name: 'stride', type: 'int2', default: null, min: 1, doc: 'step between windows (default: k)', aliases: ['strides'] },
      { name: 'pad', type: 'pad', default: 0, min: 0, doc: 'implicit padding: p, [ph, pw], [top, left, bottom, right] or same', aliases: ['padding', 'pads'] },
      { name: 'ceil', type: 'bool', default: false, doc: 'round the output size up (Caffe, PyTorch ceil_mode)', aliases: ['ceil_mode'] },
      ...(op === 'AveragePool'
        ? [{ name: 'countpad', type: 'bool' as const, default: false, doc: 'count the padding in the mean (PyTorch count_include_pad=True, Inception-v3)', aliases: ['count_include_pad'] }]
        : []),
    ],
    infer(raw, input, ctx) {
      if (!needImage(input, ctx, name)) return undefined;
      const k = pair(raw.k!);
      const stride: Pair = raw.stride === undefined ? k : pair(raw.stride);
      const p = pads(raw.pad!, [input[1]!, input[2]!], k, stride, [1, 1]);
      for (let i = 0; i < 2; i++) {
        // ONNX and PyTorch both require pad ≤ half the window: a window entirely in padding has no value.
        const half = Math.floor(k[i]! / 2);
        if (raw.pad !== 'same' && (p[i]! > half || p[i + 2]! > half)) {
          ctx.error('E202', `${name} padding ${Math.max(p[i]!, p[i + 2]!)} exceeds half the window (${k[i]}/2 = ${half})`, 'pad');
          return undefined;
        }
      }
      const ceil = raw.ceil as boolean;
      const countpad = raw.countpad === true;
      if (countpad && ceil) {
        // PyTorch and onnxruntime disagree on what a window past the padding counts
        ctx.error('E202', `${name}: \`countpad true\` with \`ceil true\` is ambiguous (the back ends count a window that runs past the padding differently); use one of them`, 'countpad');
        return undefined;
      }
      const hw = windowOutput({ k, stride, pads: p, dilation: [1, 1], ceil }, input, ctx, name);
      if (!hw) return undefined;
      return { args: { k, stride, pads: p, ceil, countpad }, shape: [input[0]!, hw[0], hw[1]] };
    },
    weights: () => [],
    macs: () => 0,
    onnx(a, g, input, output) {
      // ceil mode as ONNX can say it (see onnxWindow): ceil_mode where it means the same, explicit pads where not
      const w = onnxWindow({ ...a, dilation: [1, 1] }, input, [output[1]!, output[2]!]);
      const attrs = {
        kernel_shape: { ints: a.k },
        strides: { ints: a.stride },
        pads: { ints: w.pads },
        ceil_mode: { i: w.ceilMode },
      };
      // count_include_pad: whether padding counts in averages
      return g.node(op, [g.input], op === 'AveragePool' ? { ...attrs, count_include_pad: { i: a.countpad ? 1 : 0 } } : attrs);
    },
    tfjs(a, g) {
      // tfjs's `same` pools ignore padded positions (max) and leave them out of the count (average),
      // exactly as ONNX does; other pads, and ceil mode, need alexnetc's own pool layer
      const padded = a.pads.some((p) => p > 0);
      const mode = a.countpad && padded ? 'explicit' : g.padding(a.pads, a.k, a.stride, [1, 1], a.ceil);
      if (mode !== 'explicit') {
        return g.layer(op === 'MaxPool' ? 'MaxPooling2D' : 'AveragePooling2D', { poolSize: a.k, strides: a.stride, padding: mode });
      }
      const config = { mode: op === 'MaxPool' ? 'max' : a.countpad ? 'avgpad' : 'avg', poolSize: a.k, strides: a.stride, pads: a.pads, ceil: a.ceil };
      return g.layer('AlexnetcPool2D', config);
    },
    torch: torchPool(name, op === 'MaxPool' ? 'max' : 'avg'),
  });
}

// PyTorch's pools pad symmetrically (and round up by the same rule as
// alexnetc in ceil mode); other pads need Pool2d, which pads explicitly:
// -inf for max, and for averages it divides by the count of real values.
function torchPool(name: string, mode: 'max' | 'avg'): TorchLowering {
  // the continuation lines up under the call's parenthesis in the body below
  const native =
    mode === 'max'
      ? 'nn.MaxPool2d(k, stride, (top, left), ceil_mode=ceil)'
      : 'nn.AvgPool2d(k, stride, (top, left), ceil_mode=ceil,\n' + ' '.repeat(24) + 'count_include_pad=countpad)';
  return {
    uses: ['pair', 'explicit_pads', 'window_output'],
    body: py`
      channels, height, width = self.image("${name}")
      k = pair(k, "k")
      stride = k if stride is None else pair(stride, "stride")
      pads = explicit_pads(pad, (height, width), k, stride, (1, 1))
      out = window_output((height, width), k, stride, pads, ceil=ceil)
      top, left, bottom, right = pads
      mode = MODE
      if top == bottom and left == right:
          pool = NATIVE
      else:
          pool = Pool2d(mode, k, stride, pads, ceil)
      return self.append("${name}", pool, (channels,) + out)
    `
      .replace('NATIVE', native)
      .replace('MODE', mode === 'max' ? '"max"' : '"avgpad" if countpad else "avg"'),
    classes: py`
      class Pool2d(nn.Module):
          """Max or average pooling with padding (top, left, bottom, right)
          that PyTorch's pools cannot express; averages count only the values
          inside the image, like count_include_pad=False (mode "avg"), or
          the padding too (mode "avgpad")."""

          def __init__(self, mode, k, stride, pads, ceil):
              super().__init__()
              self.mode, self.k, self.stride = mode, k, stride
              self.pads, self.ceil = tuple(pads), ceil

          def forward(self, x):
              size = x.shape[-2:]
              out = window_output(size, self.k, self.stride, self.pads,
                                  ceil=self.ceil)
              top, left = self.pads[:2]
              # pad so that exactly the out windows fit (negative: crop)
              bottom = (out[0] - 1) * self.stride[0] + self.k[0] - top - size[0]
              right = (out[1] - 1) * self.stride[1] + self.k[1] - left - size[1]
              pads = (left, right, top, bottom)
              if self.mode == "max":
                  x = F.pad(x, pads, value=-math.inf)
                  return F.max_pool2d(x, self.k, self.stride)
              if self.mode == "avgpad":
                  # count_include_pad=True: the padding's zeros count
                  return F.avg_pool2d(F.pad(x, pads), self.k, self.stride)
              ones = F.pad(x.new_ones((1, 1) + tuple(size)), pads)
              total = F.avg_pool2d(F.pad(x, pads), self.k, self.stride,
                                   divisor_override=1)
              count = F.avg_pool2d(ones, self.k, self.stride, divisor_override=1)
              return total / count

          def extra_repr(self):
              return (f"{self.mode}, k={self.k}, stride={self.stride}, "
                      f"pads={self.pads}, ceil={self.ceil}")
    `,
  };
}

export const maxpool = documented(pool(
  'maxpool',
  'MaxPool',
  'Max pooling over k×k windows of an image.',
  'out = max over each window. Stride defaults to k. Output size as conv; with `ceil true` it rounds up, but a window starting inside the right/bottom padding is dropped (PyTorch/ONNX rule).',
  ['maxpool2d', 'max_pool', 'max_pool2d', 'maxpooling2d'],
), { output: 'as conv, channels kept', onnx: 'MaxPool' });

export const avgpool = documented(pool(
  'avgpool',
  'AveragePool',
  'Average pooling over k×k windows; padded positions are not counted.',
  'out = mean of the non-padding values in each window (PyTorch count_include_pad=False, ONNX count_include_pad=0). Stride defaults to k.',
  ['avgpool2d', 'avg_pool', 'avg_pool2d', 'averagepool', 'averagepooling2d', 'average_pooling2d'],
), { output: 'as maxpool; padding not counted in the mean unless `countpad true` (PyTorch\'s count_include_pad=True, Inception-v3; not with `ceil true`)', onnx: 'AveragePool (count_include_pad 0 or 1)' });

function importPool(c: ImportContext, kind: 'maxpool' | 'avgpool'): ImportResult {
  const kernel = c.ints('kernel_shape');
  if (!kernel) c.fail('has no kernel_shape');
  const win = readWindow(c, kernel!);
  if (win.dilation.some((d) => d !== 1)) c.fail(`dilations [${win.dilation.join(', ')}]: alexnetc's ${kind} has no dilation`);
  const ceil = c.int('ceil_mode', 0) === 1;
  if (kind === 'maxpool') c.onlyFirstOutput('the indices');
  let countpad = false;
  if (kind === 'avgpool' && c.int('count_include_pad', 0) === 1) {
    // with no padding and no partial window counting the padding changes nothing
    const partial = [0, 1].some((i) => {
      const size = c.inShape[i + 1]!;
      return (size - win.k[i]!) % win.stride[i]! !== 0 && ceil;
    });
    if (partial) c.fail("counts padding in its averages (count_include_pad=1) in ceil mode; alexnetc's avgpool takes `countpad true` or `ceil true`, not both");
    countpad = win.pads.some((p) => p > 0);
  }
  // a 1×1 window with stride 1 is the identity (AdaptiveAvgPool2d to the size it already has)
  if (win.k.every((k) => k === 1) && win.stride.every((s) => s === 1) && win.pads.every((p) => p === 0)) return one(c, undefined);
  const args: Record<string, ArgValue> = { k: pairArg(win.k), stride: pairArg(win.stride), pad: padArg(win.pads), ceil, ...(countpad ? { countpad } : {}) };
  return one(c, c.layer(kind, args));
}
