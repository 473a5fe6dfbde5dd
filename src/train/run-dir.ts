// A run directory: RUN/config.json (what was trained: the source file, the
// network and its --set values, the engine, the settings, the classes, the
// preprocessing) and normalization.json, written at the start of a run; the
// reports (history.json, metrics.json, plots) at its end. Other commands
// (compile --weights RUN, predict) read config.json back with readRunInfo.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PREPROCESSING_FORMULA, type Preprocessing } from '../emit/metadata.js';
import type { Network } from '../check/ir.js';
import { writeFileAtomic } from '../util/atomic.js';
import type { HistoryEntry, RunSource } from './checkpoint.js';
import type { Augmentation, TrainSettings } from './config.js';
import type { Normalization } from './data/index.js';
import { confusionMatrix, confusionMatrixSvg, historyCharts, perClassAccuracy, svgToPng } from './report/index.js';

export const RUN_CONFIG = 'config.json';

export interface RunInfo {
  dir: string;
  source: { file: string; network: string; set: Record<string, string>; data?: string };
  classes?: string[];
  normalization?: Preprocessing;
}

/** The run recorded in `dir/config.json`, or undefined when `dir` is not a run directory. */
export function readRunInfo(dir: string): RunInfo | undefined {
  let json: { source?: RunInfo['source']; classes?: string[]; normalization?: Preprocessing };
  try {
    json = JSON.parse(fs.readFileSync(path.join(dir, RUN_CONFIG), 'utf8'));
  } catch {
    return undefined;
  }
  if (!json.source || typeof json.source.file !== 'string') return undefined;
  return { dir, source: { ...json.source, set: json.source.set ?? {} }, classes: json.classes, normalization: json.normalization };
}

// ---------------------------------------------------------------- writing

/** config.json (what the run is) and normalization.json (how to feed its model), at the start of a run. */
export function writeRunConfig(
  dir: string,
  run: { network: Network; source: RunSource; settings: TrainSettings & { augment: Augmentation }; classes: string[]; normalization: Normalization; engine: string },
): void {
  fs.mkdirSync(dir, { recursive: true });
  const { network } = run;
  const info = {
    network: { name: network.name, input: network.input, output: network.output, params: network.params },
    source: run.source,
    engine: run.engine,
    settings: run.settings,
    classes: run.classes,
    normalization: run.normalization,
  };
  writeFileAtomic(path.join(dir, RUN_CONFIG), JSON.stringify(info, null, 2) + '\n');
  writeFileAtomic(path.join(dir, 'normalization.json'), JSON.stringify({ ...run.normalization, formula: PREPROCESSING_FORMULA, layout: 'per channel' }, null, 2) + '\n');
}

export interface FinalReport {
  network: Network;
  history: HistoryEntry[];
  backend: string;
  classes: string[];
  /** the final evaluation, when there was a split to evaluate on */
  evaluated?: { on: 'test' | 'validation'; labels: Int32Array; loss: number; accuracy: number; predicted: Int32Array };
}

/** history.json, metrics.json and the plots (SVG and PNG); returns the names written. */
export async function writeReports(dir: string, r: FinalReport): Promise<string[]> {
  const write = (name: string, text: string): void => writeFileAtomic(path.join(dir, name), text);
  write('history.json', JSON.stringify(r.history, null, 2) + '\n');
  const charts = historyCharts(r.history);
  write('loss.svg', charts.loss);
  write('accuracy.svg', charts.accuracy);
  const metrics: Record<string, unknown> = {
    network: r.network.name,
    epochs: r.history.length,
    backend: r.backend,
    trainSeconds: r.history.reduce((a, h) => a + h.seconds, 0),
    final: r.history[r.history.length - 1] ?? null,
  };
  const plots = ['loss', 'accuracy'];
  if (r.evaluated) {
    const e = r.evaluated;
    const matrix = confusionMatrix(e.predicted, e.labels, r.classes.length);
    Object.assign(metrics, {
      evaluatedOn: e.on,
      examples: e.labels.length,
      accuracy: e.accuracy,
      loss: e.loss,
      classes: r.classes,
      perClassAccuracy: perClassAccuracy(matrix),
      confusionMatrix: matrix,
    });
    write('confusion.svg', confusionMatrixSvg(matrix, r.classes, `${r.network.name}: ${e.on} set, accuracy ${(100 * e.accuracy).toFixed(2)}%`));
    plots.push('confusion');
  } else metrics.evaluatedOn = 'none';
  write('metrics.json', JSON.stringify(metrics, null, 2) + '\n');
  for (const p of plots) await svgToPng(path.join(dir, `${p}.svg`), path.join(dir, `${p}.png`));
  return ['metrics.json', 'history.json', ...plots.map((p) => `${p}.svg/.png`)];
}
