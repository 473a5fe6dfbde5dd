// Checkpoints: everything a run needs to continue exactly where it stopped,
// in RUN_DIR/checkpoint/, replaced atomically as a whole directory (a crash
// mid-write leaves the previous checkpoint intact):
//   state.json    epoch/step reached, history, settings, data source,
//                 normalisation, running sums (written here)
//   …             the engine's model and optimizer state (the tfjs engine:
//                 model/ + optimizer.json/.bin; see its saveCheckpoint)
// Data order, augmentation and dropout are functions of (seed, epoch, step),
// so (epoch, step) is the whole random state.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeDirAtomic } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import type { Normalization } from './data/index.js';
import type { Augmentation, TrainSettings } from './config.js';
import type { TrainEngine } from './engine.js';

export const CHECKPOINT_DIR = 'checkpoint';
const STATE = 'state.json';
const FORMAT = 'alexnetc-checkpoint';
const VERSION = 1;

export interface HistoryEntry {
  epoch: number;
  lr: number;
  loss: number;
  accuracy: number;
  valLoss?: number;
  valAccuracy?: number;
  seconds: number;
}

/** Where the run's network and data came from, so `--resume RUN_DIR` needs nothing else. */
export interface RunSource {
  file: string;
  network: string;
  set: Record<string, string>;
  data: string;
  limit?: number;
  testLimit?: number;
}

export interface RunState {
  /** epochs completed */
  epoch: number;
  /** batches completed in epoch `epoch` (0-based) when interrupted mid-epoch; 0 at an epoch boundary */
  step: number;
  /** running sums of the interrupted epoch, so its history line comes out as if never interrupted */
  partial?: { lossSum: number; correct: number; seen: number; seconds: number };
  history: HistoryEntry[];
  settings: TrainSettings & { augment: Augmentation };
  source: RunSource;
  normalization: Normalization;
  classes: string[];
  backend: string;
  /** the engine that computed the run (absent in runs from before engines: tfjs) */
  engine?: string;
  /** the engine's options (EngineSetup.options), kept for --resume */
  engineOptions?: Record<string, unknown>;
}

interface StateFile extends RunState {
  format: string;
  version: number;
  savedAt: string;
}

export class CheckpointError extends UserError {
  override readonly name = 'CheckpointError';
}

export function checkpointDir(runDir: string): string {
  return path.join(runDir, CHECKPOINT_DIR);
}

export function hasCheckpoint(runDir: string): boolean {
  return fs.existsSync(path.join(checkpointDir(runDir), STATE));
}

export async function writeCheckpoint(runDir: string, engine: TrainEngine, state: RunState): Promise<void> {
  await writeDirAtomic(checkpointDir(runDir), async (tmp) => {
    await engine.saveCheckpoint(tmp);
    const file: StateFile = { format: FORMAT, version: VERSION, savedAt: new Date().toISOString(), ...state };
    fs.writeFileSync(path.join(tmp, STATE), JSON.stringify(file, null, 2) + '\n');
  });
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new CheckpointError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(`${file}: not valid JSON (${(e as Error).message})`);
  }
}

export function readState(runDir: string): RunState {
  const dir = checkpointDir(runDir);
  if (!fs.existsSync(path.join(dir, STATE))) {
    throw new CheckpointError(`${runDir}: no checkpoint to resume (expected ${path.join(dir, STATE)})`);
  }
  const s = readJson(path.join(dir, STATE)) as Partial<StateFile>;
  if (s.format !== FORMAT || s.version !== VERSION) {
    throw new CheckpointError(`${path.join(dir, STATE)}: not an alexnetc checkpoint of version ${VERSION}`);
  }
  if (!Number.isSafeInteger(s.epoch) || !Number.isSafeInteger(s.step) || !s.settings || !s.source || !s.normalization || !Array.isArray(s.history)) {
    throw new CheckpointError(`${path.join(dir, STATE)}: incomplete checkpoint state`);
  }
  return s as RunState;
}
