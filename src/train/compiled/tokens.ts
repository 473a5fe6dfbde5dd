// The compiled step's transformer ops, on tokens [N, T, D] in the heap (an
// image's NHWC buffer is already its tokens: `tokens` and `image` move
// nothing): the class token, position embeddings, layer norm, multi-head
// self-attention, one token or the tokens' mean for the head, drop path and
// layer scale. Each computes what the tfjs path's layers compute (custom.ts,
// the fast kernels behind them) in the same float32 order where it is cheap
// to, so both paths train to the same losses.
import { binaryInto } from '../../kernels/binary.js';
import { layerNormGradRows, layerNormRows } from '../../kernels/ops/layernorm.js';
import { zeroFill } from '../../kernels/ops/conv.js';
import { columnSums } from '../../kernels/sum.js';
import { BLOCK, TR } from '../../kernels/wasm/copy.js';
import { dropoutMultipliers } from './random.js';
import { elementwise, product, rowsCopy, type Ctx, type Op, type Param } from './ops.js';

const fr = Math.fround;

/** `classtoken`: [T, D] → [T + 1, D], the learned token first. */
export class ClassToken implements Op {
  constructor(private readonly T: number, private readonly D: number, private readonly token: Param) {}
  forward(c: Ctx, x: number): number {
    const { T, D } = this, y = c.a.output(c.N * (T + 1) * D);
    rowsCopy(c, this.token.p, 0, y.p, (T + 1) * D, D, c.N);
    rowsCopy(c, x, T * D, y.p + D * 4, (T + 1) * D, T * D, c.N);
    c.a.endOp();
    return y.p;
  }
  backward(c: Ctx, dy: number, needDx: boolean): number {
    const { T, D } = this, N = c.N;
    if (this.token.trainable) {
      // tile's gradient: the examples' rows added in order, in float32
      const g = c.a.output(D), f = c.a.heap.f32, at = dy / 4, v = g.view;
      v.fill(0);
      for (let n = 0; n < N; n++) for (let d = 0; d < D; d++) v[d] = fr(v[d]! + f[at + n * (T + 1) * D + d]!);
      this.token.grad = g.p;
      c.a.endOp();
    }
    if (!needDx) return 0;
    const dx = c.a.output(N * T * D);
    rowsCopy(c, dy + D * 4, (T + 1) * D, dx.p, T * D, T * D, N);
    c.a.endOp();
    return dx.p;
  }
}

/** `posembed`: x + pos_embedding, one row of T·D added to every example. */
export class PosEmbed implements Op {
  constructor(private readonly per: number, private readonly pos: Param) {}
  forward(c: Ctx, x: number): number {
    const n = c.N * this.per, y = c.a.output(n);
    if (this.per % 4 === 0) binaryInto(c.a.io, 'add', x, this.pos.p, y.p, n, this.per, false);
    else {
      const f = c.a.heap.f32, xa = x / 4, pa = this.pos.p / 4, v = y.view;
      for (let i = 0; i < n; i++) v[i] = fr(f[xa + i]! + f[pa + (i % this.per)]!);
    }
    c.a.endOp();
    return y.p;
  }
  backward(c: Ctx, dy: number, needDx: boolean): number {
    if (this.pos.trainable) {
      this.pos.grad = columnSums(c.a.io, dy, c.N, this.per).p;
      c.a.endOp();
    }
    return needDx ? dy : 0;
  }
}

/** `token(i)`: [T, D] → [D], one token's features. */
export class TokenSelect implements Op {
  constructor(private readonly T: number, private readonly D: number, private readonly index: number) {}
  forward(c: Ctx, x: number): number {
    const y = c.a.output(c.N * this.D);
    rowsCopy(c, x + this.index * this.D * 4, this.T * this.D, y.p, this.D, this.D, c.N);
    c.a.endOp();
    return y.p;
  }
  backward(c: Ctx, dy: number, needDx: boolean): number {
    if (!needDx) return 0;
    const n = c.N * this.T * this.D, dx = c.a.output(n);
    zeroFill(c.a.io, dx.p, n);
    rowsCopy(c, dy, this.D, dx.p + this.index * this.D * 4, this.T * this.D, this.D, c.N);
    c.a.endOp();
    return dx.p;
  }
}

/**
 * `avgtokens`: [T, D] → [D], the mean over the tokens as tfjs's Mean
 * computes it (each value divided by T in float32, then summed); the
 * gradient dy / T to every token.
 */
export class AvgTokens implements Op {
  constructor(private readonly T: number, private readonly D: number) {}
  forward(c: Ctx, x: number): number {
    const { T, D } = this, y = c.a.output(c.N * D), f = c.a.heap.f32, xa = x / 4, v = y.view, t32 = fr(T);
    for (let n = 0; n < c.N; n++) {
      for (let d = 0; d < D; d++) {
        let s = 0;
        for (let t = 0; t < T; t++) s += fr(f[xa + (n * T + t) * D + d]! / t32);
        v[n * D + d] = s;
      }
    }
    c.a.endOp();
    return y.p;
  }
  backward(c: Ctx, dy: number, needDx: boolean): number {
    if (!needDx) return 0;
    const { T, D } = this, dx = c.a.output(c.N * T * D), f = c.a.heap.f32, da = dy / 4, v = dx.view;
    for (let n = 0; n < c.N; n++) {
      for (let t = 0; t < T; t++) for (let d = 0; d < D; d++) v[(n * T + t) * D + d] = fr(f[da + n * D + d]! / T);
    }
    c.a.endOp();
    return dx.p;
  }
}

/**
 * Layer norm over the last axis (an image's channels at each position, a
 * token's features, a vector's features), the arithmetic of the fast
 * AlexnetcLayerNorm kernels (src/kernels/layernorm.ts) on the wasm kernels
 * of wasm/transformer.ts: row statistics in doubles, two passes; mean and
 * 1/σ kept as float32 for the gradient; γ's and β's gradients summed in
 * doubles per item, the items in order.
 */
export class LayerNorm implements Op {
  private x = 0;
  private mean = 0;
  private rstd = 0;
  constructor(private readonly D: number, private readonly per: number, private readonly gamma: Param, private readonly beta: Param,
    /** ε as a double in the heap */
    private readonly eps: number) {}
  forward(c: Ctx, x: number): number {
    const D = this.D, rows = (c.N * this.per) / D;
    const y = c.a.output(rows * D), mean = c.a.output(rows), rstd = c.a.output(rows);
    layerNormRows(c.a.io, x, y.p, mean.p, rstd.p, this.gamma.p, this.beta.p, rows, D, this.eps);
    c.a.endOp();
    this.x = x;
    this.mean = mean.p;
    this.rstd = rstd.p;
    return y.p;
  }
  backward(c: Ctx, dy: number, needDx: boolean): number {
    const D = this.D, rows = (c.N * this.per) / D;
    const dgamma = c.a.output(D), dbeta = c.a.output(D), dx = needDx ? c.a.output(rows * D) : null;
    layerNormGradRows(c.a.io, this.x, dy, this.gamma.p, this.mean, this.rstd, dx ? dx.p : 0, rows, D, dgamma.view, dbeta.view);
    if (this.gamma.trainable) this.gamma.grad = dgamma.p;
    if (this.beta.trainable) this.beta.grad = dbeta.p;
    c.a.endOp();
    return dx ? dx.p : 0;
  }
}

/** y = x · m[n] for each example n (m one float per example at `mult`), or in place over the rows of a batch. */
function scaleExamples(c: Ctx, x: number, mult: number, y: number, per: number): void {
  for (let n = 0; n < c.N; n++) binaryInto(c.a.io, 'mul', x + n * per * 4, mult + n * 4, y + n * per * 4, per, 1, false);
}

/**
 * `droppath` (stochastic depth): tfjs's Dropout with one noise value per
 * example, drawn as tf.dropout draws it; the identity at inference.
 */
export class DropPath implements Op {
  private mult = 0;
  constructor(private readonly rate: number, private readonly per: number) {}
  forward(c: Ctx, x: number): number {
    if (!c.training || this.rate === 0) {
      this.mult = 0;
      return x;
    }
    const m = c.a.output(c.N);
    dropoutMultipliers(c.random, this.rate, c.N, m.view);
    const y = c.a.output(c.N * this.per);
    scaleExamples(c, x, m.p, y.p, this.per);
    c.a.endOp();
    this.mult = m.p;
    return y.p;
  }
  backward(c: Ctx, dy: number, needDx: boolean): number {
    if (!needDx) return 0;
    if (this.mult === 0) return dy;
    const dx = c.a.output(c.N * this.per);
    scaleExamples(c, dy, this.mult, dx.p, this.per);
    c.a.endOp();
    return dx.p;
  }
}

/** `scale` (ConvNeXt's layer scale): a learned factor per channel, the last axis. */
export class Scale implements Op {
  private x = 0;
  constructor(private readonly C: number, private readonly per: number, private readonly factor: Param) {}
  private mul(c: Ctx, a: number, b: number, out: number, n: number, bn: number): void {
    if (bn === n || bn % 4 === 0) binaryInto(c.a.io, 'mul', a, b, out, n, bn, false);
    else {
      const f = c.a.heap.f32;
      for (let i = 0; i < n; i++) f[out / 4 + i] = fr(f[a / 4 + i]! * f[b / 4 + (i % bn)]!);
    }
  }
  forward(c: Ctx, x: number): number {
    const n = c.N * this.per, y = c.a.output(n);
    this.mul(c, x, this.factor.p, y.p, n, this.C);
    c.a.endOp();
    this.x = x;
    return y.p;
  }
  backward(c: Ctx, dy: number, needDx: boolean): number {
    const n = c.N * this.per;
    if (this.factor.trainable) {
      // mul's gradient as tfjs takes it: dy · x, summed over the leading axes
      const t = c.a.io.temp(n);
      this.mul(c, dy, this.x, t, n, n);
      this.factor.grad = columnSums(c.a.io, t, n / this.C, this.C).p;
      c.a.endOp();
    }
    if (!needDx) return 0;
    const dx = c.a.output(n);
    this.mul(c, dy, this.factor.p, dx.p, n, this.C);
    c.a.endOp();
    return dx.p;
  }
}

// ---------------------------------------------------------------- attention

/** dst[b] = src[b]ᵀ for a batch of [rows, cols] matrices. */
function transposeBatch(c: Ctx, src: number, dst: number, batch: number, rows: number, cols: number): void {
  const blocks = Math.ceil(rows / TR);
  c.a.rt.parallel('transpose_2d', batch * blocks, [src, dst, rows, cols, blocks], batch * rows * cols < 1 << 16);
}

/**
 * C[b] = A[b] · B[b] (or A[b]ᵀ · B[b], A stored [K, M], when ta) for a batch
 * of small row-major products (wasm/bmm.ts, wasm/transformer.ts: k in order,
 * as the tfjs path's BatchMatMul).
 */
function bmm(c: Ctx, a: number, b: number, out: number, batch: number, M: number, N: number, K: number, ta = false): void {
  c.a.rt.parallel(ta ? 'bmm_tn' : 'bmm_nn', batch, [a, b, out, M, N, K], batch * M * N * K < 1 << 15);
}

/**
 * Multi-head self-attention in nn.MultiheadAttention's layout, as the tfjs
 * path's AlexnetcAttention computes it: qkv = x·W_in + b_in; per head
 * q·(1/√dh) times kᵀ (batched products of wasm/bmm.ts), softmax over the last
 * axis (softmax_rows), dropout on the weights in training (tf.dropout's
 * masks), times v; the heads joined and projected by W_out. Per-head buffers
 * are [heads, N, T, dh] (one strided copy per head moves a head in or out).
 */
export class Attention implements Op {
  private x = 0;
  private q = 0;
  private k = 0;
  private v = 0;
  private p = 0;
  private pd = 0;
  private mask = 0;
  private o = 0;
  constructor(private readonly T: number, private readonly D: number, private readonly H: number, private readonly rate: number,
    private readonly wIn: Param, private readonly bIn: Param | null, private readonly wOut: Param, private readonly bOut: Param | null,
    /** 1/√dh as a float32 in the heap */
    private readonly scale: number) {}

  /** [N·T, stride] columns col0 + h·dh … → [H, N, T, dh], or back (toHeads false). */
  private heads(c: Ctx, rowsBuf: number, stride: number, col0: number, headsBuf: number, toHeads: boolean): void {
    const { T, D, H } = this, dh = D / H, NT = c.N * T;
    for (let h = 0; h < H; h++) {
      const r = rowsBuf + (col0 + h * dh) * 4, hb = headsBuf + h * NT * dh * 4;
      if (toHeads) rowsCopy(c, r, stride, hb, dh, dh, NT);
      else rowsCopy(c, hb, dh, r, stride, dh, NT);
    }
  }

  forward(c: Ctx, x: number): number {
    const { T, D, H } = this, dh = D / H, N = c.N, NT = N * T, NH = N * H, a = c.a;
    this.x = x;
    const qkv = product(c, NT, D, 3 * D, x, false, this.wIn.p, 3 * D * 4, false, this.bIn?.p ?? 0, false);
    const [q, k, v] = [0, 1, 2].map((s) => {
      const o = a.output(NT * D);
      this.heads(c, qkv, 3 * D, s * D, o.p, true);
      // q · (1/√dh), one float32 product as tf.mul
      if (s === 0) binaryInto(a.io, 'mul', o.p, this.scale, o.p, NT * D, 1, false);
      a.endOp();
      return o.p;
    }) as [number, number, number];
    // weights = softmax(q · kᵀ)
    const p = a.output(NH * T * T);
    const kt = a.io.temp(NT * D), s = a.io.temp(NH * T * T);
    transposeBatch(c, k, kt, NH, T, dh);
    bmm(c, q, kt, s, NH, T, T, dh);
    const rows = NH * T, rowsPer = Math.max(1, Math.floor(BLOCK / T));
    a.rt.parallel('softmax_rows', Math.ceil(rows / rowsPer), [s, p.p, rows, T, rowsPer], rows * T < 4 * BLOCK);
    a.endOp();
    let pd = p.p;
    this.mask = 0;
    if (c.training && this.rate > 0) {
      // tf.dropout's noise is drawn over [N, heads, T, T]; these buffers are [heads, N, T, T]
      const m = a.output(NH * T * T), drawn = dropoutMultipliers(c.random, this.rate, NH * T * T), tt = T * T;
      for (let n = 0; n < N; n++) for (let h = 0; h < H; h++) m.view.set(drawn.subarray((n * H + h) * tt, (n * H + h + 1) * tt), (h * N + n) * tt);
      a.endOp();
      this.mask = m.p;
      pd = elementwise(c, 'mul', p.p, m.p, NH * T * T);
    }
    // the heads' values, joined: [N·T, D]
    const o = a.output(NT * D), oh = a.io.temp(NT * D);
    bmm(c, pd, v, oh, NH, T, dh, T);
    this.heads(c, o.p, D, 0, oh, false);
    a.endOp();
    Object.assign(this, { q, k, v, p: p.p, pd, o: o.p });
    return product(c, NT, D, D, o.p, false, this.wOut.p, D * 4, false, this.bOut?.p ?? 0, false);
  }

  backward(c: Ctx, dy: number, needDx: boolean): number {
    const { T, D, H } = this, dh = D / H, N = c.N, NT = N * T, NH = N * H, a = c.a, tt = NH * T * T;
    if (this.wOut.trainable) this.wOut.grad = product(c, D, NT, D, this.o, true, dy, D * 4, false, 0, false);
    if (this.bOut?.trainable) {
      this.bOut.grad = columnSums(a.io, dy, NT, D).p;
      a.endOp();
    }
    const dom = product(c, NT, D, D, dy, false, this.wOut.p, D * 4, true, 0, false);
    const dqkv = a.output(NT * 3 * D);
    // dO per head; dV = Pdᵀ · dO (bmm_tn: no transpose of Pd); dPd = dO · Vᵀ
    const dO = a.output(NT * D);
    this.heads(c, dom, D, 0, dO.p, true);
    a.endOp();
    {
      const dv = a.io.temp(NT * D);
      bmm(c, this.pd, dO.p, dv, NH, T, dh, T, true);
      this.heads(c, dqkv.p, 3 * D, 2 * D, dv, false);
      a.endOp();
    }
    const dP = a.output(tt);
    {
      const vt = a.io.temp(NT * D);
      transposeBatch(c, this.v, vt, NH, T, dh);
      bmm(c, dO.p, vt, dP.p, NH, T, T, dh);
      if (this.mask) binaryInto(a.io, 'mul', dP.p, this.mask, dP.p, tt, tt, false);
      a.endOp();
    }
    // dS = y · (dP − Σ dP·y) per row, as the tfjs path's softmax gradient
    const dS = a.output(tt), rows = NH * T, rowsPer = Math.max(1, Math.floor(BLOCK / T));
    a.rt.parallel('softmax_grad_rows', Math.ceil(rows / rowsPer), [this.p, dP.p, dS.p, rows, T, rowsPer], tt < 4 * BLOCK);
    a.endOp();
    // dq = dS · k · (1/√dh); dk = dSᵀ · q·(1/√dh)
    {
      const dq = a.io.temp(NT * D);
      bmm(c, dS.p, this.k, dq, NH, T, dh, T);
      binaryInto(a.io, 'mul', dq, this.scale, dq, NT * D, 1, false);
      this.heads(c, dqkv.p, 3 * D, 0, dq, false);
      a.endOp();
    }
    {
      const dk = a.io.temp(NT * D);
      bmm(c, dS.p, this.q, dk, NH, T, dh, T, true);
      this.heads(c, dqkv.p, 3 * D, D, dk, false);
      a.endOp();
    }
    if (this.wIn.trainable) this.wIn.grad = product(c, D, NT, 3 * D, this.x, true, dqkv.p, 3 * D * 4, false, 0, false);
    if (this.bIn?.trainable) {
      this.bIn.grad = columnSums(a.io, dqkv.p, NT, 3 * D).p;
      a.endOp();
    }
    if (!needDx) return 0;
    return product(c, NT, 3 * D, D, dqkv.p, false, this.wIn.p, 3 * D * 4, true, 0, false);
  }
}

