// `alexnetc tune FILE --data DIR --grid '…' -o DIR`: grid or seeded random
// search over train { } settings and network parameters, every trial an
// ordinary `alexnetc train` run directory, scored on its validation split.
//
// OUT/
//   search.json              the search and every trial's status (resume reads it)
//   trials/ID.net            the trial's network file: FILE with its settings
//   trials/ID/               the trial's run directory (curves, checkpoint, model)
//   trials/ID.log            the trainer's output
//   results.csv              one row per trial
//   scores.svg, scores.png   validation accuracy against each parameter
//   best.txt                 the best settings as a train { } section to paste
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { compile } from '../compile.js';
import type { Network } from '../check/ir.js';
import { hasErrors } from '../diagnostics/index.js';
import { ConfigError, resolveSettings } from '../train/config.js';
import { loadData } from '../train/prepare.js';
import { writeFileAtomic } from '../util/atomic.js';
import { SIGNAL_EXIT } from '../util/signals.js';
import { UserError } from '../util/errors.js';
import { svgToPngBytes } from '../util/png.js';
import { best, csv, scoresSvg, table } from './report.js';
import { runTrials } from './runner.js';
import { withSettings, trainSection } from './source.js';
import { describeAssignment, gridTrials, parseSpace, randomTrials, SpaceError, type Assignment, type Dimension } from './space.js';
import { readState, SEARCH_JSON, trialFile, writeState, type SearchState } from './state.js';
import { readFromDisk } from '../read-file.js';

export { parseSpace, gridTrials, randomTrials, splitTop, SpaceError } from './space.js';
export { medianRule, MIN_PEERS } from './runner.js';
export { withSettings, trainSection } from './source.js';

/** A problem with the request: exit 2 (usage) unless said otherwise. */
export class TuneError extends UserError {
  override readonly name = 'TuneError';
  constructor(message: string, code: 1 | 2 = 2) {
    super(message, code);
  }
}

export interface NewSearch {
  file: string;
  text: string;
  network: Network;
  set: Record<string, string>;
  data: string;
  grid: string;
  random: boolean;
  trials?: number;
  seed: number;
  epochs?: number;
  limit?: number;
  testLimit?: number;
  earlyStop: boolean;
}

export interface RunOptions {
  out: string;
  jobs: number;
  threads: number;
  backend: string;
  write: boolean;
  say(line: string): void;
  print(line: string): void;
}

const hash = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 16);

const split = (dims: readonly Dimension[], a: Assignment) => {
  const train: Record<string, string> = {};
  const params: Record<string, string> = {};
  for (const d of dims) (d.target === 'train' ? train : params)[d.name] = a[d.name]!;
  return { train, params };
};

/** Check every trial before any runs: its file checks, its settings are valid, the data fit. Returns the search state. */
export function planSearch(s: NewSearch): SearchState {
  const params = Object.keys(s.network.params);
  let dims: Dimension[];
  try {
    dims = parseSpace(s.grid, params, s.random);
  } catch (e) {
    if (e instanceof SpaceError) throw new TuneError(e.message);
    throw e;
  }
  for (const d of dims) if (d.target === 'network' && d.name in s.set) throw new TuneError(`--grid varies \`${d.name}\` and --set fixes it: choose one`);
  if (dims.some((d) => d.name === 'epochs') && s.epochs !== undefined) throw new TuneError('--grid varies `epochs` and --epochs fixes it: choose one');
  const assignments = s.random ? randomTrials(dims, s.trials!, s.seed) : gridTrials(dims);
  const shapes = new Map<string, Network>();
  const trials = assignments.map((a, i) => {
    const id = String(i + 1).padStart(3, '0');
    const { train, params: net } = split(dims, a);
    const text = withSettings(s.text, s.network.name, train);
    const r = compile(text, { file: s.file, network: s.network.name, set: { ...s.set, ...net }, readFile: readFromDisk });
    if (hasErrors(r.diagnostics) || !r.network) {
      const first = r.diagnostics.find((d) => d.severity === 'error')!;
      throw new TuneError(`--grid: trial ${id} (${describeAssignment(a)}) does not check: ${first.message}`);
    }
    try {
      const settings = resolveSettings(r.network.train, s.epochs !== undefined ? { epochs: String(s.epochs) } : {});
      if (!(settings.valSplit > 0)) throw new TuneError(`trial ${id} (${describeAssignment(a)}) holds out no validation split (val_split 0): tune scores trials on it`);
    } catch (e) {
      if (e instanceof ConfigError) throw new TuneError(`--grid: trial ${id} (${describeAssignment(a)}): ${e.message}`);
      throw e;
    }
    shapes.set(JSON.stringify([r.network.input, r.network.output]), r.network);
    return { id, params: a, status: 'pending' as const, valAccuracy: [], valLoss: [] };
  });
  // the data must fit every network the trials train (a width changes nothing here, `classes` or `size` would)
  for (const n of shapes.values()) loadData(s.data, n);
  return {
    format: 'alexnetc-tune',
    version: 1,
    file: path.resolve(s.file),
    network: s.network.name,
    set: s.set,
    data: path.resolve(s.data),
    grid: s.grid,
    mode: s.random ? 'random' : 'grid',
    seed: s.seed,
    ...(s.epochs !== undefined ? { epochs: s.epochs } : {}),
    ...(s.limit !== undefined ? { limit: s.limit } : {}),
    ...(s.testLimit !== undefined ? { testLimit: s.testLimit } : {}),
    earlyStop: s.earlyStop,
    sourceHash: hash(s.text),
    dims,
    trials,
  };
}

/** Write the trials' files and the state: the search exists from here on. */
export function createSearch(state: SearchState, text: string, out: string): void {
  fs.mkdirSync(path.join(out, 'trials'), { recursive: true });
  for (const t of state.trials) writeFileAtomic(trialFile(out, t.id), withSettings(text, state.network, split(state.dims, t.params).train));
  writeState(out, state);
}

export { readState, SEARCH_JSON };

/** Run (or continue) the search in `o.out`, then write the results; returns the exit code. */
export async function runSearch(state: SearchState, o: RunOptions): Promise<number> {
  const todo = state.trials.filter((t) => !['done', 'stopped', 'failed', 'diverged'].includes(t.status)).length;
  o.say(
    `${state.network}: ${state.mode} search of ${state.trials.length} trials over ${state.dims.map((d) => d.name).join(', ')}` +
      `${todo < state.trials.length ? ` (${state.trials.length - todo} finished before)` : ''}; ${o.jobs} at a time, ${o.threads} thread${o.threads === 1 ? '' : 's'} each` +
      `; early stopping: ${state.earlyStop ? 'median rule' : 'off'}`,
  );
  const interrupted = await runTrials(state, { out: o.out, jobs: o.jobs, threads: o.threads, backend: o.backend, say: o.say });
  await writeResults(state, o.out);
  o.print(table(state));
  const top = best(state.trials);
  const complete = !interrupted && state.trials.every((t) => ['done', 'stopped', 'failed', 'diverged'].includes(t.status));
  if (top) {
    const { train, params } = split(state.dims, top.params);
    o.print(`\nbest: trial ${top.id}, validation accuracy ${(100 * top.valAccuracy[top.valAccuracy.length - 1]!).toFixed(2)}% (${describeAssignment(top.params)})`);
    if (Object.keys(train).length) o.print(`the train { } section for ${path.basename(state.file)} (network ${state.network}), also in ${path.join(o.out, 'best.txt')}:\n${bestSection(state, train)}`);
    if (Object.keys(params).length) o.print(`network parameters: ${Object.entries(params).map(([k, v]) => `--set ${k}=${v}`).join(' ')}`);
    if (o.write) {
      if (!complete) o.say(`not writing into ${state.file}: the search is not complete (continue it with --resume, then --write)`);
      else writeBack(state, train, params, o.say);
    }
  } else o.print('\nno trial finished: there are no best settings yet');
  o.say(`wrote ${o.out}: search.json, results.csv, scores.svg/.png${top ? ', best.txt' : ''}, trials/`);
  if (interrupted) {
    o.say(`interrupted: finished trials are kept; continue with \`alexnetc tune --resume -o ${o.out}\``);
    return SIGNAL_EXIT[interrupted];
  }
  return state.trials.some((t) => t.status === 'done') ? 0 : 1;
}

function bestSection(state: SearchState, train: Record<string, string>): string {
  return trainSection(fs.readFileSync(state.file, 'utf8'), state.network, train);
}

async function writeResults(state: SearchState, out: string): Promise<void> {
  writeFileAtomic(path.join(out, 'results.csv'), csv(state));
  const svg = scoresSvg(state);
  writeFileAtomic(path.join(out, 'scores.svg'), svg);
  writeFileAtomic(path.join(out, 'scores.png'), (await svgToPngBytes(svg, { width: 1000, systemFonts: true })).png);
  const top = best(state.trials);
  if (top && fs.existsSync(state.file)) {
    const { train, params } = split(state.dims, top.params);
    const lines = [
      `# the best of ${state.trials.length} trials of ${out}: trial ${top.id}, validation accuracy ${(100 * top.valAccuracy[top.valAccuracy.length - 1]!).toFixed(2)}%`,
      `# (${describeAssignment(top.params)}); paste into the network ${state.network} of ${state.file}`,
      ...(Object.keys(train).length ? [bestSection(state, train)] : []),
      ...(Object.keys(params).length ? [`# network parameters: ${Object.entries(params).map(([k, v]) => `${k} = ${v}`).join(', ')}`] : []),
    ];
    writeFileAtomic(path.join(out, 'best.txt'), lines.join('\n') + '\n');
  }
}

/** --write: the best settings into the source file, atomically, the rest of the file as it was. */
function writeBack(state: SearchState, train: Record<string, string>, params: Record<string, string>, say: (l: string) => void): void {
  let text: string;
  try {
    text = fs.readFileSync(state.file, 'utf8');
  } catch {
    throw new TuneError(`cannot --write: ${state.file} cannot be read`, 1);
  }
  if (hash(text) !== state.sourceHash) throw new TuneError(`not writing into ${state.file}: it changed since the search started (the best settings are in best.txt)`, 1);
  const next = withSettings(text, state.network, train, params);
  const r = compile(next, { file: state.file, network: state.network, set: state.set, readFile: readFromDisk });
  if (hasErrors(r.diagnostics) || !r.network) throw new Error(`internal: the file with the best settings does not check: ${r.diagnostics.find((d) => d.severity === 'error')?.message}`);
  writeFileAtomic(state.file, next);
  say(`wrote the best settings into ${state.file}`);
}
