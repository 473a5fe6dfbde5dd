// `alexnetc train`: flags → settings → trainer. Every expected failure is one
// message and an exit code, never a stack trace: 0 done, 1 the input or the
// data are wrong (or training diverged), 2 bad usage, 130 interrupted.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { compileAndReport, parseSets, UsageError } from '../cli/io.js';
import { WeightsMismatchError } from '../emit/tfjs/weights.js';
import { CheckpointError, readState, type RunSource } from './checkpoint.js';
import { ConfigError, resolveSettings, type TrainFlags } from './config.js';
import { DataError } from './data/index.js';
import { train, TrainError, type BackendChoice } from './trainer.js';

export const TRAIN_HELP = `Usage:
  alexnetc train FILE --data DIR [--network N] [--set k=v]... [options]
  alexnetc train --resume RUN_DIR [--epochs N] [--backend B]

Trains a network of FILE on DIR: an IDX directory (MNIST / Fashion-MNIST:
train-images-idx3-ubyte[.gz] and friends) or an image folder (one sub-folder
per class, or train/ and test/ each holding them).

Settings (defaults < the network's train { } section < these flags):
  --epochs N            passes over the training data (default 10)
  --batch N             batch size (default 64)
  --optimizer O         sgd | momentum | adam (default adam)
  --lr X                learning rate (default 0.001 for adam, 0.01 otherwise)
  --momentum X          for --optimizer momentum (default 0.9)
  --weight-decay X      L2 on conv/dense kernels, added to the gradient (default 0)
  --val-split X         fraction held out for validation, 0 for none (default 0.1)
  --seed N              initialisation, data order, augmentation, dropout (default 0)
  --no-augment          no random crop or flip
  --mean M1,M2,… --std S1,S2,…
                        per-channel normalisation on the [0, 1] scale (default: computed
                        from the training split)
Run:
  --out RUN_DIR         where checkpoints, the model and reports go (default runs/NETWORK)
  --backend B           auto | gpu | node | cpu (default auto)
  --limit N             train on N images only (a seeded sample; quick runs)
  --test-limit N        evaluate on N test images only
  --resume RUN_DIR      continue an interrupted run exactly; --epochs may extend it
Exit codes: 0 done, 1 errors in the input or data, or the loss diverged, 2 bad usage, 130 interrupted.`;

const OPTIONS = {
  network: { type: 'string' },
  set: { type: 'string', multiple: true },
  data: { type: 'string' },
  epochs: { type: 'string' },
  batch: { type: 'string' },
  lr: { type: 'string' },
  optimizer: { type: 'string' },
  momentum: { type: 'string' },
  'weight-decay': { type: 'string' },
  'val-split': { type: 'string' },
  seed: { type: 'string' },
  'no-augment': { type: 'boolean' },
  mean: { type: 'string' },
  std: { type: 'string' },
  out: { type: 'string', short: 'o' },
  backend: { type: 'string' },
  limit: { type: 'string' },
  'test-limit': { type: 'string' },
  resume: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Settings a resumed run keeps: changing them would break the exact continuation. */
const FIXED_ON_RESUME = ['network', 'set', 'data', 'batch', 'lr', 'optimizer', 'momentum', 'weight-decay', 'val-split', 'seed', 'no-augment', 'mean', 'std', 'out', 'limit', 'test-limit'] as const;

function count(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`${flag} must be a whole number ≥ 1, got '${v}'`);
  return n;
}

function backendChoice(v: string | undefined): BackendChoice {
  const b = v ?? 'auto';
  if (b !== 'auto' && b !== 'gpu' && b !== 'node' && b !== 'cpu') throw new UsageError(`--backend must be auto, gpu, node or cpu, got '${b}'`);
  return b;
}

/** runs/NAME, or runs/NAME-2, -3 … when taken. */
function defaultRunDir(name: string): string {
  const base = path.join('runs', name);
  if (!fs.existsSync(base)) return base;
  for (let i = 2; ; i++) if (!fs.existsSync(`${base}-${i}`)) return `${base}-${i}`;
}

async function run(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`${(e as Error).message.split('\n')[0]}\n\n${TRAIN_HELP}`);
  }
  const { values: v, positionals } = parsed;
  if (v.help) {
    process.stdout.write(TRAIN_HELP + '\n');
    return 0;
  }
  const backend = backendChoice(v.backend);
  const flags: TrainFlags = {
    epochs: v.epochs,
    batch: v.batch,
    lr: v.lr,
    optimizer: v.optimizer,
    momentum: v.momentum,
    'weight-decay': v['weight-decay'],
    'val-split': v['val-split'],
    seed: v.seed,
    'no-augment': v['no-augment'],
    mean: v.mean,
    std: v.std,
  };

  if (v.resume !== undefined) {
    const runDir = v.resume;
    const fixed = FIXED_ON_RESUME.filter((k) => v[k] !== undefined);
    if (fixed.length) {
      throw new UsageError(`--resume continues ${runDir} with its own settings (see ${path.join(runDir, 'config.json')}); only --epochs and --backend may be given, not --${fixed[0]}`);
    }
    if (positionals.length > 1) throw new UsageError(`alexnetc train --resume takes at most one FILE, got ${positionals.length}`);
    const state = readState(runDir);
    const file = positionals[0] ?? state.source.file;
    const { result, ok } = compileAndReport(file, { network: state.source.network || undefined, set: state.source.set }, false);
    if (!ok || !result.network) return 1;
    const settings = { ...state.settings };
    if (v.epochs !== undefined) settings.epochs = resolveSettings({}, { epochs: v.epochs }).epochs;
    if (settings.epochs < state.epoch) {
      throw new UsageError(`${runDir} has already trained ${state.epoch} epochs; --epochs ${settings.epochs} would go back`);
    }
    const outcome = await train({ network: result.network, settings, source: { ...state.source, file }, runDir, backend, resume: state });
    return outcome.exitCode;
  }

  if (positionals.length !== 1) throw new UsageError(`alexnetc train expects one FILE, got ${positionals.length}\n\n${TRAIN_HELP}`);
  if (v.data === undefined) throw new UsageError(`alexnetc train needs --data DIR (an IDX directory or an image folder)\n\n${TRAIN_HELP}`);
  const file = positionals[0]!;
  const set = parseSets(v.set);
  const { result, ok } = compileAndReport(file, { network: v.network, set }, false);
  if (!ok || !result.network) return 1;
  const network = result.network;
  const settings = resolveSettings(network.train, flags);
  const source: RunSource = {
    file: path.resolve(file),
    network: v.network ?? network.name,
    set,
    data: path.resolve(v.data),
    ...(v.limit !== undefined ? { limit: count(v.limit, '--limit') } : {}),
    ...(v['test-limit'] !== undefined ? { testLimit: count(v['test-limit'], '--test-limit') } : {}),
  };
  const runDir = v.out ?? defaultRunDir(network.name);
  const outcome = await train({ network, settings, source, runDir, backend });
  return outcome.exitCode;
}

/** `alexnetc train …`; returns the exit code. */
export async function trainCommand(args: string[]): Promise<number> {
  try {
    return await run(args);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (e instanceof UsageError) {
      process.stderr.write(`alexnetc train: ${msg}\n`);
      return e.exitCode;
    }
    if (e instanceof ConfigError) {
      process.stderr.write(`alexnetc train: ${msg}\n`);
      return 2;
    }
    if (e instanceof TrainError || e instanceof DataError || e instanceof CheckpointError || e instanceof WeightsMismatchError) {
      process.stderr.write(`alexnetc train: ${msg}\n`);
      return 1;
    }
    process.stderr.write(`alexnetc train: internal error: ${msg} — please report this bug\n`);
    return 70;
  }
}
