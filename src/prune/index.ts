// `alexnetc prune RUN_DIR --sparsity S [--structured] [--finetune-epochs E] -o OUT`:
// a trained run in, a new run directory out.
//
// OUT is a run directory like `alexnetc train` writes, so everything that
// takes a run takes it (compile --weights OUT, train --resume OUT):
//   config.json, normalization.json   the run's, pointing at the network OUT holds
//   model/                            the pruned (then fine-tuned) weights, tfjs
//   NAME.net                          --structured: the narrower network
//   masks.json, masks.bin             unstructured: which weights stay zero
//   prune.json                        what was done and the accuracies measured
//   checkpoint/, history.json, …      with --finetune-epochs: the fine-tuning run
// Accuracies are measured with onnxruntime on the run's test split (the
// validation split when the data have no test set), the same images before
// and after. Until fine-tuning starts nothing is written; the files of the
// pruned model then land in OUT together (writeIntoDir).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Network } from '../check/ir.js';
import { compile } from '../compile.js';
import { hasErrors } from '../diagnostics/index.js';
import { toOnnxBytes, type WeightSource } from '../emit/onnx/index.js';
import { OnnxModel } from '../emit/onnx/session.js';
import { onnxAccuracy } from '../quantize/evaluate.js';
import { writeMasks, weightShapes } from '../train/masks.js';
import type { RunSource } from '../train/checkpoint.js';
import type { TrainSettings } from '../train/config.js';
import type { Normalization, Split } from '../train/data/index.js';
import { writeFileAtomic, writeIntoDir } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import { magnitudeMasks, maskedWeights, prunableWeights, type LayerSparsity } from './unstructured.js';
import { newWidths, selectFilters, slicedWeights, type LayerWidth } from './structured.js';
import { narrowedSource } from './source.js';
import { readFromDisk } from '../read-file.js';

export { magnitudeMasks, maskedWeights, prunableWeights } from './unstructured.js';
export { selectFilters, slicedWeights, newWidths, outputNorms } from './structured.js';
export { channelFlow } from './channels.js';
export { narrowedSource } from './source.js';

export interface PruneOptions {
  runDir: string;
  sparsity: number;
  structured: boolean;
  finetuneEpochs: number;
  /** fine-tuning learning rate (default: the run's, ÷ 10) */
  lr?: number;
  out: string;
  backend: string;
  /** evaluate on this many test images only (default: the run's --test-limit, or all) */
  testLimit?: number;
  say(line: string): void;
}

/** config.json as `alexnetc train` writes it (run-dir.ts). */
interface RunConfig {
  network: { name: string };
  source: RunSource;
  engine?: string;
  settings: TrainSettings;
  classes: string[];
  normalization: Normalization;
}

export interface PruneReport {
  kind: 'unstructured' | 'structured';
  from: string;
  out: string;
  network: string;
  sparsity: number;
  params: { before: number; after: number };
  macs: { before: number; after: number };
  /** unstructured: the conv/dense weights removed, per layer */
  weights?: { total: number; pruned: number; threshold: number; layers: LayerSparsity[] };
  /** structured: the width of every conv/dense layer */
  widths?: LayerWidth[];
  source?: { file: string; how: 'edited' | 'expanded' };
  accuracy: { on: string; images: number; before: number; pruned: number; finetuned?: number };
  finetune?: { epochs: number; lr: number; status: 'done' | 'interrupted' | 'diverged'; sparsityKept?: boolean };
}

export class PruneError extends UserError {
  override readonly name = 'PruneError';
}

function readRunConfig(runDir: string): RunConfig {
  const file = path.join(runDir, 'config.json');
  if (!fs.existsSync(runDir) || !fs.statSync(runDir).isDirectory()) throw new PruneError(`${runDir}: no such run directory`);
  let json: Partial<RunConfig>;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    throw new PruneError(`${runDir} is not a training run (no readable config.json): prune takes a run directory written by \`alexnetc train\``);
  }
  if (!json.source?.file || !json.settings || !json.normalization || !Array.isArray(json.classes)) {
    throw new PruneError(`${file} is incomplete (source, settings, classes, normalization): not a run directory of \`alexnetc train\``);
  }
  if (!fs.existsSync(path.join(runDir, 'model', 'model.json'))) {
    throw new PruneError(`${runDir} has no trained model (model/): the run has not finished; finish it first with \`alexnetc train --resume ${runDir}\``);
  }
  return json as RunConfig;
}

/** The run's network, compiled from its source file with its --set values. */
function runNetwork(cfg: RunConfig, runDir: string): { network: Network; text: string } {
  const file = cfg.source.file;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new PruneError(`${runDir} was trained from ${file}, which cannot be read any more`);
  }
  const r = compile(text, { file, network: cfg.source.network || undefined, set: cfg.source.set, readFile: readFromDisk });
  if (hasErrors(r.diagnostics) || !r.network) {
    const first = r.diagnostics.find((d) => d.severity === 'error');
    throw new PruneError(`${file} no longer checks${first ? ` (${first.message})` : ''}; it is the network ${runDir} was trained from`);
  }
  return { network: r.network, text };
}

async function accuracy(network: Network, weights: WeightSource, split: Split, norm: Normalization, flatten: boolean): Promise<number> {
  const model = await OnnxModel.open(toOnnxBytes(network, { weights }));
  try {
    return (await onnxAccuracy(model, split, norm, { flatten })).accuracy;
  } finally {
    await model.release();
  }
}

const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;
const num = (x: number): string => x.toLocaleString('en-US');

export async function prune(o: PruneOptions): Promise<{ report: PruneReport; exitCode: number }> {
  const cfg = readRunConfig(o.runDir);
  const { network, text } = runNetwork(cfg, o.runDir);
  const { readTfjsWeights, WeightsMismatchError } = await import('../weights/tfjs.js');
  let weights: WeightSource;
  try {
    weights = readTfjsWeights(path.join(o.runDir, 'model'), network);
  } catch (e) {
    if (e instanceof WeightsMismatchError) throw new PruneError(`${o.runDir}: its model does not fit ${cfg.source.file} any more: ${e.message}`);
    throw e;
  }
  if (prunableWeights(network).length === 0) throw new PruneError(`${network.name} has no conv or dense layer: there is nothing to prune`);

  // the images every accuracy is measured on: the run's own test (or validation) split
  const { prepareData } = await import('../train/prepare.js');
  const s = cfg.settings;
  const data = prepareData(cfg.source.data, network, {
    seed: s.seed,
    valSplit: s.valSplit,
    limit: cfg.source.limit,
    testLimit: o.testLimit ?? cfg.source.testLimit,
    classes: cfg.source.classes,
  });
  const split = data.testName === 'test' ? data.test! : data.testName === 'validation' ? data.val! : undefined;
  if (!split) throw new PruneError(`${cfg.source.data} has no test set and ${o.runDir} held out no validation split: there is nothing to measure the accuracy on`);
  const norm = cfg.normalization;

  const kind = o.structured ? 'structured' : 'unstructured';
  const header = [`${network.name} pruned by alexnetc prune ${o.structured ? '--structured ' : ''}--sparsity ${o.sparsity} from ${path.resolve(o.runDir)}`];
  let next = network;
  let nextWeights: WeightSource;
  let nextSource: { file: string; text: string; how: 'edited' | 'expanded'; set: Record<string, string> } | undefined;
  let masks: Map<string, Uint8Array> | undefined;
  const report: Partial<PruneReport> = {};
  if (!o.structured) {
    const m = magnitudeMasks(network, weights, o.sparsity);
    masks = m.masks;
    nextWeights = maskedWeights(weights, masks);
    report.weights = { total: m.total, pruned: m.pruned, threshold: m.threshold, layers: m.layers };
  } else {
    const sel = selectFilters(network, weights, o.sparsity);
    const shrinking = sel.widths.filter((w) => w.after < w.before);
    if (!shrinking.length) {
      const why = sel.widths.map((w) => `${w.path}: ${w.kept ?? `${w.before} outputs at sparsity ${o.sparsity} keep all`}`).join('; ');
      throw new PruneError(`${network.name}: no filter or unit can be removed (${why})`);
    }
    const ns = narrowedSource(text, cfg.source.file, network, cfg.source.set, newWidths(sel), header);
    next = ns.network;
    nextWeights = slicedWeights(network, next, sel, weights);
    nextSource = { file: path.resolve(o.out, path.basename(cfg.source.file)), text: ns.text, how: ns.how, set: ns.set };
    report.widths = sel.widths;
    report.source = { file: nextSource.file, how: ns.how };
  }

  o.say(`${network.name}: measuring the accuracy on ${split.count} ${data.testName} images before and after pruning (onnxruntime)`);
  const before = await accuracy(network, weights, split, norm, data.flatten);
  const after = await accuracy(next, nextWeights, split, norm, data.flatten);
  const full: PruneReport = {
    kind,
    from: path.resolve(o.runDir),
    out: path.resolve(o.out),
    network: network.name,
    sparsity: o.sparsity,
    params: { before: network.totalParams, after: o.structured ? next.totalParams : network.totalParams - report.weights!.pruned },
    macs: { before: network.totalMacs, after: next.totalMacs },
    ...report,
    accuracy: { on: data.testName, images: split.count, before, pruned: after },
  };

  // the pruned model and its run files, into OUT together
  const source: RunSource = { ...cfg.source, ...(nextSource ? { file: nextSource.file, set: nextSource.set } : {}) };
  const { loadTf, toTfjs, saveTfjs, tfjsMetadata, BackendUnavailableError } = await loadTfjsBits();
  let tf: Awaited<ReturnType<typeof loadTf>>['tf'];
  try {
    ({ tf } = await loadTf({ backend: o.backend as 'auto' }));
  } catch (e) {
    if (e instanceof BackendUnavailableError) throw new PruneError(e.message);
    throw e;
  }
  await writeIntoDir(o.out, async (tmp) => {
    if (nextSource) fs.writeFileSync(path.join(tmp, path.basename(nextSource.file)), nextSource.text);
    const model = toTfjs(tf, next, { weights: nextWeights });
    model.setUserDefinedMetadata(tfjsMetadata({ network: next, source: source.file, classes: cfg.classes, normalization: norm }));
    await saveTfjs(model, path.join(tmp, 'model'));
    model.dispose();
    if (masks) writeMasks(tmp, masks, weightShapes(network));
    const config = {
      network: { name: next.name, input: next.input, output: next.output, params: next.params },
      source,
      engine: cfg.engine ?? 'tfjs',
      settings: cfg.settings,
      classes: cfg.classes,
      normalization: norm,
    };
    fs.writeFileSync(path.join(tmp, 'config.json'), JSON.stringify(config, null, 2) + '\n');
    fs.writeFileSync(path.join(tmp, 'normalization.json'), JSON.stringify(norm, null, 2) + '\n');
    fs.writeFileSync(path.join(tmp, 'prune.json'), JSON.stringify(full, null, 2) + '\n');
  }, ['config.json', 'prune.json']);

  let exitCode = 0;
  if (o.finetuneEpochs > 0) {
    const lr = o.lr ?? s.lr / 10;
    const settings: TrainSettings = {
      ...s,
      epochs: o.finetuneEpochs,
      lr,
      schedule: { kind: 'constant' },
      // exactly the run's preprocessing (not recomputed)
      normalize: { mean: norm.mean, std: norm.std },
    };
    const { train } = await import('../train/loop.js');
    o.say(`fine-tuning for ${o.finetuneEpochs} epoch${o.finetuneEpochs === 1 ? '' : 's'} at lr ${lr}${masks ? ', the pruned weights held at zero' : ''}`);
    const outcome = await train({
      network: next,
      settings,
      source,
      runDir: o.out,
      engine: cfg.engine,
      backend: o.backend,
      initialWeights: readTfjsWeights(path.join(o.out, 'model'), next),
      masks,
    });
    full.finetune = { epochs: o.finetuneEpochs, lr, status: outcome.status };
    exitCode = outcome.exitCode;
    if (outcome.status === 'done') {
      const tuned = readTfjsWeights(path.join(o.out, 'model'), next);
      full.accuracy.finetuned = await accuracy(next, tuned, split, norm, data.flatten);
      if (masks) full.finetune.sparsityKept = sparsityKept(next, tuned, masks);
    }
    writeFileAtomic(path.join(o.out, 'prune.json'), JSON.stringify(full, null, 2) + '\n');
  }
  return { report: full, exitCode };
}

async function loadTfjsBits() {
  const [tfjs, meta] = await Promise.all([import('../emit/tfjs/index.js'), import('../emit/metadata.js')]);
  return { ...tfjs, tfjsMetadata: meta.tfjsMetadata };
}

/** Every masked weight is still exactly zero. */
function sparsityKept(network: Network, weights: WeightSource, masks: ReadonlyMap<string, Uint8Array>): boolean {
  for (const w of prunableWeights(network)) {
    const m = masks.get(w.key);
    if (!m) continue;
    const v = weights.get(w.path, w.spec);
    for (let i = 0; i < v.length; i++) if (!m[i] && v[i] !== 0) return false;
  }
  return true;
}

/** The report as the terminal shows it. */
export function describeReport(r: PruneReport): string[] {
  const lines: string[] = [];
  if (r.kind === 'unstructured') {
    const w = r.weights!;
    lines.push(`${r.network}: global magnitude pruning of the conv and dense weights to sparsity ${r.sparsity}`);
    lines.push(`  removed ${num(w.pruned)} of ${num(w.total)} weights (|w| ≤ ${w.threshold.toPrecision(3)}); biases and batch norm kept`);
    const width = Math.max(6, ...w.layers.map((l) => l.weight.length));
    lines.push(`  ${'weight'.padEnd(width)}  ${'count'.padStart(10)}  removed`);
    for (const l of w.layers) lines.push(`  ${l.weight.padEnd(width)}  ${num(l.count).padStart(10)}  ${((100 * l.pruned) / Math.max(1, l.count)).toFixed(1).padStart(6)}%`);
    lines.push(`  nonzero parameters: ${num(r.params.before)} → ${num(r.params.after)}`);
  } else {
    lines.push(`${r.network}: structured pruning, the ${r.sparsity} of filters/units with the smallest L2 norms removed from every layer that can shrink`);
    const width = Math.max(5, ...r.widths!.map((l) => l.path.length));
    lines.push(`  ${'layer'.padEnd(width)}  before  after`);
    for (const l of r.widths!) lines.push(`  ${l.path.padEnd(width)}  ${String(l.before).padStart(6)}  ${String(l.after).padStart(5)}${l.kept ? `   (kept: ${l.kept})` : l.follows ? `   (follows: ${l.follows})` : ''}`);
    lines.push(`  parameters: ${num(r.params.before)} → ${num(r.params.after)} (${(r.params.after / r.params.before).toFixed(2)}×)`);
    lines.push(`  MACs per example: ${num(r.macs.before)} → ${num(r.macs.after)} (${(r.macs.after / r.macs.before).toFixed(2)}×)`);
  }
  const a = r.accuracy;
  lines.push(
    `  ${a.on} accuracy (${num(a.images)} images, onnxruntime): ${pct(a.before)} before, ${pct(a.pruned)} pruned` +
      (a.finetuned !== undefined ? `, ${pct(a.finetuned)} after ${r.finetune!.epochs} epoch${r.finetune!.epochs === 1 ? '' : 's'} of fine-tuning` : ''),
  );
  if (r.finetune?.sparsityKept === false) lines.push('  warning: fine-tuning moved weights the masks hold at zero');
  return lines;
}
