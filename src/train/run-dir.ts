// A run directory as other commands read it: what was trained (the source
// file, the network and its --set values), on which classes, with which
// preprocessing. `alexnetc train` writes RUN/config.json at the start of a run.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Preprocessing } from '../emit/metadata.js';

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
