// alexnetc's own tfjs layers, for what tfjs-layers lacks or does differently:
// LRN with ONNX's meaning, convolution with groups / explicit pads / stride and
// dilation together, pools with arbitrary pads and ceil mode, and batch norm.
// They are defined against whichever tfjs namespace the program loaded
// (tfjs-node and pure tfjs share one tfjs-core), and registered with
// tf.serialization so a saved model reloads. Tensors are NHWC throughout.
//
// Where the backend has alexnetc's fused kernels (pure tfjs with the fast
// kernels installed: src/kernels) a layer calls them: a convolution
// keeps its padding inside im2col, batch norm is two passes each way. Other
// backends (tfjs-node, webgl, the stock cpu kernels) get compositions of
// stock ops that every backend has, as before.
import { walkPadAfter, windowOut } from '../../layers/window-size.js';
import type { Tf } from './tf.js';

type Tensor = import('@tensorflow/tfjs').Tensor;
type Tensor4D = import('@tensorflow/tfjs').Tensor4D;
type Shape = (number | null)[];
type Config = Record<string, unknown>;
type LayerVariable = import('@tensorflow/tfjs').LayerVariable;
/** The stock BatchNormalization's fields the fused path reads. */
interface BatchNormFields {
  axis: number; momentum: number; epsilon: number; center: boolean; scale: boolean;
  gamma: LayerVariable; beta: LayerVariable; movingMean: LayerVariable; movingVariance: LayerVariable;
}

/** Class names, as written into model.json. */
export const CUSTOM_LAYERS = [
  'AlexnetcLRN', 'AlexnetcConv2D', 'AlexnetcPool2D', 'AlexnetcBatchNorm', 'AlexnetcActivation', 'AlexnetcScale',
  'AlexnetcClassToken', 'AlexnetcPositionEmbedding', 'AlexnetcAttention', 'AlexnetcToken', 'AlexnetcLayerNorm', 'AlexnetcSlice',
] as const;

/** The element-wise functions of AlexnetcActivation (those tfjs-layers lacks or defines otherwise), by its `fn` config. */
export const ACTIVATION_FUNCTIONS = ['gelu', 'gelu_tanh', 'hardswish', 'hardsigmoid', 'elu'] as const;
export type ActivationFunction = (typeof ACTIVATION_FUNCTIONS)[number];

const registered = new WeakMap<object, true>();

function pair(v: unknown): [number, number] {
  return Array.isArray(v) ? [Number(v[0]), Number(v[1])] : [Number(v), Number(v)];
}

function single(inputs: Tensor | Tensor[]): Tensor4D {
  return (Array.isArray(inputs) ? inputs[0] : inputs) as Tensor4D;
}

/**
 * Does the current backend have this alexnetc kernel, and may it be used
 * here? Not under a second tape (a gradient of a gradient): the fused
 * kernels' gradients are not differentiable themselves. A fused call that
 * finds the kernels' memory full (OutOfKernelMemory) falls back to the
 * composition below.
 */
function fused(tf: Tf, kernel: string): boolean {
  if (tf.getKernel(kernel, tf.getBackend()) === undefined) return false;
  const engine = tf.engine() as unknown as { state: { gradientDepth: number } };
  return engine.state.gradientDepth <= 1;
}

/** f(), or null when it ran out of the fast kernels' memory. */
function outOfMemoryAsNull<T>(f: () => T): T | null {
  try {
    return f();
  } catch (e) {
    if (e instanceof Error && e.name === 'OutOfKernelMemory') return null;
    throw e;
  }
}

/** Register alexnetc's custom layers with this tfjs (idempotent). Needed before loading a saved model. */
export function registerCustomLayers(tf: Tf): void {
  if (registered.has(tf.serialization.SerializationMap.getMap())) return;
  const Layer = tf.layers.Layer;

  /** b = a / (bias + alpha/size · Σ a²)^beta over `size` channels centred on c (ONNX LRN; even sizes lean forward as ONNX does). */
  class AlexnetcLRN extends Layer {
    static className = 'AlexnetcLRN';
    readonly size: number;
    readonly alpha: number;
    readonly beta: number;
    readonly lrnBias: number;
    constructor(config: Config) {
      super(config);
      this.size = Number(config.size ?? 5);
      this.alpha = Number(config.alpha ?? 1e-4);
      this.beta = Number(config.beta ?? 0.75);
      this.lrnBias = Number(config.bias ?? 1);
    }
    override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
      return inputShape;
    }
    override call(inputs: Tensor | Tensor[]): Tensor {
      return tf.tidy(() => {
        const x = single(inputs);
        if (this.size % 2 === 1) {
          // tfjs's op: a radius and an undivided alpha
          return tf.localResponseNormalization(x, (this.size - 1) / 2, this.lrnBias, this.alpha / this.size, this.beta);
        }
        const lo = Math.floor((this.size - 1) / 2);
        const hi = this.size - 1 - lo;
        const c = x.shape[3];
        const sq = tf.pad(tf.square(x), [[0, 0], [0, 0], [0, 0], [lo, hi]]);
        let sum: Tensor = tf.slice(sq, [0, 0, 0, 0], [-1, -1, -1, c]);
        for (let j = 1; j < this.size; j++) sum = tf.add(sum, tf.slice(sq, [0, 0, 0, j], [-1, -1, -1, c]));
        return tf.div(x, tf.pow(tf.add(tf.mul(sum, this.alpha / this.size), this.lrnBias), this.beta));
      });
    }
    override getConfig() {
      return { ...super.getConfig(), size: this.size, alpha: this.alpha, beta: this.beta, bias: this.lrnBias };
    }
  }

  /** Convolution with explicit [top, left, bottom, right] pads, `groups`, and stride with dilation. Kernel [kh, kw, C/g, F]. */
  class AlexnetcConv2D extends Layer {
    static className = 'AlexnetcConv2D';
    readonly filters: number;
    readonly kernelSize: [number, number];
    readonly strides: [number, number];
    readonly pads: [number, number, number, number];
    readonly dilationRate: [number, number];
    readonly groups: number;
    readonly useBias: boolean;
    private kernel?: import('@tensorflow/tfjs').LayerVariable;
    private biasWeight?: import('@tensorflow/tfjs').LayerVariable;
    constructor(config: Config) {
      super(config);
      this.filters = Number(config.filters);
      this.kernelSize = pair(config.kernelSize);
      this.strides = pair(config.strides ?? 1);
      const p = (config.pads ?? [0, 0, 0, 0]) as number[];
      this.pads = [p[0]!, p[1]!, p[2]!, p[3]!];
      this.dilationRate = pair(config.dilationRate ?? 1);
      this.groups = Number(config.groups ?? 1);
      this.useBias = config.useBias !== false;
    }
    override build(inputShape: Shape | Shape[]): void {
      const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
      const c = s[s.length - 1] as number;
      const [kh, kw] = this.kernelSize;
      this.kernel = this.addWeight('kernel', [kh, kw, c / this.groups, this.filters], 'float32', tf.initializers.zeros());
      if (this.useBias) this.biasWeight = this.addWeight('bias', [this.filters], 'float32', tf.initializers.zeros());
      this.built = true;
    }
    override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
      const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
      const [t, l, b, r] = this.pads;
      const h = s[1] == null ? null : windowOut(s[1], t, b, this.kernelSize[0], this.strides[0], this.dilationRate[0], false);
      const w = s[2] == null ? null : windowOut(s[2], l, r, this.kernelSize[1], this.strides[1], this.dilationRate[1], false);
      return [s[0]!, h, w, this.filters];
    }
    override call(inputs: Tensor | Tensor[]): Tensor {
      return tf.tidy(() => {
        const kernel = this.kernel!.read() as Tensor4D;
        if (fused(tf, 'AlexnetcConv2D')) {
          const ins: Record<string, Tensor> = { x: single(inputs), filter: kernel };
          if (this.biasWeight) ins.bias = this.biasWeight.read();
          const attrs = { strides: this.strides, pads: this.pads, dilations: this.dilationRate, groups: this.groups };
          const y = outOfMemoryAsNull(() => tf.engine().runKernel('AlexnetcConv2D', ins as never, attrs as never) as Tensor);
          if (y !== null) return y;
        }
        const [t, l, b, r] = this.pads;
        let x = single(inputs);
        if (t || l || b || r) x = tf.pad(x, [[0, 0], [t, b], [l, r], [0, 0]]);
        const dilated = this.dilationRate[0] > 1 || this.dilationRate[1] > 1;
        // tfjs refuses stride and dilation together: convolve densely, then keep every stride-th output
        const stride: [number, number] = dilated ? [1, 1] : this.strides;
        const conv = (xi: Tensor4D, ki: Tensor4D): Tensor4D => tf.conv2d(xi, ki, stride, 'valid', 'NHWC', this.dilationRate);
        let y: Tensor4D;
        if (this.groups === 1) y = conv(x, kernel);
        else {
          const xs = tf.split(x, this.groups, 3);
          const ks = tf.split(kernel, this.groups, 3);
          y = tf.concat(xs.map((xi, i) => conv(xi as Tensor4D, ks[i] as Tensor4D)), 3);
        }
        if (dilated && (this.strides[0] > 1 || this.strides[1] > 1)) {
          y = tf.stridedSlice(y, [0, 0, 0, 0], [0, 0, 0, 0], [1, this.strides[0], this.strides[1], 1], 15, 15) as Tensor4D;
        }
        return this.biasWeight ? tf.add(y, this.biasWeight.read()) : y;
      });
    }
    override getConfig() {
      return {
        ...super.getConfig(),
        filters: this.filters,
        kernelSize: this.kernelSize,
        strides: this.strides,
        pads: this.pads,
        dilationRate: this.dilationRate,
        groups: this.groups,
        useBias: this.useBias,
      };
    }
  }

  /**
   * Max or average pooling with explicit pads and ceil mode. Max pads with
   * −∞ (padding never wins); average pads with zeros and rescales each
   * window by k / (real values in it), so padding is not counted (ONNX
   * count_include_pad = 0, PyTorch count_include_pad = False).
   */
  class AlexnetcPool2D extends Layer {
    static className = 'AlexnetcPool2D';
    /** avgpad: the padding's zeros count in the mean (count_include_pad) */
    readonly mode: 'max' | 'avg' | 'avgpad';
    readonly poolSize: [number, number];
    readonly strides: [number, number];
    readonly pads: [number, number, number, number];
    readonly ceil: boolean;
    private readonly scales = new Map<string, Tensor>();
    constructor(config: Config) {
      super(config);
      this.mode = config.mode === 'avg' || config.mode === 'avgpad' ? config.mode : 'max';
      this.poolSize = pair(config.poolSize);
      this.strides = pair(config.strides ?? config.poolSize);
      const p = (config.pads ?? [0, 0, 0, 0]) as number[];
      this.pads = [p[0]!, p[1]!, p[2]!, p[3]!];
      this.ceil = config.ceil === true;
    }
    private out(size: number, axis: 0 | 1): number {
      return windowOut(size, this.pads[axis], this.pads[axis + 2]!, this.poolSize[axis], this.strides[axis], 1, this.ceil);
    }
    override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
      const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
      return [s[0]!, s[1] == null ? null : this.out(s[1], 0), s[2] == null ? null : this.out(s[2], 1), s[3]!];
    }
    /** pads that make a valid pool produce exactly the output windows: the far side grows for ceil mode */
    private padding(h: number, w: number): [[number, number], [number, number]] {
      const far = (size: number, axis: 0 | 1): number =>
        walkPadAfter(size, this.pads[axis], this.poolSize[axis], this.strides[axis], this.out(size, axis));
      return [
        [this.pads[0], far(h, 0)],
        [this.pads[1], far(w, 1)],
      ];
    }
    /** [1, Ho, Wo, 1]: window size / real values in the window */
    private scale(h: number, w: number): Tensor {
      const key = `${h}x${w}`;
      let s = this.scales.get(key);
      if (!s) {
        const factors = (size: number, axis: 0 | 1): number[] =>
          Array.from({ length: this.out(size, axis) }, (_, o) => {
            const start = o * this.strides[axis] - this.pads[axis];
            const n = Math.min(start + this.poolSize[axis], size) - Math.max(start, 0);
            return this.poolSize[axis] / n;
          });
        const fh = factors(h, 0);
        const fw = factors(w, 1);
        const data = new Float32Array(fh.length * fw.length);
        fh.forEach((a, i) => fw.forEach((b, j) => (data[i * fw.length + j] = a * b)));
        s = tf.keep(tf.tensor4d(data, [1, fh.length, fw.length, 1]));
        this.scales.set(key, s);
      }
      return s;
    }
    override call(inputs: Tensor | Tensor[]): Tensor {
      return tf.tidy(() => {
        const x = single(inputs);
        const [ph, pw] = this.padding(x.shape[1], x.shape[2]);
        if (this.mode === 'max' && tf.getBackend() === 'cpu') {
          // the cpu kernels (stock and fast) skip cells outside the image: the pads stay inside the pool
          return tf.maxPool(x, this.poolSize, this.strides, [[0, 0], ph, pw, [0, 0]]);
        }
        const padded = tf.pad(x, [[0, 0], ph, pw, [0, 0]], this.mode === 'max' ? -Infinity : 0);
        if (this.mode === 'max') return tf.maxPool(padded, this.poolSize, this.strides, 'valid');
        if (this.mode === 'avgpad') return tf.avgPool(padded, this.poolSize, this.strides, 'valid');
        return tf.mul(tf.avgPool(padded, this.poolSize, this.strides, 'valid'), this.scale(x.shape[1], x.shape[2]));
      });
    }
    override getConfig() {
      return { ...super.getConfig(), mode: this.mode, poolSize: this.poolSize, strides: this.strides, pads: this.pads, ceil: this.ceil };
    }
  }

  /**
   * tfjs-layers' BatchNormalization (same weights, config and inference),
   * training on alexnetc's fused kernel where the backend has it. Like the
   * stock layer it normalises with the batch's biased variance and moves the
   * running statistics by `momentum` (Keras' share kept).
   */
  const StockBatchNorm = tf.serialization.SerializationMap.getMap().classNameMap.BatchNormalization![0] as unknown as typeof Layer;
  class AlexnetcBatchNorm extends StockBatchNorm {
    static className = 'AlexnetcBatchNorm';
    override call(inputs: Tensor | Tensor[], kwargs: Config): Tensor | Tensor[] {
      const self = this as unknown as BatchNormFields;
      const x = single(inputs) as Tensor;
      const axis = self.axis < 0 ? self.axis + x.rank : self.axis;
      if (kwargs.training !== true || axis !== x.rank - 1 || !self.scale || !self.center || !fused(tf, 'AlexnetcBatchNormTrain')) {
        return super.call(inputs, kwargs);
      }
      const out = outOfMemoryAsNull(() => tf.engine().runKernel(
        'AlexnetcBatchNormTrain',
        { x, scale: self.gamma.read(), offset: self.beta.read() } as never,
        { varianceEpsilon: self.epsilon } as never,
      ) as Tensor[]);
      if (out === null) return super.call(inputs, kwargs);
      const [y, mean, variance] = out;
      const decay = 1 - self.momentum;
      for (const [v, batch] of [[self.movingMean, mean], [self.movingVariance, variance]] as const) {
        tf.tidy(() => {
          const old = v.read();
          v.write(tf.sub(old, tf.mul(tf.sub(old, batch!), decay)));
        });
      }
      tf.dispose([mean!, variance!]); // the gradient keeps its own copies
      return y!;
    }
  }

  /**
   * Element-wise activations tfjs-layers lacks, or defines otherwise than
   * PyTorch (its hardSigmoid is 0.2·x + 0.5): compositions of stock ops, so
   * every backend runs them and autodiff gives their gradients.
   */
  class AlexnetcActivation extends Layer {
    static className = 'AlexnetcActivation';
    readonly fn: ActivationFunction;
    /** elu's slope of the exponential part (1 elsewhere, unused) */
    readonly alpha: number;
    constructor(config: Config) {
      super(config);
      const fn = String(config.fn) as ActivationFunction;
      if (!ACTIVATION_FUNCTIONS.includes(fn)) throw new Error(`AlexnetcActivation has no function ${String(config.fn)}`);
      this.fn = fn;
      this.alpha = config.alpha === undefined ? 1 : Number(config.alpha);
    }
    override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
      return inputShape;
    }
    override call(inputs: Tensor | Tensor[]): Tensor {
      return tf.tidy(() => activation(tf, this.fn, single(inputs), this.alpha));
    }
    override getConfig() {
      return { ...super.getConfig(), fn: this.fn, ...(this.fn === 'elu' ? { alpha: this.alpha } : {}) };
    }
  }

  /** A learned factor per channel (the last axis): ConvNeXt's layer scale. */
  class AlexnetcScale extends Layer {
    static className = 'AlexnetcScale';
    private factor?: LayerVariable;
    override build(inputShape: Shape | Shape[]): void {
      const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
      this.factor = this.addWeight('scale', [Number(s[s.length - 1])], 'float32', tf.initializers.ones());
      this.built = true;
    }
    override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
      return inputShape;
    }
    override call(inputs: Tensor | Tensor[]): Tensor {
      return tf.tidy(() => tf.mul(single(inputs), this.factor!.read()));
    }
  }

  /**
   * Layer normalisation over the last axis with learned gamma and beta, as
   * tfjs-layers' LayerNormalization computes it, but with broadcasting ops:
   * the stock layer tiles its statistics and weights to the input's full size
   * (four Tile kernels), and a Tile's gradient is a slice and an add per
   * repetition, thousands of kernels per token sequence.
   */
  class AlexnetcLayerNorm extends Layer {
    static className = 'AlexnetcLayerNorm';
    readonly epsilon: number;
    private gamma?: LayerVariable;
    private beta?: LayerVariable;
    constructor(config: Config) {
      super(config);
      this.epsilon = Number(config.epsilon ?? 1e-3);
    }
    override build(inputShape: Shape | Shape[]): void {
      const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
      const c = Number(s[s.length - 1]);
      this.gamma = this.addWeight('gamma', [c], 'float32', tf.initializers.ones());
      this.beta = this.addWeight('beta', [c], 'float32', tf.initializers.zeros());
      this.built = true;
    }
    override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
      return inputShape;
    }
    override call(inputs: Tensor | Tensor[]): Tensor {
      return tf.tidy(() => {
        const x = single(inputs) as Tensor;
        if (fused(tf, 'AlexnetcLayerNorm')) {
          // one kernel each way (src/kernels/layernorm.ts) instead of a dozen
          const out = outOfMemoryAsNull(() => tf.engine().runKernel(
            'AlexnetcLayerNorm', { x, gamma: this.gamma!.read(), beta: this.beta!.read() } as never, { epsilon: this.epsilon } as never) as Tensor[]);
          if (out !== null) return out[0]!;
        }
        const { mean, variance } = tf.moments(x, -1, true);
        const normed = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, this.epsilon)));
        return tf.add(tf.mul(normed, this.gamma!.read()), this.beta!.read());
      });
    }
    override getConfig() {
      return { ...super.getConfig(), epsilon: this.epsilon };
    }
  }

  /** Prepends the learned class token [1, 1, D] to tokens [N, T, D]. */
  class AlexnetcClassToken extends Layer {
    static className = 'AlexnetcClassToken';
    private token?: LayerVariable;
    override build(inputShape: Shape | Shape[]): void {
      const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
      this.token = this.addWeight('class_token', [1, 1, s[2] as number], 'float32', tf.initializers.zeros());
      this.built = true;
    }
    override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
      const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
      return [s[0]!, s[1] == null ? null : (s[1] as number) + 1, s[2]!];
    }
    override call(inputs: Tensor | Tensor[]): Tensor {
      return tf.tidy(() => {
        const x = single(inputs) as Tensor;
        const cls = tf.tile(this.token!.read(), [x.shape[0]!, 1, 1]);
        return tf.concat([cls, x], 1);
      });
    }
  }

  /** Adds the learned position embeddings [1, T, D] to tokens [N, T, D]. */
  class AlexnetcPositionEmbedding extends Layer {
    static className = 'AlexnetcPositionEmbedding';
    private embedding?: LayerVariable;
    override build(inputShape: Shape | Shape[]): void {
      const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
      this.embedding = this.addWeight('pos_embedding', [1, s[1] as number, s[2] as number], 'float32', tf.initializers.zeros());
      this.built = true;
    }
    override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
      return inputShape;
    }
    override call(inputs: Tensor | Tensor[]): Tensor {
      return tf.tidy(() => tf.add(single(inputs), this.embedding!.read()));
    }
  }

  /** One token's features: [N, T, D] → [N, D]. */
  class AlexnetcToken extends Layer {
    static className = 'AlexnetcToken';
    readonly index: number;
    constructor(config: Config) {
      super(config);
      this.index = Number(config.index ?? 0);
    }
    override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
      const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
      return [s[0]!, s[2]!];
    }
    override call(inputs: Tensor | Tensor[]): Tensor {
      return tf.tidy(() => {
        const x = single(inputs) as Tensor;
        return tf.reshape(tf.slice(x, [0, this.index, 0], [-1, 1, -1]), [x.shape[0]!, x.shape[2]!]);
      });
    }
    override getConfig() {
      return { ...super.getConfig(), index: this.index };
    }
  }

  /**
   * Multi-head self-attention on tokens [N, T, D] with nn.MultiheadAttention's
   * weights (kernels transposed, as tfjs's Dense holds them): the packed q, k, v
   * projection [D, 3D], softmax(q·kᵀ/√(D/heads))·v per head, dropout on the
   * attention weights in training, the output projection [D, D].
   */
  class AlexnetcAttention extends Layer {
    static className = 'AlexnetcAttention';
    readonly heads: number;
    readonly dropout: number;
    readonly useBias: boolean;
    private inKernel?: LayerVariable;
    private inBias?: LayerVariable;
    private outKernel?: LayerVariable;
    private outBias?: LayerVariable;
    constructor(config: Config) {
      super(config);
      this.heads = Number(config.heads);
      this.dropout = Number(config.dropout ?? 0);
      this.useBias = config.useBias !== false;
    }
    override build(inputShape: Shape | Shape[]): void {
      const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
      const d = s[2] as number;
      this.inKernel = this.addWeight('in_proj_kernel', [d, 3 * d], 'float32', tf.initializers.zeros());
      if (this.useBias) this.inBias = this.addWeight('in_proj_bias', [3 * d], 'float32', tf.initializers.zeros());
      this.outKernel = this.addWeight('out_proj_kernel', [d, d], 'float32', tf.initializers.zeros());
      if (this.useBias) this.outBias = this.addWeight('out_proj_bias', [d], 'float32', tf.initializers.zeros());
      this.built = true;
    }
    override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
      return inputShape;
    }
    override call(inputs: Tensor | Tensor[], kwargs: Config): Tensor {
      return tf.tidy(() => {
        const x = single(inputs) as Tensor;
        const [n, t, d] = x.shape as [number, number, number];
        const h = this.heads;
        const dh = d / h;
        const linear = (v: Tensor, k: LayerVariable, b: LayerVariable | undefined): Tensor => {
          const y = tf.matMul(v as import('@tensorflow/tfjs').Tensor2D, k.read() as import('@tensorflow/tfjs').Tensor2D);
          return b ? tf.add(y, b.read()) : y;
        };
        const qkv = linear(tf.reshape(x, [n * t, d]), this.inKernel!, this.inBias);
        // [N·T, 3D] → three [N, heads, T, D/heads]
        const heads = tf.transpose(tf.reshape(qkv, [n, t, 3, h, dh]), [2, 0, 3, 1, 4]);
        const [q, k, v] = tf.unstack(heads, 0);
        let weights = tf.softmax(tf.matMul(tf.mul(q!, 1 / Math.sqrt(dh)), k!, false, true));
        if (kwargs?.training === true && this.dropout > 0) weights = tf.dropout(weights, this.dropout);
        const joined = tf.reshape(tf.transpose(tf.matMul(weights, v!), [0, 2, 1, 3]), [n * t, d]);
        return tf.reshape(linear(joined, this.outKernel!, this.outBias), [n, t, d]);
      });
    }
    override getConfig() {
      return { ...super.getConfig(), heads: this.heads, dropout: this.dropout, useBias: this.useBias };
    }
  }

  /** `size` channels (the last axis) from `begin`: one branch of a split. */
  class AlexnetcSlice extends Layer {
    static className = 'AlexnetcSlice';
    readonly begin: number;
    readonly size: number;
    constructor(config: Config) {
      super(config);
      this.begin = Number(config.begin);
      this.size = Number(config.size);
    }
    override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
      const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
      return [...s.slice(0, -1), this.size];
    }
    override call(inputs: Tensor | Tensor[]): Tensor {
      return tf.tidy(() => {
        const x = single(inputs) as Tensor;
        const begin = x.shape.map((_, i) => (i === x.rank - 1 ? this.begin : 0));
        const size = x.shape.map((d, i) => (i === x.rank - 1 ? this.size : d));
        return tf.slice(x, begin, size);
      });
    }
    override getConfig() {
      return { ...super.getConfig(), begin: this.begin, size: this.size };
    }
  }

  for (const cls of [
    AlexnetcLRN, AlexnetcConv2D, AlexnetcPool2D, AlexnetcBatchNorm, AlexnetcActivation, AlexnetcScale,
    AlexnetcClassToken, AlexnetcPositionEmbedding, AlexnetcAttention, AlexnetcToken, AlexnetcLayerNorm, AlexnetcSlice,
  ]) tf.serialization.registerClass(cls as never);
  registered.set(tf.serialization.SerializationMap.getMap(), true);
}

/** One of AlexnetcActivation's functions on a tensor, from stock ops. */
export function activation(tf: Tf, fn: ActivationFunction, x: Tensor, alpha = 1): Tensor {
  switch (fn) {
    case 'gelu': {
      // ½ · x · (1 + erf(x / √2)), as nn.GELU(); one kernel each way where the fast kernels are
      const y = fused(tf, 'AlexnetcGelu') ? outOfMemoryAsNull(() => tf.engine().runKernel('AlexnetcGelu', { x } as never) as Tensor) : null;
      return y ?? tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.div(x, Math.SQRT2)), 1));
    }
    case 'gelu_tanh': {
      // ½ · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³))), as nn.GELU(approximate="tanh")
      const inner = tf.mul(tf.add(x, tf.mul(tf.mul(tf.mul(x, x), x), 0.044715)), Math.sqrt(2 / Math.PI));
      return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
    }
    case 'hardsigmoid':
      // relu6(x + 3) / 6, as nn.Hardsigmoid (tfjs's hardSigmoid is 0.2·x + 0.5)
      return tf.div(tf.relu6(tf.add(x, 3)), 6);
    case 'hardswish':
      // x · relu6(x + 3) / 6, as nn.Hardswish
      return tf.mul(x, tf.div(tf.relu6(tf.add(x, 3)), 6));
    case 'elu':
      // x if x > 0 else alpha · (eˣ − 1), as nn.ELU(alpha) (tfjs's ELU layer takes only alpha 1):
      // (1 − alpha) · relu(x) + alpha · elu(x), differentiable by stock ops
      return alpha === 1 ? tf.elu(x) : tf.add(tf.mul(tf.relu(x), 1 - alpha), tf.mul(tf.elu(x), alpha));
    default: {
      const never: never = fn;
      throw new Error(`unhandled activation ${String(never)}`);
    }
  }
}
