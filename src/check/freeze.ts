// Freezing: the stages whose weights do not train, named in a network's
// `train { freeze [conv1, stage2/conv1] }` or by `alexnetc train --freeze`.
// An entry is a stage path as the summary prints it, or a prefix of one
// that ends at a `/` (a block call's scope `stage1`, a residual
// `basic1/residual1`, its `…/shortcut`, a concat's `concat1/branch2`): it
// freezes every weight of every layer at or under it — kernels, biases,
// batch-norm scale and shift, and batch-norm running statistics (those
// layers run in inference mode while training).
//
// Pure functions of the checked network and the list, shared by the checker
// (located errors in the file), the command line (`--freeze`, `summary`),
// the training loop and the language server.
import type { Expr } from '../syntax/ast.js';
import type { ArgValue } from '../layers/types.js';
import { layers, type LayerNode, type Network, type Node } from './ir.js';
import { suggest } from '../util/suggest.js';

/** The word that freezes nothing (`freeze none`, `--freeze none`): no stage path can be `none`. */
export const FREEZE_NONE = 'none';

const PATH = /^[A-Za-z_][A-Za-z0-9_]*(\/[A-Za-z_][A-Za-z0-9_]*)*$/;

/** `stage2/conv1`: words joined by `/`, as the summary prints stage paths */
export function isStagePath(s: string): boolean {
  return PATH.test(s);
}

/**
 * A stage path as written in the source. The expression grammar reads
 * `stage2/conv1` as a division of two words; a freeze list takes it as the
 * path it spells (spaces around the `/` do not matter). Anything else:
 * undefined.
 */
export function stagePathOf(e: Expr): string | undefined {
  if (e.kind === 'ref') return e.name;
  if (e.kind === 'binary' && e.op === '/') {
    const left = stagePathOf(e.left);
    const right = e.right.kind === 'ref' ? e.right.name : undefined;
    return left !== undefined && right !== undefined ? `${left}/${right}` : undefined;
  }
  return undefined;
}

/** A valid `freeze` value (a path, a list of paths, or `none`) as its list of entries. */
export function freezeEntries(v: ArgValue): string[] {
  if (v === FREEZE_NONE) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

/** A command-line list (`--freeze conv1,stage2/conv1`, or `none`): the entries, or the first item that is no stage path. */
export function freezeFlagList(text: string): { value: string[] } | { bad: string } {
  const items = text.split(',').map((x) => x.trim());
  if (items.length === 1 && items[0] === FREEZE_NONE) return { value: [] };
  const bad = items.find((x) => !isStagePath(x));
  return bad === undefined ? { value: items } : { bad };
}

/** A network's declared freeze list (`train { freeze … }`), as the checker accepted it; [] when none. */
export function declaredFreeze(network: Pick<Network, 'train'>): string[] {
  const s = network.train.freeze;
  return s?.positional[0] === undefined ? [] : freezeEntries(s.positional[0]);
}

/** Whether `path` is `entry` or lies under it. */
export function under(path: string, entry: string): boolean {
  return path === entry || (path.startsWith(entry) && path[entry.length] === '/');
}

/** Every path a freeze entry may name, in network order: each stage's path and every scope around stages. */
export function stagePaths(nodes: readonly Node[]): string[] {
  const out = new Set<string>();
  const add = (path: string): void => {
    const parts = path.split('/');
    for (let i = 1; i <= parts.length; i++) out.add(parts.slice(0, i).join('/'));
  };
  const walk = (ns: readonly Node[]): void => {
    for (const n of ns) {
      add(n.path);
      if (n.kind === 'residual') {
        walk(n.body);
        if (n.shortcut) walk(n.shortcut);
      } else if (n.kind === 'gate') walk(n.body);
      else if (n.kind === 'concat' || n.kind === 'add' || n.kind === 'split') for (const b of n.branches) walk(b);
    }
  };
  walk(nodes);
  return [...out];
}

/** The layers at or under `entry`. */
export function layersUnder(nodes: readonly Node[], entry: string): LayerNode[] {
  return [...layers(nodes)].filter((l) => under(l.path, entry));
}

export interface FreezeProblem {
  /** which entry */
  index: number;
  /** E102: names no stage; W505: names only stages without weights */
  code: 'E102' | 'W505';
  /** to follow the entry: "names no stage of LeNet5; did you mean `conv1`?" */
  message: string;
  suggestion?: string;
}

/** The top-level scopes that hold weights, for a message that has no closer suggestion. */
function weightedScopes(nodes: readonly Node[]): string[] {
  const out = new Set<string>();
  for (const l of layers(nodes)) if (l.weights.length) out.add(l.path.split('/')[0]!);
  return [...out];
}

/** Each entry checked against the network's stages: one that names none is an error (with the closest path), one whose stages hold no weights a warning. */
export function checkFreeze(entries: readonly string[], nodes: readonly Node[], network: string): FreezeProblem[] {
  const problems: FreezeProblem[] = [];
  let paths: string[] | undefined;
  entries.forEach((entry, index) => {
    const found = layersUnder(nodes, entry);
    if (found.length === 0) {
      paths ??= stagePaths(nodes);
      if (paths.includes(entry)) {
        problems.push({ index, code: 'W505', message: `\`${entry}\` has no weights: freezing it changes nothing` });
        return;
      }
      // `conv1` for `stage1/conv1`: paths start at the network's top
      const nested = paths.filter((p) => p.endsWith(`/${entry}`));
      const s = nested.length === 1 ? nested[0] : nested.length ? undefined : suggest(entry, paths);
      const scopes = weightedScopes(nodes);
      const list = (xs: string[]): string => (xs.length > 8 ? [...xs.slice(0, 8), '…'] : xs).map((x) => `\`${x}\``).join(', ');
      const hint = s
        ? `; did you mean \`${s}\`?${nested.length ? ' (paths start at the network\'s top)' : ''}`
        : nested.length
          ? `; paths start at the network's top: did you mean one of ${list(nested)}?`
          : scopes.length
            ? ` (stages with weights: ${list(scopes)})`
            : ' (it has no weights)';
      problems.push({ index, code: 'E102', message: `\`${entry}\` names no stage of ${network}${hint}`, suggestion: s });
    } else if (found.every((l) => l.weights.length === 0)) {
      problems.push({ index, code: 'W505', message: `\`${entry}\` has no weights: freezing it changes nothing` });
    }
  });
  return problems;
}

/**
 * The canonical keys (`conv1.weight`, `bn1.running_mean`, as weightKey makes
 * them) of every weight the entries freeze, in network order.
 */
export function frozenWeightKeys(nodes: readonly Node[], entries: readonly string[]): Set<string> {
  const out = new Set<string>();
  if (entries.length === 0) return out;
  for (const l of layers(nodes)) {
    if (!entries.some((e) => under(l.path, e))) continue;
    for (const w of l.weights) out.add(`${l.path}.${w.name}`);
  }
  return out;
}

/** Trainable parameters the entries freeze (running statistics are not trainable anyway). */
export function frozenParams(nodes: readonly Node[], entries: readonly string[]): number {
  let n = 0;
  if (entries.length === 0) return 0;
  for (const l of layers(nodes)) {
    if (!entries.some((e) => under(l.path, e))) continue;
    for (const w of l.weights) if (w.trainable) n += w.shape.reduce((a, b) => a * b, 1);
  }
  return n;
}
