// The settings of a network's `train { … }` section, declared once, the way
// the layers declare their arguments (ArgSpec). Everything that knows about a
// setting reads this table:
// - the checker validates a section's names and values with located
//   diagnostics (so `train { lr -1 }` fails `alexnetc check` and shows in the
//   editor);
// - the language server's completion and hover come from it;
// - src/train/config.ts resolves the values, and the command-line flags
//   (`--lr 0.01`), through the same rules; its DEFAULTS are the table's;
// - `alexnetc train`'s options for the settings (`--lr <x>`, their help and
//   defaults) are made from it (trainOptions);
// - the settings table of docs/training.md is generated from it
//   (settingsTable; `npm run grammar` rewrites it, a test compares).
//
// A setting's `parse` takes the evaluated value as the checker records it —
// the head value and the arguments of `key head(args)` — and returns the
// typed value or a Problem saying which part is wrong. A new setting is one
// entry here (its parse, its default, its flags) plus its use in
// src/train/config.ts. `freeze` is the one whose
// value also depends on the network (its stage paths): the table checks its
// form, and src/check/freeze.ts checks the names against the stages.
import type { ArgValue } from '../layers/types.js';
import { parseExpression } from '../syntax/parse.js';
import { DiagnosticSink } from '../diagnostics/index.js';
import { FREEZE_NONE, freezeEntries, isStagePath } from './freeze.js';
import { suggest } from '../util/suggest.js';
import { Evaluator, fmtValue, Word } from './values.js';

/** A setting as written: `key head` or `key head(positional…, name value…)`, evaluated (words are strings). */
export interface SettingValue {
  positional: ArgValue[];
  named: Record<string, ArgValue>;
}

/** Which part of a setting is wrong: its first value, an item of that value's list, a further positional value, or a named argument. */
export type Where = { kind: 'head' } | { kind: 'item'; index: number } | { kind: 'positional'; index: number } | { kind: 'named'; name: string; nameOnly?: boolean };

export interface Problem {
  code: 'E201' | 'E202' | 'E102' | 'E103' | 'E108' | 'E109';
  /** what is wrong, to follow the setting's name: "must be a positive number, got -1" */
  message: string;
  at: Where;
  /** the word or name meant, for a "did you mean" fix */
  suggestion?: string;
}

export type Parsed<T> = { value: T } | { problem: Problem };

export interface TrainSettingSpec<T = unknown> {
  name: string;
  /** the `alexnetc train` flag that overrides it, if any */
  flag?: string;
  /** what Keras or PyTorch call it (`learning_rate`): written by habit, it gets "did you mean" */
  aliases: readonly string[];
  /** how it is written, for hovers and completion */
  form: string;
  doc: string;
  /** the words its value may be (for completion) */
  words?: readonly string[];
  /** the named arguments it takes (for completion) */
  args?: readonly string[];
  parse(v: SettingValue): Parsed<T>;
  /** the built-in default: the fields of TrainSettings this setting sets, as they are when nothing says otherwise */
  defaults: Partial<TrainSettings>;
  /** the default as --help and the reference say it */
  defaultText: string;
  /** `alexnetc train`'s options that set it: commander's flags (`--lr <x>`) and what they do (the first one's help gets the default) */
  options?: readonly { flags: string; help: string }[];
}

export type OptimizerName = 'sgd' | 'momentum' | 'adam';

export interface OptimizerValue {
  name: OptimizerName;
  momentum?: number;
  beta1?: number;
  beta2?: number;
  lr?: number;
}

export type Schedule = { kind: 'constant' } | { kind: 'step'; every: number; gamma: number };

/** Augmentation as resolved; `auto` is decided once the data is known. */
export interface Augmentation {
  /** random crop after zero-padding each side by this many pixels; 0: off */
  crop: number;
  flip: boolean;
}

export interface GivenNormalization {
  mean: number[];
  std: number[];
}

/** The settings of a run, resolved (src/train/config.ts: defaults < `train { }` < flags). */
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
  /**
   * stage paths (or scopes) whose weights do not train (src/check/freeze.ts);
   * absent in runs from before freezing: none
   */
  freeze?: string[];
}

/** The learning rate when neither the file nor a flag gives one: the chosen optimizer's. */
export const DEFAULT_LR: Record<OptimizerName, number> = { sgd: 0.01, momentum: 0.01, adam: 0.001 };

// ---- value rules -------------------------------------------------------------

const HEAD: Where = { kind: 'head' };

const ok = <T>(value: T): Parsed<T> => ({ value });
const bad = (code: Problem['code'], message: string, at: Where = HEAD, suggestion?: string): { problem: Problem } => ({
  problem: suggestion ? { code, message, at, suggestion } : { code, message, at },
});

export function show(v: ArgValue | undefined): string {
  return v === undefined ? 'nothing' : fmtValue(v);
}

interface NumberRule {
  /** "a positive number", "in [0, 1)": what the message says it must be */
  what: string;
  int?: boolean;
  min?: number;
  above?: number;
  below?: number;
}

const POSITIVE: NumberRule = { what: 'a positive number', above: 0 };
const UNIT: NumberRule = { what: 'in [0, 1)', min: 0, below: 1 };
const NON_NEGATIVE: NumberRule = { what: 'a number ≥ 0', min: 0 };
const COUNT: NumberRule = { what: 'a whole number ≥ 1', int: true, min: 1 };
const WHOLE: NumberRule = { what: 'a whole number ≥ 0', int: true, min: 0 };

function number(v: ArgValue | undefined, rule: NumberRule, at: Where = HEAD): Parsed<number> {
  if (typeof v !== 'number' || !Number.isFinite(v)) return bad('E201', `must be ${rule.what}, got ${show(v)}`, at);
  if (rule.int && !Number.isSafeInteger(v)) return bad('E201', `must be ${rule.what}, got ${show(v)}`, at);
  const out = (rule.min !== undefined && v < rule.min) || (rule.above !== undefined && v <= rule.above) || (rule.below !== undefined && v >= rule.below);
  return out ? bad('E202', `must be ${rule.what}, got ${show(v)}`, at) : ok(v);
}

/** one of a few words; a misspelt one gets "did you mean" */
function word<W extends string>(v: ArgValue | undefined, words: readonly W[], what = words.join(', ').replace(/, ([^,]*)$/, ' or $1')): Parsed<W> {
  if (typeof v === 'string' && (words as readonly string[]).includes(v)) return ok(v as W);
  const s = typeof v === 'string' ? suggest(v, words) : undefined;
  return bad(typeof v === 'string' ? 'E102' : 'E201', `must be ${what}, got ${show(v)}${s ? `; did you mean \`${s}\`?` : ''}`, HEAD, s);
}

/** refuse positional values past `max` and named arguments not in `names` */
function extras(v: SettingValue, max: number, names: readonly string[], owner: string): { problem: Problem } | undefined {
  if (v.positional.length > max) {
    return bad('E108', `takes ${max === 1 ? 'one value' : `at most ${max} values`}, got ${v.positional.length}`, { kind: 'positional', index: max });
  }
  for (const k of Object.keys(v.named)) {
    if (names.includes(k)) continue;
    const s = suggest(k, names);
    const list = names.length ? ` (${owner} takes ${names.join(', ')})` : ` (${owner} takes no arguments)`;
    return bad('E103', `has no argument \`${k}\`${s ? `; did you mean \`${s}\`?` : list}`, { kind: 'named', name: k, nameOnly: true }, s);
  }
  return undefined;
}

/** a setting that is one number */
function plain(rule: NumberRule): (v: SettingValue) => Parsed<number> {
  return (v) => extras(v, 1, [], 'it') ?? number(v.positional[0], rule);
}

function numbers(v: ArgValue | undefined, rule: NumberRule, at: Where, plural: string): Parsed<number[]> {
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0) return bad('E201', `needs one value per channel, got nothing`, at);
  const out: number[] = [];
  for (const x of list) {
    const n = number(x as ArgValue, rule, at);
    if ('problem' in n) return bad(n.problem.code, `must be ${plural}, got ${show(x as ArgValue)}`, at);
    out.push(n.value);
  }
  return ok(out);
}

// ---- the settings ------------------------------------------------------------

const OPTIMIZERS = ['sgd', 'momentum', 'adam'] as const;
/** the named arguments each optimizer takes */
const OPTIMIZER_ARGS: Record<OptimizerName, readonly string[]> = { sgd: ['lr'], momentum: ['momentum', 'lr'], adam: ['beta1', 'beta2', 'lr'] };

export const LOSS_NAMES = ['cross_entropy', 'crossentropy', 'softmax_cross_entropy', 'categorical_crossentropy', 'ce'] as const;
const AUGMENTS = ['auto', 'none', 'off', 'flip', 'crop', 'crop_flip', 'flip_crop'] as const;

function spec<T>(s: Omit<TrainSettingSpec<T>, 'aliases'> & { aliases?: readonly string[] }): TrainSettingSpec<T> {
  return { aliases: [], ...s };
}

export const TRAIN = {
  optimizer: spec<OptimizerValue>({
    name: 'optimizer',
    defaults: { optimizer: 'adam', beta1: 0.9, beta2: 0.999 },
    defaultText: 'adam',
    options: [{ flags: '--optimizer <name>', help: 'sgd | momentum | adam' }],
    flag: 'optimizer',
    aliases: ['optim', 'solver'],
    form: 'optimizer sgd | momentum | adam, optionally with (momentum m) or (beta1 b1, beta2 b2), and (lr r)',
    doc: 'The update rule: plain SGD, SGD with momentum (PyTorch\'s form, as the AlexNet paper used it), or Adam.',
    words: OPTIMIZERS,
    args: ['momentum', 'beta1', 'beta2', 'lr'],
    parse(v) {
      const name = word(v.positional[0], OPTIMIZERS);
      if ('problem' in name) return name;
      const wrong = extras(v, 1, OPTIMIZER_ARGS[name.value], `optimizer ${name.value}`);
      if (wrong) return wrong;
      const out: OptimizerValue = { name: name.value };
      for (const [k, x] of Object.entries(v.named)) {
        const n = number(x, k === 'lr' ? POSITIVE : UNIT, { kind: 'named', name: k });
        if ('problem' in n) return bad(n.problem.code, `${k} ${n.problem.message}`, n.problem.at);
        (out as unknown as Record<string, number>)[k] = n.value;
      }
      return ok(out);
    },
  }),
  lr: spec<number>({
    name: 'lr',
    defaults: { lr: DEFAULT_LR.adam },
    defaultText: '0.001 for adam, 0.01 for sgd and momentum',
    options: [{ flags: '--lr <x>', help: 'learning rate' }],
    flag: 'lr',
    aliases: ['learning_rate', 'learningrate', 'lr0', 'base_lr', 'eta'],
    form: 'lr 0.01',
    doc: 'The learning rate (the first epoch\'s, when a schedule lowers it).',
    parse: plain(POSITIVE),
  }),
  momentum: spec<number>({
    name: 'momentum',
    defaults: { momentum: 0.9 },
    defaultText: '0.9',
    options: [{ flags: '--momentum <x>', help: 'for --optimizer momentum' }],
    flag: 'momentum',
    form: 'momentum 0.9',
    doc: 'The momentum of the `momentum` optimizer, in [0, 1).',
    parse: plain(UNIT),
  }),
  weight_decay: spec<number>({
    name: 'weight_decay',
    defaults: { weightDecay: 0 },
    defaultText: '0',
    options: [{ flags: '--weight-decay <x>', help: 'L2 on conv/dense kernels, added to the gradient' }],
    flag: 'weight-decay',
    aliases: ['weightdecay', 'decay', 'wd', 'l2'],
    form: 'weight_decay 5e-4',
    doc: 'Coupled L2 on conv and dense kernels (not biases), as PyTorch\'s SGD and Caffe apply it: grad += weight_decay · w.',
    parse: plain(NON_NEGATIVE),
  }),
  batch: spec<number>({
    name: 'batch',
    defaults: { batch: 64 },
    defaultText: '64',
    options: [{ flags: '--batch <n>', help: 'batch size' }],
    flag: 'batch',
    aliases: ['batch_size', 'batchsize', 'minibatch'],
    form: 'batch 64',
    doc: 'Examples per step.',
    parse: plain(COUNT),
  }),
  epochs: spec<number>({
    name: 'epochs',
    defaults: { epochs: 10 },
    defaultText: '10',
    options: [{ flags: '--epochs <n>', help: 'passes over the training data' }],
    flag: 'epochs',
    aliases: ['num_epochs', 'n_epochs', 'max_epochs', 'nb_epoch'],
    form: 'epochs 10',
    doc: 'Passes over the training data.',
    parse: plain(COUNT),
  }),
  loss: spec<'cross_entropy'>({
    name: 'loss',
    defaults: { loss: 'cross_entropy' },
    defaultText: 'cross_entropy',
    aliases: ['criterion', 'objective'],
    form: 'loss cross_entropy',
    doc: 'The loss: softmax cross-entropy (the only one so far).',
    words: ['cross_entropy'],
    parse(v) {
      const wrong = extras(v, 1, [], 'loss');
      if (wrong) return wrong;
      const h = v.positional[0];
      if (typeof h === 'string' && (LOSS_NAMES as readonly string[]).includes(h)) return ok('cross_entropy');
      return bad(typeof h === 'string' ? 'E102' : 'E201', `: only softmax cross-entropy is supported (\`loss cross_entropy\`), got ${show(h)}`);
    },
  }),
  schedule: spec<Schedule>({
    name: 'schedule',
    defaults: { schedule: { kind: 'constant' } },
    defaultText: 'constant',
    aliases: ['lr_schedule', 'scheduler', 'lr_scheduler'],
    form: 'schedule constant | step(every N, gamma G)',
    doc: 'How the learning rate changes: constant, or step: lr · G^⌊epoch / N⌋ (G defaults to 0.1).',
    words: ['constant', 'step'],
    args: ['every', 'gamma'],
    parse(v) {
      const kind = word(v.positional[0], ['constant', 'none', 'step'] as const, 'constant or step(every N, gamma G)');
      if ('problem' in kind) return kind;
      if (kind.value !== 'step') return extras(v, 1, [], `schedule ${kind.value}`) ?? ok({ kind: 'constant' });
      const wrong = extras(v, 3, ['every', 'gamma'], 'step');
      if (wrong) return wrong;
      const everyAt: Where = v.named.every !== undefined ? { kind: 'named', name: 'every' } : { kind: 'positional', index: 1 };
      const everyValue = v.named.every ?? v.positional[1];
      if (everyValue === undefined) return bad('E109', 'step needs `every N` (epochs between steps)');
      const every = number(everyValue, { ...COUNT, what: 'a whole number of epochs ≥ 1' }, everyAt);
      if ('problem' in every) return bad(every.problem.code, `step every ${every.problem.message}`, every.problem.at);
      const gammaAt: Where = v.named.gamma !== undefined ? { kind: 'named', name: 'gamma' } : { kind: 'positional', index: 2 };
      const gamma = number(v.named.gamma ?? v.positional[2] ?? 0.1, POSITIVE, gammaAt);
      if ('problem' in gamma) return bad(gamma.problem.code, `step gamma ${gamma.problem.message}`, gamma.problem.at);
      return ok({ kind: 'step', every: every.value, gamma: gamma.value });
    },
  }),
  val_split: spec<number>({
    name: 'val_split',
    defaults: { valSplit: 0.1 },
    defaultText: '0.1',
    options: [{ flags: '--val-split <x>', help: 'fraction held out for validation, 0 for none' }],
    flag: 'val-split',
    aliases: ['validation_split', 'valsplit', 'val', 'validation'],
    form: 'val_split 0.1',
    doc: 'Share of the training data held out (seeded) for validation, in [0, 1).',
    parse: plain(UNIT),
  }),
  seed: spec<number>({
    name: 'seed',
    defaults: { seed: 0 },
    defaultText: '0',
    options: [{ flags: '--seed <n>', help: 'initialisation, data order, augmentation, dropout' }],
    flag: 'seed',
    aliases: ['random_seed', 'manual_seed'],
    form: 'seed 0',
    doc: 'Seeds the weights, the split, the shuffling and the augmentation.',
    parse: plain(WHOLE),
  }),
  augment: spec<Augmentation | 'auto'>({
    name: 'augment',
    defaults: { augment: 'auto' },
    defaultText: 'auto',
    options: [{ flags: '--no-augment', help: 'no random crop or flip' }],
    aliases: ['augmentation', 'augmentations', 'transforms'],
    form: 'augment auto | none | flip | crop | crop_flip, optionally (pad P)',
    doc: 'Random crops (after zero-padding each side by P, default 2) and horizontal flips. `auto` pads about 1/14 of the image and flips unless the data are digits.',
    words: AUGMENTS,
    args: ['pad'],
    parse(v) {
      const wrong = extras(v, 1, ['pad'], 'augment');
      if (wrong) return wrong;
      let pad: number | undefined;
      if (v.named.pad !== undefined) {
        const p = number(v.named.pad, WHOLE, { kind: 'named', name: 'pad' });
        if ('problem' in p) return bad(p.problem.code, `pad ${p.problem.message}`, p.problem.at);
        pad = p.value;
      }
      const h = v.positional[0];
      if (h === true) return ok(pad === undefined ? 'auto' : { crop: pad, flip: true });
      if (h === false) return ok({ crop: 0, flip: false });
      const w = word(h, AUGMENTS, 'auto, none, flip, crop or crop_flip (with optional `(pad P)`)');
      if ('problem' in w) return w;
      switch (w.value) {
        case 'auto':
          return ok(pad === undefined ? 'auto' : { crop: pad, flip: true });
        case 'none':
        case 'off':
          return ok({ crop: 0, flip: false });
        case 'flip':
          return ok({ crop: 0, flip: true });
        case 'crop':
          return ok({ crop: pad ?? 2, flip: false });
        case 'crop_flip':
        case 'flip_crop':
          return ok({ crop: pad ?? 2, flip: true });
      }
    },
  }),
  normalize: spec<GivenNormalization | 'computed'>({
    name: 'normalize',
    defaults: { normalize: 'computed' },
    defaultText: 'computed from the training split',
    options: [{ flags: '--mean <m1,m2,…>', help: 'per-channel mean on the [0, 1] scale (with --std)' }, { flags: '--std <s1,s2,…>', help: 'per-channel standard deviation on the [0, 1] scale (with --mean)' }],
    aliases: ['normalise', 'normalization', 'normalisation', 'norm'],
    form: 'normalize computed | given(mean [..], std [..])',
    doc: 'Per-channel normalisation: `computed` from the training split, or `given` mean and std on the [0, 1] scale, like torchvision\'s Normalize.',
    words: ['computed', 'given'],
    args: ['mean', 'std'],
    parse(v) {
      const head = word(v.positional[0], ['computed', 'given'] as const, 'computed or given(mean [..], std [..])');
      if ('problem' in head) return head;
      if (head.value === 'computed') return extras(v, 1, [], 'normalize computed') ?? ok('computed');
      const wrong = extras(v, 1, ['mean', 'std'], 'given');
      if (wrong) return wrong;
      if (v.named.mean === undefined || v.named.std === undefined) return bad('E109', ': given(…) needs both mean and std');
      const mean = numbers(v.named.mean, { what: 'numbers' }, { kind: 'named', name: 'mean' }, 'numbers');
      if ('problem' in mean) return bad(mean.problem.code, `mean ${mean.problem.message}`, mean.problem.at);
      const std = numbers(v.named.std, POSITIVE, { kind: 'named', name: 'std' }, 'positive numbers');
      if ('problem' in std) return bad(std.problem.code, `std ${std.problem.message}`, std.problem.at);
      if (mean.value.length !== std.value.length && mean.value.length !== 1 && std.value.length !== 1) {
        return bad('E202', `given(…) needs as many std values as mean values (or one for all channels), got ${mean.value.length} and ${std.value.length}`, { kind: 'named', name: 'std' });
      }
      return ok({ mean: mean.value, std: std.value });
    },
  }),
  freeze: spec<string[]>({
    name: 'freeze',
    defaults: { freeze: [] },
    defaultText: 'none',
    options: [{ flags: '--freeze <paths>', help: "comma-separated stage paths or scopes whose weights do not train (conv1,stage2/conv1), or none; replaces the file's `train { freeze … }`" }],
    flag: 'freeze',
    aliases: ['frozen', 'freeze_layers', 'frozen_layers', 'fixed', 'fixed_layers'],
    form: 'freeze [conv1, conv2] | freeze stage1 | freeze [stage2/conv1, residual1/shortcut] | freeze none',
    doc:
      'Stages whose weights do not change while training (transfer learning): each entry is a stage path as `alexnetc summary` prints it, or the scope of a block call, residual or branch ' +
      '(`stage1` freezes every stage under `stage1/`). Frozen weights get no gradient and no optimizer update (nor weight decay), and their batch norms run in inference mode, ' +
      'so the running statistics stay as loaded. A name that matches no stage is an error.',
    words: [FREEZE_NONE],
    parse(v) {
      const wrong = extras(v, 1, [], 'freeze');
      if (wrong) return wrong;
      const h = v.positional[0];
      const items = Array.isArray(h) ? h : [h];
      const what = 'stage paths (`conv1`, `stage2/conv1`), a list of them, or none';
      if (h === FREEZE_NONE) return ok([]);
      for (let i = 0; i < items.length; i++) {
        const x = items[i];
        if (typeof x !== 'string' || !isStagePath(x)) return bad('E201', `must be ${what}, got ${show(x)}`, Array.isArray(h) ? { kind: 'item', index: i } : HEAD);
      }
      return ok(freezeEntries(h as ArgValue));
    },
  }),
} as const;

export type TrainSettingName = keyof typeof TRAIN;

/** every setting, in the order the reference lists them */
export const TRAIN_SETTINGS: readonly TrainSettingSpec[] = Object.values(TRAIN);

/** The built-in settings: every setting's default, from the table. */
export function defaultSettings(): TrainSettings {
  const out = Object.assign({}, ...TRAIN_SETTINGS.map((x) => structuredClone(x.defaults))) as TrainSettings;
  for (const k of ['optimizer', 'lr', 'momentum', 'beta1', 'beta2', 'weightDecay', 'batch', 'epochs', 'loss', 'schedule', 'valSplit', 'seed', 'augment', 'normalize'] as const) {
    if (out[k] === undefined) throw new Error(`internal: no default for the training setting ${k}`);
  }
  return out;
}

/** A setting's documentation with its default: hovers and the reference. */
export function settingDocWithDefault(x: TrainSettingSpec): string {
  return `${x.doc} Default: ${x.defaultText}.`;
}

/** `alexnetc train`'s options for the settings, in the table's order: the first option of each setting says its default. */
export function trainOptions(): { flags: string; help: string }[] {
  return TRAIN_SETTINGS.flatMap((x) => (x.options ?? []).map((o, i) => ({ flags: o.flags, help: i === 0 ? `${o.help} (default: ${x.defaultText})` : o.help })));
}

/**
 * The settings as the reference's table (docs/training.md, between its
 * `settings table` markers): setting, how it is written, the flag, the
 * default, what it does.
 */
export function settingsTable(): string {
  const cell = (t: string): string => t.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const rows = TRAIN_SETTINGS.map((x) => {
    const flags = (x.options ?? []).map((o) => `\`${o.flags.replace(/ <.*/, '')}\``).join(', ') || '—';
    return `| \`${x.name}\` | \`${cell(x.form)}\` | ${flags} | ${cell(x.defaultText)} | ${cell(x.doc)} |`;
  });
  return ['| setting | written | `alexnetc train` flag | default | what it does |', '|---|---|---|---|---|', ...rows].join('\n') + '\n';
}

export function findSetting(name: string): TrainSettingSpec | undefined {
  return (TRAIN as Record<string, TrainSettingSpec>)[name];
}

/** the setting an unknown key was probably meant as: another library's name for it, or a near spelling */
export function suggestSetting(key: string): string | undefined {
  const lower = key.toLowerCase();
  return TRAIN_SETTINGS.find((s) => s.aliases.includes(lower))?.name ?? suggest(key, TRAIN_SETTINGS.map((s) => s.name));
}

/** "train { lr … } must be a positive number, got -1": a problem as one line */
export function describeProblem(where: string, p: Problem): string {
  return p.message.startsWith(':') ? `${where}${p.message}` : `${where} ${p.message}`;
}

/**
 * A command-line flag's text read as that setting's value (`--lr 1e-3`,
 * `--optimizer adam`), by the language's own expression rules.
 */
export function flagValue(text: string): { value: ArgValue } | { error: string } {
  const parsed = parseExpression(text);
  if ('error' in parsed) return { error: parsed.error };
  const sink = new DiagnosticSink();
  const v = new Evaluator(sink).eval(parsed.expr, { values: new Map() });
  if (sink.items.length || v === undefined) return { error: sink.items[0]?.message ?? 'not a value' };
  return { value: v instanceof Word ? v.name : v };
}
