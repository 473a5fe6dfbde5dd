// `explain`: for one example, the feature maps of every convolution stage,
// the saliency and Grad-CAM heat maps, and an index.html that shows them with
// the prediction. Everything is computed and rendered in memory first; the
// files then go into the output directory through writeIntoDir (a temporary
// sibling, renamed in, index.html last), so a failure leaves nothing half-written.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Network } from '../../check/ir.js';
import type { Preprocessing } from '../../emit/metadata.js';
import { toTfjs, type Tf } from '../../emit/tfjs/index.js';
import type { WeightSource } from '../../weights/index.js';
import { writeIntoDir } from '../../util/atomic.js';
import { normalise, topK, type Example, type Ranked } from '../predict/index.js';
import { explainExample, type Explanation } from './compute.js';
import { GENERATOR, indexHtml } from './html.js';
import { featureGridPng, heatPanelsPng, inputPng } from './render.js';
import { probeLabel } from './stages.js';

export { explainExample, gradCam, type Explanation, type FeatureMaps } from './compute.js';
export { convStages, gradCamProbe, tokenProbe, probeLabel, type ConvStage, type Probe } from './stages.js';
export { GENERATOR } from './html.js';

export interface ExplainJob {
  tf: Tf;
  network: Network;
  weights: WeightSource;
  example: Example;
  normalization: Preprocessing;
  classes?: string[];
  /** said on the page (a missing normalisation, …) */
  notes: string[];
  /** the class to explain (default: the predicted one) */
  target?: number;
}

export interface Explained {
  explanation: Explanation;
  top: Ranked[];
  /** file name → contents, index.html and explain.json included */
  files: Map<string, Uint8Array | string>;
  /** explain.json's content */
  summary: Record<string, unknown>;
}

/** File name of a stage's feature maps: numbered in network order, the path made file-safe. */
export function featureFile(i: number, stagePath: string): string {
  return `features-${String(i + 1).padStart(2, '0')}-${stagePath.replace(/\//g, '.').replace(/[^A-Za-z0-9_.-]/g, '_')}.png`;
}

/** Is `name` a file explain writes (so a previous explain directory may be cleaned of stale ones)? */
export function isExplainFile(name: string): boolean {
  return ['index.html', 'explain.json', 'input.png', 'saliency.png', 'gradcam.png'].includes(name) || /^features-\d+-[A-Za-z0-9_.-]+\.png$/.test(name);
}

/** Is `dir` a directory an earlier explain wrote: only explain's files, and an index.html that says so? */
export function isExplainDir(dir: string): boolean {
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch {
    return false;
  }
  if (!entries.every(isExplainFile)) return false;
  try {
    return fs.readFileSync(path.join(dir, 'index.html'), 'utf8').includes(`<meta name="generator" content="${GENERATOR}">`);
  } catch {
    return false;
  }
}

/** The 99th percentile of non-negative values (a few extreme gradients would otherwise leave the rest black). */
function percentile99(v: Float32Array): number {
  const s = Float32Array.from(v).sort();
  return s[Math.min(s.length - 1, Math.floor(0.99 * s.length))]!;
}

const scaled = (v: Float32Array, top: number): Float32Array => v.map((x) => (top > 0 ? Math.min(x / top, 1) : 0));
const pct = (p: number): string => `${(100 * p).toFixed(2)}%`;

/** Compute and render everything for one example (nothing is written). */
export async function explain(job: ExplainJob): Promise<Explained> {
  const { tf, network, example } = job;
  const shape = network.input as [number, number, number];
  const [c, h, w] = shape;
  const model = toTfjs(tf, network, { weights: job.weights });
  let e: Explanation;
  try {
    e = explainExample(tf, model, network, normalise(example.raw, c, job.normalization), { target: job.target });
  } finally {
    model.dispose();
  }
  const name = (k: number): string => job.classes?.[k] ?? String(k);
  const top = topK(e.probabilities, 5, job.classes);
  const target = `${name(e.target)} (${pct(e.probabilities[e.target]!)})`;
  // a network without a final softmax outputs logits (the trainer's convention): either way the score is a logit
  const score = 'logit';
  const files = new Map<string, Uint8Array | string>();

  files.set('input.png', await inputPng(example.raw, shape));
  const p99 = percentile99(e.saliency);
  files.set(
    'saliency.png',
    await heatPanelsPng({
      raw: example.raw,
      shape,
      heat: scaled(e.saliency, p99),
      title: `Saliency of ${target}`,
      subtitle: `|∂ ${score} / ∂ input|, the largest over the channels; scaled to its 99th percentile`,
      heatCaption: 'saliency',
      low: '0',
      high: `≥ ${p99.toPrecision(2)}`,
    }),
  );
  let gradcamNote: string;
  if (e.gradcam) {
    const g = e.gradcam;
    const max = g.map.reduce((a, b) => Math.max(a, b), 0);
    const [gc, gh, gw] = g.probe.shape;
    gradcamNote = `Grad-CAM at ${probeLabel(g.probe)} [${gc}, ${gh}, ${gw}], resized from ${gh}×${gw} to ${h}×${w}` + (max === 0 ? ': zero everywhere (no map speaks for this class)' : '');
    files.set(
      'gradcam.png',
      await heatPanelsPng({
        raw: example.raw,
        shape,
        heat: scaled(g.map, max),
        title: `Grad-CAM of ${target} at ${probeLabel(g.probe)}`,
        subtitle: `ReLU(Σ mean(∂ ${score} / ∂ A) · A) over its ${gc} maps of ${gh}×${gw}, resized to ${h}×${w}; scaled to its maximum`,
        heatCaption: 'Grad-CAM',
        low: '0',
        high: 'max',
      }),
    );
  } else gradcamNote = 'no convolution stage with a spatial map (larger than 1×1): no Grad-CAM';

  const stages: Array<{ title: string; shape: number[]; file: string; path: string }> = [];
  for (const [i, m] of e.maps.entries()) {
    const file = featureFile(i, m.stage.path);
    const title = probeLabel(m.stage);
    files.set(file, await featureGridPng(m.values, m.stage.shape, `${title}   [${m.stage.shape.join(', ')}]`));
    stages.push({ title, shape: m.stage.shape, file, path: m.stage.path });
  }

  const inputName = 'file' in example.source ? path.basename(example.source.file) : `${path.basename(example.source.data)} ${example.source.split} #${example.source.index}`;
  const label = example.label !== undefined ? name(example.label) : undefined;
  files.set(
    'index.html',
    indexHtml({
      network: network.name,
      input: inputName,
      prediction: top.map((r) => ({ class: r.class, probability: r.probability, explained: r.index === e.target })),
      ...(label !== undefined ? { label } : {}),
      notes: job.notes,
      images: { input: 'input.png', saliency: 'saliency.png', ...(e.gradcam ? { gradcam: 'gradcam.png' } : {}) },
      gradcamNote,
      stages,
    }),
  );
  const summary = {
    network: network.name,
    input: example.source,
    ...(example.label !== undefined ? { label: { index: example.label, class: label } } : {}),
    prediction: top,
    explained: { index: e.target, class: name(e.target), score: e.score === 'logit' ? 'logit (the input of the final softmax)' : 'the output (taken as logits)' },
    saliency: { file: 'saliency.png', p99 },
    gradcam: e.gradcam
      ? { file: 'gradcam.png', stage: e.gradcam.probe.path, followers: e.gradcam.probe.followers, shape: e.gradcam.probe.shape, ...(e.gradcam.probe.tokens ? { tokens: e.gradcam.probe.tokens } : {}) }
      : null,
    stages: stages.map((s) => ({ path: s.path, title: s.title, shape: s.shape, file: s.file })),
    notes: job.notes,
  };
  files.set('explain.json', JSON.stringify(summary, null, 2) + '\n');
  return { explanation: e, top, files, summary };
}

/**
 * Write the files into `dir` (index.html last). With `cleanStale` — the
 * directory held an earlier explain's output — feature-map files of that
 * earlier run that this one did not write are removed.
 */
export async function writeExplained(dir: string, files: Map<string, Uint8Array | string>, cleanStale: boolean): Promise<string[]> {
  const written = await writeIntoDir(
    dir,
    (temp) => {
      for (const [name, data] of files) fs.writeFileSync(path.join(temp, name), data);
    },
    ['explain.json', 'index.html'],
  );
  if (cleanStale) for (const f of fs.readdirSync(dir)) if (isExplainFile(f) && !files.has(f)) fs.rmSync(path.join(dir, f), { force: true });
  return written;
}
