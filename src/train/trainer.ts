// The training loop behind `alexnetc train`: data in, checked against the
// network, a seeded tfjs model trained with a hand-written loop (so every step
// can be checked for NaN, interrupted, and replayed exactly on resume), a
// checkpoint per epoch, and the final reports.
//
// Loss: softmax cross-entropy. When the network ends with `softmax` (LeNet-5,
// AlexNet) the loss is computed from the logits that feed that softmax —
// the same function as categorical cross-entropy on the probabilities, but
// without its log(0) clipping and with the exact gradient (softmax − onehot).
// A network that does not end with softmax has its outputs taken as logits
// (PyTorch's CrossEntropyLoss convention). The saved model keeps the softmax.
//
// Determinism: weights start from toTfjs's seeded initialisation; data order
// and augmentation come from (seed, epoch) (src/train/data); dropout draws
// from Math.random, which is replaced by a generator seeded from
// (seed, epoch, step) for the duration of each step. So a run is a function
// of its settings, and resuming from (epoch, step) replays the rest exactly.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Network } from '../check/ir.js';
import { BackendUnavailableError, loadTf, type BackendChoice } from '../emit/tfjs/backend.js';
import { toTfjs } from '../emit/tfjs/build.js';
import { saveTfjs } from '../emit/tfjs/io.js';
import type { LayersModel, Tf } from '../emit/tfjs/tf.js';
import { readTfjsWeights } from '../emit/tfjs/weights.js';
import { writeFileAtomic } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import { handleInterrupt, SIGNAL_EXIT, type Signal } from '../util/signals.js';
import { tfjsMetadata } from '../emit/metadata.js';
import {
  batchCount,
  batches,
  channelStats,
  givenNormalization,
  DataError,
  deriveSeed,
  FASHION_MNIST_CLASSES,
  loadIdxDir,
  loadImageFolder,
  permutation,
  rng,
  subset,
  validationSplit,
  type Dataset,
  type Normalization,
  type Shape3,
  type Split,
} from './data/index.js';
import { installFastKernels } from './kernels/index.js';
import { accuracy, confusionMatrix, confusionMatrixSvg, EpochProgress, historyCharts, perClassAccuracy, svgToPng } from './report/index.js';
import { checkpointModelDir, hasCheckpoint, readOptimizerSlots, writeCheckpoint, type HistoryEntry, type RunSource, type RunState } from './checkpoint.js';
import { ConfigError, describeAugment, describeSettings, learningRate, resolveAugment, type Augmentation, type TrainSettings } from './config.js';
import { makeOptimizer, optimizerState, restoreOptimizer, setLearningRate } from './optim.js';

type Tensor = import('@tensorflow/tfjs').Tensor;
type Variable = import('@tensorflow/tfjs').Variable;
type SymbolicTensor = import('@tensorflow/tfjs').SymbolicTensor;

export type { BackendChoice };

/** A problem with the run the user can fix (data that do not fit the network, an occupied run directory). */
export class TrainError extends UserError {
  override readonly name = 'TrainError';
}

/**
 * The back end's loadTf (tfjs-node-gpu, else tfjs-node, else pure tfjs), plus
 * the fast cpu kernels when it is pure tfjs.
 */
export async function loadBackend(choice: BackendChoice): Promise<{ tf: Tf; name: string }> {
  let loaded;
  try {
    loaded = await loadTf({ backend: choice });
  } catch (e) {
    if (e instanceof BackendUnavailableError) throw new TrainError(e.message);
    throw e;
  }
  const tf = loaded.tf;
  if (loaded.backend === 'cpu') {
    const fast = installFastKernels(tf as unknown as Parameters<typeof installFastKernels>[0]);
    // the cpu backend's one-time "install tfjs-node" banner: our backend line says it instead
    (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
    return { tf, name: `cpu (pure JS ${loaded.name} ${tf.version.tfjs}, ${fast.length} fast kernels; @tensorflow/tfjs-node would be faster)` };
  }
  return { tf, name: `${loaded.backend} (${loaded.name})` };
}

// ---------------------------------------------------------------- data

export interface PreparedData {
  train: Split;
  val?: Split;
  test?: Split;
  classes: string[];
  /** where the test metrics come from */
  testName: 'test' | 'validation' | 'none';
  flipSafe: boolean;
  kind: 'idx' | 'image folder';
}

const fmtShape = (s: readonly number[]): string => `[${s.join(', ')}]`;

function isIdxDir(dir: string): boolean {
  try {
    return fs.readdirSync(dir).some((f) => /^train-images[-.]idx3-ubyte(\.gz)?$/.test(f));
  } catch {
    return false;
  }
}

/** The network's per-example input as [C, H, W], or an error saying why it cannot take images. */
export function imageInput(network: Network): Shape3 {
  if (network.input.length !== 3) {
    throw new TrainError(`network ${network.name} takes input ${fmtShape(network.input)}; training needs an image network with input [C, H, W]`);
  }
  return network.input as Shape3;
}

/** The number of classes the network predicts: its output must be a vector. */
export function outputClasses(network: Network): number {
  if (network.output.length !== 1) {
    throw new TrainError(`network ${network.name} outputs ${fmtShape(network.output)} per example; a classifier must end in a vector of class scores ([classes])`);
  }
  return network.output[0]!;
}

/** Load the data set and check it against the network before anything trains. */
export function loadData(dir: string, network: Network): { dataset: Dataset; kind: PreparedData['kind']; flipSafe: boolean } {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new DataError(dir, 'no such directory');
  const input = imageInput(network);
  const want = outputClasses(network);
  let dataset: Dataset;
  let kind: PreparedData['kind'];
  if (isIdxDir(dir)) {
    kind = 'idx';
    dataset = loadIdxDir(dir);
    const have = dataset.train.shape;
    if (have[0] !== input[0] || have[1] !== input[1] || have[2] !== input[2]) {
      const hint = have[1] === have[2] && 'size' in network.params ? `; try \`--set size=${have[1]}\`` : '';
      throw new TrainError(
        `network ${network.name} takes images ${fmtShape(input)} (channels, height, width), but the IDX data in ${dir} are ${fmtShape(have)}${hint}`,
      );
    }
  } else {
    kind = 'image folder';
    if (input[0] !== 1 && input[0] !== 3) {
      throw new TrainError(`network ${network.name} takes ${input[0]}-channel images ${fmtShape(input)}; image folders give 1 (grey) or 3 (RGB) channels`);
    }
    // every image is converted to the network's channels and resized to its size
    dataset = loadImageFolder(dir, input);
  }
  const have = dataset.classes.length;
  if (have !== want) {
    const hint = 'classes' in network.params ? `; try \`--set classes=${have}\`` : '';
    throw new TrainError(`network ${network.name} ends in ${want} output units, but the data in ${dir} have ${have} classes${hint}`);
  }
  // mirrored digits are other digits (or none): flip only what is known to be mirror-safe
  const flipSafe = kind === 'image folder' || dataset.classes.join('\n') === FASHION_MNIST_CLASSES.join('\n');
  return { dataset, kind, flipSafe };
}

function seededSubset(split: Split, n: number, seed: number, stream: string): Split {
  if (n >= split.count) return split;
  const pick = Array.from(permutation(split.count, rng(deriveSeed(seed, stream))).subarray(0, n)).sort((a, b) => a - b);
  return subset(split, pick);
}

export function prepareData(dir: string, network: Network, s: { seed: number; valSplit: number; limit?: number; testLimit?: number }): PreparedData {
  const { dataset, kind, flipSafe } = loadData(dir, network);
  let train = dataset.train;
  if (s.limit !== undefined) train = seededSubset(train, s.limit, s.seed, 'limit');
  let val: Split | undefined;
  if (s.valSplit > 0) ({ train, val } = validationSplit(train, s.valSplit, s.seed, dir));
  let test = dataset.test;
  if (test && s.testLimit !== undefined) test = seededSubset(test, s.testLimit, s.seed, 'test-limit');
  const testName = test ? 'test' : val ? 'validation' : 'none';
  return { train, val, test, classes: dataset.classes, testName, flipSafe, kind };
}

// ---------------------------------------------------------------- model

interface Trainable {
  /** the model as saved and exported (ends with softmax if the network does) */
  model: LayersModel;
  /** the same layers, output = logits */
  logits: LayersModel;
  vars: Variable[];
  /** per var: is it a kernel (gets weight decay) */
  decay: boolean[];
  endsWithSoftmax: boolean;
}

function trainable(tf: Tf, model: LayersModel): Trainable {
  const out = model.outputs[0]!;
  const last = out.sourceLayer;
  const endsWithSoftmax = last.getClassName() === 'Softmax';
  const logits = endsWithSoftmax ? tf.model({ inputs: model.inputs, outputs: last.input as SymbolicTensor }) : model;
  const weights = logits.trainableWeights;
  return {
    model,
    logits,
    vars: weights.map((w) => w.read() as Variable),
    decay: weights.map((w) => /(^|\/)kernel$/.test(w.originalName)),
    endsWithSoftmax,
  };
}

// ---------------------------------------------------------------- loop

export interface TrainOptions {
  network: Network;
  settings: TrainSettings;
  source: RunSource;
  runDir: string;
  backend: BackendChoice;
  /** continue this run (its state read from runDir) */
  resume?: RunState;
  /** progress and messages (default process.stderr) */
  out?: { write(s: string): unknown; isTTY?: boolean; columns?: number };
  /** batch size for evaluation passes */
  evalBatch?: number;
}

export interface TrainOutcome {
  exitCode: 0 | 1 | 130 | 143;
  status: 'done' | 'interrupted' | 'diverged';
  testAccuracy?: number;
  history: HistoryEntry[];
}

interface EvalResult {
  loss: number;
  accuracy: number;
  predicted: Int32Array;
}

/** Loss, accuracy and predictions of the logits model on a split, no augmentation. */
function evaluate(tf: Tf, t: Trainable, split: Split, norm: Normalization, classes: number, batchSize: number): EvalResult {
  const predicted = new Int32Array(split.count);
  let lossSum = 0;
  let at = 0;
  for (const b of batches(split, { batchSize, layout: 'NHWC', normalization: norm })) {
    const [loss, pred] = tf.tidy(() => {
      const x = tf.tensor4d(b.x, b.shape);
      const y = tf.oneHot(tf.tensor1d(b.labels, 'int32'), classes);
      const logits = t.logits.apply(x, { training: false }) as Tensor;
      return [tf.losses.softmaxCrossEntropy(y, logits).dataSync()[0]!, tf.argMax(logits, 1).dataSync() as Int32Array];
    });
    lossSum += loss * b.count;
    predicted.set(pred, at);
    at += b.count;
  }
  return { loss: lossSum / Math.max(1, split.count), accuracy: accuracy(predicted, split.labels), predicted };
}

function defaultOut(): NonNullable<TrainOptions['out']> {
  return process.stderr;
}

export async function train(o: TrainOptions): Promise<TrainOutcome> {
  const out = o.out ?? defaultOut();
  const say = (s: string): void => void out.write(s + '\n');
  const network = o.network;
  const resume = o.resume;

  if (!resume && hasCheckpoint(o.runDir)) {
    throw new TrainError(`${o.runDir} already holds a training run; continue it with \`--resume ${o.runDir}\` or choose another --out`);
  }

  // the backend (a forced one that is missing fails here), then the data: a mismatch shows before anything slow happens
  const { tf, name: backend } = await loadBackend(o.backend);
  const t0 = performance.now();
  const data = prepareData(o.source.data, network, {
    seed: o.settings.seed,
    valSplit: o.settings.valSplit,
    limit: o.source.limit,
    testLimit: o.source.testLimit,
  });
  const classes = data.classes.length;
  const norm: Normalization = resume?.normalization ?? normalization(o.settings.normalize, data.train);
  const augment: Augmentation = resolveAugment(o.settings.augment, network.input[1]!, data.flipSafe);
  const settings: TrainSettings & { augment: Augmentation } = { ...o.settings, augment };
  say(
    `data: ${o.source.data} (${data.kind}), ${data.train.count} training / ${data.val?.count ?? 0} validation / ${data.test?.count ?? 0} test images, ` +
      `${classes} classes, loaded in ${((performance.now() - t0) / 1000).toFixed(1)}s`,
  );
  say(`normalisation: mean [${norm.mean.map((v) => v.toFixed(4)).join(', ')}], std [${norm.std.map((v) => v.toFixed(4)).join(', ')}]`);
  say(`backend: ${backend}`);


  // the model: seeded initialisation, or the checkpoint's weights
  const model = resume
    ? toTfjs(tf, network, { weights: readTfjsWeights(checkpointModelDir(o.runDir), network) })
    : toTfjs(tf, network, { seed: settings.seed });
  model.setUserDefinedMetadata(tfjsMetadata({ network, source: o.source.file, classes: data.classes, normalization: norm }));
  const t = trainable(tf, model);
  say(`network: ${network.name}, input ${fmtShape(network.input)}, ${network.totalParams.toLocaleString('en-US')} parameters`);
  say(
    `training: ${describeSettings(settings)}; augmentation: ${describeAugment(augment)}; loss: softmax cross-entropy ` +
      (t.endsWithSoftmax ? 'on the logits before the final softmax' : 'with the outputs as logits'),
  );

  fs.mkdirSync(o.runDir, { recursive: true });
  const runInfo = {
    network: { name: network.name, input: network.input, output: network.output, params: network.params },
    source: o.source,
    settings,
    classes: data.classes,
    normalization: norm,
  };
  writeFileAtomic(path.join(o.runDir, 'config.json'), JSON.stringify(runInfo, null, 2) + '\n');
  writeFileAtomic(
    path.join(o.runDir, 'normalization.json'),
    JSON.stringify({ ...norm, formula: "x' = (x · scale − mean[c]) / std[c]", layout: 'per channel' }, null, 2) + '\n',
  );

  const optimizer = makeOptimizer(tf, settings, learningRate(settings, resume?.epoch ?? 0));
  if (resume) {
    await restoreOptimizer(tf, optimizer, readOptimizerSlots(o.runDir));
  }

  const history: HistoryEntry[] = resume ? [...resume.history] : [];
  let epoch = resume?.epoch ?? 0;
  let startStep = resume?.step ?? 0;
  let partial = resume?.partial ?? { lossSum: 0, correct: 0, seen: 0, seconds: 0 };
  if (resume) say(`resuming ${o.runDir} at epoch ${epoch + 1}${startStep > 0 ? `, step ${startStep + 1}` : ''}`);

  const state = (e: number, step: number, p?: RunState['partial']): RunState => ({
    epoch: e,
    step,
    ...(p ? { partial: p } : {}),
    history,
    settings,
    source: o.source,
    normalization: norm,
    classes: data.classes,
    backend,
  });
  const checkpoint = async (e: number, step: number, p?: RunState['partial']): Promise<void> => {
    await writeCheckpoint(o.runDir, model, await optimizerState(optimizer), state(e, step, p));
  };

  // Ctrl-C (or SIGTERM): finish the step in flight, write a checkpoint, exit 130 (143); a second
  // Ctrl-C after a grace period quits at once (src/util/signals.ts)
  let interrupted: Signal | undefined;
  const release = handleInterrupt((signal) => {
    interrupted = signal;
    out.write(`\n${signal === 'SIGINT' ? 'interrupt' : 'terminate'}: writing a checkpoint after this step (Ctrl-C again to quit at once)\n`);
  }, (m) => void out.write(m));
  const realRandom = Math.random;
  const evalBatch = o.evalBatch ?? 256;

  try {
    if (!resume && settings.epochs > 0) await checkpoint(0, 0); // a fresh run is resumable from its start
    for (; epoch < settings.epochs; epoch++) {
      const lr = learningRate(settings, epoch);
      setLearningRate(optimizer, lr);
      const steps = batchCount(data.train, { batchSize: settings.batch });
      const progress = new EpochProgress({ epoch: epoch + 1, epochs: settings.epochs, steps, out });
      const epochStart = performance.now() - partial.seconds * 1000;
      let { lossSum, correct, seen } = partial;
      let step = 0;
      for (const b of batches(data.train, {
        batchSize: settings.batch,
        layout: 'NHWC',
        normalization: norm,
        shuffle: true,
        augment: { cropPadding: augment.crop, flip: augment.flip },
        seed: settings.seed,
        epoch,
      })) {
        if (step < startStep) { step++; continue; }
        // let signal handlers run between steps
        await new Promise((r) => setImmediate(r));
        if (interrupted) {
          const p = { lossSum, correct, seen, seconds: (performance.now() - epochStart) / 1000 };
          await checkpoint(epoch, step, p);
          say(`interrupted at epoch ${epoch + 1}, step ${step + 1}/${steps}: checkpoint written to ${path.join(o.runDir, 'checkpoint')}; continue with \`alexnetc train --resume ${o.runDir}\``);
          return { exitCode: SIGNAL_EXIT[interrupted] as 130 | 143, status: 'interrupted', history };
        }
        Math.random = rng(deriveSeed(settings.seed, 'dropout', epoch, step));
        let loss: number, hits: number;
        try {
          ({ loss, hits } = trainStep(tf, t, optimizer, b.x, b.shape, b.labels, classes, settings.weightDecay));
        } finally {
          Math.random = realRandom;
        }
        if (!Number.isFinite(loss)) {
          out.write('\n');
          const at = startStep > 0 ? `epoch ${epoch + 1}, step ${startStep}` : epoch > 0 ? `epoch ${epoch}` : 'the initial weights';
          const kept = `the last good checkpoint (${at}) is kept in ${path.join(o.runDir, 'checkpoint')}`;
          say(
            `training diverged: the loss became ${loss} at epoch ${epoch + 1}, step ${step + 1}/${steps} (lr ${lr}); ${kept}. ` +
              'Try a smaller learning rate (--lr).',
          );
          return { exitCode: 1, status: 'diverged', history };
        }
        lossSum += loss * b.count;
        correct += hits;
        seen += b.count;
        step++;
        progress.update(step, { loss: lossSum / seen, accuracy: correct / seen, images: seen - partial.seen });
      }
      startStep = 0;
      const entry: HistoryEntry = { epoch: epoch + 1, lr, loss: lossSum / Math.max(1, seen), accuracy: correct / Math.max(1, seen), seconds: 0 };
      if (data.val) {
        const v = evaluate(tf, t, data.val, norm, classes, evalBatch);
        entry.valLoss = v.loss;
        entry.valAccuracy = v.accuracy;
      }
      entry.seconds = (performance.now() - epochStart) / 1000;
      progress.finish({ loss: entry.loss, accuracy: entry.accuracy, valLoss: entry.valLoss, valAccuracy: entry.valAccuracy, images: seen - partial.seen });
      partial = { lossSum: 0, correct: 0, seen: 0, seconds: 0 };
      history.push(entry);
      await checkpoint(epoch + 1, 0);
      if (interrupted) {
        say(`interrupted after epoch ${epoch + 1}: checkpoint written to ${path.join(o.runDir, 'checkpoint')}; continue with \`alexnetc train --resume ${o.runDir}\``);
        return { exitCode: SIGNAL_EXIT[interrupted] as 130 | 143, status: 'interrupted', history };
      }
    }
  } finally {
    Math.random = realRandom;
    release();
  }

  // the end: reports on the test set (or the validation split when the data have none)
  await saveTfjs(model, path.join(o.runDir, 'model'));
  const write = (name: string, text: string): void => writeFileAtomic(path.join(o.runDir, name), text);
  write('history.json', JSON.stringify(history, null, 2) + '\n');
  const charts = historyCharts(history);
  write('loss.svg', charts.loss);
  write('accuracy.svg', charts.accuracy);
  const evalSplit = data.testName === 'test' ? data.test : data.testName === 'validation' ? data.val : undefined;
  let testAccuracy: number | undefined;
  const metrics: Record<string, unknown> = {
    network: network.name,
    epochs: history.length,
    backend,
    trainSeconds: history.reduce((a, h) => a + h.seconds, 0),
    final: history[history.length - 1] ?? null,
  };
  if (evalSplit) {
    const r = evaluate(tf, t, evalSplit, norm, classes, evalBatch);
    const matrix = confusionMatrix(r.predicted, evalSplit.labels, classes);
    testAccuracy = r.accuracy;
    Object.assign(metrics, {
      evaluatedOn: data.testName,
      examples: evalSplit.count,
      accuracy: r.accuracy,
      loss: r.loss,
      classes: data.classes,
      perClassAccuracy: perClassAccuracy(matrix),
      confusionMatrix: matrix,
    });
    write('confusion.svg', confusionMatrixSvg(matrix, data.classes, `${network.name}: ${data.testName} set, accuracy ${(100 * r.accuracy).toFixed(2)}%`));
    if (data.testName === 'validation') say('the data have no test set: the final metrics are on the validation split');
    say(`${data.testName} accuracy: ${(100 * r.accuracy).toFixed(2)}% on ${evalSplit.count} images (loss ${r.loss.toFixed(4)})`);
  } else {
    metrics.evaluatedOn = 'none';
    say('no test set and no validation split: no final accuracy (use --val-split or a data set with a test split)');
  }
  write('metrics.json', JSON.stringify(metrics, null, 2) + '\n');
  const plots = ['loss', 'accuracy', ...(evalSplit ? ['confusion'] : [])];
  const pngs = plots.filter((p) => svgToPng(path.join(o.runDir, `${p}.svg`), path.join(o.runDir, `${p}.png`)));
  say(`wrote ${o.runDir}: model/ (tfjs), metrics.json, history.json, ${plots.map((p) => `${p}.svg`).join(', ')}${pngs.length ? ` (and .png)` : ''}`);
  say(`export with: alexnetc compile ${o.source.file}${o.source.network ? ` --network ${o.source.network}` : ''}${Object.entries(o.source.set).map(([k, v]) => ` --set ${k}=${v}`).join('')} --weights ${o.runDir} -o ${network.name}.onnx`);
  optimizer.dispose();
  model.dispose();
  return { exitCode: 0, status: 'done', testAccuracy, history };
}

function normalization(n: TrainSettings['normalize'], train: Split): Normalization {
  if (n === 'computed') return channelStats(train);
  try {
    return givenNormalization(train, n.mean, n.std);
  } catch (e) {
    throw new ConfigError(`normalisation: ${(e as Error).message}`);
  }
}

/** One optimisation step; returns the batch's mean loss (before the update) and correct predictions. */
function trainStep(
  tf: Tf,
  t: Trainable,
  optimizer: import('@tensorflow/tfjs').Optimizer,
  xs: Float32Array,
  shape: [number, number, number, number],
  labels: Int32Array,
  classes: number,
  weightDecay: number,
): { loss: number; hits: number } {
  return tf.tidy(() => {
    const x = tf.tensor4d(xs, shape);
    const y = tf.oneHot(tf.tensor1d(labels, 'int32'), classes);
    let predicted: Tensor | undefined;
    const { value, grads } = tf.variableGrads(() => {
      const logits = t.logits.apply(x, { training: true }) as Tensor;
      // kept out of the forward pass's tidy, which disposes everything but the loss
      predicted = tf.keep(tf.argMax(logits, 1));
      return tf.losses.softmaxCrossEntropy(y, logits) as import('@tensorflow/tfjs').Scalar;
    }, t.vars);
    const loss = value.dataSync()[0]!;
    const pred = predicted!.dataSync();
    predicted!.dispose();
    let hits = 0;
    for (let i = 0; i < labels.length; i++) if (pred[i] === labels[i]) hits++;
    if (!Number.isFinite(loss)) return { loss, hits };
    if (weightDecay > 0) {
      t.vars.forEach((v, i) => {
        const g = grads[v.name];
        if (t.decay[i] && g) grads[v.name] = tf.add(g, tf.mul(v, weightDecay));
      });
    }
    optimizer.applyGradients(grads);
    return { loss, hits };
  });
}
