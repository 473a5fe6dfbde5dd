// Training runs and tfjs model directories as classifiers. The model runs in
// the tfjs the program loaded; inputs arrive channels first and are
// transposed to the channels-last layout tfjs models take (docs/export-import.md
// "TensorFlow.js": an image model takes [N, H, W, C]).
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { formatShape } from '../../diagnostics/index.js';
import type { Preprocessing } from '../../emit/metadata.js';
import { loadTfjs } from '../../emit/tfjs/io.js';
import type { LayersModel, Tf } from '../../emit/tfjs/index.js';
import { readRunInfo } from '../../train/index.js';
import { checkClasses, checkNormalization, ModelError, type Classifier, type LoadTf } from './model.js';

/** tfjs evaluates this many examples at a time (memory stays bounded for long --index lists). */
const CHUNK = 256;

/** The model of a run: RUN/model, or the last checkpoint's when the run has not finished; classes and normalisation from RUN/config.json. */
export async function openRun(dir: string, loadTf: LoadTf): Promise<Classifier> {
  const run = readRunInfo(dir);
  if (!run) throw new ModelError(`${dir}: config.json is not an alexnetc training run's (no source recorded)`);
  const notes: string[] = [];
  let modelDir = path.join(dir, 'model');
  if (!existsSync(path.join(modelDir, 'model.json'))) {
    const ckpt = path.join(dir, 'checkpoint', 'model');
    if (!existsSync(path.join(ckpt, 'model.json'))) throw new ModelError(`${dir}: the run has no model yet (neither model/model.json nor checkpoint/model/model.json)`);
    modelDir = ckpt;
    notes.push(`the run ${dir} has not finished: using its last checkpoint (${ckpt})`);
  }
  const c = await openTfjsDir(modelDir, loadTf, { classes: run.classes, normalization: run.normalization, where: path.join(dir, 'config.json') });
  // the model must be the one the run trained: the network config.json records takes the same input
  const trained = recordedNetwork(dir);
  if (trained?.input && trained.input.join() !== c.input.join()) {
    await c.dispose();
    throw new ModelError(`${dir}: its model ${modelDir} takes ${formatShape(c.input)}, but the run trained ${trained.name ?? 'a network'} on ${formatShape(trained.input)} (config.json): the run directory does not match its model`);
  }
  return { ...c, kind: 'run', path: dir, describe: `the run ${dir} (tfjs model ${modelDir})`, notes: [...notes, ...c.notes] };
}

function recordedNetwork(dir: string): { name?: string; input?: number[] } | undefined {
  try {
    return (JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')) as { network?: { name?: string; input?: number[] } }).network;
  } catch {
    return undefined;
  }
}

interface Recorded {
  classes?: string[];
  normalization?: Preprocessing;
  where: string;
}

interface AlexnetcMetadata {
  network?: string;
  classes?: string[];
  normalization?: Preprocessing;
}

/** A tfjs layers model directory (model.json + weight files), with the class names and normalisation its metadata records (or `recorded`, a run's). */
export async function openTfjsDir(dir: string, loadTf: LoadTf, recorded?: Recorded): Promise<Classifier> {
  const tf = await loadTf();
  let model: LayersModel;
  try {
    model = await loadTfjs(tf, dir);
  } catch (e) {
    throw new ModelError(`${dir}: cannot load the tfjs model (${firstLine(e)})`);
  }
  try {
    return describeModel(tf, model, dir, recorded);
  } catch (e) {
    model.dispose();
    throw e;
  }
}

function describeModel(tf: Tf, model: LayersModel, dir: string, recorded?: Recorded): Classifier {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new ModelError(`${dir}: the model has ${model.inputs.length} inputs and ${model.outputs.length} outputs; a classifier has one of each`);
  }
  const inShape = model.inputs[0]!.shape.slice(1) as number[];
  const outShape = model.outputs[0]!.shape.slice(1) as number[];
  if (inShape.some((d) => !(d > 0))) throw new ModelError(`${dir}: the model's input shape [${inShape.join(', ')}] is not fixed`);
  if (outShape.length !== 1 || !(outShape[0]! > 0)) throw new ModelError(`${dir}: the model outputs ${formatShape(outShape)} per example; a classifier ends in a vector of class scores`);
  // tfjs holds images channels last
  const input = inShape.length === 3 ? [inShape[2]!, inShape[0]!, inShape[1]!] : inShape;
  if (input.length !== 3 && input.length !== 1) throw new ModelError(`${dir}: the model takes ${formatShape(inShape)} per example; predict feeds images or flattened images`);
  const meta = ((model.getUserDefinedMetadata() as { alexnetc?: AlexnetcMetadata } | undefined)?.alexnetc ?? {}) as AlexnetcMetadata;
  const where = recorded?.where ?? path.join(dir, 'model.json');
  const classes = checkClasses(recorded?.classes ?? meta.classes, outShape[0], where);
  const normalization = recorded?.normalization ?? (meta.normalization ? { mean: meta.normalization.mean, std: meta.normalization.std, scale: meta.normalization.scale } : undefined);
  checkNormalization(normalization, input, where);
  const last = model.outputs[0]!.sourceLayer;
  const softmax = last.getClassName() === 'Softmax' || (last.getClassName() === 'Activation' && (last.getConfig() as { activation?: string }).activation === 'softmax');
  const size = input.reduce((a, b) => a * b, 1);
  return {
    kind: 'tfjs',
    path: dir,
    describe: `the tfjs model ${dir}`,
    ...(meta.network ? { network: meta.network } : {}),
    input,
    ...(classes ? { classes } : {}),
    ...(normalization ? { normalization } : {}),
    outputs: softmax ? 'probabilities' : 'logits',
    notes: [],
    async run(x, count) {
      const k = outShape[0]!;
      const out = new Float32Array(count * k);
      for (let start = 0; start < count; start += CHUNK) {
        const n = Math.min(CHUNK, count - start);
        const part = x.subarray(start * size, (start + n) * size);
        const y = tf.tidy(() => {
          const t = input.length === 3 ? tf.tensor4d(part, [n, input[0]!, input[1]!, input[2]!]).transpose([0, 2, 3, 1]) : tf.tensor2d(part, [n, size]);
          return model.predict(t) as import('@tensorflow/tfjs').Tensor;
        });
        out.set(await y.data(), start * k);
        y.dispose();
      }
      return out;
    },
    async dispose() {
      model.dispose();
    },
  };
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
}
