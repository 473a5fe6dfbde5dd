// `alexnetc train FILE --data DIR`: flags → settings → the trainer.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { compileAndReport, defineCommand, OPT, parseSets, UsageError, wholeNumber, outputOption } from '../frame.js';
import { checkFreeze, FREEZE_NONE, isStagePath } from '../../check/freeze.js';
import type { Network } from '../../check/ir.js';
import { checkRunDirOutput, sameFile } from '../outputs.js';
import { trainOptions } from '../../check/train-settings.js';
import type { TrainFlags } from '../../train/config.js';

/** Settings a resumed run keeps: changing them would break the exact continuation. */
const FIXED_ON_RESUME = [
  'network', 'set', 'data', 'batch', 'lr', 'optimizer', 'momentum', 'weightDecay', 'valSplit', 'seed', 'augment', 'mean', 'std', 'output', 'limit', 'testLimit', 'force', 'engine',
  'init', 'initStrict', 'initOnly', 'freeze', 'classes',
] as const;

/** The training settings' options, made from the table of settings (src/check/train-settings.ts). */
const SETTING_OPTIONS = trainOptions();

/**
 * The settings' flags as given, keyed by flag name (`weight-decay`,
 * `no-augment`) as resolveSettings takes them: `--x <v>` is commander's
 * `o.x` (camel-cased), `--no-x` is `o.x === false`.
 */
function settingFlags(o: Record<string, unknown>): TrainFlags {
  const out: Record<string, string | boolean | undefined> = {};
  for (const { flags } of SETTING_OPTIONS) {
    const name = /--([\w-]+)/.exec(flags)![1]!;
    const camel = (t: string): string => t.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
    if (name.startsWith('no-')) out[name] = o[camel(name.slice(3))] === false;
    else out[name] = o[camel(name)] as string | undefined;
  }
  return out as TrainFlags;
}

/** The torch engine's options: where it computes (so --resume may change them); flag key → EngineSetup.options key. */
const TORCH_FLAGS = ['python', 'device', 'nproc', 'nnodes', 'nodeRank', 'masterAddr', 'masterPort'] as const;

/** The torch engine's flags that were given, as its options (numbers checked here). */
function torchFlags(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of TORCH_FLAGS) {
    const v = o[k];
    if (v === undefined) continue;
    if (k === 'nproc' || k === 'nnodes') out[k] = wholeNumber(v, flag(k), 1);
    else if (k === 'nodeRank') out[k] = wholeNumber(v, flag(k), 0);
    else if (k === 'masterPort') {
      const port = wholeNumber(v, flag(k), 1);
      if (port > 65535) throw new UsageError(`--master-port must be a port number (1 to 65535), got '${String(v)}'`);
      out[k] = port;
    } else out[k] = v;
  }
  return out;
}

/** commander's camelCase option key → the flag as typed */
const flag = (k: string): string => (k === 'augment' ? '--no-augment' : `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);

/** `--init-only conv1,stage2`: stage paths by freeze's rules, checked against the network */
function stagePathsFlag(text: string, network: Network): string[] {
  const items = text.split(',').map((x) => x.trim());
  const bad = items.find((x) => !isStagePath(x) || x === FREEZE_NONE);
  if (bad !== undefined) throw new UsageError(`--init-only takes comma-separated stage paths (conv1,stage2/conv1), got '${bad}'`);
  const wrong = checkFreeze(items, network.body, network.name).find((p) => p.code === 'E102');
  if (wrong) throw new UsageError(`--init-only ${wrong.message}`);
  return items;
}

/** runs/NAME, or runs/NAME-2, -3 … when taken. */
function defaultRunDir(name: string): string {
  const base = path.join('runs', name);
  if (!fs.existsSync(base)) return base;
  for (let i = 2; ; i++) if (!fs.existsSync(`${base}-${i}`)) return `${base}-${i}`;
}

export default defineCommand({
  name: 'train',
  summary: 'train a network on IDX data or an image folder',
  args: '[file]',
  description:
    'Trains a network of FILE on DIR: an IDX directory (MNIST / Fashion-MNIST: train-images-idx3-ubyte[.gz] and friends) ' +
    "or an image folder (one sub-folder per class, or train/ and test/ each holding them). Settings: defaults < the network's " +
    '`train { }` section < these flags. Writes checkpoints, the model, metrics and plots into the run directory. ' +
    'Exit codes: 0 done, 1 errors in the input or data, or the loss diverged, 2 bad usage, 130 interrupted (a checkpoint is written).',
  options: [
    { flags: '--data <dir>', help: 'the training data (IDX directory or image folder)' },
    OPT.network,
    OPT.set,
    // the settings' options (--epochs, --lr, …, --freeze), their help and defaults: from the one table
    ...SETTING_OPTIONS,
    outputOption('the run directory (default runs/NETWORK)'),
    { flags: '--limit <n>', help: 'train on N images only (a seeded sample; quick runs)' },
    { flags: '--test-limit <n>', help: 'evaluate on N test images only' },
    { flags: '--classes <list>', help: 'train on some classes of the data only, relabelled 0, 1, … in this order: indices, ranges or names (0-4; 5,7,9; sandal,sneaker)' },
    { flags: '--init <weights>', help: 'fine-tune: start from the weights in an ONNX or safetensors file, a tfjs model directory or a run directory that match by name and shape; the rest keep their seeded initialisation' },
    { flags: '--init-strict', help: 'with --init: refuse any weight that does not match (as compile --weights does)' },
    { flags: '--init-only <paths>', help: 'with --init: load only the stages under these comma-separated paths (conv1,conv2: a new head starts from scratch)' },
    { flags: '--resume <dir>', help: 'continue an interrupted run exactly; --epochs may extend it' },
    { flags: '--engine <name>', help: 'what computes the steps: tfjs (in this process) or torch (PyTorch in Python; default tfjs)', choices: ['tfjs', 'torch'] },
    OPT.backend,
    { flags: '--threads <n>', help: 'cpu threads (tfjs kernels; torch: shared among its processes) (default: ALEXNETC_THREADS, else the number of cores)' },
    { flags: '--python <path>', help: 'torch: the Python interpreter with PyTorch (default /usr/bin/python3)' },
    { flags: '--device <name>', help: 'torch: cpu, cuda or auto (default auto: cuda when PyTorch sees a GPU)', choices: ['cpu', 'cuda', 'auto'] },
    { flags: '--nproc <n>', help: 'torch: processes on this machine, launched by torchrun (DDP: gloo on cpu, NCCL on cuda); --batch is split among all (default 1)' },
    { flags: '--nnodes <n>', help: 'torch: machines taking part, each running this command (default 1)' },
    { flags: '--node-rank <n>', help: "torch: this machine's rank, 0 to nnodes-1; 0 writes the model" },
    { flags: '--master-addr <host>', help: 'torch: the address of the --node-rank 0 machine (needed with --nnodes)' },
    { flags: '--master-port <n>', help: 'torch: its rendezvous port (default: a free port on one machine, 29500 on several)' },
    { flags: '--force', help: 'write the run into a non-empty directory' },
  ],
  examples: [
    ['alexnetc train specs/lenet5.net --set size=28 --data /usr/share/datasets/fashion-mnist', 'LeNet-5 on Fashion-MNIST'],
    ['alexnetc train specs/lenet5.net --set size=28 --data DIR --epochs 2 --limit 2000 -o runs/quick', 'a quick run'],
    ['alexnetc train --resume runs/LeNet5', 'continue after Ctrl-C'],
    ['alexnetc train --resume runs/LeNet5 --epochs 20', 'extend a finished run'],
    ['alexnetc train specs/lenet5.net --set size=28 --set classes=5 --data DIR --classes 0-4 -o runs/base', 'train on classes 0-4 only'],
    ['alexnetc train specs/lenet5.net --set size=28 --set classes=5 --data DIR --classes 5-9 --init runs/base --freeze conv1,conv2,conv3', 'fine-tune on classes 5-9 with the convolutions frozen'],
    ['alexnetc train specs/lenet5.net --set size=28 --data DIR --engine torch', 'train with PyTorch (/usr/bin/python3)'],
    ['alexnetc train specs/lenet5.net --set size=28 --data DIR --engine torch --nproc 2', 'two processes on this machine (torchrun, DDP)'],
  ],
  async run([file], o) {
    const { ConfigError, resolveSettings, train, readState, hasCheckpoint } = await import('../../train/index.js');
    const backend = o.backend as 'auto' | 'gpu' | 'node' | 'cpu';
    const flags = settingFlags(o);
    const settingsOf = (...a: Parameters<typeof resolveSettings>) => {
      try {
        return resolveSettings(...a);
      } catch (e) {
        if (e instanceof ConfigError) throw new UsageError(e.message);
        throw e;
      }
    };
    const threads = o.threads === undefined ? undefined : wholeNumber(o.threads, '--threads', 1);
    const engineOptions = torchFlags(o);
    const torchOnly = (engine: string | undefined, resumed?: string): void => {
      const given = TORCH_FLAGS.find((k) => o[k] !== undefined);
      if (given && engine !== 'torch') {
        throw new UsageError(`${flag(given)} is an option of the torch engine; ${resumed ? `${resumed} was trained by the ${engine} engine` : 'add --engine torch'}`);
      }
    };

    if (o.resume !== undefined) {
      const runDir = o.resume as string;
      const fixed = FIXED_ON_RESUME.filter((k) => (k === 'augment' ? o.augment === false : k === 'set' ? (o.set as string[] | undefined)?.length : o[k] !== undefined));
      if (fixed.length) {
        throw new UsageError(
          `--resume continues ${runDir} with its own settings (see ${path.join(runDir, 'config.json')}); ` +
            `only --epochs, --backend, --threads and the torch engine's ${TORCH_FLAGS.map(flag).join(', ')} may be given, not ${flag(fixed[0]!)}`,
        );
      }
      const state = readState(runDir);
      torchOnly(state.engine ?? 'tfjs', runDir);
      const source = file ?? state.source.file;
      const settings = { ...state.settings };
      if (o.epochs !== undefined) settings.epochs = settingsOf({}, { epochs: o.epochs as string }).epochs;
      if (settings.epochs < state.epoch) throw new UsageError(`${runDir} has already trained ${state.epoch} epochs; --epochs ${settings.epochs} would go back`);
      if (state.epoch >= settings.epochs && state.step === 0) {
        const last = state.history[state.history.length - 1];
        process.stderr.write(
          `${runDir} is complete: it trained all ${state.epoch} epochs${last?.valAccuracy !== undefined ? ` (validation accuracy ${(100 * last.valAccuracy).toFixed(2)}%)` : ''}; ` +
            `to train it further, give more epochs: alexnetc train --resume ${runDir} --epochs ${state.epoch + 10}\n`,
        );
        return 0;
      }
      const { result, ok } = compileAndReport(source, { network: state.source.network || undefined, set: state.source.set }, false);
      if (!ok || !result.network) return 1;
      const outcome = await train({ network: result.network, settings, source: { ...state.source, file: source }, runDir, backend, resume: state, engineOptions, threads });
      return outcome.exitCode;
    }

    if (file === undefined) throw new UsageError('alexnetc train needs a FILE (or --resume RUN_DIR)');
    if (o.data === undefined) throw new UsageError('alexnetc train needs --data DIR (an IDX directory or an image folder)');
    const engine = (o.engine as string | undefined) ?? 'tfjs';
    torchOnly(engine);
    const set = parseSets(o.set as string[]);
    const { result, ok } = compileAndReport(file, { network: o.network as string | undefined, set }, false);
    if (!ok || !result.network) return 1;
    const network = result.network;
    const settings = settingsOf(network.train, flags, network);
    if (o.init === undefined && (o.initStrict !== undefined || o.initOnly !== undefined)) throw new UsageError(`${o.initStrict !== undefined ? '--init-strict' : '--init-only'} goes with --init WEIGHTS`);
    if (o.classes !== undefined) {
      const { parseClassSelection, ClassSelectionError } = await import('../../train/data/classes.js');
      try {
        parseClassSelection(o.classes as string);
      } catch (e) {
        if (e instanceof ClassSelectionError) throw new UsageError(e.message);
        throw e;
      }
    }
    const source = {
      file: path.resolve(file),
      network: (o.network as string | undefined) ?? network.name,
      set,
      data: path.resolve(o.data as string),
      ...(o.limit !== undefined ? { limit: wholeNumber(o.limit, '--limit', 1) } : {}),
      ...(o.testLimit !== undefined ? { testLimit: wholeNumber(o.testLimit, '--test-limit', 1) } : {}),
      ...(o.classes !== undefined ? { classes: o.classes as string } : {}),
    };
    const runDir = (o.output as string | undefined) ?? defaultRunDir(network.name);
    if (hasCheckpoint(runDir)) throw new UsageError(`${runDir} already holds a training run; continue it with \`--resume ${runDir}\` or choose another -o`, 1);
    checkRunDirOutput(runDir, o.force === true);
    // fine-tuning: the weights that match, read before the data so that a wrong file fails fast
    let init: Awaited<ReturnType<typeof import('../../train/init.js').initFrom>> | undefined;
    if (o.init !== undefined) {
      const from = o.init as string;
      if (sameFile(from, runDir) || path.resolve(from).startsWith(path.resolve(runDir) + path.sep)) throw new UsageError(`--init ${from} is inside the run directory being written (${runDir}); choose another -o`);
      const only = o.initOnly !== undefined ? stagePathsFlag(o.initOnly as string, network) : undefined;
      const { initFrom } = await import('../../train/init.js');
      init = await initFrom(from, network, { strict: o.initStrict === true, only, seed: settings.seed });
    }
    const outcome = await train({ network, settings, source, runDir, backend, engine, engineOptions, threads, initialWeights: init?.weights, init: init?.record });
    return outcome.exitCode;
  },
});
