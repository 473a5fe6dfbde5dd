// Training settings, resolved in three layers: built-in defaults, then the
// network's `train { … }` section, then command-line flags. Every value is
// checked here, once, so the trainer only sees valid numbers; a bad value is
// a ConfigError naming where it came from (`train { lr … }` or `--lr`).
import type { TrainConfig } from '../check/ir.js';
import type { ArgValue } from '../layers/types.js';
import { UserError } from '../util/errors.js';

export type OptimizerName = 'sgd' | 'momentum' | 'adam';

export type Schedule = { kind: 'constant' } | { kind: 'step'; every: number; gamma: number };

/** Augmentation as resolved; `auto` is decided once the data is known (see resolveAugment). */
export interface Augmentation {
  /** random crop after zero-padding each side by this many pixels; 0: off */
  crop: number;
  flip: boolean;
}

export interface TrainSettings {
  optimizer: OptimizerName;
  lr: number;
  /** momentum optimizer only */
  momentum: number;
  /** Adam only */
  beta1: number;
  beta2: number;
  /** coupled L2 on kernels (conv/dense weights, not biases): grad += weight_decay · w */
  weightDecay: number;
  batch: number;
  epochs: number;
  /** only softmax cross-entropy exists today */
  loss: 'cross_entropy';
  schedule: Schedule;
  /** fraction of the training data held out for validation; 0: none */
  valSplit: number;
  seed: number;
  augment: Augmentation | 'auto';
  /**
   * per-channel mean/std on the [0, 1] scale (like torchvision's Normalize
   * after ToTensor); `computed`: measured on the training split
   */
  normalize: GivenNormalization | 'computed';
}

export interface GivenNormalization {
  mean: number[];
  std: number[];
}

/** A setting the user got wrong (in the .net file or on the command line). */
export class ConfigError extends UserError {
  override readonly name = 'ConfigError';
  constructor(message: string) {
    super(message, 2);
  }
}

export const DEFAULTS: TrainSettings = {
  optimizer: 'adam',
  lr: 0.001,
  momentum: 0.9,
  beta1: 0.9,
  beta2: 0.999,
  weightDecay: 0,
  batch: 64,
  epochs: 10,
  loss: 'cross_entropy',
  schedule: { kind: 'constant' },
  valSplit: 0.1,
  seed: 0,
  augment: 'auto',
  normalize: 'computed',
};

/** Default learning rate per optimizer when neither the file nor a flag gives one. */
const DEFAULT_LR: Record<OptimizerName, number> = { sgd: 0.01, momentum: 0.01, adam: 0.001 };

/** Command-line overrides, as strings straight from parseArgs. */
export interface TrainFlags {
  epochs?: string;
  batch?: string;
  lr?: string;
  optimizer?: string;
  momentum?: string;
  'weight-decay'?: string;
  'val-split'?: string;
  seed?: string;
  'no-augment'?: boolean;
  /** comma-separated, one value per channel (or one for all) */
  mean?: string;
  std?: string;
}

type Check = (v: number) => boolean;
const positiveInt: Check = (v) => Number.isSafeInteger(v) && v >= 1;
const nonNegInt: Check = (v) => Number.isSafeInteger(v) && v >= 0;
const positive: Check = (v) => Number.isFinite(v) && v > 0;
const nonNeg: Check = (v) => Number.isFinite(v) && v >= 0;
const unitOpen: Check = (v) => Number.isFinite(v) && v >= 0 && v < 1;

function number(v: ArgValue | string | undefined, where: string, ok: Check, what: string): number {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !ok(n)) throw new ConfigError(`${where} must be ${what}, got ${fmt(v)}`);
  return n;
}

function fmt(v: ArgValue | string | undefined): string {
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return `[${v.map(fmt).join(', ')}]`;
  return typeof v === 'string' ? `'${v}'` : String(v);
}

function optimizerName(v: ArgValue | string | undefined, where: string): OptimizerName {
  if (v === 'sgd' || v === 'momentum' || v === 'adam') return v;
  throw new ConfigError(`${where} must be sgd, momentum or adam, got ${fmt(v)}`);
}

const LOSS_NAMES = new Set(['cross_entropy', 'crossentropy', 'softmax_cross_entropy', 'categorical_crossentropy', 'ce']);

/**
 * `augment none`, `augment false`, `augment flip`, `augment crop`,
 * `augment crop_flip`, `augment auto`, each optionally with `(pad P)` for the
 * crop padding: `augment crop_flip(pad 4)`.
 */
function augmentSetting(s: { positional: ArgValue[]; named: Record<string, ArgValue> }): Augmentation | 'auto' {
  const where = 'train { augment … }';
  const head = s.positional[0];
  for (const k of Object.keys(s.named)) if (k !== 'pad') throw new ConfigError(`${where}: unknown argument \`${k}\` (only \`pad\`)`);
  const pad = s.named.pad === undefined ? undefined : number(s.named.pad, `${where} pad`, nonNegInt, 'a whole number ≥ 0');
  switch (head) {
    case 'auto':
    case true:
      return pad === undefined ? 'auto' : { crop: pad, flip: true };
    case 'none':
    case 'off':
    case false:
      return { crop: 0, flip: false };
    case 'flip':
      return { crop: 0, flip: true };
    case 'crop':
      return { crop: pad ?? 2, flip: false };
    case 'crop_flip':
    case 'flip_crop':
      return { crop: pad ?? 2, flip: true };
    default:
      throw new ConfigError(`${where} must be auto, none, flip, crop or crop_flip (with optional \`(pad P)\`), got ${fmt(head)}`);
  }
}

function numbers(v: ArgValue | string | undefined, where: string, ok: Check, what: string): number[] {
  const list = typeof v === 'string' ? v.split(',').map((x) => x.trim()) : Array.isArray(v) ? v : [v];
  if (list.length === 0) throw new ConfigError(`${where} needs one value per channel, got nothing`);
  return list.map((x) => number(x as ArgValue | string, where, ok, what));
}

/** `normalize computed` (the default) or `normalize given(mean [..], std [..])`. */
function normalizeSetting(s: { positional: ArgValue[]; named: Record<string, ArgValue> }): GivenNormalization | 'computed' {
  const where = 'train { normalize … }';
  const head = s.positional[0];
  if (head === 'computed') return 'computed';
  if (head !== 'given') throw new ConfigError(`${where} must be computed or given(mean [..], std [..]), got ${fmt(head)}`);
  for (const k of Object.keys(s.named)) if (k !== 'mean' && k !== 'std') throw new ConfigError(`${where}: unknown argument \`${k}\` (mean, std)`);
  if (s.named.mean === undefined || s.named.std === undefined) throw new ConfigError(`${where}: given(…) needs both mean and std`);
  return {
    mean: numbers(s.named.mean, `${where} mean`, (x) => Number.isFinite(x), 'numbers'),
    std: numbers(s.named.std, `${where} std`, positive, 'positive numbers'),
  };
}

function fromSection(train: TrainConfig): Partial<TrainSettings> {
  const out: Partial<TrainSettings> = {};
  const one = (key: string): ArgValue | undefined => train[key]?.positional[0];
  const where = (key: string): string => `train { ${key} … }`;
  const named = (key: string): Record<string, ArgValue> => train[key]?.named ?? {};
  if (train.optimizer) {
    out.optimizer = optimizerName(one('optimizer'), where('optimizer'));
    // `optimizer momentum(momentum 0.9)`, `optimizer adam(beta1 0.9, beta2 0.999)`
    for (const [k, v] of Object.entries(named('optimizer'))) {
      if (k === 'momentum') out.momentum = number(v, `${where('optimizer')} momentum`, unitOpen, 'in [0, 1)');
      else if (k === 'beta1') out.beta1 = number(v, `${where('optimizer')} beta1`, unitOpen, 'in [0, 1)');
      else if (k === 'beta2') out.beta2 = number(v, `${where('optimizer')} beta2`, unitOpen, 'in [0, 1)');
      else if (k === 'lr') out.lr = number(v, `${where('optimizer')} lr`, positive, 'a positive number');
      else throw new ConfigError(`${where('optimizer')}: unknown argument \`${k}\` (momentum, beta1, beta2, lr)`);
    }
  }
  if (train.lr) out.lr = number(one('lr'), where('lr'), positive, 'a positive number');
  if (train.momentum) out.momentum = number(one('momentum'), where('momentum'), unitOpen, 'in [0, 1)');
  if (train.weight_decay) out.weightDecay = number(one('weight_decay'), where('weight_decay'), nonNeg, 'a number ≥ 0');
  if (train.batch) out.batch = number(one('batch'), where('batch'), positiveInt, 'a whole number ≥ 1');
  if (train.epochs) out.epochs = number(one('epochs'), where('epochs'), positiveInt, 'a whole number ≥ 1');
  if (train.val_split) out.valSplit = number(one('val_split'), where('val_split'), unitOpen, 'in [0, 1)');
  if (train.seed) out.seed = number(one('seed'), where('seed'), nonNegInt, 'a whole number ≥ 0');
  if (train.loss) {
    const v = one('loss');
    if (typeof v !== 'string' || !LOSS_NAMES.has(v)) {
      throw new ConfigError(`${where('loss')}: only softmax cross-entropy is supported (\`loss cross_entropy\`), got ${fmt(v)}`);
    }
    out.loss = 'cross_entropy';
  }
  if (train.schedule) {
    const s = train.schedule;
    const kind = s.positional[0];
    if (kind === 'constant' || kind === 'none') out.schedule = { kind: 'constant' };
    else if (kind === 'step') {
      for (const k of Object.keys(s.named)) {
        if (k !== 'every' && k !== 'gamma') throw new ConfigError(`${where('schedule')}: unknown argument \`${k}\` of step (every, gamma)`);
      }
      out.schedule = {
        kind: 'step',
        every: number(s.named.every ?? s.positional[1], `${where('schedule')} step every`, positiveInt, 'a whole number of epochs ≥ 1'),
        gamma: number(s.named.gamma ?? s.positional[2] ?? 0.1, `${where('schedule')} step gamma`, positive, 'a positive number'),
      };
    } else throw new ConfigError(`${where('schedule')} must be constant or step(every N, gamma G), got ${fmt(kind)}`);
  }
  if (train.augment) out.augment = augmentSetting(train.augment);
  if (train.normalize) out.normalize = normalizeSetting(train.normalize);
  return out;
}

function fromFlags(f: TrainFlags): Partial<TrainSettings> {
  const out: Partial<TrainSettings> = {};
  if (f.optimizer !== undefined) out.optimizer = optimizerName(f.optimizer, '--optimizer');
  if (f.lr !== undefined) out.lr = number(f.lr, '--lr', positive, 'a positive number');
  if (f.momentum !== undefined) out.momentum = number(f.momentum, '--momentum', unitOpen, 'in [0, 1)');
  if (f['weight-decay'] !== undefined) out.weightDecay = number(f['weight-decay'], '--weight-decay', nonNeg, 'a number ≥ 0');
  if (f.batch !== undefined) out.batch = number(f.batch, '--batch', positiveInt, 'a whole number ≥ 1');
  if (f.epochs !== undefined) out.epochs = number(f.epochs, '--epochs', positiveInt, 'a whole number ≥ 1');
  if (f['val-split'] !== undefined) out.valSplit = number(f['val-split'], '--val-split', unitOpen, 'in [0, 1)');
  if (f.seed !== undefined) out.seed = number(f.seed, '--seed', nonNegInt, 'a whole number ≥ 0');
  if (f['no-augment'] === true) out.augment = { crop: 0, flip: false };
  if ((f.mean === undefined) !== (f.std === undefined)) throw new ConfigError('--mean and --std go together');
  if (f.mean !== undefined && f.std !== undefined) {
    out.normalize = {
      mean: numbers(f.mean, '--mean', (x) => Number.isFinite(x), 'comma-separated numbers'),
      std: numbers(f.std, '--std', positive, 'comma-separated positive numbers'),
    };
  }
  return out;
}

/** defaults < the network's `train { … }` section < flags. */
export function resolveSettings(train: TrainConfig, flags: TrainFlags): TrainSettings {
  const section = fromSection(train);
  const cli = fromFlags(flags);
  const merged: TrainSettings = { ...DEFAULTS, ...section, ...cli };
  // a learning rate that came with no optimizer choice belongs to that optimizer; otherwise the chosen one's default
  if (section.lr === undefined && cli.lr === undefined) merged.lr = DEFAULT_LR[merged.optimizer];
  return merged;
}

/** Learning rate for a 0-based epoch. */
export function learningRate(s: TrainSettings, epoch: number): number {
  return s.schedule.kind === 'step' ? s.lr * s.schedule.gamma ** Math.floor(epoch / s.schedule.every) : s.lr;
}

/**
 * `auto` augmentation: a random crop after padding by about 1/14 of the image
 * size (2 pixels at 28×28, 16 at 227×227), and a horizontal flip unless the
 * data are known to be mirror-sensitive (digits: a mirrored 2 is no 2).
 */
export function resolveAugment(a: Augmentation | 'auto', height: number, flipSafe: boolean): Augmentation {
  if (a !== 'auto') return a;
  return { crop: Math.max(1, Math.round(height / 14)), flip: flipSafe };
}

export function describeSettings(s: TrainSettings): string {
  const parts = [`optimizer ${s.optimizer}`, `lr ${s.lr}`];
  if (s.optimizer === 'momentum') parts.push(`momentum ${s.momentum}`);
  if (s.weightDecay > 0) parts.push(`weight decay ${s.weightDecay}`);
  parts.push(`batch ${s.batch}`, `epochs ${s.epochs}`);
  if (s.schedule.kind === 'step') parts.push(`lr ×${s.schedule.gamma} every ${s.schedule.every} epochs`);
  parts.push(s.valSplit > 0 ? `validation ${s.valSplit}` : 'no validation', `seed ${s.seed}`);
  return parts.join(', ');
}

export function describeAugment(a: Augmentation): string {
  const p: string[] = [];
  if (a.crop > 0) p.push(`random crop (pad ${a.crop})`);
  if (a.flip) p.push('horizontal flip');
  return p.length ? p.join(' + ') : 'none';
}
