// OUT/search.json: what the search is (the file, network, data, the space)
// and where every trial stands. Rewritten atomically at every change, so a
// search stopped any way at all can be continued with --resume.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import type { Assignment, Dimension } from './space.js';

export type TrialStatus = 'pending' | 'running' | 'done' | 'stopped' | 'interrupted' | 'diverged' | 'failed';

export interface TrialState {
  /** 001, 002, …: the trial's run directory is trials/ID, its network file trials/ID.net */
  id: string;
  params: Assignment;
  status: TrialStatus;
  /** validation accuracy and loss after each finished epoch */
  valAccuracy: number[];
  valLoss: number[];
  /** training time (the run's own measure) */
  seconds?: number;
  testAccuracy?: number;
  /** why it stopped early or failed */
  note?: string;
}

export interface SearchState {
  format: 'alexnetc-tune';
  version: 1;
  file: string;
  network: string;
  set: Record<string, string>;
  data: string;
  grid: string;
  mode: 'grid' | 'random';
  seed: number;
  epochs?: number;
  limit?: number;
  testLimit?: number;
  earlyStop: boolean;
  /** the source text's length and a hash of it when the search began: --write refuses a file changed since */
  sourceHash: string;
  dims: Dimension[];
  trials: TrialState[];
}

export const SEARCH_JSON = 'search.json';

export function writeState(out: string, s: SearchState): void {
  writeFileAtomic(path.join(out, SEARCH_JSON), JSON.stringify(s, null, 1) + '\n');
}

export function readState(out: string): SearchState {
  const file = path.join(out, SEARCH_JSON);
  let s: Partial<SearchState>;
  try {
    s = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    throw new UserError(`${out}: no search to resume (${file} is missing or unreadable)`, 1);
  }
  if (s.format !== 'alexnetc-tune' || s.version !== 1 || !Array.isArray(s.trials) || !Array.isArray(s.dims)) {
    throw new UserError(`${file}: not an alexnetc tune state of version 1`, 1);
  }
  return s as SearchState;
}

export const trialDir = (out: string, id: string): string => path.join(out, 'trials', id);
export const trialFile = (out: string, id: string): string => path.join(out, 'trials', `${id}.net`);
export const trialLog = (out: string, id: string): string => path.join(out, 'trials', `${id}.log`);

/** A trial's score: its validation accuracy after its last epoch. */
export function score(t: TrialState): number | undefined {
  return t.valAccuracy.length ? t.valAccuracy[t.valAccuracy.length - 1] : undefined;
}
