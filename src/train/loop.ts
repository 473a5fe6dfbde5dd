// The training loop behind `alexnetc train`, the same for every engine: the
// data checked against the network, normalisation, seeded data order and
// augmentation, the learning-rate schedule, a progress bar, Ctrl-C, a NaN
// stop, a checkpoint per epoch, exact resume, and the final reports. The
// engine (engine.ts) computes the steps.
import { checkFreeze, frozenParams, frozenWeightKeys } from '../check/freeze.js';
import { layers, type Network } from '../check/ir.js';
import { formatShape } from '../diagnostics/index.js';
import { handleInterrupt, SIGNAL_EXIT, type Signal } from '../util/signals.js';
import { hasCheckpoint, writeCheckpoint, checkpointDir, type HistoryEntry, type RunSource, type RunState } from './checkpoint.js';
import { ConfigError, describeAugment, describeSettings, learningRate, resolveAugment, type Augmentation, type TrainSettings } from './config.js';
import { batchCount, batches, channelStats, givenNormalization, type Normalization, type Split } from './data/index.js';
import { ENGINES, EngineFailure, type EngineBatch, type EngineSetup, type TrainEngine } from './engine.js';
import { readMasks, weightShapes, writeMasks } from './masks.js';
import { renderInit, type InitRecord } from './init.js';
import { prepareData, TrainError, type PreparedData } from './prepare.js';
import { EpochProgress } from './report/index.js';
import { writeReports, writeRunConfig } from './run-dir.js';

export interface TrainOptions {
  network: Network;
  settings: TrainSettings;
  source: RunSource;
  runDir: string;
  /** which engine computes the steps (default tfjs) */
  engine?: string;
  /** the tfjs backend choice */
  backend: string;
  /** the engine's own options (EngineSetup.options); on resume they override the run's */
  engineOptions?: Record<string, unknown>;
  /** cpu threads (EngineSetup.threads; `--threads`): not part of the run, so not kept on resume */
  threads?: number;
  /** continue this run (its state read from runDir) */
  resume?: RunState;
  /** progress and messages (default process.stderr) */
  out?: { write(s: string): unknown; isTTY?: boolean; columns?: number };
  /** batch size for evaluation passes */
  evalBatch?: number;
  /** fine-tuning: start from these weights with a fresh optimizer (EngineSetup.initialWeights; not on resume) */
  initialWeights?: EngineSetup['initialWeights'];
  /** fixed sparsity masks (EngineSetup.masks); written into the run directory, so --resume keeps them */
  masks?: EngineSetup['masks'];
  /** what initialWeights were made from (`--init`, src/train/init.ts): logged, and kept in config.json and the checkpoints */
  init?: InitRecord;
}

export interface TrainOutcome {
  exitCode: 0 | 1 | 130 | 143;
  status: 'done' | 'interrupted' | 'diverged';
  testAccuracy?: number;
  history: HistoryEntry[];
}

/** The engine's batches: its layout for images, [N, F] (C, H, W order) for a vector network. */
function* engineBatches(split: Split, data: PreparedData, engine: TrainEngine, opts: Omit<Parameters<typeof batches>[1], 'layout'>): Generator<EngineBatch> {
  for (const b of batches(split, { ...opts, layout: data.flatten ? 'NCHW' : engine.layout })) {
    yield { x: b.x, labels: b.labels, count: b.count, shape: data.flatten ? [b.count, b.x.length / b.count] : b.shape };
  }
}

export interface Evaluation {
  loss: number;
  accuracy: number;
  predicted: Int32Array;
}

/** Loss, accuracy and predictions on a split, no augmentation. */
async function evaluate(engine: TrainEngine, split: Split, data: PreparedData, norm: Normalization, batchSize: number): Promise<Evaluation> {
  const predicted = new Int32Array(split.count);
  let lossSum = 0;
  let at = 0;
  for (const b of engineBatches(split, data, engine, { batchSize, normalization: norm })) {
    const r = await engine.evaluate(b);
    lossSum += r.loss * b.count;
    predicted.set(r.predicted, at);
    at += b.count;
  }
  let hits = 0;
  for (let i = 0; i < split.count; i++) if (predicted[i] === split.labels[i]) hits++;
  return { loss: lossSum / Math.max(1, split.count), accuracy: hits / Math.max(1, split.count), predicted };
}

function normalization(n: TrainSettings['normalize'], train: Split): Normalization {
  if (n === 'computed') return channelStats(train);
  try {
    return givenNormalization(train, n.mean, n.std);
  } catch (e) {
    throw new ConfigError(`normalisation: ${(e as Error).message}`);
  }
}

export async function train(o: TrainOptions): Promise<TrainOutcome> {
  const out = o.out ?? process.stderr;
  const say = (s: string): void => void out.write(s + '\n');
  const { network, resume } = o;
  const engineName = o.engine ?? resume?.engine ?? 'tfjs';
  const makeEngine = ENGINES[engineName];
  if (!makeEngine) throw new TrainError(`no training engine \`${engineName}\` (engines: ${Object.keys(ENGINES).join(', ')})`, 2);

  if (!resume && hasCheckpoint(o.runDir)) {
    throw new TrainError(`${o.runDir} already holds a training run; continue it with \`--resume ${o.runDir}\` or choose another -o`);
  }

  // a missing backend, then the data: a mismatch shows before anything slow happens
  const engineModule = await makeEngine();
  // where the engine computes: the run's own options unless given again
  const engineOptions = resume?.engine === engineName ? { ...resume.engineOptions, ...o.engineOptions } : { ...o.engineOptions };
  await engineModule.preflight?.({ backend: o.backend, options: engineOptions, network, source: o.source, threads: o.threads });
  const t0 = performance.now();
  // the frozen weights, from the stage paths of the settings (the checker and resolveSettings checked them; a resumed run's file may have changed since)
  const freeze = o.settings.freeze ?? [];
  const wrongFreeze = checkFreeze(freeze, network.body, network.name).find((p) => p.code === 'E102');
  if (wrongFreeze) throw new TrainError(`freeze: ${wrongFreeze.message}`);
  const frozen = frozenWeightKeys(network.body, freeze);
  const data = prepareData(o.source.data, network, { seed: o.settings.seed, valSplit: o.settings.valSplit, limit: o.source.limit, testLimit: o.source.testLimit, classes: o.source.classes });
  const norm: Normalization = resume?.normalization ?? normalization(o.settings.normalize, data.train);
  const augment: Augmentation = resolveAugment(o.settings.augment, data.flatten ? 1 : network.input[1]!, data.flipSafe);
  const settings: TrainSettings & { augment: Augmentation } = { ...o.settings, augment: data.flatten ? { crop: 0, flip: false } : augment };
  say(
    `data: ${o.source.data} (${data.kind}), ${data.train.count} training / ${data.val?.count ?? 0} validation / ${data.test?.count ?? 0} test images, ` +
      `${data.classes.length} classes, loaded in ${((performance.now() - t0) / 1000).toFixed(1)}s` +
      (data.flatten ? `, flattened to vectors of ${network.input[0]}` : '') +
      (o.source.classes !== undefined ? `; --classes ${o.source.classes}: ${data.classes.map((c, i) => `${i} ${c}`).join(', ')}` : ''),
  );
  say(`normalisation: mean [${norm.mean.map((v) => v.toFixed(4)).join(', ')}], std [${norm.std.map((v) => v.toFixed(4)).join(', ')}]`);

  const init = resume ? resume.init : o.init;
  if (init && !resume) for (const line of renderInit(init)) say(line);
  else if (init) say(`init: the run started from ${init.from} (${init.loaded} weights loaded; see config.json)`);
  const masks = o.masks ?? (resume ? readMasks(o.runDir) : undefined);
  const engine = await engineModule.create({
    network,
    settings,
    classes: data.classes,
    normalization: norm,
    source: o.source,
    resumeFrom: resume ? checkpointDir(o.runDir) : undefined,
    initialWeights: resume ? undefined : o.initialWeights,
    masks,
    frozen: frozen.size ? frozen : undefined,
    backend: o.backend,
    options: engineOptions,
    threads: o.threads,
    say,
  });
  say(`backend: ${engine.description}`);
  say(`network: ${network.name}, input ${formatShape(network.input)}, ${network.totalParams.toLocaleString('en-US')} parameters`);
  say(`training: ${describeSettings(settings)}; augmentation: ${describeAugment(settings.augment)}; loss: ${engine.lossDescription}`);
  if (frozen.size) {
    const bn = [...layers(network.body)].some((l) => l.weights.some((w) => !w.trainable && frozen.has(`${l.path}.${w.name}`)));
    say(`frozen: ${freeze.join(', ')} (${frozenParams(network.body, freeze).toLocaleString('en-US')} of ${network.totalParams.toLocaleString('en-US')} parameters${bn ? '; their batch norms in inference mode' : ''})`);
  }

  writeRunConfig(o.runDir, { network, source: o.source, settings, classes: data.classes, normalization: norm, engine: engineName, init });
  if (o.masks && !resume) writeMasks(o.runDir, o.masks, weightShapes(network));

  const history: HistoryEntry[] = resume ? [...resume.history] : [];
  let epoch = resume?.epoch ?? 0;
  let startStep = resume?.step ?? 0;
  let partial = resume?.partial ?? { lossSum: 0, correct: 0, seen: 0, seconds: 0 };
  if (resume) say(`resuming ${o.runDir} at epoch ${epoch + 1}${startStep > 0 ? `, step ${startStep + 1}` : ''}`);

  const checkpoint = (e: number, step: number, p?: RunState['partial']): Promise<void> =>
    writeCheckpoint(o.runDir, engine, {
      epoch: e,
      step,
      ...(p ? { partial: p } : {}),
      history,
      settings,
      source: o.source,
      normalization: norm,
      classes: data.classes,
      backend: engine.description,
      engine: engineName,
      ...(Object.keys(engineOptions).length ? { engineOptions } : {}),
      ...(init ? { init } : {}),
    });

  // Ctrl-C (or SIGTERM): finish the step in flight, write a checkpoint, exit 130 (143); a second
  // Ctrl-C after a grace period quits at once (src/util/signals.ts)
  let interrupted: Signal | undefined;
  const release = handleInterrupt((signal) => {
    interrupted = signal;
    out.write(`\n${signal === 'SIGINT' ? 'interrupt' : 'terminate'}: writing a checkpoint after this step (Ctrl-C again to quit at once)\n`);
  }, (m) => void out.write(m));
  // an engine that spans several machines stops them all at the same step, whichever was interrupted
  const stopAgreed = async (): Promise<boolean> => {
    if (!engine.agreeToStop) return interrupted !== undefined;
    const stop = await engine.agreeToStop(interrupted !== undefined);
    if (stop && !interrupted) {
      interrupted = 'SIGINT';
      say('\nanother machine of the run was interrupted: writing a checkpoint');
    }
    return stop;
  };
  const stopped = (where: string): TrainOutcome => {
    say(`interrupted ${where}: checkpoint written to ${checkpointDir(o.runDir)}; continue with \`alexnetc train --resume ${o.runDir}\``);
    return { exitCode: SIGNAL_EXIT[interrupted!] as 130 | 143, status: 'interrupted', history };
  };
  const evalBatch = o.evalBatch ?? 256;

  try {
    try {
      if (!resume && settings.epochs > 0) await checkpoint(0, 0); // a fresh run is resumable from its start
      for (; epoch < settings.epochs; epoch++) {
        const lr = learningRate(settings, epoch);
        const steps = batchCount(data.train, { batchSize: settings.batch });
        const progress = new EpochProgress({ epoch: epoch + 1, epochs: settings.epochs, steps, out });
        const epochStart = performance.now() - partial.seconds * 1000;
        let { lossSum, correct, seen } = partial;
        let step = 0;
        const trainBatches = engineBatches(data.train, data, engine, {
          batchSize: settings.batch,
          normalization: norm,
          shuffle: true,
          augment: { cropPadding: settings.augment.crop, flip: settings.augment.flip },
          seed: settings.seed,
          epoch,
        });
        for (const b of trainBatches) {
          if (step < startStep) {
            step++;
            continue;
          }
          // let signal handlers run between steps
          await new Promise((r) => setImmediate(r));
          if (await stopAgreed()) {
            await checkpoint(epoch, step, { lossSum, correct, seen, seconds: (performance.now() - epochStart) / 1000 });
            return stopped(`at epoch ${epoch + 1}, step ${step + 1}/${steps}`);
          }
          const { loss, hits } = await engine.step(b, lr, { epoch, step });
          if (!Number.isFinite(loss)) {
            out.write('\n');
            const at = startStep > 0 ? `epoch ${epoch + 1}, step ${startStep}` : epoch > 0 ? `epoch ${epoch}` : 'the initial weights';
            say(
              `training diverged: the loss became ${loss} at epoch ${epoch + 1}, step ${step + 1}/${steps} (lr ${lr}); ` +
                `the last good checkpoint (${at}) is kept in ${checkpointDir(o.runDir)}. Try a smaller learning rate (--lr).`,
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
          const v = await evaluate(engine, data.val, data, norm, evalBatch);
          entry.valLoss = v.loss;
          entry.valAccuracy = v.accuracy;
        }
        entry.seconds = (performance.now() - epochStart) / 1000;
        progress.finish({ loss: entry.loss, accuracy: entry.accuracy, valLoss: entry.valLoss, valAccuracy: entry.valAccuracy, images: seen - partial.seen });
        partial = { lossSum: 0, correct: 0, seen: 0, seconds: 0 };
        history.push(entry);
        await checkpoint(epoch + 1, 0);
        if (await stopAgreed()) return stopped(`after epoch ${epoch + 1}`);
      }
    } finally {
      release();
    }

    // the end: the model, and reports on the test set (or the validation split when the data have none)
    const model = await engine.saveModel(o.runDir);
    const evalSplit = data.testName === 'test' ? data.test : data.testName === 'validation' ? data.val : undefined;
    const result = evalSplit ? await evaluate(engine, evalSplit, data, norm, evalBatch) : undefined;
    if (result) {
      if (data.testName === 'validation') say('the data have no test set: the final metrics are on the validation split');
      say(`${data.testName} accuracy: ${(100 * result.accuracy).toFixed(2)}% on ${evalSplit!.count} images (loss ${result.loss.toFixed(4)})`);
    } else {
      say('no test set and no validation split: no final accuracy (use --val-split or a data set with a test split)');
    }
    const written = await writeReports(o.runDir, {
      network,
      history,
      backend: engine.description,
      classes: data.classes,
      evaluated: result && evalSplit ? { on: data.testName as 'test' | 'validation', labels: evalSplit.labels, ...result } : undefined,
    });
    say(`wrote ${o.runDir}: ${model}, ${written.join(', ')}`);
    const set = Object.entries(o.source.set).map(([k, v]) => ` --set ${k}=${v}`).join('');
    say(`export with: alexnetc compile ${o.source.file}${o.source.network ? ` --network ${o.source.network}` : ''}${set} --weights ${o.runDir} -o ${network.name}.onnx`);
    return { exitCode: 0, status: 'done', testAccuracy: result?.accuracy, history };
  } catch (e) {
    // a dead engine (a worker process that stopped) leaves the last good checkpoint: say where
    if (e instanceof EngineFailure && hasCheckpoint(o.runDir)) {
      if (out.isTTY) out.write('\n'); // below the progress bar
      throw new EngineFailure(`${e.message}. The last good checkpoint is kept in ${checkpointDir(o.runDir)}; continue with \`alexnetc train --resume ${o.runDir}\``);
    }
    throw e;
  } finally {
    await engine.dispose();
  }
}

export { TrainError };
