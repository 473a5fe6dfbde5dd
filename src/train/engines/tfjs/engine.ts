// The tfjs engine: the network built by toTfjs (seeded, or from a checkpoint),
// trained with a hand-written step so that every step can be checked for NaN,
// interrupted, and replayed exactly on resume.
//
// Loss: softmax cross-entropy. When the network ends with `softmax` (LeNet-5,
// AlexNet) the loss is computed from the logits that feed that softmax — the
// same function as categorical cross-entropy on the probabilities, but without
// its log(0) clipping and with the exact gradient (softmax − onehot). A network
// that does not end with softmax has its outputs taken as logits (PyTorch's
// CrossEntropyLoss convention). The saved model keeps the softmax.
//
// The step: on the cpu backend with the fast kernels, when every layer has a
// kernel there and no masks or frozen weights are asked for, the compiled
// step (src/train/compiled) runs it — the same arithmetic as a fixed sequence
// of wasm kernel calls on buffers planned once, without tfjs — and the model
// gets its weights back whenever it is read or saved. Otherwise tfjs runs it
// (autodiff over the layers). The log says which and why. ALEXNETC_COMPILED=0
// asks for the tfjs path.
//
// Determinism: weights start from toTfjs's seeded initialisation; dropout
// draws from Math.random, which is replaced by a stream seeded from
// (seed, epoch, step) for the duration of each step.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readTfjsWeights } from '../../../weights/tfjs.js';
import { BackendUnavailableError, loadTf, planWeights, saveTfjs, toTfjs, fileSaver, type LayersModel, type Tf } from '../../../emit/tfjs/index.js';
import { toTfjs as toTfjsLayout } from '../../../emit/tfjs/layout.js';
import type { Network } from '../../../check/ir.js';
import { tfjsMetadata } from '../../../emit/metadata.js';
import { deriveSeed, rng } from '../../../util/rng.js';
import { CheckpointError } from '../../checkpoint.js';
import type { EngineBatch, EngineModule, EngineSetup, TrainEngine } from '../../engine.js';
import { TrainError } from '../../prepare.js';
import { makeOptimizer, optimizerState, restoreOptimizer, setLearningRate, type SlotState } from './optim.js';
import { compiledTrainingSupport, createCompiledTraining, type CompiledTraining } from '../../compiled/index.js';

type Tensor = import('@tensorflow/tfjs').Tensor;
type Variable = import('@tensorflow/tfjs').Variable;
type SymbolicTensor = import('@tensorflow/tfjs').SymbolicTensor;
type Optimizer = import('@tensorflow/tfjs').Optimizer;

const MODEL = 'model';
const OPT_JSON = 'optimizer.json';
const OPT_BIN = 'optimizer.bin';

/** loadTf plus the fast cpu kernels when it is pure tfjs; the description says which. */
export async function loadBackend(choice: string, threads?: number): Promise<{ tf: Tf; description: string }> {
  let loaded;
  try {
    loaded = await loadTf({ backend: choice as 'auto' | 'gpu' | 'node' | 'cpu', threads });
  } catch (e) {
    if (e instanceof BackendUnavailableError) throw new TrainError(e.message);
    throw e;
  }
  const tf = loaded.tf;
  if (loaded.backend === 'cpu') {
    // The fast kernels and tfjs's stock kernels round differently: a run that silently took the stock
    // ones because this process could not reserve the kernels' memory (a busy machine, ulimit -v)
    // trained to other weights than the same run elsewhere, or its own resume (issue 22). Refuse instead.
    const { runtimeUnavailable } = await import('../../../kernels/index.js');
    const down = runtimeUnavailable();
    if (down?.transient) {
      throw new TrainError(
        `${down.reason}: training on tfjs's stock kernels instead would give other weights than this run gives anywhere else. ` +
          'Run node with --disable-wasm-trap-handler (NODE_OPTIONS=--disable-wasm-trap-handler alexnetc train …), which needs no reservation and computes the same, or raise the address-space limit (ulimit -v)',
      );
    }
    // loadTf installed the fast cpu kernels
    return { tf, description: `cpu (pure JS ${loaded.name} ${tf.version.tfjs}, ${loaded.fastKernels.length} fast kernels; @tensorflow/tfjs-node would be faster)` };
  }
  return { tf, description: `${loaded.backend} (${loaded.name})` };
}

export const tfjsEngine: EngineModule = {
  async preflight(setup) {
    await loadBackend(setup.backend, setup.threads);
  },
  create: createTfjsEngine,
};

/** The tfjs engine's own view: its model too (the playground predicts and explains with it in memory). */
export interface TfjsEngine extends TrainEngine {
  readonly model: LayersModel;
}

export async function createTfjsEngine(setup: EngineSetup): Promise<TfjsEngine> {
  const { tf, description } = await loadBackend(setup.backend, setup.threads);
  const { network, settings } = setup;
  const model: LayersModel = setup.resumeFrom
    ? toTfjs(tf, network, { weights: readTfjsWeights(path.join(setup.resumeFrom, MODEL), network) })
    : toTfjs(tf, network, setup.initialWeights ? { weights: setup.initialWeights } : { seed: settings.seed });
  model.setUserDefinedMetadata(tfjsMetadata({ network, source: setup.source.file, classes: setup.classes, normalization: setup.normalization }));

  // the same layers with the logits as output (before a final softmax)
  const out = model.outputs[0]!;
  const last = out.sourceLayer;
  const endsWithSoftmax = last.getClassName() === 'Softmax';
  const logits = endsWithSoftmax ? tf.model({ inputs: model.inputs, outputs: last.input as SymbolicTensor }) : model;
  // frozen weights (EngineSetup.frozen) get no gradient, hence no update; their batch norms run in inference mode
  let frozen: Set<string>;
  try {
    frozen = freezeLayers(network, model, setup.frozen);
    if (logits.trainableWeights.every((w) => frozen.has(w.originalName))) throw new TrainError(`every weight of ${network.name} is frozen: nothing to train`);
  } catch (e) {
    model.dispose();
    throw e;
  }
  const weights = logits.trainableWeights.filter((w) => !frozen.has(w.originalName));
  const vars = weights.map((w) => w.read() as Variable);
  // weight decay on kernels (conv and dense weights), not on biases or batch-norm parameters
  const decay = weights.map((w) => /(^|\/)kernel$/.test(w.originalName));
  const classes = network.output[0]!;

  // the compiled step, where it applies
  const why = tf.getBackend() !== 'cpu' ? `the ${tf.getBackend()} backend` :
    process.env.ALEXNETC_COMPILED === '0' ? 'ALEXNETC_COMPILED=0' :
    setup.masks && setup.masks.size > 0 ? 'pruning masks' :
    frozen.size > 0 ? 'frozen weights' : compiledTrainingSupport(network);
  if (why === null) {
    const compiled = createCompiledTraining(network, settings, new Map(model.weights.map((w) => [w.originalName, w.read().dataSync() as Float32Array])));
    if (setup.resumeFrom) compiled.restoreOptimizerSlots(readOptimizerSlots(setup.resumeFrom));
    setup.say(`training step: ${compiled.description}`);
    return compiledEngine(tf, model, compiled, {
      description, settings,
      lossDescription: `softmax cross-entropy ${endsWithSoftmax ? 'on the logits before the final softmax' : 'with the outputs as logits'}`,
    });
  }
  setup.say(`training step: tfjs layers and autodiff (not compiled: ${why})`);

  const masks = maskTensors(tf, network, model, setup.masks);
  const applyMasks = (): void => {
    for (const { v, mask } of masks) v.assign(tf.mul(v, mask));
  };
  tf.tidy(applyMasks);

  const optimizer: Optimizer = makeOptimizer(tf, settings, settings.lr);
  if (setup.resumeFrom) await restoreOptimizer(tf, optimizer, readOptimizerSlots(setup.resumeFrom));

  const tensor = (b: EngineBatch): Tensor => tf.tensor(b.x, b.shape, 'float32');
  let lrNow = settings.lr;

  return {
    model,
    description,
    layout: 'NHWC',
    lossDescription: `softmax cross-entropy ${endsWithSoftmax ? 'on the logits before the final softmax' : 'with the outputs as logits'}`,

    async step(b, lr, at) {
      if (lr !== lrNow) setLearningRate(optimizer, (lrNow = lr));
      const realRandom = Math.random;
      Math.random = rng(deriveSeed(settings.seed, 'dropout', at.epoch, at.step));
      try {
        return tf.tidy(() => {
          const x = tensor(b);
          const y = tf.oneHot(tf.tensor1d(b.labels, 'int32'), classes);
          let predicted: Tensor | undefined;
          const { value, grads } = tf.variableGrads(() => {
            const z = logits.apply(x, { training: true }) as Tensor;
            // kept out of the forward pass's tidy, which disposes everything but the loss
            predicted = tf.keep(tf.argMax(z, 1));
            return tf.losses.softmaxCrossEntropy(y, z) as import('@tensorflow/tfjs').Scalar;
          }, vars);
          const loss = value.dataSync()[0]!;
          const pred = predicted!.dataSync();
          predicted!.dispose();
          let hits = 0;
          for (let i = 0; i < b.count; i++) if (pred[i] === b.labels[i]) hits++;
          if (!Number.isFinite(loss)) return { loss, hits };
          if (settings.weightDecay > 0) {
            vars.forEach((v, i) => {
              const g = grads[v.name];
              if (decay[i] && g) grads[v.name] = tf.add(g, tf.mul(v, settings.weightDecay));
            });
          }
          optimizer.applyGradients(grads);
          applyMasks();
          return { loss, hits };
        });
      } finally {
        Math.random = realRandom;
      }
    },

    async evaluate(b) {
      return tf.tidy(() => {
        const y = tf.oneHot(tf.tensor1d(b.labels, 'int32'), classes);
        const z = logits.apply(tensor(b), { training: false }) as Tensor;
        return { loss: tf.losses.softmaxCrossEntropy(y, z).dataSync()[0]!, predicted: tf.argMax(z, 1).dataSync() as Int32Array };
      });
    },

    async saveCheckpoint(dir) {
      const modelDir = path.join(dir, MODEL);
      fs.mkdirSync(modelDir);
      await model.save(fileSaver(modelDir));
      writeOptimizerSlots(dir, await optimizerState(optimizer));
    },

    async saveModel(runDir) {
      await saveTfjs(model, path.join(runDir, MODEL));
      return `${MODEL}/ (tfjs)`;
    },

    async dispose() {
      tf.dispose(masks.map((m) => m.mask));
      optimizer.dispose();
      model.dispose();
    },
  };
}

// ---------------------------------------------------------------- the compiled step

/** The engine over a compiled step; the tfjs model gets the trained weights whenever it is read or saved. */
function compiledEngine(tf: Tf, model: LayersModel, step: CompiledTraining,
  o: { description: string; lossDescription: string; settings: EngineSetup['settings'] }): TfjsEngine {
  let stale = false;
  const sync = (): LayersModel => {
    if (!stale) return model;
    const values = step.weights();
    const tensors = model.weights.map((w) => tf.tensor(values.get(w.originalName)!, w.shape as number[], 'float32'));
    model.setWeights(tensors);
    tf.dispose(tensors);
    stale = false;
    return model;
  };
  return {
    get model() {
      return sync();
    },
    description: `${o.description}; ${step.description}`,
    layout: 'NHWC',
    lossDescription: o.lossDescription,
    async step(b, lr, at) {
      stale = true;
      return step.step(b.x, b.labels, b.count, { lr, random: rng(deriveSeed(o.settings.seed, 'dropout', at.epoch, at.step)) });
    },
    async evaluate(b) {
      return step.evaluate(b.x, b.labels, b.count);
    },
    async saveCheckpoint(dir) {
      const modelDir = path.join(dir, MODEL);
      fs.mkdirSync(modelDir);
      await sync().save(fileSaver(modelDir));
      writeOptimizerSlots(dir, step.optimizerSlots());
    },
    async saveModel(runDir) {
      await saveTfjs(sync(), path.join(runDir, MODEL));
      return `${MODEL}/ (tfjs)`;
    },
    async dispose() {
      step.dispose();
      model.dispose();
    },
  };
}

// ---------------------------------------------------------------- frozen weights (EngineSetup.frozen)

type LayerCall = (inputs: unknown, kwargs: Record<string, unknown>) => unknown;

/**
 * The tfjs names of the frozen weights (left out of the gradient, so the
 * optimizer never sees them). Every tfjs layer that holds a frozen running
 * statistic (batch norm) is made to run with `training: false` whatever the
 * step asks: it normalises with its stored statistics and does not update
 * them, as PyTorch's eval() does for one module. The model's saved form is
 * unchanged (nothing is marked non-trainable in model.json).
 */
function freezeLayers(network: Network, model: LayersModel, frozen: EngineSetup['frozen']): Set<string> {
  const names = new Set<string>();
  if (!frozen || frozen.size === 0) return names;
  const used = new Set<string>();
  const inference = new Set<string>();
  for (const p of planWeights(network)) {
    const key = `${p.path}.${p.spec.name}`;
    if (!frozen.has(key)) continue;
    names.add(p.name);
    used.add(key);
    if (!p.spec.trainable) inference.add(p.layer);
  }
  const stray = [...frozen].find((k) => !used.has(k));
  if (stray) throw new TrainError(`frozen weight ${stray}: the network ${network.name} has no such weight`);
  for (const name of inference) {
    const layer = model.getLayer(name) as unknown as { call: LayerCall };
    const call = layer.call.bind(layer);
    layer.call = (inputs, kwargs) => call(inputs, { ...kwargs, training: false });
  }
  return names;
}

// ---------------------------------------------------------------- masks (EngineSetup.masks)

/** Each mask as a tensor in its weight's tfjs layout, beside the variable it keeps sparse. */
function maskTensors(tf: Tf, network: Network, model: LayersModel, masks: EngineSetup['masks']): Array<{ v: Variable; mask: Tensor }> {
  if (!masks || masks.size === 0) return [];
  const vars = new Map(model.weights.map((w) => [w.originalName, w.read() as Variable]));
  const out: Array<{ v: Variable; mask: Tensor }> = [];
  const used = new Set<string>();
  for (const p of planWeights(network)) {
    const key = `${p.path}.${p.spec.name}`;
    const m = masks.get(key);
    if (!m) continue;
    const count = p.spec.shape.reduce((a, b) => a * b, 1);
    if (m.length !== count) throw new TrainError(`mask for ${key}: ${m.length} values, the weight [${p.spec.shape.join(', ')}] has ${count}`);
    const v = vars.get(p.name);
    if (!v) throw new Error(`internal: no tfjs variable ${p.name} for ${key}`);
    out.push({ v, mask: tf.tensor(toTfjsLayout(Float32Array.from(m), p.spec.shape, p.layout), p.shape, 'float32') });
    used.add(key);
  }
  const stray = [...masks.keys()].find((k) => !used.has(k));
  if (stray) throw new TrainError(`mask for ${stray}: the network ${network.name} has no such weight`);
  return out;
}

// ---------------------------------------------------------------- optimizer slots in a checkpoint

/** optimizer.bin: every slot, float32, in order; optimizer.json: their names, shapes and offsets. */
function writeOptimizerSlots(dir: string, slots: SlotState[]): void {
  let offset = 0;
  const index = slots.map((s) => {
    const entry = { name: s.name, shape: s.shape, offset, length: s.values.length };
    offset += s.values.length;
    return entry;
  });
  const bin = new Float32Array(offset);
  slots.forEach((s, i) => bin.set(s.values, index[i]!.offset));
  fs.writeFileSync(path.join(dir, OPT_BIN), new Uint8Array(bin.buffer));
  fs.writeFileSync(path.join(dir, OPT_JSON), JSON.stringify({ dtype: 'float32', littleEndian: true, slots: index }, null, 1) + '\n');
}

function readOptimizerSlots(dir: string): SlotState[] {
  let meta: { slots?: Array<{ name: string; shape: number[]; offset: number; length: number }> };
  let raw: Buffer;
  try {
    meta = JSON.parse(fs.readFileSync(path.join(dir, OPT_JSON), 'utf8'));
    raw = fs.readFileSync(path.join(dir, OPT_BIN));
  } catch (e) {
    throw new CheckpointError(`${dir}: cannot read the optimizer state (${(e as Error).message})`);
  }
  const slots = meta.slots ?? [];
  const need = slots.reduce((a, s) => Math.max(a, s.offset + s.length), 0) * 4;
  if (raw.length !== need) throw new CheckpointError(`${path.join(dir, OPT_BIN)}: ${raw.length} bytes, ${OPT_JSON} describes ${need}`);
  // copy into an aligned buffer: a Buffer's byteOffset need not be a multiple of 4
  const all = new Float32Array(new Uint8Array(raw).buffer);
  return slots.map((s) => ({ name: s.name, shape: s.shape, values: all.slice(s.offset, s.offset + s.length) }));
}
