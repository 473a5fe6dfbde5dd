import { f32, one } from './onnx-import.js';
import { py } from './python.js';
import { defineLayer } from './types.js';
import { documented } from './reference.js';
import { needImage } from './window.js';

export interface LrnArgs {
  size: number;
  alpha: number;
  beta: number;
  bias: number;
}

export const lrn = documented(defineLayer<LrnArgs>({
  name: 'lrn',
  kind: 'norm',
  mixes: 'channels',
  channels: () => ({ kind: 'mixes' }),
  onnxImport: {
    ops: ['LRN'],
    convert: (c) => {
      const args = { size: c.int('size', 0), alpha: f32(c.float('alpha', 1e-4)), beta: f32(c.float('beta', 0.75)), bias: f32(c.float('bias', 1)) };
      return one(c, c.layer('lrn', args));
    },
  },
  summary: 'Local response normalisation across channels (AlexNet).',
  aliases: ['localresponsenorm', 'local_response_normalization', 'local_response_norm'],
  doc:
    'b[c] = a[c] / (bias + alpha/size · Σ a[c′]²)^beta, the sum over the `size` channels centred on c ' +
    '(ONNX, Caffe and PyTorch convention: alpha is divided by size). The AlexNet paper\'s k = 2, α = 1e-4 ' +
    'undivided is lrn(alpha 5e-4, bias 2).',
  args: [
    { name: 'size', type: 'int', default: 5, min: 1, doc: 'channels in the window', aliases: ['local_size', 'depth_radius', 'n'] },
    // onnxruntime refuses alpha, beta or bias that are not positive
    { name: 'alpha', type: 'number', default: 1e-4, above: 0, doc: 'scale (divided by size)' },
    { name: 'beta', type: 'number', default: 0.75, above: 0, doc: 'exponent' },
    { name: 'bias', type: 'number', default: 1, above: 0, doc: 'additive constant (k)', aliases: ['k'] },
  ],
  infer(raw, input, ctx) {
    if (!needImage(input, ctx, 'lrn')) return undefined;
    if ((raw.size as number) % 2 === 0) {
      // valid ONNX and PyTorch (the window leans forward), but onnxruntime and Caffe accept odd sizes only:
      // a network the checker accepts must load everywhere
      ctx.error('E202', `lrn size must be odd, got ${raw.size}: an even window is not centred, and onnxruntime and Caffe refuse it`, 'size');
      return undefined;
    }
    return {
      args: { size: raw.size as number, alpha: raw.alpha as number, beta: raw.beta as number, bias: raw.bias as number },
      shape: [...input],
    };
  },
  weights: () => [],
  macs: () => 0,
  onnx: (a, g) =>
    g.node('LRN', [g.input], { size: { i: a.size }, alpha: { f: a.alpha }, beta: { f: a.beta }, bias: { f: a.bias } }),
  // tfjs has no LRN layer, and its LRN op takes a radius and an undivided alpha: alexnetc's layer keeps ONNX's meaning
  tfjs: (a, g) => g.layer('AlexnetcLRN', { size: a.size, alpha: a.alpha, beta: a.beta, bias: a.bias }),
  // nn.LocalResponseNorm has ONNX's formula, but for even sizes its window leans back a channel where ONNX's leans forward
  torch: {
    uses: ['whole'],
    body: py`
      self.image("lrn")
      size = whole(size, "size")
      norm = nn.LocalResponseNorm if size % 2 else EvenLocalResponseNorm
      return self.append("lrn", norm(size, alpha, beta, bias), self.shape)
    `,
    classes: py`
      class EvenLocalResponseNorm(nn.LocalResponseNorm):
          """nn.LocalResponseNorm with ONNX's window for an even size:
          (size - 1) // 2 channels before c and size // 2 after it."""

          def forward(self, x):
              before, after = (self.size - 1) // 2, self.size // 2
              squares = F.pad((x * x).unsqueeze(1), (0, 0, 0, 0, before, after))
              window = F.avg_pool3d(squares, (self.size, 1, 1), stride=1)
              return x / (self.k + self.alpha * window.squeeze(1)) ** self.beta
    `,
  },
}), { output: 'same', onnx: 'LRN' });
