// Where trained weights come from. `--weights` (compile) names a file or a
// directory; each format has one reader here that checks every weight's name
// and shape against the network before a value is handed out, so a model
// that does not fit is refused — naming the first layer at fault and both
// shapes — before anything is written.
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type { Network } from '../check/ir.js';
import type { WeightSource } from '../emit/onnx/index.js';
import { UserError } from '../util/errors.js';
import type { NamedTensors } from './match.js';

export type { WeightSource } from '../emit/onnx/index.js';

/** A weights file or directory that cannot be read or does not fit the network (exit 1). */
export class WeightsError extends UserError {
  constructor(message: string) {
    super(message, 1);
    this.name = 'WeightsError';
  }
}

/** One weights format: does it recognise `p`, and how to read it for a network. */
export interface WeightsFormat {
  name: string;
  /** what the user passes, for messages */
  describe: string;
  recognise(p: string): boolean;
  /** every weight of `network`, refusing any mismatch (compile --weights, train --init-strict) */
  open(p: string, network: Network): Promise<WeightSource>;
  /**
   * what `p` holds, under alexnetc's weight names and canonical shapes, for
   * matching by name and shape (matchWeights) against a network that may
   * differ (train --init): messages name `p`, not a flag
   */
  tensors(p: string, network: Network): Promise<NamedTensors>;
}

/** `--weights` takes a tfjs model directory, or a training run directory holding one in `model/`. */
export function tfjsModelDir(dir: string): string | undefined {
  if (existsSync(path.join(dir, 'model.json'))) return dir;
  if (existsSync(path.join(dir, 'model', 'model.json'))) return path.join(dir, 'model');
  return undefined;
}

const tfjsDir: WeightsFormat = {
  name: 'tfjs',
  describe: 'a tfjs model directory (model.json + weights.bin) or an `alexnetc train` run directory',
  recognise: (p) => isDir(p),
  async open(p, network) {
    const dir = tfjsModelDir(p);
    if (!dir) throw new WeightsError(`--weights ${p}: no model.json there (nor in ${path.join(p, 'model')}); expected ${this.describe}`);
    const { readTfjsWeights, WeightsMismatchError } = await import('./tfjs.js');
    try {
      return readTfjsWeights(dir, network);
    } catch (e) {
      if (e instanceof WeightsMismatchError) throw new WeightsError(`--weights ${p}: ${e.message}`);
      throw e;
    }
  },
  async tensors(p, network) {
    const dir = tfjsModelDir(p);
    if (!dir) throw new WeightsError(`${p}: no model.json there (nor in ${path.join(p, 'model')}); expected ${this.describe}`);
    const { tfjsTensors } = await import('./tfjs.js');
    return tfjsTensors(dir, network);
  },
};

const onnxFile: WeightsFormat = {
  name: 'onnx',
  describe: "an ONNX file whose initializers are named like the network's weights (stage2/conv1.weight), as `alexnetc compile` and `alexnetc import` write them",
  recognise: (p) => isFile(p) && /\.onnx$/i.test(p),
  async open(p, network) {
    const { readOnnxWeights } = await import('./onnx.js');
    try {
      return readOnnxWeights(p, network);
    } catch (e) {
      if (e instanceof WeightsError) throw new WeightsError(`--weights ${p}: ${e.message}`);
      if (e instanceof UserError) throw new WeightsError(`--weights ${e.message}`);
      throw e;
    }
  },
  async tensors(p) {
    const { openOnnxTensors } = await import('./onnx.js');
    try {
      return openOnnxTensors(p);
    } catch (e) {
      if (e instanceof UserError && !(e instanceof WeightsError)) throw new WeightsError(e.message);
      throw e;
    }
  },
};

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** A safetensors file, or a directory holding `model.safetensors` and no tfjs model (a PyTorch run). */
function safetensorsPath(p: string): string | undefined {
  if (isDir(p)) {
    const f = path.join(p, 'model.safetensors');
    return existsSync(f) && !tfjsModelDir(p) ? f : undefined;
  }
  return p.endsWith('.safetensors') || looksLikeSafetensors(p) ? p : undefined;
}

/** 8 bytes of header length, then the header's `{` */
function looksLikeSafetensors(p: string): boolean {
  try {
    const fd = openSync(p, 'r');
    try {
      const b = Buffer.alloc(9);
      return readSync(fd, b, 0, 9, 0) === 9 && b[8] === 0x7b && b.readBigUInt64LE(0) < 100_000_000n;
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}

const safetensors: WeightsFormat = {
  name: 'safetensors',
  describe: 'a safetensors file (tensors named like the weights: stage2/conv1.weight or stage2.conv1.weight)',
  recognise: (p) => safetensorsPath(p) !== undefined,
  async open(p, network) {
    const { safetensorsWeights, SafetensorsError } = await import('./safetensors.js');
    try {
      return safetensorsWeights(safetensorsPath(p)!, network);
    } catch (e) {
      if (e instanceof SafetensorsError) throw new WeightsError(`--weights ${p}: ${e.message}`);
      throw e;
    }
  },
  async tensors(p, network) {
    const { safetensorsTensors, SafetensorsError } = await import('./safetensors.js');
    try {
      return safetensorsTensors(safetensorsPath(p)!, network);
    } catch (e) {
      if (e instanceof SafetensorsError) throw new WeightsError(e.message);
      throw e;
    }
  },
};

/** The formats, tried in order; the first that recognises the path reads it. */
export const WEIGHTS_FORMATS: WeightsFormat[] = [safetensors, tfjsDir, onnxFile];

/** Open `p` (any known format) as the weights of `network`; throws WeightsError when it cannot. */
export async function openWeights(p: string, network: Network): Promise<WeightSource> {
  if (!existsSync(p)) throw new WeightsError(`--weights ${p}: no such file or directory`);
  const format = WEIGHTS_FORMATS.find((f) => f.recognise(p));
  if (!format) throw new WeightsError(`--weights ${p}: not a weights format alexnetc reads (${WEIGHTS_FORMATS.map((f) => f.describe).join('; ')})`);
  return format.open(p, network);
}

/** What `p` (any known format) holds, as named tensors for matching against `network`; `flag` names the option in messages. */
export async function openTensors(p: string, network: Network, flag = '--weights'): Promise<NamedTensors> {
  if (!existsSync(p)) throw new WeightsError(`${flag} ${p}: no such file or directory`);
  const format = WEIGHTS_FORMATS.find((f) => f.recognise(p));
  if (!format) throw new WeightsError(`${flag} ${p}: not a weights format alexnetc reads (${WEIGHTS_FORMATS.map((f) => f.describe).join('; ')})`);
  try {
    return await format.tensors(p, network);
  } catch (e) {
    if (e instanceof WeightsError) throw new WeightsError(`${flag} ${e.message.startsWith(p) ? '' : `${p}: `}${e.message}`);
    throw e;
  }
}
