// Training in the page, off its thread: the tfjs engine of `alexnetc train`
// (src/train/engines/tfjs) on pure tfjs with alexnetc's WebAssembly kernels
// (threads where the page is cross-origin isolated), the network's
// `train { }` settings resolved as the command line resolves them, the same
// seeded data order, normalisation and augmentation (src/train/data), on the
// Fashion-MNIST subset shipped with the page. Then predictions and saliency
// maps (src/inspect/explain, as `alexnetc explain`) with the trained model.
import * as tf from '@tensorflow/tfjs';
import type { Network } from '../../src/check/ir.js';
import { frozenWeightKeys } from '../../src/check/freeze.js';
import { formatShape } from '../../src/diagnostics/index.js';
import { provideTf, toTfjs, registerCustomLayers, type LayersModel, type Tf } from '../../src/emit/tfjs/index.js';
import { tfjsMetadata } from '../../src/emit/metadata.js';
import { explainExample } from '../../src/inspect/explain/compute.js';
import { kernelThreads, runtime } from '../../src/kernels/runtime/index.js';
import { threadsReady } from '../../src/kernels/runtime/threads-web.js';
import { describeSettings, learningRate, resolveAugment, resolveSettings, type TrainSettings } from '../../src/train/config.js';
import { batchCount, batches, channelStats, FASHION_MNIST_CLASSES, givenNormalization, parseIdx, validationSplit, type Normalization, type Split } from '../../src/train/data/index.js';
import type { EngineBatch } from '../../src/train/engine.js';
import { createTfjsEngine, type TfjsEngine } from '../../src/train/engines/tfjs/engine.js';
import { confusionMatrix } from '../../src/train/report/metrics.js';
import { isUserError } from '../../src/util/errors.js';
import { compileSource, SourceError } from './compile-source.js';
import type { EpochOut, TrainReply, TrainRequest } from './protocol.js';

const post = (m: TrainReply, transfer: Transferable[] = []): void => (postMessage as (m: unknown, t: Transferable[]) => void)(m, transfer);
const T = tf as unknown as Tf;
provideTf(T);

/** Refused in the page: a network this large trains for hours on a CPU and can exhaust the tab's memory. */
const MAX_TRAIN_PARAMS = 20_000_000;
const MAX_TRAIN_MACS = 2e9;

// ---------------------------------------------------------------- the data

const DATA = 'data/fashion-mnist/';

async function readIdx(name: string): Promise<ReturnType<typeof parseIdx>> {
  const url = new URL(`${DATA}${name}`, self.location.href);
  let res: Response;
  try {
    res = await fetch(url);
  } catch {
    res = new Response(null, { status: 404 });
  }
  if (!res.ok || !res.body) {
    throw new SourceError(
      'the Fashion-MNIST subset is missing from this build of the page: install Debian\'s dataset-fashion-mnist and run `npm run build:web` (it is made from that package)',
    );
  }
  const raw = new Uint8Array(await new Response(res.body.pipeThrough(new DecompressionStream('gzip'))).arrayBuffer());
  return parseIdx(raw, name);
}

let dataset: Promise<{ train: Split; test: Split }> | undefined;

function loadDataset(): Promise<{ train: Split; test: Split }> {
  dataset ??= (async () => {
    const [ti, tl, si, sl] = await Promise.all(['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'].map(readIdx));
    const split = (im: typeof ti, lb: typeof ti): Split => ({ images: im!.data, labels: Int32Array.from(lb!.data), count: im!.dims[0]!, shape: [1, im!.dims[1]!, im!.dims[2]!] });
    return { train: split(ti, tl), test: split(si, sl) };
  })();
  dataset.catch(() => (dataset = undefined));
  return dataset;
}

/** The network against the data, as `alexnetc train` checks it (src/train/prepare.ts). */
function checkNetwork(network: Network, have: number[]): { flatten: boolean } {
  if (network.output.length !== 1) throw new SourceError(`network ${network.name} outputs ${formatShape(network.output)} per example; a classifier must end in a vector of class scores ([classes])`);
  if (network.output[0] !== 10) {
    const hint = 'classes' in network.params ? '; set classes=10' : '';
    throw new SourceError(`network ${network.name} ends in ${network.output[0]} output units, but Fashion-MNIST has 10 classes${hint}`);
  }
  const input = network.input;
  if (input.length === 1) {
    if (input[0] !== 784) throw new SourceError(`network ${network.name} takes vectors of ${input[0]} values, but the images are [1, 28, 28] = 784 values flattened`);
    return { flatten: true };
  }
  if (input.length !== 3 || input[0] !== have[0] || input[1] !== have[1] || input[2] !== have[2]) {
    const hint = input.length === 3 && 'size' in network.params ? '; set size=28' : '';
    throw new SourceError(`network ${network.name} takes ${formatShape(input)}, but the Fashion-MNIST images are ${formatShape(have)} (channels, height, width)${hint}`);
  }
  if (network.totalParams > MAX_TRAIN_PARAMS || network.totalMacs > MAX_TRAIN_MACS) {
    throw new SourceError(
      `network ${network.name} has ${network.totalParams.toLocaleString('en-US')} parameters and ${network.totalMacs.toLocaleString('en-US')} MACs per image: too large to train in a page ` +
        `(at most ${MAX_TRAIN_PARAMS.toLocaleString('en-US')} parameters and ${MAX_TRAIN_MACS.toExponential(0)} MACs); use \`alexnetc train\``,
    );
  }
  return { flatten: false };
}

// ---------------------------------------------------------------- the run

/** a macrotask without setTimeout's clamping: lets a `stop` message in between two steps */
const channel = new MessageChannel();
const waiting: Array<() => void> = [];
channel.port1.onmessage = () => waiting.shift()?.();
const yieldToMessages = (): Promise<void> =>
  new Promise((r) => {
    waiting.push(r);
    channel.port2.postMessage(0);
  });

interface Trained {
  engine: TfjsEngine;
  network: Network;
  normalization: Normalization;
  flatten: boolean;
  file: string;
}

let trained: Trained | undefined;
let running = false;
let stopRequested = false;

function engineBatches(split: Split, layout: 'NCHW' | 'NHWC', flatten: boolean, o: Omit<Parameters<typeof batches>[1], 'layout'>): Generator<EngineBatch> {
  return (function* () {
    for (const b of batches(split, { ...o, layout: flatten ? 'NCHW' : layout })) yield { x: b.x, labels: b.labels, count: b.count, shape: flatten ? [b.count, b.x.length / b.count] : b.shape };
  })();
}

async function evaluate(engine: TfjsEngine, split: Split, flatten: boolean, normalization: Normalization): Promise<{ loss: number; accuracy: number; predicted: Int32Array }> {
  const predicted = new Int32Array(split.count);
  let lossSum = 0;
  let at = 0;
  for (const b of engineBatches(split, engine.layout, flatten, { batchSize: 256, normalization })) {
    const r = await engine.evaluate(b);
    lossSum += r.loss * b.count;
    predicted.set(r.predicted, at);
    at += b.count;
    await yieldToMessages();
  }
  let hits = 0;
  for (let i = 0; i < split.count; i++) if (predicted[i] === split.labels[i]) hits++;
  return { loss: lossSum / Math.max(1, split.count), accuracy: hits / Math.max(1, split.count), predicted };
}

async function trainRun(m: Extract<TrainRequest, { type: 'train' }>): Promise<void> {
  const { network } = compileSource(m);
  post({ type: 'status', message: 'loading the Fashion-MNIST subset…' });
  const data = await loadDataset();
  const { flatten } = checkNetwork(network, data.train.shape);
  let settings: TrainSettings;
  try {
    settings = resolveSettings(network.train, {}, network);
  } catch (e) {
    throw new SourceError(`train { }: ${(e as Error).message}`);
  }
  let train = data.train;
  let val: Split | undefined;
  if (settings.valSplit > 0) ({ train, val } = validationSplit(train, settings.valSplit, settings.seed, 'the Fashion-MNIST subset'));
  const normalization = settings.normalize === 'computed' ? channelStats(train) : givenNormalization(train, settings.normalize.mean, settings.normalize.std);
  const augment = flatten ? { crop: 0, flip: false } : resolveAugment(settings.augment, network.input[1]!, true);
  const full = { ...settings, augment };
  post({ type: 'status', message: 'loading tfjs and the kernels…' });
  if (trained) {
    await trained.engine.dispose();
    trained = undefined;
  }
  const engine = await createTfjsEngine({
    network,
    settings: full,
    classes: FASHION_MNIST_CLASSES,
    normalization,
    source: { file: m.file, network: network.name, set: m.set ?? {}, data: 'fashion-mnist (playground subset)' },
    frozen: settings.freeze?.length ? frozenWeightKeys(network.body, settings.freeze) : undefined,
    backend: 'cpu',
    say: (line) => post({ type: 'status', message: line }),
  });
  // the kernel threads start only when this worker returns to its event loop: give them that moment
  runtime()?.pool.start();
  await threadsReady();
  const steps = batchCount(train, { batchSize: settings.batch });
  post({
    type: 'started',
    network: network.name,
    settings: describeSettings(full),
    threads: runtime() ? kernelThreads() : 0,
    isolated: self.crossOriginIsolated === true,
    train: train.count,
    val: val?.count ?? 0,
    test: data.test.count,
    steps,
    epochs: settings.epochs,
    backend: engine.description,
  });
  trained = { engine, network, normalization, flatten, file: m.file };
  const history: EpochOut[] = [];
  let trainSeconds = 0;
  let trainImages = 0;
  for (let epoch = 0; epoch < settings.epochs && !stopRequested; epoch++) {
    const lr = learningRate(full, epoch);
    const start = performance.now();
    let lossSum = 0, correct = 0, seen = 0, step = 0, lastPost = 0;
    for (const b of engineBatches(train, engine.layout, flatten, { batchSize: settings.batch, normalization, shuffle: true, augment: { cropPadding: augment.crop, flip: augment.flip }, seed: settings.seed, epoch })) {
      await yieldToMessages();
      if (stopRequested) break;
      const { loss, hits } = await engine.step(b, lr, { epoch, step });
      if (!Number.isFinite(loss)) throw new SourceError(`training diverged: the loss became ${loss} at epoch ${epoch + 1}, step ${step + 1}/${steps} (lr ${lr}); try a smaller learning rate`);
      lossSum += loss * b.count;
      correct += hits;
      seen += b.count;
      step++;
      const now = performance.now();
      if (now - lastPost > 100 || step === steps) {
        lastPost = now;
        post({ type: 'progress', epoch: epoch + 1, step, steps, loss: lossSum / seen, accuracy: correct / seen, imagesPerSecond: seen / ((now - start) / 1000) });
      }
    }
    if (stopRequested && step < steps) break;
    const entry: EpochOut = { epoch: epoch + 1, loss: lossSum / Math.max(1, seen), accuracy: correct / Math.max(1, seen), seconds: 0, imagesPerSecond: 0 };
    if (val) {
      const v = await evaluate(engine, val, flatten, normalization);
      entry.valLoss = v.loss;
      entry.valAccuracy = v.accuracy;
    }
    // as `alexnetc train` counts an epoch: its steps and its validation pass
    entry.seconds = (performance.now() - start) / 1000;
    entry.imagesPerSecond = seen / entry.seconds;
    trainSeconds += entry.seconds;
    trainImages += seen;
    history.push(entry);
    post({ type: 'epoch', entry });
  }
  post({ type: 'status', message: 'evaluating on the test images…' });
  const test = await evaluate(engine, data.test, flatten, normalization);
  post({
    type: 'done',
    stopped: stopRequested,
    testAccuracy: test.accuracy,
    testLoss: test.loss,
    confusion: confusionMatrix(test.predicted, data.test.labels, 10),
    classes: FASHION_MNIST_CLASSES,
    history,
    imagesPerSecond: trainSeconds ? trainImages / trainSeconds : 0,
  });
}

// ---------------------------------------------------------------- predict and export

function predict(m: Extract<TrainRequest, { type: 'predict' }>): void {
  if (!trained) throw new SourceError('train the network first: predictions need trained weights');
  const { network, normalization, engine } = trained;
  const [c, h, w] = network.input.length === 3 ? (network.input as [number, number, number]) : [1, 28, 28];
  if (m.width !== w || m.height !== h || c !== 1) throw new SourceError(`the image is ${m.width}×${m.height}; the network takes ${formatShape(network.input)}`);
  const x = new Float32Array(m.pixels.length);
  const scale = normalization.scale ?? 1 / 255;
  for (let i = 0; i < x.length; i++) x[i] = (m.pixels[i]! * scale - normalization.mean[0]!) / normalization.std[0]!;
  if (trained.flatten) {
    const probs = tf.tidy(() => (engine.model.predict(tf.tensor2d(x, [1, x.length])) as import('@tensorflow/tfjs').Tensor).dataSync());
    post({ type: 'predicted', id: m.id, probabilities: Array.from(probs), classes: FASHION_MNIST_CLASSES, saliency: new Float32Array(x.length), width: w, height: h, input: m.pixels });
    return;
  }
  const ex = explainExample(T, engine.model, network, x);
  post({ type: 'predicted', id: m.id, probabilities: Array.from(ex.probabilities), classes: FASHION_MNIST_CLASSES, saliency: ex.saliency, width: w, height: h, input: m.pixels });
}

async function exportTfjs(m: Extract<TrainRequest, { type: 'tfjs' }>): Promise<void> {
  const { network } = compileSource(m);
  await tf.setBackend('cpu');
  registerCustomLayers(T);
  const useTrained = trained && trained.network.name === network.name && JSON.stringify(trained.network.input) === JSON.stringify(network.input) && trained.network.totalParams === network.totalParams;
  const model: LayersModel = useTrained ? trained!.engine.model : toTfjs(T, network, { seed: m.seed });
  let artifacts: import('@tensorflow/tfjs').io.ModelArtifacts | undefined;
  try {
    if (!useTrained) model.setUserDefinedMetadata(tfjsMetadata({ network, source: m.file }));
    await model.save(tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
  } finally {
    if (!useTrained) model.dispose();
  }
  const a = artifacts!;
  // model.json as `alexnetc compile --target tfjs` writes it (src/emit/tfjs/io.ts)
  const json: Record<string, unknown> = {
    modelTopology: a.modelTopology,
    format: a.format ?? 'layers-model',
    generatedBy: a.generatedBy,
    convertedBy: a.convertedBy ?? null,
    weightsManifest: [{ paths: ['./weights.bin'], weights: a.weightSpecs ?? [] }],
  };
  if (a.userDefinedMetadata) json.userDefinedMetadata = a.userDefinedMetadata;
  const data = a.weightData;
  const weights = Array.isArray(data) ? await new Blob(data).arrayBuffer() : (data as ArrayBuffer);
  post({ type: 'tfjs', id: m.id, modelJson: JSON.stringify(json), weights, trained: !!useTrained }, [weights]);
}

// ---------------------------------------------------------------- messages

function fail(e: unknown, id?: number): void {
  const expected = e instanceof SourceError || isUserError(e);
  if (!expected) console.error('alexnetc training:', e);
  post({ type: 'error', id, message: e instanceof Error ? e.message : String(e) });
}

self.onmessage = (e: MessageEvent<TrainRequest>) => {
  const m = e.data;
  switch (m.type) {
    case 'stop':
      stopRequested = true;
      break;
    case 'train':
      if (running) return fail(new SourceError('a run is in progress: stop it first'));
      running = true;
      stopRequested = false;
      trainRun(m)
        .catch((err) => fail(err))
        .finally(() => {
          running = false;
        });
      break;
    case 'predict':
      try {
        predict(m);
      } catch (err) {
        fail(err, m.id);
      }
      break;
    case 'tfjs':
      exportTfjs(m).catch((err) => fail(err, m.id));
      break;
  }
};
