// Blocks from repetition. Exporters name nodes by the module (or alexnetc
// block) that made them — PyTorch `/layer2/layer2.0/conv1/Conv`, alexnetc
// `basic3/residual1/conv1` — so consecutive stages whose node names share a
// scope are candidate instances of one sub-network. Candidates with the same
// structure (the same layers and constructs, argument values aside) become
// one `block`: an argument that differs between instances becomes a block
// parameter (one parameter for arguments that vary together, like the two
// convolutions' widths in ResNet's basic block), the rest stay literals.
// Inner scopes are settled first, so an Inception block calls a conv-bn-relu
// block, as in the shipped specs. A scope seen once, or one made only of
// calls (PyTorch's `layer2` Sequential), is written inline.
import { findLayer, LAYERS } from '../layers/registry.js';
import type { ArgValue } from '../layers/types.js';
import type { OnnxNode } from '../weights/onnx-read.js';
import type { ImportLayer } from './ops.js';
import type { BlockDecl, Stmt, Value } from './print.js';
import { type Item, nodesOf } from './structure.js';

type T =
  | { t: 'layer'; l: ImportLayer }
  | { t: 'residual'; body: T[]; shortcut: T[] | null }
  | { t: 'merge'; kind: 'concat' | 'add' | 'split'; branches: T[][] }
  | { t: 'gate'; body: T[] }
  | Group;

interface Group {
  t: 'group';
  /** the scope segment shared by the group's nodes (`layer2.0`, `inception3a`, `basic1`) */
  key: string;
  /** the full scope, for comments */
  scope: string[];
  body: T[];
  /** the group is all of its sequence (a whole branch, a whole residual body): it may join a block, not found one */
  whole: boolean;
  /** set once decided: the block it calls, and its arguments */
  call?: { block: BlockDecl; args: number[] };
}

export const KEYWORDS = new Set(['network', 'block', 'input', 'repeat', 'residual', 'shortcut', 'concat', 'add', 'split', 'gate', 'branch', 'train', 'true', 'false', 'same']);
export const LAYER_NAMES = new Set(LAYERS.map((l) => l.name));

/** The scope of a node: its name's path without the last segment (the op in PyTorch's names, the layer in alexnetc's). */
function scopeOf(n: OnnxNode): string[] {
  if (n.name.startsWith('#')) return [];
  const parts = n.name.split('/').filter((p) => p !== '');
  return parts.slice(0, -1);
}

function commonPrefix(lists: string[][]): string[] {
  if (lists.length === 0) return [];
  const out: string[] = [];
  for (let i = 0; ; i++) {
    const s = lists[0]![i];
    if (s === undefined || lists.some((l) => l[i] !== s)) return out;
    out.push(s);
  }
}

function itemScope(item: Item): string[] {
  // DenseNet's dense layer k is joined by layer k+1's Concat (Concat(x, f1, …, fk) read as Concat of
  // the one before and fk): a concat that passes its input on belongs to the scope of its branches
  if (item.kind === 'concat' && item.branches.some((b) => b.length === 0)) return commonPrefix(item.branches.flat().flatMap(nodesOf).map(scopeOf));
  return commonPrefix(nodesOf(item).map(scopeOf));
}

/** Consecutive items under one deeper scope become a group (recursively); constructs' bodies likewise. */
function segment(items: Item[], ctx: string[]): T[] {
  const out: T[] = [];
  let i = 0;
  while (i < items.length) {
    const scope = itemScope(items[i]!);
    const key = scope.length > ctx.length && ctx.every((s, k) => scope[k] === s) ? scope[ctx.length] : undefined;
    let j = i + 1;
    if (key !== undefined) {
      while (j < items.length) {
        const s = itemScope(items[j]!);
        if (!(s.length > ctx.length && ctx.every((x, k) => s[k] === x) && s[ctx.length] === key)) break;
        j++;
      }
    }
    const run = items.slice(i, j);
    if (key !== undefined && !(run.length === 1 && run[0]!.kind === 'layer')) {
      const inner = [...ctx, key];
      out.push({ t: 'group', key, scope: inner, body: segment(run, inner), whole: run.length === items.length });
    } else if (key === undefined && items[i]!.kind !== 'layer') {
      // no scope to go by (unnamed nodes, or a join in the parent module's scope): a construct and
      // the activations right after it are a candidate, as ResNet's `relu(x + f(x))`
      j = i + 1;
      while (j < items.length && followsConstruct(items[j]!)) j++;
      const unit = items.slice(i, j).map((it) => convert(it, ctx));
      // a unit that is the whole sequence is already one (a module's scope, a branch); so are the
      // constructs of one module (a transformer's encoder layer: its two residuals are the module)
      if (j - i === items.length || ctx.length > 0) out.push(...unit);
      else out.push({ t: 'group', key: '', scope: ctx, body: unit, whole: false });
    } else out.push(...run.map((it) => convert(it, ctx)));
    i = j;
  }
  return out;
}

/**
 * What belongs to the construct before it: an element-wise activation (not
 * softmax, which mixes channels), as ResNet's relu after its sum, or a
 * channel shuffle, as ShuffleNet's after its split.
 */
function followsConstruct(item: Item): boolean {
  if (item.kind !== 'layer') return false;
  const def = findLayer(item.layer);
  return (def?.kind === 'activation' && def.mixes === 'nothing') || item.layer === 'shuffle';
}

function convert(item: Item, ctx: string[]): T {
  if (item.kind === 'layer') return { t: 'layer', l: item };
  const inner = itemScope(item);
  const at = inner.length >= ctx.length ? inner : ctx;
  if (item.kind === 'residual') return { t: 'residual', body: segment(item.body, at), shortcut: item.shortcut ? segment(item.shortcut, at) : null };
  if (item.kind === 'gate') return { t: 'gate', body: segment(item.body, at) };
  return { t: 'merge', kind: item.kind, branches: item.branches.map((b) => segment(b, at)) };
}

// ---------------------------------------------------------------- structure and slots

/** The arguments of a layer that may become block parameters: plain numbers. */
function slotArgs(l: ImportLayer): [string, ArgValue][] {
  return Object.entries(l.args);
}

/**
 * Walk a body in print order. `slot` is called for every argument that may
 * vary between instances (numbers) and returns what to print for it; the
 * returned statements and the signature describe the structure.
 */
function walk(body: T[], slot: (v: number, name: string) => Value): { stmts: Stmt[]; sig: string } {
  const stmts: Stmt[] = [];
  const sig: string[] = [];
  for (const n of body) {
    switch (n.t) {
      case 'layer': {
        const args: Record<string, Value> = {};
        const parts: string[] = [];
        for (const [name, v] of slotArgs(n.l)) {
          if (typeof v === 'number') {
            args[name] = slot(v, name);
            parts.push(`${name}#`);
          } else {
            args[name] = v;
            parts.push(`${name}=${JSON.stringify(v)}`);
          }
        }
        stmts.push({ kind: 'layer', layer: n.l.layer, args });
        sig.push(`${n.l.layer}(${parts.join(',')})`);
        break;
      }
      case 'residual': {
        const body = walk(n.body, slot);
        const sc = n.shortcut ? walk(n.shortcut, slot) : undefined;
        stmts.push({ kind: 'residual', body: body.stmts, shortcut: sc ? sc.stmts : null });
        sig.push(`residual{${body.sig}}${sc ? `shortcut{${sc.sig}}` : ''}`);
        break;
      }
      case 'gate': {
        const body = walk(n.body, slot);
        stmts.push({ kind: 'gate', body: body.stmts });
        sig.push(`gate{${body.sig}}`);
        break;
      }
      case 'merge': {
        const bs = n.branches.map((b) => walk(b, slot));
        stmts.push({ kind: n.kind, branches: bs.map((b) => b.stmts) });
        sig.push(`${n.kind}{${bs.map((b) => `{${b.sig}}`).join('')}}`);
        break;
      }
      case 'group': {
        if (n.call) {
          const params = n.call.block.params;
          stmts.push({ kind: 'call', block: n.call.block.name, args: n.call.args.map((a, i) => slot(a, params[i]!)) });
          sig.push(`call ${n.call.block.name}`);
        } else {
          const inner = walk(n.body, slot);
          stmts.push(...inner.stmts);
          sig.push(inner.sig);
        }
        break;
      }
      default: {
        const never: never = n;
        throw new Error(`unhandled ${(never as T).t}`);
      }
    }
  }
  return { stmts, sig: sig.join('|') };
}

function slotsOf(body: T[]): { values: number[]; names: string[]; sig: string } {
  const values: number[] = [];
  const names: string[] = [];
  const { sig } = walk(body, (v, name) => {
    values.push(v);
    names.push(name);
    return v;
  });
  return { values, names, sig };
}

/** Groups by nesting height (a group holding no other group has height 1). */
function groupsByHeight(body: T[], out: Map<number, Group[]>): number {
  let h = 0;
  const visit = (ts: T[]): void => {
    for (const n of ts) {
      if (n.t === 'group') {
        const inner = groupsByHeight(n.body, out) + 1;
        const list = out.get(inner) ?? [];
        list.push(n);
        out.set(inner, list);
        h = Math.max(h, inner);
      } else if (n.t === 'residual') {
        visit(n.body);
        if (n.shortcut) visit(n.shortcut);
      } else if (n.t === 'gate') visit(n.body);
      else if (n.t === 'merge') n.branches.forEach(visit);
    }
  };
  visit(body);
  return h;
}

/**
 * Is a group worth a block of its own? When it holds a construct, or at
 * least three layers of its own (not counting what calls of other blocks
 * hold), or layers of its own and calls, three or more together: `conv |
 * batchnorm | relu` is, and so is MobileNet's unit of two conv–batchnorm–relu6
 * calls and a conv with its batch norm; a Sequential of two blocks (PyTorch's
 * `layer2`) or a conv with its batch norm (`downsample`) is written inline.
 */
function worthABlock(body: T[]): boolean {
  let own = 0;
  let calls = 0;
  const count = (ts: T[]): boolean => {
    for (const n of ts) {
      if (n.t === 'residual' || n.t === 'merge' || n.t === 'gate') return true;
      if (n.t === 'layer') own++;
      else if (n.call) calls++;
      else if (count(n.body)) return true;
    }
    return false;
  };
  return count(body) || own >= 3 || (own > 0 && own + calls >= 3);
}

const PARAM_NAMES: Record<string, string> = { filters: 'c', units: 'units', k: 'k', stride: 'stride', pad: 'pad', dilation: 'dilation', groups: 'groups', rate: 'rate' };

function paramNames(kinds: string[]): string[] {
  // a callee's `c2` is just another `c` here
  const base = kinds.map((k) => PARAM_NAMES[k] ?? k.replace(/(?<=[A-Za-z])\d+$/, ''));
  const count = new Map<string, number>();
  for (const b of base) count.set(b, (count.get(b) ?? 0) + 1);
  const seen = new Map<string, number>();
  return base.map((b) => {
    if (count.get(b) === 1) return b;
    const i = (seen.get(b) ?? 0) + 1;
    seen.set(b, i);
    return `${b}${i}`;
  });
}

class Namer {
  constructor(private readonly used: Set<string>) {}

  /** the scope's stem (`inception`, `basic`), else a name from the structure; numbered when taken */
  name(stem: string | undefined, structural: string): string {
    let base = stem ?? structural;
    if (LAYER_NAMES.has(base) || KEYWORDS.has(base)) base = `${base}_block`;
    let name = base;
    for (let i = 2; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }
}

/** `layer2.0` → undefined (a Sequential's index says nothing); `inception3a` → inception; `basic1` → basic. */
function stemOf(key: string): string | undefined {
  if (/\.\d+$/.test(key)) return undefined;
  const s = key.replace(/(\d+[a-z]?)+$/i, '').replace(/[^A-Za-z0-9_]/g, '_').replace(/^_+|_+$/g, '');
  return /^[A-Za-z]/.test(s) ? s : undefined;
}

function structuralName(body: T[]): string {
  const main = body.find((n) => n.t !== 'layer') ?? body[0];
  if (main?.t === 'residual') return main.shortcut ? 'projection' : 'residual_block';
  // a concat that passes its input on is DenseNet's dense layer; a split, ShuffleNet's unit
  if (main?.t === 'merge' && main.kind === 'concat') return main.branches.some((b) => b.length === 0) ? 'dense_layer' : 'branches';
  if (main?.t === 'merge') return main.kind === 'split' ? 'unit' : 'sum';
  if (main?.t === 'gate') return 'se';
  return 'stack';
}

export interface Blocks {
  blocks: BlockDecl[];
  body: Stmt[];
}

/** Find the blocks of an imported network and write its body with calls to them. */
export function findBlocks(items: Item[], networkName: string, shapeOf: (value: string) => number[] | undefined = () => undefined): Blocks {
  const tree = segment(items, []);
  const heights = new Map<number, Group[]>();
  const maxH = groupsByHeight(tree, heights);
  const blocks: BlockDecl[] = [];
  const namer = new Namer(new Set([networkName]));
  for (let h = 1; h <= maxH; h++) {
    const clusters = new Map<string, Instance[]>();
    for (const g of heights.get(h) ?? []) {
      if (!worthABlock(g.body)) continue;
      const s = slotsOf(g.body);
      const list = clusters.get(s.sig) ?? [];
      list.push({ group: g, values: s.values, names: s.names, residual: false });
      clusters.set(s.sig, list);
    }
    const conditional = conditionalResiduals(clusters, shapeOf);
    // a cluster of whole branches alone adds nothing to the construct that already holds them
    const repeated = [...clusters.values()].filter((c) => c.length >= 2 && c.some((x) => !x.group.whole));
    // its first instance names it: prefer one that is not a whole branch (`conv1`, not `branch1`)
    for (const c of repeated) c.sort((a, b) => Number(a.group.whole) - Number(b.group.whole));
    for (const c of repeated) {
      // anti-unification: a slot that differs between instances is a parameter; slots that vary together share one
      const slotCount = c[0]!.values.length;
      const names = c[0]!.names;
      const paramOfSlot: (number | undefined)[] = [];
      const vectors: string[] = [];
      const kinds: string[] = [];
      for (let i = 0; i < slotCount; i++) {
        const vec = c.map((x) => x.values[i]!);
        if (vec.every((v) => v === vec[0])) continue;
        const key = vec.join(',');
        let p = vectors.indexOf(key);
        if (p < 0) {
          p = vectors.length;
          vectors.push(key);
          kinds.push(names[i]!);
        }
        paramOfSlot[i] = p;
      }
      const cond = conditional.has(c) ? residualCondition(c, shapeOf) : undefined;
      if (conditional.has(c) && !cond) throw new Error('internal: a merged cluster lost its residual condition');
      if (cond) kinds.unshift('cin');
      const params = seParams(c[0]!.group.body, kinds) ?? paramNames(kinds);
      const shift = cond ? 1 : 0;
      let i = 0;
      // a conditional residual's body is written from an instance that has the residual
      if (cond) c.sort((a, b) => Number(b.residual) - Number(a.residual));
      const first = c[0]!;
      const body = collapseRepeats(
        walk(first.group.body, (v) => {
          const p = paramOfSlot[i++];
          return p === undefined ? v : { ref: params[p + shift]! };
        }).stmts,
      );
      if (cond) {
        const r = body[0]!;
        if (r.kind !== 'residual') throw new Error('internal: a conditional residual block without its residual');
        r.cond = cond.text(params, paramOfSlot);
      }
      // MobileNet's and EfficientNet's unit: an inverted residual (a depthwise convolution inside)
      const name = namer.name(stemOf(first.group.key), cond && hasDepthwise(first.group.body) ? 'inverted' : structuralName(first.group.body));
      const where = (g: Group): string => (g.scope.length ? (isTorchStyle(g) ? '/' : '') + g.scope.join('/') : g.key);
      const block: BlockDecl = {
        name,
        params,
        body,
        comment: first.group.key
          ? `from ${where(first.group)} and ${c.length - 1} more`
          : `${c.length} times; the first from node '${firstName(first.group.body)}'`,
      };
      blocks.push(block);
      for (const x of c) {
        const args = params.slice(shift).map((_, p) => x.values[paramOfSlot.indexOf(p)]!);
        if (cond) args.unshift(inChannels(x.group.body, shapeOf)!);
        x.group.call = { block, args };
      }
    }
  }
  const body = collapseRepeats(walk(tree, (v) => v).stmts);
  return inlineSingleUse(blocks, body);
}

interface Instance {
  group: Group;
  values: number[];
  names: string[];
  /** merged into a conditional residual block: this instance adds its input back */
  residual: boolean;
}

/**
 * Units that are the same but for an identity residual around them
 * (MobileNet's inverted residual, EfficientNet's MBConv: the input is added
 * back when the stride is 1 and the channels are kept) join one cluster, to
 * become one block with `residual if …`, when a condition on the block's
 * arguments tells them apart (see residualCondition). Returns the merged clusters.
 */
function conditionalResiduals(clusters: Map<string, Instance[]>, shapeOf: (v: string) => number[] | undefined): Set<Instance[]> {
  const merged = new Set<Instance[]>();
  for (const [sig, plain] of [...clusters]) {
    const withResidual = clusters.get(`residual{${sig}}`);
    if (!withResidual || plain.length === 0) continue;
    const all = [...plain, ...withResidual.map((x) => ({ ...x, residual: true }))];
    if (all.every((x) => x.group.whole) || all.some((x) => inChannels(x.group.body, shapeOf) === undefined)) continue;
    if (!residualCondition(all, shapeOf)) continue;
    clusters.delete(sig);
    clusters.set(`residual{${sig}}`, all);
    merged.add(all);
  }
  return merged;
}

/**
 * Squeeze-and-excitation's two widths by their roles, as the specs write them:
 * a block that is one gate whose two convolutions' widths are its only
 * parameters takes `squeeze` (the first) and `c` (the gated channels).
 */
function seParams(body: T[], kinds: string[]): string[] | undefined {
  const gate = body[0];
  if (body.length !== 1 || gate?.t !== 'gate' || kinds.length !== 2 || kinds.some((k) => k !== 'filters')) return undefined;
  const convs = gate.body.filter((n) => n.t === 'layer' && n.l.layer === 'conv');
  return convs.length === 2 ? ['squeeze', 'c'] : undefined;
}

/** Whether a body holds a depthwise convolution (groups = filters > 1). */
function hasDepthwise(body: T[]): boolean {
  return body.some((n) => {
    if (n.t === 'layer') return n.l.layer === 'conv' && typeof n.l.args.groups === 'number' && n.l.args.groups > 1 && n.l.args.groups === n.l.args.filters;
    if (n.t === 'merge') return n.branches.some(hasDepthwise);
    return hasDepthwise(n.body);
  });
}

/** The first layer of a body. */
function firstLayer(body: T[]): ImportLayer | undefined {
  for (const n of body) {
    if (n.t === 'layer') return n.l;
    const inner = n.t === 'group' || n.t === 'residual' || n.t === 'gate' ? firstLayer(n.body) : firstLayer(n.branches.find((b) => b.length > 0) ?? []);
    if (inner) return inner;
  }
  return undefined;
}

/** The channels a body reads: its first layer's data input's. */
function inChannels(body: T[], shapeOf: (v: string) => number[] | undefined): number | undefined {
  const l = firstLayer(body);
  for (const i of l?.nodes[0]?.inputs ?? []) {
    const s = shapeOf(i);
    if (s) return s.length === 3 ? s[0] : undefined;
  }
  return undefined;
}

/** The channels a body writes: its last layer's. */
function outChannels(body: T[]): number | undefined {
  const last = body[body.length - 1];
  if (!last) return undefined;
  if (last.t === 'layer') return last.l.shape.length === 3 ? last.l.shape[0] : undefined;
  if (last.t === 'group' || last.t === 'residual') return outChannels(last.body);
  return undefined;
}

/**
 * The condition under which the instances of a merged cluster have their
 * residual, in the papers' terms: `stride == 1 and cin == c` (a stride that
 * differs between instances, the output channels, and `cin`, the input
 * channels, added as the block's first parameter), or `cin == c` alone.
 * Checked against every instance; undefined when neither holds exactly.
 * `text` writes it with the block's parameters (`paramOfSlot`: each slot's
 * parameter, after `cin`; a slot without one is written as its number).
 */
function residualCondition(c: Instance[], shapeOf: (v: string) => number[] | undefined): { text: (params: string[], paramOfSlot: (number | undefined)[]) => string } | undefined {
  const names = c[0]!.names;
  const cin = c.map((x) => inChannels(x.group.body, shapeOf));
  const cout = c.map((x) => outChannels(x.group.body));
  if (cin.some((x) => x === undefined) || cout.some((x) => x === undefined)) return undefined;
  const varies = (i: number): boolean => c.some((x) => x.values[i] !== c[0]!.values[i]);
  const strideSlot = names.findIndex((n, i) => n === 'stride' && varies(i));
  const coutSlot = names.findIndex((n, i) => n === 'filters' && c.every((x, k) => x.values[i] === cout[k]));
  if (coutSlot < 0) return undefined;
  const holds = (f: (k: number) => boolean): boolean => c.every((x, k) => f(k) === x.residual);
  const kept = (k: number): boolean => cin[k] === cout[k];
  const slotText = (params: string[], paramOfSlot: (number | undefined)[], slot: number): string => {
    const p = paramOfSlot[slot];
    return p === undefined ? String(c[0]!.values[slot]) : params[p + 1]!;
  };
  if (strideSlot >= 0 && holds((k) => c[k]!.values[strideSlot] === 1 && kept(k))) {
    return { text: (p, ps) => `${slotText(p, ps, strideSlot)} == 1 and cin == ${slotText(p, ps, coutSlot)}` };
  }
  if (holds(kept)) return { text: (p, ps) => `cin == ${slotText(p, ps, coutSlot)}` };
  return undefined;
}

/**
 * A block called once, from one other block, is part of that block
 * (torchvision's `block` Sequential inside ConvNeXt's CNBlock): its body is
 * written in its caller, the arguments put in for its parameters.
 */
function inlineSingleUse(blocks: BlockDecl[], body: Stmt[]): Blocks {
  const sites = new Map<string, number>();
  const count = (stmts: Stmt[], weight: number): void => {
    for (const s of stmts) {
      if (s.kind === 'call') sites.set(s.block, (sites.get(s.block) ?? 0) + weight);
      else if (s.kind === 'repeat') count(s.body, 2);
      else if (s.kind === 'residual') {
        count(s.body, weight);
        if (s.shortcut) count(s.shortcut, weight);
      } else if (s.kind === 'gate') count(s.body, weight);
      else if (s.kind !== 'layer') s.branches.forEach((b) => count(b, weight));
    }
  };
  count(body, 2); // a call from the network's body keeps its block
  for (const b of blocks) count(b.body, 1);
  const byName = new Map(blocks.map((b) => [b.name, b]));
  const conditional = (b: BlockDecl): boolean => b.body.some((s) => s.kind === 'residual' && s.cond !== undefined);
  const inline = new Set(blocks.filter((b) => sites.get(b.name) === 1 && !conditional(b)).map((b) => b.name));
  if (inline.size === 0) return { blocks, body };
  const subst = (v: Value, env: Map<string, Value>): Value => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (env.get(v.ref) ?? v) : v);
  const expand = (stmts: Stmt[], env: Map<string, Value>): Stmt[] =>
    stmts.flatMap((s): Stmt[] => {
      switch (s.kind) {
        case 'layer':
          return [{ ...s, args: Object.fromEntries(Object.entries(s.args).map(([k, v]) => [k, subst(v, env)])) }];
        case 'call': {
          const args = s.args.map((a) => subst(a, env));
          if (!inline.has(s.block)) return [{ ...s, args }];
          const callee = byName.get(s.block)!;
          return expand(callee.body, new Map(callee.params.map((p, i) => [p, args[i]!])));
        }
        case 'repeat':
          return [{ ...s, body: expand(s.body, env) }];
        case 'residual':
          return [{ ...s, body: expand(s.body, env), shortcut: s.shortcut ? expand(s.shortcut, env) : null }];
        case 'gate':
          return [{ ...s, body: expand(s.body, env) }];
        default:
          return [{ ...s, branches: s.branches.map((b: Stmt[]) => expand(b, env)) }];
      }
    });
  const kept = blocks.filter((b) => !inline.has(b.name)).map((b) => ({ ...b, body: expand(b.body, new Map()) }));
  return { blocks: kept, body: expand(body, new Map()) };
}

function firstName(body: T[]): string {
  const n = body[0];
  if (!n) return '?';
  if (n.t === 'layer') return n.l.nodes[0]?.name ?? '?';
  if (n.t === 'group') return firstName(n.body);
  const inner = n.t === 'residual' || n.t === 'gate' ? n.body : (n.branches.find((b) => b.length > 0) ?? []);
  return firstName(inner);
}

function isTorchStyle(g: Group): boolean {
  const first = g.body.find((n) => n.t === 'layer') as { l: ImportLayer } | undefined;
  return first?.l.nodes[0]?.name.startsWith('/') ?? true;
}

/** Consecutive identical calls → `repeat n { call }`. */
function collapseRepeats(stmts: Stmt[]): Stmt[] {
  const out: Stmt[] = [];
  for (let i = 0; i < stmts.length; ) {
    const s = stmts[i]!;
    let j = i + 1;
    if (s.kind === 'call') while (j < stmts.length && JSON.stringify(stmts[j]) === JSON.stringify(s)) j++;
    out.push(j - i > 1 ? { kind: 'repeat', count: j - i, body: [s] } : s);
    i = j;
  }
  return out;
}
