import { defineLayer, type LayerDef } from './types.js';
import { floorPads, needImage, pads, pair, windowOutput, type Pads, type Pair } from './window.js';

export interface PoolArgs {
  k: Pair;
  stride: Pair;
  pads: Pads;
  ceil: boolean;
}

function pool(name: 'maxpool' | 'avgpool', op: 'MaxPool' | 'AveragePool', summary: string, doc: string, aliases: string[]): LayerDef<PoolArgs> {
  return defineLayer<PoolArgs>({
    name,
    summary,
    doc,
    aliases,
    args: [
      { name: 'k', type: 'int2', min: 1, doc: 'window size: k or [kh, kw]', aliases: ['pool_size', 'kernel_size', 'kernel', 'kernel_shape', 'ksize', 'size'] },
      // the default stride is the window size (PyTorch, Keras)
      { name: 'stride', type: 'int2', default: null, min: 1, doc: 'step between windows (default: k)', aliases: ['strides'] },
      { name: 'pad', type: 'pad', default: 0, min: 0, doc: 'implicit padding: p, [ph, pw], [top, left, bottom, right] or same', aliases: ['padding', 'pads'] },
      { name: 'ceil', type: 'bool', default: false, doc: 'round the output size up (Caffe, PyTorch ceil_mode)', aliases: ['ceil_mode'] },
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
      const hw = windowOutput({ k, stride, pads: p, dilation: [1, 1], ceil }, input, ctx, name);
      if (!hw) return undefined;
      return { args: { k, stride, pads: p, ceil }, shape: [input[0]!, hw[0], hw[1]] };
    },
    weights: () => [],
    macs: () => 0,
    onnx(a, g, input, output) {
      // ceil mode as explicit end pads (see floorPads): ONNX's shape inference and the runtimes agree on those
      const pads = a.ceil ? floorPads({ ...a, dilation: [1, 1] }, input, [output[1]!, output[2]!]) : a.pads;
      const attrs = {
        kernel_shape: { ints: a.k },
        strides: { ints: a.stride },
        pads: { ints: pads },
      };
      // count_include_pad defaults to 0: padding is not counted in averages
      return g.node(op, [g.input], op === 'AveragePool' ? { ...attrs, count_include_pad: { i: 0 } } : attrs);
    },
    tfjs(a, g) {
      // tfjs's `same` pools ignore padded positions (max) and leave them out of the count (average),
      // exactly as ONNX does; other pads, and ceil mode, need alexnetc's own pool layer
      const mode = g.padding(a.pads, a.k, a.stride, [1, 1], a.ceil);
      if (mode !== 'explicit') {
        return g.layer(op === 'MaxPool' ? 'MaxPooling2D' : 'AveragePooling2D', { poolSize: a.k, strides: a.stride, padding: mode });
      }
      const config = { mode: op === 'MaxPool' ? 'max' : 'avg', poolSize: a.k, strides: a.stride, pads: a.pads, ceil: a.ceil };
      return g.layer('AlexnetcPool2D', config);
    },
  });
}

export const maxpool = pool(
  'maxpool',
  'MaxPool',
  'Max pooling over k×k windows of an image.',
  'out = max over each window. Stride defaults to k. Output size as conv; with `ceil true` it rounds up, but a window starting inside the right/bottom padding is dropped (PyTorch/ONNX rule).',
  ['maxpool2d', 'max_pool', 'max_pool2d', 'maxpooling2d'],
);

export const avgpool = pool(
  'avgpool',
  'AveragePool',
  'Average pooling over k×k windows; padded positions are not counted.',
  'out = mean of the non-padding values in each window (PyTorch count_include_pad=False, ONNX count_include_pad=0). Stride defaults to k.',
  ['avgpool2d', 'avg_pool', 'avg_pool2d', 'averagepool', 'averagepooling2d', 'average_pooling2d'],
);
