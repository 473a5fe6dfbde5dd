// The boundary between the training loop and the engines. The loop
// (loop.ts) owns everything a run is made of whatever computes it: the data
// pipeline, the schedule, progress, signals, NaN stops, checkpoints (state and
// timing), and the reports. An engine holds a model and its optimizer and runs
// steps: tfjs in this process (engines/tfjs/), PyTorch in a Python process
// (engines/torch/). Like tfjs's backend interface, several engines implement
// this one contract, and the loop cannot tell them apart. Besides steps, an
// engine honours three setup hooks: initialWeights (fine-tuning from given
// weights), masks (pruned weights kept at zero after every step) and frozen
// (weights that must not change by one bit).
import type { Network } from '../check/ir.js';
import type { WeightSource } from '../emit/onnx/index.js';
import type { RunSource } from './checkpoint.js';
import type { Augmentation, TrainSettings } from './config.js';
import type { Normalization } from './data/index.js';
import { UserError } from '../util/errors.js';

/** A batch as the loop hands it over: normalised, augmented, in the engine's layout. */
export interface EngineBatch {
  x: Float32Array;
  labels: Int32Array;
  count: number;
  /** [N, C, H, W], [N, H, W, C], or [N, F] for vector networks */
  shape: number[];
}

export interface EngineSetup {
  network: Network;
  settings: TrainSettings & { augment: Augmentation };
  classes: string[];
  normalization: Normalization;
  source: RunSource;
  /** a checkpoint directory (written by this engine's saveCheckpoint) to continue from */
  resumeFrom?: string;
  /**
   * cpu threads to compute on (`--threads`): the tfjs engine's fast kernels,
   * or the torch engine's processes together. Default: ALEXNETC_THREADS,
   * else the number of cores (src/util/threads.ts). Results do not depend on it.
   */
  threads?: number;
  /**
   * Fine-tuning: start from these weights (canonical layout, looked up by
   * layer path and weight name) with a fresh optimizer, instead of the seeded
   * initialisation. Ignored when resuming: the checkpoint holds the weights.
   */
  initialWeights?: WeightSource;
  /**
   * Fixed sparsity masks (pruning): canonical weight key (`path.weight`, as
   * weightKey makes it) → one byte per element in canonical layout, 1 keep,
   * 0 zero. Every engine multiplies each masked weight by its mask before the
   * first step and after every optimizer step, so a masked weight stays
   * exactly zero whatever momentum, Adam's moments or weight decay would do;
   * the checkpoints and the saved model hold the masked values. A key that
   * names no weight, or a mask of the wrong length, is an error.
   */
  masks?: ReadonlyMap<string, Uint8Array>;
  /**
   * Frozen weights (`train { freeze … }`, `--freeze`): canonical weight keys
   * (`conv1.weight`, `bn1.running_mean`, as weightKey makes them), every
   * weight of each frozen layer. Every engine keeps each of them bit for bit
   * as it started: no gradient, no optimizer update, no weight decay; and a
   * layer whose running statistics are frozen (batch norm) runs in
   * inference mode during training steps too — it normalises with the
   * stored statistics and does not update them. Other layers (dropout
   * included) train as usual. The optimizer state holds no slots for frozen
   * weights. A key that names no weight of the network is an error; so is a
   * set that leaves nothing to train.
   */
  frozen?: ReadonlySet<string>;
  /** the tfjs backend choice (auto | gpu | node | cpu); other engines may ignore it */
  backend: string;
  /**
   * the engine's own options (the torch engine: python, device, nproc, nnodes,
   * nodeRank, masterAddr, masterPort): where the run computes, not what, so a
   * checkpoint keeps them and --resume may change them
   */
  options?: Record<string, unknown>;
  /** write a line to the run's log */
  say(line: string): void;
}

export interface TrainEngine {
  /** one line for the log: which engine and device run */
  readonly description: string;
  /** how the loop lays out image batches (vector networks always get [N, F]) */
  readonly layout: 'NCHW' | 'NHWC';
  /** how the loss is computed, for the log */
  readonly lossDescription: string;
  /**
   * One optimisation step at learning rate `lr`: returns the batch's mean loss
   * before the update (NaN or ±Infinity are returned, not thrown: the loop
   * stops the run) and the number of correct predictions. `at` seeds the
   * step's own randomness (dropout), so a resumed run replays it exactly.
   */
  step(batch: EngineBatch, lr: number, at: { epoch: number; step: number }): Promise<{ loss: number; hits: number }>;
  /** mean loss and the predicted class of every example, in inference mode */
  evaluate(batch: EngineBatch): Promise<{ loss: number; predicted: Int32Array }>;
  /**
   * Optional, for an engine whose run spans several machines, each with its
   * own loop: asked before every step and at every epoch's end whether to
   * stop, with this machine's wish (a Ctrl-C); answers whether any machine
   * wishes to, so that all of them checkpoint at the same step.
   */
  agreeToStop?(wish: boolean): Promise<boolean>;
  /** write the model and the optimizer state into the (new, empty) directory `dir` */
  saveCheckpoint(dir: string): Promise<void>;
  /** write the trained model into the run directory; returns what it wrote, for the log */
  saveModel(runDir: string): Promise<string>;
  dispose(): Promise<void>;
}

export interface EngineModule {
  /** fail fast, before the data are loaded, when the engine cannot run here (a missing backend or Python) */
  preflight?(setup: Pick<EngineSetup, 'backend' | 'options'> & Partial<Pick<EngineSetup, 'network' | 'source' | 'threads'>>): Promise<void>;
  create(setup: EngineSetup): Promise<TrainEngine>;
}

/**
 * An engine that cannot go on (a worker process died or failed): the loop
 * adds where the last good checkpoint is and how to resume. Exit code 1.
 */
export class EngineFailure extends UserError {
  override readonly name = 'EngineFailure';
}

/** Engines by name; each is loaded only when a run asks for it. */
export const ENGINES: Record<string, () => Promise<EngineModule>> = {
  tfjs: async () => (await import('./engines/tfjs/engine.js')).tfjsEngine,
  torch: async () => (await import('./engines/torch/engine.js')).torchEngine,
};
