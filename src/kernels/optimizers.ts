// tfjs's SGD, momentum and Adam optimizers with each variable's update as one
// wasm pass (wasm/optim.ts) instead of 3 to 13 kernels and their temporaries.
// applyGradients of the three classes is replaced while the fast kernels are
// installed, so model.fit and any hand-written loop get it. The optimizers'
// state (slot variables, names, β powers, iteration count) is kept exactly as
// tfjs keeps it, so getWeights / setWeights and checkpoints are unchanged.
//
// The update writes over the old weight and slots when their memory is a heap
// block that no other tensor shares; otherwise (the first step, or a tensor
// sharing the data) it makes new tensors and assigns them, as tfjs does.
import type { CpuBackend, TensorInfo, Tf } from './backend.js';
import { runtime } from './runtime/index.js';
import { heapAddress, Io } from './runtime/tensors.js';
import { BLOCK } from './wasm/copy.js';

type Tensor = import('@tensorflow/tfjs').Tensor;
type Variable = import('@tensorflow/tfjs').Variable;
type NamedGrads = import('@tensorflow/tfjs').NamedTensorMap | Array<{ name: string; tensor: Tensor }>;
interface Slot { originalName: string; variable: Variable }

/** What the replaced applyGradients read from tfjs's optimizer objects. */
interface AdamFields {
  learningRate: number; beta1: number; beta2: number; epsilon: number;
  accBeta1: Variable; accBeta2: Variable;
  accumulatedFirstMoment: Slot[]; accumulatedSecondMoment: Slot[];
  incrementIterations(): void;
}
interface SgdFields { learningRate: number; incrementIterations(): void }
interface MomentumFields extends SgdFields { momentum: number; useNesterov: boolean; accumulations: Slot[] }

type Apply = (this: unknown, grads: NamedGrads) => void;
const STOCK = Symbol.for('alexnetc.stockApplyGradients');
interface Patched { [STOCK]?: Apply }

function entries(grads: NamedGrads): Array<[string, Tensor | undefined]> {
  return Array.isArray(grads) ? grads.map((g) => [g.name, g.tensor]) : Object.keys(grads).map((k) => [k, grads[k]]);
}

/** The update runs here only on the cpu backend, float32 throughout. */
function usable(tf: Tf, tensors: Array<Tensor | undefined>): boolean {
  return tf.getBackend() === 'cpu' && runtime() !== null && tensors.every((t) => t === undefined || t.dtype === 'float32');
}

/**
 * One update over a variable and its slots: `targets` are written (in place
 * when possible), `reads` only read; consts are float32 scalars.
 */
function update(tf: Tf, kernel: string, targets: Variable[], reads: Tensor[], consts: number[]): void {
  const backend = tf.backend() as unknown as CpuBackend;
  const io = new Io(runtime()!, backend);
  const fresh: Array<{ target: Variable; info: TensorInfo }> = [];
  try {
    const n = targets[0]!.size;
    const ins = [...targets, ...reads].map((t) => io.input(t as unknown as TensorInfo));
    const outs = targets.map((t) => {
      const at = heapAddress(backend, t as unknown as TensorInfo);
      if (at !== null) return at;
      const o = io.output(n);
      fresh.push({ target: t, info: io.tensor(o.view, [...t.shape]) });
      return o.p;
    });
    const c = io.temp(consts.length);
    io.heap.f32.set(consts, c / 4);
    io.rt.parallel(kernel, Math.ceil(n / BLOCK), [...ins, ...outs, n, c], n < 4 * BLOCK);
  } catch (e) {
    for (const f of fresh) backend.disposeIntermediateTensorInfo(f.info);
    throw e;
  } finally {
    io.release();
  }
  const engine = tf.engine() as unknown as { makeTensorFromTensorInfo(t: TensorInfo): Tensor };
  for (const { target, info } of fresh) {
    const t = engine.makeTensorFromTensorInfo(info);
    target.assign(t);
    t.dispose();
  }
}

const fr = Math.fround;
const slot = (tf: Tf, name: string, value: Variable): Slot =>
  ({ originalName: name, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) });
const registered = (tf: Tf, name: string): Variable =>
  (tf.engine() as unknown as { registeredVariables: Record<string, Variable> }).registeredVariables[name]!;

function adam(tf: Tf, stock: Apply): Apply {
  return function (this: unknown, grads: NamedGrads) {
    const o = this as AdamFields;
    const es = entries(grads);
    if (!usable(tf, es.map((e) => e[1]))) return stock.call(this, grads);
    tf.tidy(() => {
      // sub(1, accBeta): one float32 subtraction
      const omab1 = fr(1 - o.accBeta1.dataSync()[0]!), omab2 = fr(1 - o.accBeta2.dataSync()[0]!);
      es.forEach(([name, g], i) => {
        const value = registered(tf, name);
        o.accumulatedFirstMoment[i] ??= slot(tf, `${name}/m`, value);
        o.accumulatedSecondMoment[i] ??= slot(tf, `${name}/v`, value);
        if (g == null) return;
        update(tf, 'adam_update', [value, o.accumulatedFirstMoment[i]!.variable, o.accumulatedSecondMoment[i]!.variable], [g],
          [fr(o.beta1), fr(1 - o.beta1), fr(o.beta2), fr(1 - o.beta2), omab1, omab2, fr(o.epsilon), fr(-o.learningRate)]);
      });
      o.accBeta1.assign(tf.mul(o.accBeta1, o.beta1));
      o.accBeta2.assign(tf.mul(o.accBeta2, o.beta2));
    });
    o.incrementIterations();
  };
}

function sgd(tf: Tf, stock: Apply): Apply {
  return function (this: unknown, grads: NamedGrads) {
    const o = this as SgdFields;
    const es = entries(grads);
    if (!usable(tf, es.map((e) => e[1]))) return stock.call(this, grads);
    for (const [name, g] of es) {
      if (g == null) continue;
      update(tf, 'sgd_update', [registered(tf, name)], [g], [fr(-o.learningRate)]);
    }
    o.incrementIterations();
  };
}

function momentum(tf: Tf, stock: Apply): Apply {
  return function (this: unknown, grads: NamedGrads) {
    const o = this as MomentumFields;
    const es = entries(grads);
    if (!usable(tf, es.map((e) => e[1]))) return stock.call(this, grads);
    es.forEach(([name, g], i) => {
      const value = registered(tf, name);
      o.accumulations[i] ??= slot(tf, `${name}/momentum`, value);
      if (g == null) return;
      update(tf, 'momentum_update', [value, o.accumulations[i]!.variable], [g], [fr(o.momentum), fr(-o.learningRate), o.useNesterov ? 1 : 0]);
    });
    o.incrementIterations();
  };
}

function classes(tf: Tf): Array<[{ prototype: object }, (tf: Tf, stock: Apply) => Apply]> {
  return [[tf.AdamOptimizer, adam], [tf.SGDOptimizer, sgd], [tf.MomentumOptimizer, momentum]];
}

/** Replace applyGradients of tfjs's SGD, momentum and Adam optimizers (idempotent). */
export function installOptimizers(tf: Tf): string[] {
  const done: string[] = [];
  for (const [cls, make] of classes(tf)) {
    const proto = cls.prototype as { applyGradients: Apply } & Patched;
    // own property only: MomentumOptimizer inherits from SGDOptimizer
    if (!Object.prototype.hasOwnProperty.call(proto, STOCK)) {
      const stock = proto.applyGradients;
      const fast = make(tf, stock);
      Object.defineProperty(proto, STOCK, { value: stock, configurable: true });
      proto.applyGradients = fast;
    }
    done.push(`${(cls as unknown as { className: string }).className} optimizer`);
  }
  return done;
}

export function uninstallOptimizers(tf: Tf): void {
  for (const [cls] of classes(tf)) {
    const proto = cls.prototype as { applyGradients: Apply } & Patched;
    if (!Object.prototype.hasOwnProperty.call(proto, STOCK)) continue;
    proto.applyGradients = proto[STOCK]!;
    delete proto[STOCK];
  }
}
