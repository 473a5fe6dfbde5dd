// The search space of `alexnetc tune --grid '…'`: which settings vary, over
// which values, and the trials that cover them.
//
//   --grid 'lr=0.1,0.01; batch=32,64; optimizer=adam,momentum; width=16,32'
//
// A name is a `train { }` setting (lr, batch, optimizer, momentum,
// weight_decay, schedule, augment, …; `weight-decay` is accepted too) or a
// parameter of the network (what --set sets). Values are written as in a
// .net file, commas inside (…) or […] belong to the value:
// `schedule=step(every 2, gamma 0.5),constant`. With --random a value list is
// sampled uniformly, and three distributions are allowed besides:
// `uniform(a, b)`, `loguniform(a, b)` (log-uniform, for rates) and
// `int(a, b)` (whole numbers a…b).
import { suggest } from '../util/suggest.js';
import { TRAIN_KEYS } from '../check/train-keys.js';
import { deriveSeed, rng } from '../util/rng.js';

export type Distribution = { kind: 'uniform' | 'loguniform'; lo: number; hi: number } | { kind: 'int'; lo: number; hi: number };

export interface Dimension {
  name: string;
  /** a `train { }` setting, or a network parameter (--set) */
  target: 'train' | 'network';
  values?: string[];
  distribution?: Distribution;
}

/** A parse or validation failure of --grid, with the message the user sees. */
export class SpaceError extends Error {}

/** Split on `sep` at bracket depth 0. */
export function splitTop(text: string, sep: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '(' || c === '[') depth++;
    else if (c === ')' || c === ']') depth = Math.max(0, depth - 1);
    else if (c === sep && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out.map((s) => s.trim());
}

const DIST = /^(uniform|loguniform|int)\s*\(\s*([^,()]+?)\s*,\s*([^,()]+?)\s*\)$/;

function distribution(name: string, text: string): Distribution | undefined {
  const m = DIST.exec(text);
  if (!m) return undefined;
  const kind = m[1] as Distribution['kind'];
  const lo = Number(m[2]);
  const hi = Number(m[3]);
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || !(lo < hi)) throw new SpaceError(`--grid ${name}=${text}: needs two numbers a < b`);
  if (kind === 'loguniform' && !(lo > 0)) throw new SpaceError(`--grid ${name}=${text}: loguniform needs 0 < a < b`);
  if (kind === 'int' && (!Number.isInteger(lo) || !Number.isInteger(hi))) throw new SpaceError(`--grid ${name}=${text}: int needs whole numbers`);
  return { kind, lo, hi };
}

/**
 * Parse --grid against the network's parameters. Unknown names are refused
 * with the closest known one; a name given twice, an empty value or a
 * distribution outside --random too.
 */
export function parseSpace(spec: string, networkParams: readonly string[], random: boolean): Dimension[] {
  const dims: Dimension[] = [];
  const parts = splitTop(spec, ';').filter((p) => p !== '');
  if (!parts.length) throw new SpaceError(`--grid is empty; give settings and values like 'lr=0.1,0.01;batch=32,64'`);
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new SpaceError(`--grid: '${part}' is not name=value,value,…`);
    const raw = part.slice(0, eq).trim();
    const name = TRAIN_KEYS.includes(raw.replace(/-/g, '_')) && !networkParams.includes(raw) ? raw.replace(/-/g, '_') : raw;
    const target = networkParams.includes(name) ? 'network' : TRAIN_KEYS.includes(name) ? 'train' : undefined;
    if (!target) {
      const known = [...TRAIN_KEYS, ...networkParams];
      const s = suggest(name, known);
      throw new SpaceError(
        `--grid: \`${raw}\` is neither a train { } setting nor a parameter of the network${s ? `; did you mean \`${s}\`?` : ''} ` +
          `(settings: ${TRAIN_KEYS.join(', ')}; network parameters: ${networkParams.length ? networkParams.join(', ') : 'none'})`,
      );
    }
    if (dims.some((d) => d.name === name)) throw new SpaceError(`--grid: \`${name}\` is given twice`);
    const text = part.slice(eq + 1).trim();
    const dist = distribution(name, text);
    if (dist) {
      if (!random) throw new SpaceError(`--grid ${name}=${text}: a distribution needs --random (a grid needs the values listed)`);
      dims.push({ name, target, distribution: dist });
      continue;
    }
    const values = splitTop(text, ',');
    if (values.some((v) => v === '')) throw new SpaceError(`--grid ${name}=${text}: an empty value`);
    if (new Set(values).size !== values.length) throw new SpaceError(`--grid ${name}=${text}: a value is listed twice`);
    dims.push({ name, target, values });
  }
  return dims;
}

/** One trial's values, by name, as text. */
export type Assignment = Record<string, string>;

/** Every combination, the first dimension varying slowest (like itertools.product). */
export function gridTrials(dims: readonly Dimension[]): Assignment[] {
  let out: Assignment[] = [{}];
  for (const d of dims) out = out.flatMap((a) => d.values!.map((v) => ({ ...a, [d.name]: v })));
  return out;
}

/** Round a sampled number to 4 significant digits, so that the trial's settings read well. */
function tidy(x: number): string {
  return String(Number(x.toPrecision(4)));
}

/** N trials sampled with a seeded stream per (trial, dimension): trial k is the same whatever N is. */
export function randomTrials(dims: readonly Dimension[], count: number, seed: number): Assignment[] {
  return Array.from({ length: count }, (_, k) => {
    const a: Assignment = {};
    for (const d of dims) {
      const u = rng(deriveSeed(seed, 'tune', k, d.name))();
      if (d.values) a[d.name] = d.values[Math.min(d.values.length - 1, Math.floor(u * d.values.length))]!;
      else {
        const { kind, lo, hi } = d.distribution!;
        a[d.name] =
          kind === 'int' ? String(lo + Math.min(hi - lo, Math.floor(u * (hi - lo + 1)))) : kind === 'uniform' ? tidy(lo + u * (hi - lo)) : tidy(Math.exp(Math.log(lo) + u * (Math.log(hi) - Math.log(lo))));
      }
    }
    return a;
  });
}

export function describeAssignment(a: Assignment): string {
  return Object.entries(a)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}
