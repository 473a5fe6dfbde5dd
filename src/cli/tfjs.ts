// Wiring of the TensorFlow.js back end into the CLI (filled in when src/emit/tfjs lands).
import type { Network } from '../check/ir.js';
import type { WeightSource } from '../emit/onnx/index.js';
import { UsageError } from './io.js';

export async function compileToTfjsDir(_net: Network, _out: string, _opts: { seed: number; weights?: string; backend: string }): Promise<number> {
  throw new UsageError('--target tfjs is not available in this build yet', 2);
}

export async function tfjsWeightSource(_dir: string, _net: Network): Promise<WeightSource> {
  throw new UsageError('--weights is not available in this build yet', 2);
}
