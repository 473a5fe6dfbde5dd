// The three optimizers on tfjs' own implementations, plus what tfjs lacks for
// exact checkpoints: changing the learning rate between epochs and saving and
// restoring every slot (momentum accumulators, Adam's moments and its running
// β powers) bit for bit.
//
// Conventions (the same as PyTorch's, so recipes carry over):
// - sgd:      w ← w − lr·g
// - momentum: v ← μ·v + g;  w ← w − lr·v          (torch.optim.SGD, dampening 0)
// - adam:     tfjs Adam, ε = 1e-7 (PyTorch uses 1e-8)
// Weight decay is added to the gradient before the optimizer sees it
// (coupled L2, as torch's `weight_decay` and Caffe), on kernels only.
import type { TrainSettings } from '../../config.js';

type Tf = typeof import('@tensorflow/tfjs');
type Optimizer = import('@tensorflow/tfjs').Optimizer;
type Tensor = import('@tensorflow/tfjs').Tensor;

export function makeOptimizer(tf: Tf, s: TrainSettings, lr: number): Optimizer {
  switch (s.optimizer) {
    case 'sgd':
      return tf.train.sgd(lr);
    case 'momentum':
      return tf.train.momentum(lr, s.momentum);
    case 'adam':
      return tf.train.adam(lr, s.beta1, s.beta2);
  }
}

interface LrSettable {
  setLearningRate?: (lr: number) => void;
  learningRate: number;
}

export function setLearningRate(opt: Optimizer, lr: number): void {
  const o = opt as unknown as LrSettable;
  // SGD and momentum keep a negated scalar beside the number; setLearningRate updates both
  if (typeof o.setLearningRate === 'function') o.setLearningRate(lr);
  else o.learningRate = lr;
}

/** One saved optimizer variable. */
export interface SlotState {
  name: string;
  shape: number[];
  values: Float32Array;
}

interface AdamInternals {
  accBeta1?: import('@tensorflow/tfjs').Variable;
  accBeta2?: import('@tensorflow/tfjs').Variable;
}

/** Every slot, in the optimizer's order (iterations first), plus Adam's β powers. */
export async function optimizerState(opt: Optimizer): Promise<SlotState[]> {
  const slots: SlotState[] = [];
  for (const w of await opt.getWeights()) {
    slots.push({ name: w.name, shape: [...w.tensor.shape], values: Float32Array.from(await w.tensor.data()) });
  }
  const adam = opt as unknown as AdamInternals;
  // setWeights recomputes these as β^(t+1) with pow, which is not bit-identical to the running product
  for (const [name, v] of [['#accBeta1', adam.accBeta1], ['#accBeta2', adam.accBeta2]] as const) {
    if (v) slots.push({ name, shape: [], values: Float32Array.from(await v.data()) });
  }
  return slots;
}

export async function restoreOptimizer(tf: Tf, opt: Optimizer, slots: SlotState[]): Promise<void> {
  const own = slots.filter((s) => !s.name.startsWith('#'));
  const tensors: Tensor[] = own.map((s) => tf.tensor(s.values, s.shape, 'float32'));
  await opt.setWeights(own.map((s, i) => ({ name: s.name, tensor: tensors[i]! })));
  // setWeights made variables from the tensors (copies); the originals can go
  tf.dispose(tensors);
  const adam = opt as unknown as AdamInternals;
  for (const s of slots) {
    const v = s.name === '#accBeta1' ? adam.accBeta1 : s.name === '#accBeta2' ? adam.accBeta2 : undefined;
    if (v) tf.tidy(() => v.assign(tf.scalar(s.values[0]!)));
  }
}
