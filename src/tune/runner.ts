// Running the trials: each one is `alexnetc train` in a child process (its
// own run directory, its own threads, isolated from the others), up to
// `jobs` at a time.
//
// Early stopping — the median stopping rule (Golovin et al., "Google Vizier",
// KDD 2017; Ray Tune's MedianStoppingRule): after each epoch e before its
// last, a trial is stopped when its best validation accuracy so far is below
// the median, over the trials that have finished, of their mean validation
// accuracy over epochs 1…e — once at least MIN_PEERS trials have finished.
// A stopped trial gets Ctrl-C (SIGINT), so it writes its checkpoint like any
// interrupted run: its curves and checkpoint stay, and it could be continued
// by hand (`alexnetc train --resume trials/ID`). Which trials count as
// finished depends on timing when jobs > 1, so with parallel trials the rule
// may stop a different set from run to run; --no-early-stop turns it off.
//
// Ctrl-C (or SIGTERM) stops the search: every running trial is interrupted
// (it checkpoints), the finished ones are kept, and --resume continues the
// interrupted trials from their checkpoints and starts the pending ones.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { handleInterrupt, type Signal } from '../util/signals.js';
import { describeAssignment } from './space.js';
import { trialDir, trialFile, trialLog, writeState, type SearchState, type TrialState } from './state.js';

/** Finished trials needed before the median rule stops anything. */
export const MIN_PEERS = 3;

const BIN = fileURLToPath(new URL('../../bin/alexnetc.js', import.meta.url));

/** The summary line the trainer prints after each epoch (plain, not a terminal). */
const EPOCH_LINE = /^epoch\s+(\d+)\/(\d+)\s+loss \S+\s+acc \S+%\s+val_loss (\S+)\s+val_acc ([\d.]+)%/;

export interface RunnerOptions {
  out: string;
  jobs: number;
  threads: number;
  backend: string;
  say(line: string): void;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;

/** Should trial t stop after epoch e (1-based)? Returns the reason, or undefined. */
export function medianRule(t: TrialState, e: number, trials: readonly TrialState[]): string | undefined {
  const peers = trials.filter((p) => p !== t && p.status === 'done' && p.valAccuracy.length >= e);
  if (peers.length < MIN_PEERS) return undefined;
  const med = median(peers.map((p) => mean(p.valAccuracy.slice(0, e))));
  const best = Math.max(...t.valAccuracy.slice(0, e));
  return best < med ? `best validation accuracy ${pct(best)} by epoch ${e} is below the median ${pct(med)} of ${peers.length} finished trials` : undefined;
}

function readJson(file: string): any {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The exact curves of a trial from its run directory (history.json at the end, else the checkpoint's). */
function readCurves(dir: string, t: TrialState): void {
  const history = readJson(path.join(dir, 'history.json')) ?? readJson(path.join(dir, 'checkpoint', 'state.json'))?.history;
  if (!Array.isArray(history)) return;
  t.valAccuracy = history.map((h: { valAccuracy?: number }) => h.valAccuracy ?? NaN);
  t.valLoss = history.map((h: { valLoss?: number }) => h.valLoss ?? NaN);
  t.seconds = history.reduce((a: number, h: { seconds: number }) => a + h.seconds, 0);
}

function trainArgs(state: SearchState, t: TrialState, o: RunnerOptions): string[] {
  const dir = trialDir(o.out, t.id);
  const common = ['--threads', String(o.threads), '--backend', o.backend];
  if (fs.existsSync(path.join(dir, 'checkpoint', 'state.json'))) return ['train', '--resume', dir, ...common];
  const set = { ...state.set };
  for (const d of state.dims) if (d.target === 'network') set[d.name] = t.params[d.name]!;
  return [
    'train',
    trialFile(o.out, t.id),
    '--network',
    state.network,
    '--data',
    state.data,
    ...Object.entries(set).flatMap(([k, v]) => ['--set', `${k}=${v}`]),
    ...(state.epochs !== undefined ? ['--epochs', String(state.epochs)] : []),
    ...(state.limit !== undefined ? ['--limit', String(state.limit)] : []),
    ...(state.testLimit !== undefined ? ['--test-limit', String(state.testLimit)] : []),
    ...common,
    '--output',
    dir,
    // a trial that was interrupted before its first checkpoint left only its config: ours to replace
    ...(fs.existsSync(dir) ? ['--force'] : []),
  ];
}

/** Run every trial that is not finished; returns the signal that interrupted the search, if one did. */
export async function runTrials(state: SearchState, o: RunnerOptions): Promise<Signal | undefined> {
  const queue = state.trials.filter((t) => t.status === 'pending' || t.status === 'interrupted' || t.status === 'running');
  const running = new Map<TrialState, { child: ChildProcess; stopping?: string }>();
  let interrupted: Signal | undefined;
  const save = (): void => writeState(o.out, state);
  const total = state.trials.length;

  const release = handleInterrupt((signal) => {
    interrupted = signal;
    o.say(`\n${signal === 'SIGINT' ? 'interrupt' : 'terminate'}: stopping ${running.size} running trial${running.size === 1 ? '' : 's'} (each writes a checkpoint); continue with --resume`);
    for (const r of running.values()) r.child.kill(signal);
  }, o.say);

  try {
    await new Promise<void>((done) => {
      const next = (): void => {
        if (!interrupted) while (running.size < o.jobs && queue.length) start(queue.shift()!);
        if (running.size === 0) done();
      };

      const start = (t: TrialState): void => {
        const args = trainArgs(state, t, o);
        const resumed = args[1] === '--resume';
        t.status = 'running';
        t.note = undefined;
        save();
        o.say(`trial ${t.id}/${String(total).padStart(3, '0')} ${resumed ? 'resumed' : 'started'}: ${describeAssignment(t.params)}`);
        fs.mkdirSync(path.dirname(trialLog(o.out, t.id)), { recursive: true });
        const log = fs.createWriteStream(trialLog(o.out, t.id), { flags: 'a' });
        log.write(`$ alexnetc ${args.join(' ')}\n`);
        const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
        const entry: { child: ChildProcess; stopping?: string } = { child };
        running.set(t, entry);
        const tail: string[] = [];
        child.stdout!.on('data', (b) => log.write(b));
        createInterface({ input: child.stderr! }).on('line', (line) => {
          log.write(line + '\n');
          if (line.trim()) tail.push(line.trim());
          if (tail.length > 5) tail.shift();
          const m = EPOCH_LINE.exec(line);
          if (!m) return;
          const e = Number(m[1]);
          const of = Number(m[2]);
          t.valAccuracy[e - 1] = Number(m[4]) / 100;
          t.valLoss[e - 1] = Number(m[3]);
          t.valAccuracy.length = t.valLoss.length = e;
          o.say(`trial ${t.id} epoch ${e}/${of}: val_acc ${m[4]}%`);
          if (state.earlyStop && e < of && !entry.stopping && !interrupted) {
            const why = medianRule(t, e, state.trials);
            if (why) {
              entry.stopping = why;
              child.kill('SIGINT');
            }
          }
          save();
        });
        child.on('close', (code) => {
          running.delete(t);
          log.end();
          const dir = trialDir(o.out, t.id);
          readCurves(dir, t);
          if (entry.stopping) {
            t.status = 'stopped';
            t.note = entry.stopping;
            o.say(`trial ${t.id} stopped early: ${entry.stopping}`);
          } else if (code === 0) {
            t.status = 'done';
            const metrics = readJson(path.join(dir, 'metrics.json'));
            if (typeof metrics?.accuracy === 'number' && metrics.evaluatedOn === 'test') t.testAccuracy = metrics.accuracy;
            const s = t.valAccuracy[t.valAccuracy.length - 1];
            o.say(`trial ${t.id} done: val_acc ${s === undefined ? '–' : pct(s)} after ${t.valAccuracy.length} epoch${t.valAccuracy.length === 1 ? '' : 's'}`);
          } else if (code === 130 || code === 143 || interrupted) {
            t.status = 'interrupted';
          } else if (tail.some((l) => /training diverged/.test(l))) {
            t.status = 'diverged';
            t.note = tail.find((l) => /training diverged/.test(l));
            o.say(`trial ${t.id} diverged (see ${trialLog(o.out, t.id)})`);
          } else {
            t.status = 'failed';
            t.note = `exit ${code}: ${tail[tail.length - 1] ?? 'no output'}`;
            o.say(`trial ${t.id} failed: ${t.note} (see ${trialLog(o.out, t.id)})`);
          }
          save();
          next();
        });
      };

      next();
    });
  } finally {
    release();
  }
  return interrupted;
}
