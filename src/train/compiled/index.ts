// The compiled training step: a checked network's whole step — forward,
// softmax cross-entropy, backward, weight decay and the optimizer update —
// planned once and run as a fixed sequence of wasm kernel calls on buffers in
// the kernel heap, with no tfjs in between (no per-op dispatch, no tensor
// bookkeeping, no allocation after the first step). The arithmetic is the
// tfjs path's (the same kernels, the same float32 optimizer updates), so both
// train to the same losses up to floating-point reassociation; results never
// depend on the thread count.
//
// compileTraining(network, settings) → CompiledTraining: step / evaluate /
// fit, weights out in tfjs's layout. `alexnetc train` uses it whenever every
// layer has a kernel here (compiledTrainingSupport says which does not), and
// the tfjs path otherwise.
import type { Network } from '../../check/ir.js';
import { planWeights } from '../../emit/tfjs/plan.js';
import type { WeightSource } from '../../emit/onnx/index.js';
import { runtime, type Runtime } from '../../kernels/runtime/index.js';
import { binaryInto } from '../../kernels/binary.js';
import { BLOCK } from '../../kernels/wasm/copy.js';
import { deriveSeed, rng } from '../../util/rng.js';
import { Arena } from './arena.js';
import { backwardAll, buildOps, forwardAll, NotCompilable, type BuildContext, type Ctx, type Op, type Param } from './ops.js';

export { NotCompilable } from './ops.js';

/** The settings the step needs (the trainer's TrainSettings will do): the conventions of src/train/engines/tfjs/optim.ts. */
export interface CompiledSettings {
  optimizer: 'sgd' | 'momentum' | 'adam';
  lr: number;
  /** momentum only */
  momentum: number;
  /** Adam only (ε is tfjs's 1e-7) */
  beta1: number;
  beta2: number;
  /** coupled L2 on conv and dense kernels: grad += weightDecay · w */
  weightDecay: number;
  /** dropout's default stream */
  seed: number;
}

/** One optimizer slot as a checkpoint holds it (the tfjs engine's format: tfjs's slot names). */
export interface SlotState {
  name: string;
  shape: number[];
  values: Float32Array;
}

export interface StepResult {
  /** the batch's mean loss before the update (NaN or ±Infinity: no update was made) */
  loss: number;
  /** correct predictions in the batch */
  hits: number;
}

export interface CompiledTraining {
  /** for the log: what runs */
  readonly description: string;
  /** optimizer steps taken */
  readonly iterations: number;
  /** bytes of kernel heap the plans hold (weights, slots, activations, gradients, scratch) */
  readonly heapBytes: number;
  /**
   * One step on a batch in NHWC layout (x: count examples, labels: their
   * classes). `random` draws dropout's masks (default: a stream seeded from
   * the settings' seed and the step number).
   */
  step(x: Float32Array, labels: Int32Array, count: number, opts?: { lr?: number; random?: () => number }): StepResult;
  /** Inference mode: mean loss and the predicted class of every example. */
  evaluate(x: Float32Array, labels: Int32Array, count: number): { loss: number; predicted: Int32Array };
  /**
   * Plain mini-batch training over whole arrays: `epochs` passes in batches
   * of `batch` (the last may be smaller), in order or shuffled by the seed;
   * returns each epoch's mean loss.
   */
  fit(x: Float32Array, labels: Int32Array, opts: { batch: number; epochs?: number; shuffle?: boolean }): number[];
  setLearningRate(lr: number): void;
  /** every weight (trainable and running statistics) by its tfjs name, in tfjs's layout */
  weights(): Map<string, Float32Array>;
  /** the optimizer's state as the tfjs engine checkpoints it */
  optimizerSlots(): SlotState[];
  restoreOptimizerSlots(slots: readonly SlotState[]): void;
  dispose(): void;
}

/**
 * Why this network cannot run as a compiled step (the first layer without a
 * kernel here, or no wasm SIMD), or null when it can.
 */
export function compiledTrainingSupport(network: Network): string | null {
  if (runtime() === null) return 'no WebAssembly SIMD with shared memory here';
  try {
    buildOps(network.body, { shape: network.input }, probe, true);
    return null;
  } catch (e) {
    if (e instanceof NotCompilable) return e.message;
    throw e;
  }
}

const dummy: Param = { name: '', key: '', shape: [], size: 0, p: 0, trainable: false, decay: false, grad: 0, slots: [] };
const probe: BuildContext = { param: () => ({ ...dummy }), constants: () => 0, frozenStats: () => false };

/**
 * Plan the step for a network from its initial weights (tfjs names and
 * layout, as toTfjs makes them: `model.weights`' originalName → values).
 * Synchronous; throws NotCompilable when a layer has no kernel here.
 */
export function createCompiledTraining(network: Network, settings: CompiledSettings, initial: ReadonlyMap<string, Float32Array>): CompiledTraining {
  const rt = runtime();
  if (rt === null) throw new NotCompilable(network.name, 'no WebAssembly SIMD with shared memory here');
  return new Trainer(rt, network, settings, initial);
}

/**
 * The library entry: plan the compiled step for a checked network, starting
 * from the weights given (canonical layout, as writeOnnx takes them) or from
 * the seeded initialisation the tfjs path would draw (toTfjs with the
 * settings' seed), so both start from the same weights.
 */
export async function compileTraining(network: Network, settings: CompiledSettings, opts: { weights?: WeightSource } = {}): Promise<CompiledTraining> {
  const why = compiledTrainingSupport(network);
  if (why !== null) throw new NotCompilable(network.name, why);
  const { loadTf, toTfjs } = await import('../../emit/tfjs/index.js');
  const { tf } = await loadTf({ backend: 'cpu' });
  const model = toTfjs(tf, network, opts.weights ? { weights: opts.weights } : { seed: settings.seed });
  try {
    return createCompiledTraining(network, settings, new Map(model.weights.map((w) => [w.originalName, w.read().dataSync() as Float32Array])));
  } finally {
    model.dispose();
  }
}

const fr = Math.fround;

class Trainer implements CompiledTraining {
  readonly description: string;
  private readonly params: Param[] = [];
  private readonly byKey = new Map<string, Param>();
  private readonly ops: Op[];
  private readonly inSize: number;
  private readonly classes: number;
  private readonly programs = new Map<string, Arena>();
  private readonly blocks: number[] = [];
  private lr: number;
  private steps = 0;
  private accBeta1: number;
  private accBeta2: number;
  /** update constants (float32s), rewritten before each update */
  private readonly consts: number;
  private disposed = false;

  constructor(private readonly rt: Runtime, private readonly network: Network, private readonly s: CompiledSettings, initial: ReadonlyMap<string, Float32Array>) {
    this.lr = s.lr;
    this.accBeta1 = fr(s.beta1);
    this.accBeta2 = fr(s.beta2);
    this.consts = this.alloc(16);
    const slotCount = s.optimizer === 'adam' ? 2 : s.optimizer === 'momentum' ? 1 : 0;
    for (const pw of planWeights(network)) {
      const values = initial.get(pw.name);
      const count = pw.shape.reduce((a, b) => a * b, 1);
      if (!values || values.length !== count) throw new Error(`compiled step: no initial values for ${pw.name} [${pw.shape.join(', ')}]`);
      const p = this.alloc(count);
      const param: Param = {
        name: pw.name, key: `${pw.path}.${pw.spec.name}`, shape: pw.shape, size: count, p,
        trainable: pw.spec.trainable, decay: /(^|\/)kernel$/.test(pw.name), grad: 0, slots: [],
      };
      if (param.trainable) {
        for (let k = 0; k < slotCount; k++) {
          const q = this.alloc(count);
          this.rt.heap.f32.fill(0, q / 4, q / 4 + count);
          param.slots.push(q);
        }
      }
      this.params.push(param);
      this.byKey.set(param.key, param);
    }
    const build: BuildContext = {
      param: (key) => {
        const p = this.byKey.get(key);
        if (!p) throw new Error(`compiled step: the network has no weight ${key}`);
        return p;
      },
      constants: (write, bytes) => {
        const p = this.alloc(bytes / 4);
        write(new DataView(this.rt.heap.f32.buffer, p, bytes));
        return p;
      },
      frozenStats: () => false,
    };
    this.ops = buildOps(network.body, { shape: network.input }, build, true).ops;
    // values in after the plan: a dense layer after a flatten learns its row order there
    for (const param of this.params) this.write(param, initial.get(param.name)!);
    this.inSize = network.input.reduce((a, b) => a * b, 1);
    this.classes = network.output[0]!;
    this.description = `compiled step (${this.ops.length} ops, ${this.params.filter((p) => p.trainable).length} weights, ${rt.threads} thread${rt.threads > 1 ? 's' : ''})`;
  }

  private alloc(floats: number): number {
    const p = this.rt.heap.allocF32(floats);
    this.blocks.push(p);
    return p;
  }

  /** tfjs-layout values into the heap (rows permuted for a dense layer after a flatten). */
  private write(param: Param, values: Float32Array): void {
    const f = this.rt.heap.f32, at = param.p / 4;
    if (!param.perm) {
      f.set(values, at);
      return;
    }
    const cols = param.size / param.perm.length;
    param.perm.forEach((src, q) => f.set(values.subarray(src * cols, (src + 1) * cols), at + q * cols));
  }

  private read(param: Param, at: number): Float32Array {
    const f = this.rt.heap.f32;
    const inner = f.subarray(at / 4, at / 4 + param.size);
    if (!param.perm) return inner.slice();
    const out = new Float32Array(param.size), cols = param.size / param.perm.length;
    param.perm.forEach((src, q) => out.set(inner.subarray(q * cols, (q + 1) * cols), src * cols));
    return out;
  }

  get iterations(): number {
    return this.steps;
  }

  get heapBytes(): number {
    let n = 0;
    for (const a of this.programs.values()) n += a.bytes;
    for (const p of this.blocks) n += this.rt.heap.sizeOf(p) ?? 0;
    return n;
  }

  private arena(kind: 'train' | 'eval', count: number): Arena {
    if (this.disposed) throw new Error('compiled step: used after dispose()');
    const key = `${kind}:${count}`;
    let a = this.programs.get(key);
    if (!a) {
      a = new Arena(this.rt);
      this.programs.set(key, a);
    }
    return a;
  }

  /** The batch in, the forward pass; returns the logits' address. */
  private forward(c: Ctx, x: Float32Array, count: number): number {
    if (x.length < count * this.inSize) throw new RangeError(`compiled step: ${x.length} values for ${count} examples of ${this.inSize}`);
    c.a.begin();
    const input = c.a.output(count * this.inSize);
    input.view.set(x.subarray(0, count * this.inSize));
    c.a.endOp();
    return forwardAll(this.ops, c, input.p);
  }

  step(x: Float32Array, labels: Int32Array, count: number, opts: { lr?: number; random?: () => number } = {}): StepResult {
    if (opts.lr !== undefined) this.lr = opts.lr;
    const a = this.arena('train', count);
    const c: Ctx = { a, N: count, training: true, random: opts.random ?? rng(deriveSeed(this.s.seed, 'dropout', this.steps)) };
    const logits = this.forward(c, x, count);
    const K = this.classes;
    const dz = a.output(count * K);
    const { loss, hits } = softmaxCrossEntropy(a.heap.f32, logits / 4, labels, count, K, dz.view);
    a.endOp();
    if (!Number.isFinite(loss)) {
      a.end();
      return { loss, hits };
    }
    backwardAll(this.ops, c, dz.p, false);
    this.update(a);
    a.end();
    return { loss, hits };
  }

  /** Weight decay into the gradients, then one optimizer update per weight, in place. */
  private update(a: Arena): void {
    const s = this.s, f = a.heap.f32, k = this.consts / 4;
    let kernel: string;
    if (s.optimizer === 'adam') {
      kernel = 'adam_update';
      f.set([fr(s.beta1), fr(1 - s.beta1), fr(s.beta2), fr(1 - s.beta2), fr(1 - this.accBeta1), fr(1 - this.accBeta2), fr(1e-7), fr(-this.lr)], k);
    } else if (s.optimizer === 'momentum') {
      kernel = 'momentum_update';
      f.set([fr(s.momentum), fr(-this.lr), 0], k);
    } else {
      kernel = 'sgd_update';
      f.set([fr(-this.lr)], k);
    }
    f[k + 12] = fr(s.weightDecay);
    for (const p of this.params) {
      if (!p.trainable || p.grad === 0) continue;
      const n = p.size;
      if (s.weightDecay > 0 && p.decay) {
        // g + w·λ, two float32 roundings as tf.add(g, tf.mul(w, λ))
        const t = a.temp(n);
        binaryInto(a.io, 'mul', p.p, this.consts + 48, t, n, 1, false);
        binaryInto(a.io, 'add', p.grad, t, p.grad, n, n, false);
      }
      const args = s.optimizer === 'adam' ? [p.p, p.slots[0]!, p.slots[1]!, p.grad, p.p, p.slots[0]!, p.slots[1]!]
        : s.optimizer === 'momentum' ? [p.p, p.slots[0]!, p.grad, p.p, p.slots[0]!] : [p.p, p.grad, p.p];
      a.rt.parallel(kernel, Math.ceil(n / BLOCK), [...args, n, this.consts], n < 4 * BLOCK);
      a.endOp();
    }
    if (s.optimizer === 'adam') {
      this.accBeta1 = fr(this.accBeta1 * fr(s.beta1));
      this.accBeta2 = fr(this.accBeta2 * fr(s.beta2));
    }
    this.steps++;
  }

  evaluate(x: Float32Array, labels: Int32Array, count: number): { loss: number; predicted: Int32Array } {
    const a = this.arena('eval', count);
    const c: Ctx = { a, N: count, training: false, random: Math.random };
    const logits = this.forward(c, x, count);
    const f = a.heap.f32, K = this.classes, at = logits / 4;
    const predicted = new Int32Array(count);
    let sum = 0;
    for (let i = 0; i < count; i++) {
      const row = at + i * K;
      let best = 0, max = -Infinity;
      for (let j = 0; j < K; j++) if (f[row + j]! > max) { max = f[row + j]!; best = j; }
      predicted[i] = best;
      let z = 0;
      for (let j = 0; j < K; j++) z += Math.exp(f[row + j]! - max);
      sum += Math.log(z) + max - f[row + labels[i]!]!;
    }
    a.end();
    return { loss: count > 0 ? sum / count : 0, predicted };
  }

  fit(x: Float32Array, labels: Int32Array, opts: { batch: number; epochs?: number; shuffle?: boolean }): number[] {
    const n = labels.length, B = opts.batch, epochs = opts.epochs ?? 1;
    if (!Number.isInteger(B) || B < 1) throw new RangeError(`fit: batch must be a whole number ≥ 1, not ${B}`);
    if (x.length !== n * this.inSize) throw new RangeError(`fit: ${x.length} values for ${n} labels of ${this.inSize} each`);
    const losses: number[] = [];
    const bx = new Float32Array(B * this.inSize), by = new Int32Array(B);
    for (let e = 0; e < epochs; e++) {
      const order = Array.from({ length: n }, (_, i) => i);
      if (opts.shuffle) {
        const r = rng(deriveSeed(this.s.seed, 'fit', e));
        for (let i = n - 1; i > 0; i--) {
          const j = Math.floor(r() * (i + 1));
          [order[i], order[j]] = [order[j]!, order[i]!];
        }
      }
      let sum = 0;
      for (let s = 0; s < n; s += B) {
        const count = Math.min(B, n - s);
        for (let i = 0; i < count; i++) {
          const k = order[s + i]!;
          bx.set(x.subarray(k * this.inSize, (k + 1) * this.inSize), i * this.inSize);
          by[i] = labels[k]!;
        }
        sum += this.step(bx, by, count).loss * count;
      }
      losses.push(n > 0 ? sum / n : 0);
    }
    return losses;
  }

  setLearningRate(lr: number): void {
    this.lr = lr;
  }

  weights(): Map<string, Float32Array> {
    return new Map(this.params.map((p) => [p.name, this.read(p, p.p)]));
  }

  /** tfjs's names: the variable's name and /m, /v or /momentum; iter first; Adam's β powers last (as optim.ts saves them). */
  optimizerSlots(): SlotState[] {
    const slots: SlotState[] = [{ name: 'iter', shape: [], values: Float32Array.of(this.steps) }];
    const trained = this.params.filter((p) => p.trainable);
    const names = this.s.optimizer === 'adam' ? ['m', 'v'] : this.s.optimizer === 'momentum' ? ['momentum'] : [];
    names.forEach((suffix, k) => {
      for (const p of trained) slots.push({ name: `${p.name}/${suffix}`, shape: p.shape, values: this.read(p, p.slots[k]!) });
    });
    if (this.s.optimizer === 'adam') {
      slots.push({ name: '#accBeta1', shape: [], values: Float32Array.of(this.accBeta1) });
      slots.push({ name: '#accBeta2', shape: [], values: Float32Array.of(this.accBeta2) });
    }
    return slots;
  }

  restoreOptimizerSlots(slots: readonly SlotState[]): void {
    const byName = new Map(slots.map((s) => [s.name, s]));
    const iter = byName.get('iter');
    if (iter) this.steps = iter.values[0]!;
    const names = this.s.optimizer === 'adam' ? ['m', 'v'] : this.s.optimizer === 'momentum' ? ['momentum'] : [];
    names.forEach((suffix, k) => {
      for (const p of this.params.filter((q) => q.trainable)) {
        // tfjs makes slots on the first update: a checkpoint from before it has none (zeros)
        const s = byName.get(`${p.name}/${suffix}`);
        if (!s) continue;
        if (s.values.length !== p.size) throw new Error(`optimizer slot ${s.name}: ${s.values.length} values, the weight has ${p.size}`);
        const tmp: Param = { ...p, p: p.slots[k]! };
        this.write(tmp, s.values);
      }
    });
    const b1 = byName.get('#accBeta1'), b2 = byName.get('#accBeta2');
    if (b1) this.accBeta1 = b1.values[0]!;
    if (b2) this.accBeta2 = b2.values[0]!;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const a of this.programs.values()) a.dispose();
    this.programs.clear();
    for (const p of this.blocks) this.rt.heap.free_(p);
    this.blocks.length = 0;
  }
}

/**
 * Mean softmax cross-entropy of the logits (rows of K at f[at…]) and its
 * gradient (softmax − onehot) / N into dz; hits: rows whose first largest
 * logit is the label.
 */
function softmaxCrossEntropy(f: Float32Array, at: number, labels: Int32Array, N: number, K: number, dz: Float32Array): StepResult {
  let sum = 0, hits = 0;
  for (let i = 0; i < N; i++) {
    const row = at + i * K;
    let max = -Infinity, best = 0;
    for (let j = 0; j < K; j++) if (f[row + j]! > max) { max = f[row + j]!; best = j; }
    const label = labels[i]!;
    if (best === label) hits++;
    let z = 0;
    for (let j = 0; j < K; j++) z += Math.exp(f[row + j]! - max);
    const lse = Math.log(z) + max;
    sum += lse - f[row + label]!;
    for (let j = 0; j < K; j++) dz[i * K + j] = (Math.exp(f[row + j]! - lse) - (j === label ? 1 : 0)) / N;
  }
  return { loss: N > 0 ? sum / N : 0, hits };
}
