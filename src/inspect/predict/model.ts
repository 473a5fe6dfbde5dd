// The models predict runs: a training run directory, a tfjs model directory,
// or an ONNX file — each opened into one `Classifier` that takes normalised
// examples channels first (what the .net language and ONNX use) and returns
// the model's outputs, with what the model recorded about itself: class names,
// normalisation, whether the outputs are already probabilities.
import { existsSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type { Preprocessing } from '../../emit/metadata.js';
import { UserError } from '../../util/errors.js';

export interface Classifier {
  kind: 'run' | 'tfjs' | 'onnx';
  /** what the user named */
  path: string;
  /** the model file or directory actually loaded, in words */
  describe: string;
  network?: string;
  /** per example, channels first: [C, H, W] or [F] */
  input: number[];
  classes?: string[];
  normalization?: Preprocessing;
  /** a final softmax makes the outputs probabilities; otherwise they are logits */
  outputs: 'probabilities' | 'logits';
  /** things the user should know (a missing normalisation, a checkpoint used instead of the final model) */
  notes: string[];
  /** normalised examples, channels first, `count` of them → count × classes outputs */
  run(x: Float32Array, count: number): Promise<Float32Array>;
  dispose(): Promise<void>;
}

export type LoadTf = () => Promise<import('../../emit/tfjs/index.js').Tf>;

export interface OpenOptions {
  /** loads tfjs (only tfjs models need it) */
  loadTf: LoadTf;
}

/** A model the user named that cannot be opened (exit 1). */
export class ModelError extends UserError {
  override readonly name = 'ModelError';
}

/** Open RUN_DIR, a tfjs model directory (or its model.json), or an ONNX file. */
export async function openClassifier(p: string, opts: OpenOptions): Promise<Classifier> {
  let st;
  try {
    st = statSync(p);
  } catch {
    throw new ModelError(`${p}: no such file or directory (expected a run directory, a tfjs model directory or an ONNX file)`);
  }
  if (st.isDirectory()) {
    if (existsSync(path.join(p, 'config.json'))) {
      const { openRun } = await import('./tfjs-model.js');
      return openRun(p, opts.loadTf);
    }
    if (existsSync(path.join(p, 'model.json'))) {
      const { openTfjsDir } = await import('./tfjs-model.js');
      return openTfjsDir(p, opts.loadTf);
    }
    throw new ModelError(`${p}: neither a run directory (no config.json) nor a tfjs model directory (no model.json)`);
  }
  if (path.basename(p) === 'model.json') {
    const { openTfjsDir } = await import('./tfjs-model.js');
    return openTfjsDir(path.dirname(p), opts.loadTf);
  }
  const { openOnnx } = await import('./onnx-model.js');
  return openOnnx(p);
}

/** Does a recorded normalisation fit the model's input channels? */
export function checkNormalization(norm: Preprocessing | undefined, input: readonly number[], where: string): void {
  if (!norm) return;
  const channels = input.length === 3 ? input[0]! : 1;
  const ok = (v: unknown): v is number[] => Array.isArray(v) && (v.length === 1 || v.length === channels) && v.every((x) => typeof x === 'number' && Number.isFinite(x));
  if (!ok(norm.mean) || !ok(norm.std) || norm.std.some((s) => !(s > 0)) || !(typeof norm.scale === 'number' && norm.scale > 0)) {
    throw new ModelError(`${where}: the recorded normalisation ${JSON.stringify(norm)} does not fit ${channels}-channel input (mean and std need ${channels} values, std and scale positive)`);
  }
}

/** Do the recorded class names fit the model's outputs? */
export function checkClasses(classes: unknown, count: number | undefined, where: string): string[] | undefined {
  if (classes === undefined) return undefined;
  if (!Array.isArray(classes) || !classes.every((c) => typeof c === 'string')) throw new ModelError(`${where}: the recorded class names are not a list of strings`);
  if (count !== undefined && classes.length !== count) {
    throw new ModelError(`${where}: ${classes.length} class names are recorded, but the model has ${count} outputs`);
  }
  return classes as string[];
}
