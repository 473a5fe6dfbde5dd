// Training settings, resolved in three layers: built-in defaults (the table's), then the
// network's `train { … }` section, then command-line flags. Names and values
// follow the one table of settings (src/check/train-settings.ts): the checker
// has already validated a file's section against it with located diagnostics,
// and the flags are validated here by the same rules, so the trainer only sees
// valid numbers. A bad value is a ConfigError naming where it came from
// (`train { lr … }` or `--lr`).
import { checkFreeze, freezeFlagList } from '../check/freeze.js';
import type { Network, TrainConfig } from '../check/ir.js';
import {
  DEFAULT_LR,
  defaultSettings,
  describeProblem,
  flagValue,
  show,
  TRAIN,
  type Augmentation,
  type GivenNormalization,
  type OptimizerName,
  type Parsed,
  type Schedule,
  type SettingValue,
  type TrainSettingSpec,
  type TrainSettings,
} from '../check/train-settings.js';
import { UserError } from '../util/errors.js';

export type { Augmentation, GivenNormalization, OptimizerName, Schedule, TrainSettings } from '../check/train-settings.js';

/** A setting the user got wrong (in the .net file or on the command line). */
export class ConfigError extends UserError {
  override readonly name = 'ConfigError';
  constructor(message: string) {
    super(message, 2);
  }
}

/** The built-in defaults: the table's (src/check/train-settings.ts). */
export const DEFAULTS: TrainSettings = defaultSettings();

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
  /** comma-separated stage paths (`conv1,stage2/conv1`), or `none` */
  freeze?: string;
}

function value<T>(r: Parsed<T>, where: string): T {
  if ('problem' in r) throw new ConfigError(describeProblem(where, r.problem));
  return r.value;
}

/** a section's setting, through the table (the checker has normally refused a bad one already) */
function fromFile<T>(spec: TrainSettingSpec<T>, train: TrainConfig): T | undefined {
  const s = train[spec.name];
  return s ? value(spec.parse(s), `train { ${spec.name} … }`) : undefined;
}

function fromSection(train: TrainConfig): Partial<TrainSettings> {
  const out: Partial<TrainSettings> = {};
  const optimizer = fromFile(TRAIN.optimizer, train);
  if (optimizer) {
    // `optimizer momentum(momentum 0.9)`, `optimizer adam(beta1 0.9, beta2 0.999)`
    out.optimizer = optimizer.name;
    if (optimizer.momentum !== undefined) out.momentum = optimizer.momentum;
    if (optimizer.beta1 !== undefined) out.beta1 = optimizer.beta1;
    if (optimizer.beta2 !== undefined) out.beta2 = optimizer.beta2;
    if (optimizer.lr !== undefined) out.lr = optimizer.lr;
  }
  const set = <K extends keyof TrainSettings>(key: K, v: TrainSettings[K] | undefined): void => {
    if (v !== undefined) out[key] = v;
  };
  set('lr', fromFile(TRAIN.lr, train));
  set('momentum', fromFile(TRAIN.momentum, train));
  set('weightDecay', fromFile(TRAIN.weight_decay, train));
  set('batch', fromFile(TRAIN.batch, train));
  set('epochs', fromFile(TRAIN.epochs, train));
  set('valSplit', fromFile(TRAIN.val_split, train));
  set('seed', fromFile(TRAIN.seed, train));
  set('loss', fromFile(TRAIN.loss, train));
  set('schedule', fromFile(TRAIN.schedule, train));
  set('augment', fromFile(TRAIN.augment, train));
  set('normalize', fromFile(TRAIN.normalize, train));
  set('freeze', fromFile(TRAIN.freeze, train));
  return out;
}

/** a flag's text as the setting's value, by the table's rules: `--lr -1` fails as `train { lr -1 }` does */
function fromFlag<T>(spec: TrainSettingSpec<T>, text: string | undefined): T | undefined {
  if (text === undefined) return undefined;
  const flag = `--${spec.flag ?? spec.name}`;
  const v = flagValue(text);
  if ('error' in v) throw new ConfigError(`${flag}: '${text}' is not a value (${v.error})`);
  const r = spec.parse({ positional: [v.value], named: {} });
  if ('problem' in r) throw new ConfigError(describeProblem(flag, r.problem).replace(`got ${show(v.value)}`, `got '${text}'`));
  return r.value;
}

/** `--mean 0.5,0.5,0.5`: comma-separated numbers, read through `normalize given(…)`'s rules */
function channels(flag: 'mean' | 'std', text: string): number[] {
  const items = text.split(',').map((x) => x.trim());
  const values = items.map((x) => {
    const v = flagValue(x);
    return 'value' in v && typeof v.value === 'number' ? v.value : undefined;
  });
  const badAt = values.findIndex((x) => x === undefined);
  if (badAt >= 0) throw new ConfigError(`--${flag} must be comma-separated ${flag === 'std' ? 'positive ' : ''}numbers, got '${items[badAt]}'`);
  const named: SettingValue['named'] = flag === 'mean' ? { mean: values as number[], std: values.map(() => 1) } : { mean: values.map(() => 0), std: values as number[] };
  const r = TRAIN.normalize.parse({ positional: ['given'], named });
  if ('problem' in r) throw new ConfigError(`--${flag} must be comma-separated ${flag === 'std' ? 'positive ' : ''}numbers, got '${text}'`);
  return (r.value as GivenNormalization)[flag];
}

function fromFlags(f: TrainFlags): Partial<TrainSettings> {
  const out: Partial<TrainSettings> = {};
  const set = <K extends keyof TrainSettings>(key: K, v: TrainSettings[K] | undefined): void => {
    if (v !== undefined) out[key] = v;
  };
  set('optimizer', fromFlag(TRAIN.optimizer, f.optimizer)?.name);
  set('lr', fromFlag(TRAIN.lr, f.lr));
  set('momentum', fromFlag(TRAIN.momentum, f.momentum));
  set('weightDecay', fromFlag(TRAIN.weight_decay, f['weight-decay']));
  set('batch', fromFlag(TRAIN.batch, f.batch));
  set('epochs', fromFlag(TRAIN.epochs, f.epochs));
  set('valSplit', fromFlag(TRAIN.val_split, f['val-split']));
  set('seed', fromFlag(TRAIN.seed, f.seed));
  if (f['no-augment'] === true) out.augment = { crop: 0, flip: false };
  if (f.freeze !== undefined) out.freeze = freezeFlag(f.freeze);
  if ((f.mean === undefined) !== (f.std === undefined)) throw new ConfigError('--mean and --std go together');
  if (f.mean !== undefined && f.std !== undefined) {
    const mean = channels('mean', f.mean);
    const std = channels('std', f.std);
    if (mean.length !== std.length && mean.length !== 1 && std.length !== 1) throw new ConfigError(`--mean and --std need as many values (or one for all channels), got ${mean.length} and ${std.length}`);
    out.normalize = { mean, std };
  }
  return out;
}

/** `--freeze conv1,stage2/conv1` (or `none`): comma-separated paths, by `freeze [..]`'s rules */
function freezeFlag(text: string): string[] {
  const r = freezeFlagList(text);
  if ('bad' in r) throw new ConfigError(`--freeze takes comma-separated stage paths (conv1,stage2/conv1) or none, got '${r.bad}'`);
  return r.value;
}

/** The freeze entries checked against the network's stages: a name that matches none is an error with the closest path. */
export function checkFreezeList(network: Network, entries: readonly string[], where: string): void {
  const wrong = checkFreeze(entries, network.body, network.name).find((p) => p.code === 'E102');
  if (wrong) throw new ConfigError(`${where} ${wrong.message}`);
}

/**
 * defaults < the network's `train { … }` section < flags. With the network,
 * a `--freeze` list is checked against its stages (the checker has checked
 * the section's).
 */
export function resolveSettings(train: TrainConfig, flags: TrainFlags, network?: Network): TrainSettings {
  const section = fromSection(train);
  const cli = fromFlags(flags);
  if (network && cli.freeze) checkFreezeList(network, cli.freeze, '--freeze');
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
