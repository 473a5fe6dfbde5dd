// The compiled step's operations: each layer's forward and backward pass as
// direct calls of the wasm kernels (kernels/ops and the kernels' own wasm
// functions) on NHWC buffers in the kernel heap, with no tfjs in between. A
// network becomes a list of these once (buildOps); a step runs the list
// forward, then backward in reverse, each op remembering the buffers its
// backward pass needs. Fusions the plan makes free: relu in the GEMM's
// epilogue after a dense layer, and after a convolution that is not a Winograd
// one (whose epilogue has no relu); the relu's gradient then reads the output.
// A relu after a batch norm rides in the batch norm's passes both ways; the
// gradient of a convolution's fused relu rides in the gradient of a max pool
// right after it whose windows tile the image; the network's input is padded
// once when its first layer is a padded im2col convolution.
import type { LayerNode, Node } from '../../check/ir.js';
import type { ConvArgs } from '../../layers/conv.js';
import type { DenseArgs } from '../../layers/dense.js';
import type { PoolArgs } from '../../layers/pool.js';
import type { BatchNormArgs } from '../../layers/batchnorm.js';
import type { Shape } from '../../layers/types.js';
import type { AttentionArgs } from '../../layers/attention.js';
import type { LayerNormArgs } from '../../layers/layernorm.js';
import { chunkRows, combine } from '../../kernels/batchnorm.js';
import { binaryInto } from '../../kernels/binary.js';
import { depthwiseBackpropFilter, depthwiseBackpropInput, depthwiseForward, isDepthwise } from '../../kernels/depthwise.js';
import { convBackpropFilter, convBackpropInput, convForward, winogradSpec, zeroFill, type ConvGeom } from '../../kernels/ops/conv.js';
import { FLAG_RELU, gemm, packB, swapPays } from '../../kernels/ops/gemm.js';
import { poolBackward, poolForward, poolFusesRelu } from '../../kernels/ops/pool.js';
import { columnSums } from '../../kernels/sum.js';
import { BLOCK } from '../../kernels/wasm/copy.js';
import { MASK_MODE } from '../../kernels/wasm/masks.js';
import type { Arena } from './arena.js';
import { Attention, AvgTokens, ClassToken, DropPath, LayerNorm, PosEmbed, Scale, TokenSelect } from './tokens.js';
import { dropoutMultipliers } from './random.js';

/** One trainable (or running-statistic) weight in the heap, in tfjs's layout. */
export interface Param {
  /** the tfjs weight name (planWeights' name, `conv1/kernel`) */
  name: string;
  /** the canonical key (`conv1.weight`) */
  key: string;
  /** tfjs shape */
  shape: number[];
  size: number;
  /** heap address of the values */
  p: number;
  /** updated by the optimizer (running statistics are not) */
  trainable: boolean;
  /** weight decay applies (conv and dense kernels) */
  decay: boolean;
  /** this step's gradient (an arena output), 0 before the first backward pass */
  grad: number;
  /** optimizer slots (momentum; Adam's m and v), heap addresses */
  slots: number[];
  /** a dense kernel after an image's flatten: internal row q holds tfjs row perm[q] (HWC order inside, CHW in tfjs) */
  perm?: Int32Array;
}

export interface Ctx {
  a: Arena;
  /** examples in this batch */
  N: number;
  training: boolean;
  /** dropout's random stream (training only) */
  random: () => number;
}

export interface Op {
  forward(c: Ctx, x: number): number;
  /** the input's gradient (0 when needDx is false); weight gradients go to their Params */
  backward(c: Ctx, dy: number, needDx: boolean): number;
}

/** A layer the compiled step has no kernel for (the caller falls back to the tfjs path). */
export class NotCompilable extends Error {
  constructor(readonly path: string, readonly reason: string) {
    super(`${path}: ${reason}`);
    this.name = 'NotCompilable';
  }
}

const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
const small = (n: number): boolean => n < 4 * BLOCK;

/** y = kernel(x) element-wise; returns y. */
export function unary(c: Ctx, kernel: string, x: number, n: number, consts = 0): number {
  const y = c.a.output(n);
  c.a.rt.parallel(kernel, Math.ceil(n / BLOCK), [x, y.p, n, consts], small(n));
  c.a.endOp();
  return y.p;
}

/** y = kernel(a, b) element-wise (an activation's gradient); returns y. */
export function binaryMap(c: Ctx, kernel: string, a: number, b: number, n: number, consts = 0): number {
  const y = c.a.output(n);
  c.a.rt.parallel(kernel, Math.ceil(n / BLOCK), [a, b, y.p, n, consts], small(n));
  c.a.endOp();
  return y.p;
}

/** y = a + b (or a · b), a new buffer. */
export function elementwise(c: Ctx, op: 'add' | 'mul', a: number, b: number, n: number): number {
  const y = c.a.output(n);
  binaryInto(c.a.io, op, a, b, y.p, n, n, false);
  c.a.endOp();
  return y.p;
}

// ---------------------------------------------------------------- activations

type ActKind = 'relu' | 'tanh' | 'sigmoid' | 'leakyrelu' | 'gelu';

class Activation implements Op {
  private x = 0;
  private y = 0;
  constructor(private readonly kind: ActKind, private readonly per: number, private readonly consts: number) {}
  forward(c: Ctx, x: number): number {
    this.x = x;
    this.y = unary(c, this.kind === 'leakyrelu' ? 'leaky_relu' : this.kind, x, c.N * this.per, this.consts);
    return this.y;
  }
  backward(c: Ctx, dy: number, needDx: boolean): number {
    if (!needDx) return 0;
    const n = c.N * this.per;
    switch (this.kind) {
      case 'relu': return binaryMap(c, 'relu_grad', this.x, dy, n);
      case 'leakyrelu': return binaryMap(c, 'leaky_relu_grad', this.x, dy, n, this.consts);
      case 'tanh': return binaryMap(c, 'tanh_grad', this.y, dy, n);
      case 'sigmoid': return binaryMap(c, 'sigmoid_grad', this.y, dy, n);
      case 'gelu': return binaryMap(c, 'gelu_grad', this.x, dy, n);
    }
  }
}

/**
 * The activations without a wasm kernel of their own (MobileNetV3's
 * hard sigmoid and hard swish, gelu's tanh form): one loop over the heap
 * each way. The forward pass rounds to float32 where the tfjs path's ops do
 * (the same formulas: custom.ts's hard swish x · relu6(x + 3) / 6); the
 * gradient is the derivative in double precision, rounded once (the tfjs
 * path's chain of float32 ops differs from it by reassociation-sized amounts).
 */
type JsActKind = 'hardsigmoid' | 'hardswish' | 'gelu_tanh';

const fr32 = Math.fround;
const GELU_C = fr32(Math.sqrt(2 / Math.PI));

function jsForward(kind: JsActKind, x: number): number {
  switch (kind) {
    case 'hardsigmoid': return fr32(Math.min(6, Math.max(0, fr32(x + 3))) / 6);
    case 'hardswish': return fr32(x * fr32(Math.min(6, Math.max(0, fr32(x + 3))) / 6));
    case 'gelu_tanh': {
      const inner = fr32(fr32(x + fr32(fr32(fr32(x * x) * x) * 0.044715)) * GELU_C);
      return fr32(fr32(x * 0.5) * fr32(fr32(Math.tanh(inner)) + 1));
    }
  }
}

/** dy · f′(x) */
function jsBackward(kind: JsActKind, x: number, dy: number): number {
  switch (kind) {
    case 'hardsigmoid': {
      const t = fr32(x + 3);
      return t > 0 && t <= 6 ? fr32(dy / 6) : 0;
    }
    case 'hardswish': {
      const t = fr32(x + 3), h = Math.min(6, Math.max(0, t)) / 6;
      return fr32(dy * (h + (t > 0 && t <= 6 ? x / 6 : 0)));
    }
    case 'gelu_tanh': {
      const k = Math.sqrt(2 / Math.PI), th = Math.tanh(k * (x + 0.044715 * x * x * x));
      return fr32(dy * (0.5 * (1 + th) + 0.5 * x * (1 - th * th) * k * (1 + 3 * 0.044715 * x * x)));
    }
  }
}

class JsActivation implements Op {
  private x = 0;
  constructor(private readonly kind: JsActKind, private readonly per: number) {}
  forward(c: Ctx, x: number): number {
    const n = c.N * this.per, y = c.a.output(n), f = c.a.heap.f32, at = x / 4, v = y.view, k = this.kind;
    for (let i = 0; i < n; i++) v[i] = jsForward(k, f[at + i]!);
    c.a.endOp();
    this.x = x;
    return y.p;
  }
  backward(c: Ctx, dy: number, needDx: boolean): number {
    if (!needDx) return 0;
    const n = c.N * this.per, dx = c.a.output(n), f = c.a.heap.f32, xa = this.x / 4, da = dy / 4, v = dx.view, k = this.kind;
    for (let i = 0; i < n; i++) v[i] = jsBackward(k, f[xa + i]!, f[da + i]!);
    c.a.endOp();
    return dx.p;
  }
}

/**
 * silu on the wasm kernels, as tfjs-layers computes swish: sigmoid(x) · x
 * (the sigmoid kernel, then a multiply); backward what autodiff does with
 * that product: sigmoid's gradient of dy · x, plus dy · sigmoid(x).
 */
class Silu implements Op {
  private x = 0;
  private s = 0;
  constructor(private readonly per: number) {}
  forward(c: Ctx, x: number): number {
    const n = c.N * this.per;
    this.x = x;
    this.s = unary(c, 'sigmoid', x, n);
    return elementwise(c, 'mul', this.s, x, n);
  }
  backward(c: Ctx, dy: number, needDx: boolean): number {
    if (!needDx) return 0;
    const n = c.N * this.per;
    const throughSigmoid = binaryMap(c, 'sigmoid_grad', this.s, elementwise(c, 'mul', dy, this.x, n), n);
    return elementwise(c, 'add', throughSigmoid, elementwise(c, 'mul', dy, this.s, n), n);
  }
}

/**
 * relu6 on the wasm kernels, as tfjs-layers computes it: minimum(6, relu(x))
 * (relu, then binary_min with the scalar 6); backward the Minimum gradient's
 * mask dy · (6 > r) (mask_gt), then relu's gradient.
 */
class Relu6 implements Op {
  private x = 0;
  private r = 0;
  constructor(private readonly per: number, private readonly six: number) {}
  forward(c: Ctx, x: number): number {
    const n = c.N * this.per;
    this.x = x;
    this.r = unary(c, 'relu', x, n);
    return elementwiseScalar(c, 'min', this.r, this.six, n);
  }
  backward(c: Ctx, dy: number, needDx: boolean): number {
    if (!needDx) return 0;
    const n = c.N * this.per, dr = c.a.output(n);
    c.a.rt.parallel('mask_gt', Math.ceil(n / BLOCK), [this.six, this.r, dy, dr.p, n, MASK_MODE.scalarA], small(n));
    c.a.endOp();
    return binaryMap(c, 'relu_grad', this.x, dr.p, n);
  }
}

/** y = a op s, s one float at `scalar`. */
function elementwiseScalar(c: Ctx, op: 'min', a: number, scalar: number, n: number): number {
  const y = c.a.output(n);
  binaryInto(c.a.io, op, a, scalar, y.p, n, 1, false);
  c.a.endOp();
  return y.p;
}

// ---------------------------------------------------------------- convolution

type Geo = Omit<ConvGeom, 'N'>;

class Conv implements Op {
  private x = 0;
  private y = 0;
  /** one filter per channel: the direct depthwise kernels (never with a fused relu) */
  private readonly depthwise: boolean;
  /** the max pool after it takes the fused relu's gradient along (set at build time) */
  reluGradInPool = false;
  /**
   * `pad`: the input is padded first (its zero borders written here) and geo
   * is the unpadded convolution of the padded input; as the network's first
   * op its input needs no gradient, so the padding's backward (a crop) never runs there.
   */
  constructor(private readonly geo: Geo, private readonly w: Param, private readonly b: Param | null, readonly relu: boolean,
    private readonly pad: PadImage | null = null) {
    this.depthwise = isDepthwise({ ...geo, N: 1 });
    if (this.depthwise && relu) throw new Error('internal: a depthwise convolution has no relu epilogue');
  }
  forward(c: Ctx, x: number): number {
    if (this.pad) x = this.pad.forward(c, x);
    this.x = x;
    const g: ConvGeom = { ...this.geo, N: c.N };
    this.y = (this.depthwise ? depthwiseForward(c.a.io, g, x, this.w.p, this.b?.p ?? 0) : convForward(c.a.io, g, x, this.w.p, this.b?.p ?? 0, this.relu)).p;
    c.a.endOp();
    return this.y;
  }
  backward(c: Ctx, dy: number, needDx: boolean): number {
    const g: ConvGeom = { ...this.geo, N: c.N };
    const rows = c.N * g.OH * g.OW;
    if (this.relu && !this.reluGradInPool) dy = binaryMap(c, 'relu_grad', this.y, dy, rows * g.F);
    if (this.w.trainable) {
      this.w.grad = (this.depthwise ? depthwiseBackpropFilter(c.a.io, g, this.x, dy) : convBackpropFilter(c.a.io, g, this.x, dy)).p;
      c.a.endOp();
    }
    if (this.b?.trainable) {
      this.b.grad = columnSums(c.a.io, dy, rows, g.F).p;
      c.a.endOp();
    }
    if (!needDx) return 0;
    const dx = (this.depthwise ? depthwiseBackpropInput(c.a.io, g, dy, this.w.p) : convBackpropInput(c.a.io, g, dy, this.w.p)).p;
    c.a.endOp();
    return this.pad ? this.pad.backward(c, dx, true) : dx;
  }
}

/** Images [H, W, C] into zero borders [Hp, Wp, C] (top rows and left columns before them); backward crops. */
class PadImage implements Op {
  constructor(private readonly H: number, private readonly W: number, private readonly C: number, private readonly top: number, private readonly left: number,
    private readonly Hp: number, private readonly Wp: number) {}
  private at(n: number): number {
    return ((n * this.Hp + this.top) * this.Wp + this.left) * this.C * 4;
  }
  forward(c: Ctx, x: number): number {
    const run = this.W * this.C, n = c.N * this.Hp * this.Wp * this.C;
    const y = c.a.output(n);
    zeroFill(c.a.io, y.p, n);
    for (let i = 0; i < c.N; i++) rowsCopy(c, x + i * this.H * run * 4, run, y.p + this.at(i), this.Wp * this.C, run, this.H);
    c.a.endOp();
    return y.p;
  }
  backward(c: Ctx, dy: number, needDx: boolean): number {
    if (!needDx) return 0;
    const run = this.W * this.C;
    const dx = c.a.output(c.N * this.H * run);
    for (let i = 0; i < c.N; i++) rowsCopy(c, dy + this.at(i), this.Wp * this.C, dx.p + i * this.H * run * 4, run, run, this.H);
    c.a.endOp();
    return dx.p;
  }
}

// ---------------------------------------------------------------- dense

/** The GEMM packs its right operand: when that is the big one (and K too), Cᵀ = Bᵀ·Aᵀ is computed instead — the rule kernels/matmul.ts follows (swapPays). */
const swapped = swapPays;

/**
 * C[M, N] = A[M, K] · B where B[k, j] is at b + k·ldb + 4j (or b + j·ldb + 4k
 * when tb); A row-major (or column-major when ta); a new output, plus bias
 * (a row of N, or 0) and relu.
 */
export function product(c: Ctx, M: number, K: number, N: number, a: number, ta: boolean, b: number, ldb: number, tb: boolean, bias: number, relu: boolean): number {
  const io = c.a.io;
  const out = c.a.output(M * N);
  if (!swapped(M, K, N)) {
    const bp = packB(io, b, ldb, tb, K, N);
    gemm(io, { M, N, K, a, rs: ta ? 4 : K * 4, cs: ta ? M * 4 : 4, bp, c: out.p, ldc: N * 4, bias, flags: relu ? FLAG_RELU : 0 });
    c.a.endOp();
    return out.p;
  }
  // Cᵀ[N, M] = Bᵀ · Aᵀ: B read in place, A packed
  const ct = io.temp(M * N);
  const bp = packB(io, a, ta ? M * 4 : K * 4, !ta, K, M);
  gemm(io, { M: N, N: M, K, a: b, rs: tb ? ldb : 4, cs: tb ? 4 : ldb, bp, c: ct, ldc: M * 4 });
  const f = c.a.heap.f32, o = out.p / 4, s = ct / 4, bi = bias / 4;
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let v = f[s + j * M + i]!;
      if (bias !== 0) v = Math.fround(v + f[bi + j]!);
      f[o + i * N + j] = relu && v < 0 ? 0 : v;
    }
  }
  c.a.endOp();
  return out.p;
}

/** A dense layer on a vector, or on each of `rows` tokens of an example (the last axis, as nn.Linear). */
class Dense implements Op {
  private x = 0;
  private y = 0;
  constructor(private readonly inF: number, private readonly outF: number, private readonly w: Param, private readonly b: Param | null, readonly relu: boolean,
    private readonly rows = 1) {}

  forward(c: Ctx, x: number): number {
    this.x = x;
    this.y = product(c, c.N * this.rows, this.inF, this.outF, x, false, this.w.p, this.outF * 4, false, this.b?.p ?? 0, this.relu);
    return this.y;
  }

  backward(c: Ctx, dy: number, needDx: boolean): number {
    const N = c.N * this.rows, I = this.inF, O = this.outF;
    if (this.relu) dy = binaryMap(c, 'relu_grad', this.y, dy, N * O);
    // dW[I, O] = xᵀ · dy
    if (this.w.trainable) this.w.grad = product(c, I, N, O, this.x, true, dy, O * 4, false, 0, false);
    if (this.b?.trainable) {
      this.b.grad = columnSums(c.a.io, dy, N, O).p;
      c.a.endOp();
    }
    if (!needDx) return 0;
    // dx[N, I] = dy · Wᵀ
    return product(c, N, O, I, dy, false, this.w.p, O * 4, true, 0, false);
  }
}

// ---------------------------------------------------------------- pooling

class Pool implements Op {
  private x = 0;
  private y = 0;
  /** `relu`: its input is a relu's output (a convolution's fused relu), whose gradient the pool's takes along (poolFusesRelu) */
  constructor(private readonly kind: 'max' | 'avg', private readonly geo: Geo, private readonly relu = false) {}
  forward(c: Ctx, x: number): number {
    const y = poolForward(c.a.io, this.kind, { ...this.geo, N: c.N }, x);
    c.a.endOp();
    this.x = x;
    this.y = y.p;
    return y.p;
  }
  backward(c: Ctx, dy: number, needDx: boolean): number {
    if (!needDx) return 0;
    const dx = poolBackward(c.a.io, this.kind, { ...this.geo, N: c.N }, this.x, this.y, dy, this.relu);
    c.a.endOp();
    return dx.p;
  }
}

// ---------------------------------------------------------------- batch norm

/**
 * Batch norm over the channels (the last axis), as alexnetc's tfjs layer
 * trains it: the batch's biased variance, running statistics moved by
 * `decay` (tfjs's float32 arithmetic: old − (old − batch)·decay); inference
 * normalises with the running statistics.
 */
class BatchNorm implements Op {
  private x = 0;
  private y = 0;
  private mean = 0;
  private variance = 0;
  /** `relu`: a relu after it, fused (the _relu kernels: one pass each way for both) */
  constructor(private readonly C: number, private readonly per: number, private readonly eps: number, private readonly decay: number,
    private readonly gamma: Param, private readonly beta: Param, private readonly movingMean: Param, private readonly movingVar: Param,
    private readonly frozenStats: boolean, readonly relu: boolean) {}

  forward(c: Ctx, x: number): number {
    const C = this.C, rows = (c.N * this.per) / C;
    const a = c.a, io = a.io;
    const chunk = chunkRows(C);
    const y = a.output(rows * C);
    if (!c.training || this.frozenStats) {
      const coef = io.temp(C), f = a.heap.f32;
      for (let ch = 0; ch < C; ch++) f[coef / 4 + ch] = f[this.gamma.p / 4 + ch]! / Math.sqrt(f[this.movingVar.p / 4 + ch]! + this.eps);
      a.rt.parallel(this.relu ? 'bn_fwd_apply_relu' : 'bn_fwd_apply', Math.ceil(rows / chunk), [x, y.p, this.movingMean.p, coef, this.beta.p, rows, C, chunk], rows * C < 1 << 17);
      a.endOp();
      this.x = x;
      this.y = y.p;
      this.mean = 0;
      return y.p;
    }
    const chunks = Math.max(1, Math.ceil(rows / chunk));
    const partials = io.temp(4 * chunks * C + 4);
    const isSmall = rows * C < 1 << 17;
    a.rt.parallel('bn_stats_partial', chunks, [x, rows, C, chunk, partials], isSmall);
    const [s, q] = combine(new Float64Array(a.heap.f32.buffer), partials / 8, chunks, C);
    const mean = a.output(C), variance = a.output(C), coef = io.temp(C);
    const f = a.heap.f32;
    const fr = Math.fround, d = fr(this.decay);
    for (let ch = 0; ch < C; ch++) {
      const m = rows > 0 ? s[ch]! / rows : 0;
      const v = rows > 0 ? Math.max(0, q[ch]! / rows - m * m) : 0;
      f[mean.p / 4 + ch] = m;
      f[variance.p / 4 + ch] = v;
      f[coef / 4 + ch] = f[this.gamma.p / 4 + ch]! / Math.sqrt(v + this.eps);
    }
    a.rt.parallel(this.relu ? 'bn_fwd_apply_relu' : 'bn_fwd_apply', Math.ceil(rows / chunk), [x, y.p, mean.p, coef, this.beta.p, rows, C, chunk], isSmall);
    a.endOp();
    // the running statistics, as the tfjs layer moves them
    for (const [stat, batch] of [[this.movingMean, mean.p], [this.movingVar, variance.p]] as const) {
      for (let ch = 0; ch < C; ch++) {
        const old = f[stat.p / 4 + ch]!;
        f[stat.p / 4 + ch] = fr(old - fr(fr(old - f[batch / 4 + ch]!) * d));
      }
    }
    this.x = x;
    this.y = y.p;
    this.mean = mean.p;
    this.variance = variance.p;
    return y.p;
  }

  backward(c: Ctx, dy: number, needDx: boolean): number {
    const C = this.C, rows = (c.N * this.per) / C;
    const a = c.a, io = a.io;
    if (this.mean === 0) {
      // inference-mode normalisation (frozen statistics): an affine map per channel
      if (this.gamma.trainable || this.beta.trainable) throw new Error('internal: trainable batch norm with frozen statistics');
      if (!needDx) return 0;
      if (this.relu) dy = binaryMap(c, 'relu_grad', this.y, dy, rows * C);
      const zero = io.temp(C), k = io.temp(C), f = a.heap.f32;
      for (let ch = 0; ch < C; ch++) {
        f[zero / 4 + ch] = 0;
        f[k / 4 + ch] = f[this.gamma.p / 4 + ch]! / Math.sqrt(f[this.movingVar.p / 4 + ch]! + this.eps);
      }
      const dx = a.output(rows * C);
      a.rt.parallel('bn_fwd_apply', Math.ceil(rows / chunkRows(C)), [dy, dx.p, zero, k, zero, rows, C, chunkRows(C)], rows * C < 1 << 17);
      a.endOp();
      return dx.p;
    }
    const chunk = chunkRows(C), chunks = Math.max(1, Math.ceil(rows / chunk));
    const partials = io.temp(4 * chunks * C + 4);
    const isSmall = rows * C < 1 << 17;
    a.rt.parallel(this.relu ? 'bn_grad_partial_relu' : 'bn_grad_partial', chunks,
      this.relu ? [this.x, this.y, dy, this.mean, rows, C, chunk, partials] : [this.x, dy, this.mean, rows, C, chunk, partials], isSmall);
    const [sdy, sdyx] = combine(new Float64Array(a.heap.f32.buffer), partials / 8, chunks, C);
    const dscale = a.output(C), doffset = a.output(C);
    const k = io.temp(3 * C);
    const g = a.heap.f32;
    for (let ch = 0; ch < C; ch++) {
      const inv = 1 / Math.sqrt(g[this.variance / 4 + ch]! + this.eps);
      g[dscale.p / 4 + ch] = sdyx[ch]! * inv;
      g[doffset.p / 4 + ch] = sdy[ch]!;
      g[k / 4 + ch] = g[this.gamma.p / 4 + ch]! * inv;
      g[k / 4 + C + ch] = rows > 0 ? sdy[ch]! / rows : 0;
      g[k / 4 + 2 * C + ch] = rows > 0 ? (sdyx[ch]! * inv * inv) / rows : 0;
    }
    if (this.gamma.trainable) this.gamma.grad = dscale.p;
    if (this.beta.trainable) this.beta.grad = doffset.p;
    let dx = 0;
    if (needDx) {
      const out = a.output(rows * C);
      a.rt.parallel(this.relu ? 'bn_bwd_apply_relu' : 'bn_bwd_apply', Math.ceil(rows / chunk),
        [this.x, ...(this.relu ? [this.y] : []), dy, out.p, this.mean, k, k + 4 * C, k + 8 * C, rows, C, chunk], isSmall);
      dx = out.p;
    }
    a.endOp();
    return dx;
  }
}

// ---------------------------------------------------------------- dropout

/**
 * Inverted dropout: a mask of 0 and 1/(1 − rate) drawn as tf.dropout draws
 * it (random.ts) from the step's stream; the identity at inference.
 */
class Dropout implements Op {
  private mask = 0;
  constructor(private readonly rate: number, private readonly per: number) {}
  forward(c: Ctx, x: number): number {
    if (!c.training || this.rate === 0) {
      this.mask = 0;
      return x;
    }
    const n = c.N * this.per;
    const m = c.a.output(n);
    dropoutMultipliers(c.random, this.rate, n, m.view);
    c.a.endOp();
    this.mask = m.p;
    return elementwise(c, 'mul', x, m.p, n);
  }
  backward(c: Ctx, dy: number, needDx: boolean): number {
    if (!needDx) return 0;
    return this.mask === 0 ? dy : elementwise(c, 'mul', dy, this.mask, c.N * this.per);
  }
}

// ---------------------------------------------------------------- structure

/** Ops run in order; the gradient flows back through them in reverse. */
export function forwardAll(ops: readonly Op[], c: Ctx, x: number): number {
  let h = x;
  for (const op of ops) h = op.forward(c, h);
  return h;
}

export function backwardAll(ops: readonly Op[], c: Ctx, dy: number, needDx: boolean): number {
  let g = dy;
  for (let i = ops.length - 1; i >= 0; i--) g = ops[i]!.backward(c, g, i > 0 || needDx);
  return needDx ? g : 0;
}

/** Branches fed by the same input whose outputs are added (a residual block, an `add`). */
class Sum implements Op {
  constructor(private readonly branches: Op[][], private readonly inPer: number, private readonly outPer: number) {}
  forward(c: Ctx, x: number): number {
    const n = c.N * this.outPer;
    let y = forwardAll(this.branches[0]!, c, x);
    for (const b of this.branches.slice(1)) y = elementwise(c, 'add', y, forwardAll(b, c, x), n);
    return y;
  }
  backward(c: Ctx, dy: number, needDx: boolean): number {
    const n = c.N * this.inPer;
    let dx = 0;
    for (const b of this.branches) {
      // an empty branch (an identity shortcut) passes dy on
      const d = b.length === 0 ? (needDx ? dy : 0) : backwardAll(b, c, dy, needDx);
      if (needDx) dx = dx === 0 ? d : elementwise(c, 'add', dx, d, n);
    }
    return dx;
  }
}

/** Copy `rows` rows of `run` floats (strides in floats), in parallel blocks (as kernels/concat.ts). */
export function rowsCopy(c: Ctx, src: number, srcStride: number, dst: number, dstStride: number, run: number, rows: number): void {
  if (rows === 0 || run === 0) return;
  const rowsPer = Math.max(1, Math.ceil(16384 / run));
  c.a.rt.parallel('copy_rows', Math.ceil(rows / rowsPer), [src, srcStride * 4, dst, dstStride * 4, run, rows, rowsPer], rows * run < 1 << 16);
}

/** The branches' outputs (`rows` rows of `widths[i]` floats each) side by side in one new buffer, in order: concat's and split's forward. */
function joinColumns(c: Ctx, outs: readonly number[], widths: readonly number[], rows: number): number {
  const total = widths.reduce((p, q) => p + q, 0);
  const y = c.a.output(rows * total);
  let col = 0;
  outs.forEach((o, i) => {
    rowsCopy(c, o, widths[i]!, y.p + col * 4, total, widths[i]!, rows);
    col += widths[i]!;
  });
  c.a.endOp();
  return y.p;
}

/**
 * joinColumns backwards: branch i's columns of dy, copied into a buffer of
 * their own and handed to `each` before the next branch's are copied.
 */
function eachColumns(c: Ctx, dy: number, widths: readonly number[], rows: number, each: (part: number, i: number) => void): void {
  const total = widths.reduce((p, q) => p + q, 0);
  let col = 0;
  widths.forEach((w, i) => {
    const part = c.a.output(rows * w);
    rowsCopy(c, dy + col * 4, total, part.p, w, w, rows);
    c.a.endOp();
    col += w;
    each(part.p, i);
  });
}

/** Branches fed by the same input whose outputs are concatenated along the channels (the last axis inside). */
class Concat implements Op {
  constructor(private readonly branches: Op[][], private readonly widths: number[], private readonly positions: number,
    private readonly inPer: number) {}
  forward(c: Ctx, x: number): number {
    return joinColumns(c, this.branches.map((b) => forwardAll(b, c, x)), this.widths, c.N * this.positions);
  }
  backward(c: Ctx, dy: number, needDx: boolean): number {
    const n = c.N * this.inPer;
    let dx = 0;
    eachColumns(c, dy, this.widths, c.N * this.positions, (part, i) => {
      const b = this.branches[i]!;
      const d = b.length === 0 ? (needDx ? part : 0) : backwardAll(b, c, part, needDx);
      if (needDx) dx = dx === 0 ? d : elementwise(c, 'add', dx, d, n);
    });
    return dx;
  }
}

/**
 * `gate { … }` (squeeze-and-excitation): y = x · body(x), the body's
 * [C, 1, 1] output broadcast over the positions. Backward: dx = dy · g plus
 * the body's input gradient from dg = Σ over the positions of dy · x.
 */
class Gate implements Op {
  private x = 0;
  private g = 0;
  constructor(private readonly body: Op[], private readonly C: number, private readonly positions: number) {}
  forward(c: Ctx, x: number): number {
    const g = forwardAll(this.body, c, x);
    const C = this.C, P = this.positions, y = c.a.output(c.N * P * C), f = c.a.heap.f32, v = y.view, xa = x / 4, ga = g / 4;
    for (let n = 0; n < c.N; n++) {
      for (let q = 0; q < P; q++) {
        const row = (n * P + q) * C;
        for (let ch = 0; ch < C; ch++) v[row + ch] = f[xa + row + ch]! * f[ga + n * C + ch]!;
      }
    }
    c.a.endOp();
    this.x = x;
    this.g = g;
    return y.p;
  }
  backward(c: Ctx, dy: number, needDx: boolean): number {
    const C = this.C, P = this.positions, N = c.N;
    const dg = c.a.output(N * C), direct = needDx ? c.a.output(N * P * C) : null;
    const f = c.a.heap.f32, xa = this.x / 4, ga = this.g / 4, da = dy / 4, s = new Float64Array(C);
    for (let n = 0; n < N; n++) {
      s.fill(0);
      for (let q = 0; q < P; q++) {
        const row = (n * P + q) * C;
        for (let ch = 0; ch < C; ch++) {
          const d = f[da + row + ch]!;
          s[ch] += d * f[xa + row + ch]!;
          if (direct) direct.view[row + ch] = d * f[ga + n * C + ch]!;
        }
      }
      dg.view.set(s, n * C);
    }
    c.a.endOp();
    const fromBody = backwardAll(this.body, c, dg.p, needDx);
    return needDx ? elementwise(c, 'add', direct!.p, fromBody, N * P * C) : 0;
  }
}

/**
 * `split { … }`: the channels divided equally among the branches in order
 * (each branch its slice, copied out), their outputs concatenated. The
 * slices are disjoint, so each branch's input gradient is copied back into
 * its slice of dx.
 */
class Split implements Op {
  constructor(private readonly branches: Op[][], private readonly part: number, private readonly widths: number[],
    private readonly inPositions: number, private readonly outPositions: number) {}
  forward(c: Ctx, x: number): number {
    const k = this.branches.length, C = this.part * k, rows = c.N * this.inPositions;
    const outs = this.branches.map((b, i) => {
      const slice = c.a.output(rows * this.part);
      rowsCopy(c, x + i * this.part * 4, C, slice.p, this.part, this.part, rows);
      c.a.endOp();
      return forwardAll(b, c, slice.p);
    });
    return joinColumns(c, outs, this.widths, c.N * this.outPositions);
  }
  backward(c: Ctx, dy: number, needDx: boolean): number {
    const k = this.branches.length, C = this.part * k, rows = c.N * this.inPositions;
    const dx = needDx ? c.a.output(rows * C) : null;
    eachColumns(c, dy, this.widths, c.N * this.outPositions, (part, i) => {
      const b = this.branches[i]!;
      const d = b.length === 0 ? part : backwardAll(b, c, part, needDx);
      if (dx) {
        rowsCopy(c, d, this.part, dx.p + i * this.part * 4, C, this.part, rows);
        c.a.endOp();
      }
    });
    return dx ? dx.p : 0;
  }
}

/** ShuffleNet's channel shuffle: output channel i·groups + g is input channel g·(C/groups) + i (a permutation each way). */
class Shuffle implements Op {
  constructor(private readonly C: number, private readonly groups: number, private readonly positions: number) {}
  private permute(c: Ctx, src: number, back: boolean): number {
    const C = this.C, G = this.groups, per = C / G, rows = c.N * this.positions;
    const y = c.a.output(rows * C), f = c.a.heap.f32, s = src / 4, v = y.view;
    for (let r = 0; r < rows; r++) {
      const o = r * C;
      for (let g = 0; g < G; g++) {
        for (let i = 0; i < per; i++) {
          if (back) v[o + g * per + i] = f[s + o + i * G + g]!;
          else v[o + i * G + g] = f[s + o + g * per + i]!;
        }
      }
    }
    c.a.endOp();
    return y.p;
  }
  forward(c: Ctx, x: number): number {
    return this.permute(c, x, false);
  }
  backward(c: Ctx, dy: number, needDx: boolean): number {
    return needDx ? this.permute(c, dy, true) : 0;
  }
}

// ---------------------------------------------------------------- building

/** What flows between ops at build time: the canonical shape, and whether a vector is an image flattened in H, W, C order. */
interface Val {
  shape: Shape;
  /** a flatten of this image [C, H, W] left its values in H, W, C order */
  hwc?: [number, number, number];
}

export interface BuildContext {
  /** the Param for a node's weight by canonical key (`path.weight`) */
  param(key: string): Param;
  /** a small persistent block in the heap (constants) */
  constants(values: (view: DataView) => void, bytes: number): number;
  /** the running statistics of this batch norm are frozen (inference mode in training) */
  frozenStats(path: string): boolean;
}

function geoOf(n: LayerNode, k: readonly [number, number], stride: readonly [number, number], pads: readonly number[], dilation: readonly [number, number], groups: number, F: number): Geo {
  const [C, H, W] = n.inShape as [number, number, number];
  const [, OH, OW] = n.outShape as [number, number, number];
  return {
    H, W, C, OH, OW, F, FH: k[0], FW: k[1], SH: stride[0], SW: stride[1], DH: dilation[0], DW: dilation[1],
    top: pads[0]!, left: pads[1]!, groups,
  };
}

/**
 * The ops of a sequence of nodes; throws NotCompilable at the first layer
 * that has no kernel here. `last`: the final node of the network (a softmax
 * there is left to the loss).
 */
export function buildOps(nodes: readonly Node[], input: Val, b: BuildContext, isTop: boolean): { ops: Op[]; out: Val } {
  const ops: Op[] = [];
  let v = input;
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i]!;
    if (node.kind === 'residual' || node.kind === 'add') {
      if (v.hwc) throw new NotCompilable(node.path, `a ${node.kind} after flatten`);
      const branches = node.kind === 'residual' ? [node.body, node.shortcut ?? []] : node.branches;
      const built = branches.map((br) => buildOps(br, v, b, false));
      if (built.some((x) => x.out.hwc)) throw new NotCompilable(node.path, `a flatten inside a ${node.kind}`);
      ops.push(new Sum(built.map((x) => x.ops), size(node.inShape), size(node.outShape)));
      v = { shape: node.outShape };
      continue;
    }
    if (node.kind === 'concat') {
      if (v.hwc) throw new NotCompilable(node.path, 'a concat after flatten');
      const built = node.branches.map((br) => buildOps(br, v, b, false));
      if (built.some((x) => x.out.hwc)) throw new NotCompilable(node.path, 'a flatten inside a concat');
      const positions = node.outShape.length === 3 ? node.outShape[1]! * node.outShape[2]! : 1;
      const widths = built.map((x) => x.out.shape[0]!);
      ops.push(built.length === 1 ? new Sum([built[0]!.ops], size(node.inShape), size(node.outShape))
        : new Concat(built.map((x) => x.ops), widths, positions, size(node.inShape)));
      v = { shape: node.outShape };
      continue;
    }
    if (node.kind === 'split') {
      if (v.hwc || node.inShape.length !== 3) throw new NotCompilable(node.path, 'a split of a vector');
      const k = node.branches.length, [C, H, W] = node.inShape as [number, number, number];
      const part = C / k;
      const built = node.branches.map((br) => buildOps(br, { shape: [part, H, W] }, b, false));
      if (built.some((x) => x.out.hwc)) throw new NotCompilable(node.path, 'a flatten inside a split');
      ops.push(new Split(built.map((x) => x.ops), part, built.map((x) => x.out.shape[0]!), H * W, node.outShape[1]! * node.outShape[2]!));
      v = { shape: node.outShape };
      continue;
    }
    if (node.kind === 'gate') {
      if (v.hwc || node.inShape.length !== 3) throw new NotCompilable(node.path, 'a gate on a vector');
      const built = buildOps(node.body, v, b, false);
      const [C, H, W] = node.inShape as [number, number, number];
      if (built.out.hwc || size(built.out.shape) !== C) throw new NotCompilable(node.path, `a gate whose body gives [${built.out.shape.join(', ')}], not [${C}, 1, 1]`);
      ops.push(new Gate(built.ops, C, H * W));
      v = { shape: node.outShape };
      continue;
    }
    if (node.kind !== 'layer') throw new NotCompilable(node.path, `${(node as Node).kind} has no compiled kernel yet`);
    const n = node;
    const name = n.layer.name;
    const per = size(n.inShape);
    const next = nodes[i + 1];
    const nextIsRelu = next?.kind === 'layer' && next.layer.name === 'relu';
    const needPlain = (): void => {
      if (v.hwc) throw new NotCompilable(n.path, `${name} after flatten (only dense layers read a flattened image here)`);
    };
    switch (name) {
      case 'conv': {
        needPlain();
        const a = n.args as ConvArgs;
        if (n.inShape.length !== 3) throw new NotCompilable(n.path, 'conv on a vector');
        const geo = geoOf(n, a.k, a.stride, a.pads, a.dilation, a.groups, a.filters);
        // relu rides in the im2col GEMM's epilogue; a Winograd convolution's has none (and is worth more)
        const direct = winogradSpec({ ...geo, N: 1 }) === null && !isDepthwise({ ...geo, N: 1 });
        const fuse = nextIsRelu && direct;
        let cg = geo, pad: PadImage | null = null;
        if (isTop && ops.length === 0 && direct && (geo.top > 0 || geo.left > 0)) {
          // the network's input: padded once, so that im2col finds every patch inside the image (its border
          // patches take a slower walk: LeNet's 28² × 1, 5×5 pad 2 forward and filter gradient 30 % faster);
          // the same patch matrix, the same results
          const Hp = Math.max(geo.top + geo.H, (geo.OH - 1) * geo.SH + (geo.FH - 1) * geo.DH + 1);
          const Wp = Math.max(geo.left + geo.W, (geo.OW - 1) * geo.SW + (geo.FW - 1) * geo.DW + 1);
          pad = new PadImage(geo.H, geo.W, geo.C, geo.top, geo.left, Hp, Wp);
          cg = { ...geo, H: Hp, W: Wp, top: 0, left: 0 };
        }
        // (one op with its padding: the first op's input gradient is never asked for)
        ops.push(new Conv(cg, b.param(`${n.path}.weight`), a.bias ? b.param(`${n.path}.bias`) : null, fuse, pad));
        if (fuse) i++;
        break;
      }
      case 'dense': {
        const a = n.args as DenseArgs;
        const w = b.param(`${n.path}.weight`);
        if (v.hwc) {
          const [C, H, W] = v.hwc;
          // internal row (h·W + w)·C + c holds tfjs row c·H·W + h·W + w
          const perm = new Int32Array(C * H * W);
          for (let h = 0; h < H; h++) for (let x = 0; x < W; x++) for (let ch = 0; ch < C; ch++) perm[(h * W + x) * C + ch] = ch * H * W + h * W + x;
          w.perm = perm;
        }
        const fuse = nextIsRelu;
        ops.push(a.tokens > 0 ? new Dense(a.inFeatures, a.units, w, a.bias ? b.param(`${n.path}.bias`) : null, fuse, a.tokens)
          : new Dense(per, a.units, w, a.bias ? b.param(`${n.path}.bias`) : null, fuse));
        if (fuse) i++;
        v = { shape: n.outShape };
        continue;
      }
      case 'relu':
      case 'tanh':
      case 'sigmoid':
        ops.push(new Activation(name, per, 0));
        break;
      case 'relu6':
        ops.push(new Relu6(per, b.constants((dv) => dv.setFloat32(0, 6, true), 16)));
        break;
      case 'hardsigmoid':
      case 'hardswish':
        ops.push(new JsActivation(name, per));
        break;
      case 'silu':
        ops.push(new Silu(per));
        break;
      case 'gelu':
        // exact gelu on the wasm kernels the tfjs path's AlexnetcGelu runs (wasm/gelu.ts)
        ops.push((n.args as { approximate: string }).approximate === 'tanh' ? new JsActivation('gelu_tanh', per) : new Activation('gelu', per, 0));
        break;
      case 'leakyrelu': {
        const alpha = (n.args as { alpha: number }).alpha;
        // the kernels read α as a double at 0 and as a float at 8
        const consts = b.constants((dv) => {
          dv.setFloat64(0, alpha, true);
          dv.setFloat32(8, alpha, true);
        }, 16);
        ops.push(new Activation('leakyrelu', per, consts));
        break;
      }
      case 'maxpool':
      case 'avgpool': {
        needPlain();
        const a = n.args as PoolArgs;
        const kind = name === 'maxpool' ? 'max' : 'avg', geo = geoOf(n, a.k, a.stride, a.pads, [1, 1], 1, n.inShape[0]!);
        // right after a convolution with a fused relu: the relu's gradient rides in the pool's (one pass fewer)
        const prev = ops[ops.length - 1];
        const fused = prev instanceof Conv && prev.relu && poolFusesRelu(kind, geo);
        if (fused) prev.reluGradInPool = true;
        ops.push(new Pool(kind, geo, fused));
        break;
      }
      case 'globalavgpool': {
        needPlain();
        const [, H, W] = n.inShape as [number, number, number];
        ops.push(new Pool('avg', geoOf(n, [H, W], [H, W], [0, 0, 0, 0], [1, 1], 1, n.inShape[0]!)));
        break;
      }
      case 'batchnorm': {
        needPlain();
        const a = n.args as BatchNormArgs;
        const C = a.channels;
        // a relu after it rides in its passes
        ops.push(new BatchNorm(C, per, a.eps, 1 - (1 - a.momentum), b.param(`${n.path}.weight`), b.param(`${n.path}.bias`),
          b.param(`${n.path}.running_mean`), b.param(`${n.path}.running_var`), b.frozenStats(n.path), nextIsRelu));
        if (nextIsRelu) i++;
        break;
      }
      case 'shuffle': {
        needPlain();
        const [C, H, W] = n.inShape as [number, number, number];
        ops.push(new Shuffle(C, (n.args as { groups: number }).groups, H * W));
        break;
      }
      case 'dropout':
        ops.push(new Dropout((n.args as { rate: number }).rate, per));
        break;
      case 'droppath':
        ops.push(new DropPath((n.args as { rate: number }).rate, per));
        break;
      case 'tokens':
      case 'image':
        // NHWC: an image's buffer is its tokens [H·W, D] and back
        needPlain();
        break;
      case 'classtoken': {
        const [T, D] = n.inShape as [number, number];
        ops.push(new ClassToken(T, D, b.param(`${n.path}.class_token`)));
        break;
      }
      case 'posembed':
        ops.push(new PosEmbed(per, b.param(`${n.path}.pos_embedding`)));
        break;
      case 'token': {
        const [T, D] = n.inShape as [number, number];
        ops.push(new TokenSelect(T, D, (n.args as { index: number }).index));
        break;
      }
      case 'avgtokens': {
        const [T, D] = n.inShape as [number, number];
        ops.push(new AvgTokens(T, D));
        break;
      }
      case 'layernorm': {
        needPlain();
        const a = n.args as LayerNormArgs;
        ops.push(new LayerNorm(a.features, per, b.param(`${n.path}.weight`), b.param(`${n.path}.bias`), b.constants((dv) => dv.setFloat64(0, a.eps, true), 16)));
        break;
      }
      case 'scale': {
        needPlain();
        const C = n.inShape.length === 3 ? n.inShape[0]! : n.inShape[n.inShape.length - 1]!;
        ops.push(new Scale(C, per, b.param(`${n.path}.weight`)));
        break;
      }
      case 'attention': {
        const a = n.args as AttentionArgs;
        const key = (w: string): string => `${n.path}.${w}`;
        const dh = a.features / a.heads;
        ops.push(new Attention(a.tokens, a.features, a.heads, a.dropout, b.param(key('in_proj_weight')), a.bias ? b.param(key('in_proj_bias')) : null,
          b.param(key('out_proj.weight')), a.bias ? b.param(key('out_proj.bias')) : null,
          b.constants((dv) => dv.setFloat32(0, 1 / Math.sqrt(dh), true), 16)));
        break;
      }
      case 'identity':
        break;
      case 'flatten':
        if (n.inShape.length === 3 && !v.hwc) {
          const [C, H, W] = n.inShape as [number, number, number];
          // the buffer stays as it is; the dense layer reading it takes its rows in H, W, C order
          v = C === 1 || H * W === 1 ? { shape: n.outShape } : { shape: n.outShape, hwc: [C, H, W] };
          continue;
        }
        break;
      case 'softmax':
        // the network's last layer: the loss takes the logits before it
        if (isTop && i === nodes.length - 1) return { ops, out: v };
        throw new NotCompilable(n.path, 'softmax before the end of the network has no compiled kernel');
      default:
        throw new NotCompilable(n.path, `${name} has no compiled kernel`);
    }
    v = v.hwc ? { shape: n.outShape, hwc: v.hwc } : { shape: n.outShape };
  }
  return { ops, out: v };
}
