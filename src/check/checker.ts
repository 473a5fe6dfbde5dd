// Walks each network with concrete shapes: resolves names, binds and checks
// arguments, expands blocks and repeats, infers shapes, and builds the IR.
// Problems are reported, never thrown. A failed stage poisons the shape that
// follows (undefined) so one root cause gives one diagnostic.
import { DiagnosticSink, formatShape, type Diagnostic, type Note } from '../diagnostics/index.js';
import { CODES, type Code } from '../diagnostics/codes.js';
import type { Span } from '../diagnostics/span.js';
import { findLayer, LAYERS } from '../layers/registry.js';
import { differentFunction, foreignLayer } from '../layers/foreign.js';
import type { AnyLayer, ArgSpec, ArgValue, LayerContext, Shape } from '../layers/types.js';
import type { Arg, BlockDecl, Decl, Expr, NetworkDecl, Stage } from '../syntax/ast.js';
import { MAX_NESTING } from '../syntax/limits.js';
import { parseExpression } from '../syntax/parse.js';
import { allStages, exprsOf, refs } from '../syntax/walk.js';
import { bindArgs, slotIndex, type ParamSlot } from './bind.js';
import type { Module } from './modules.js';
import { type LayerNode, type Network, type Node, type TrainConfig } from './ir.js';
import { suggest } from '../util/suggest.js';
import { Evaluator, fmtValue, MAX_INT, Word, type Evaluated, type Scope } from './values.js';
import { describeProblem, findSetting, suggestSetting, TRAIN_SETTINGS } from './train-settings.js';
import { checkFreeze, freezeEntries, stagePathOf } from './freeze.js';

/** per-example elements of one tensor, and parameters of one network, beyond which nothing is allocated */
export const MAX_ELEMENTS = 2 ** 31 - 1;
/** expanded stages per network (a `repeat 1e9` must not hang the checker) */
export const MAX_STAGES = 100_000;
/** expanded stages of all the networks of one compilation together */
export const MAX_TOTAL_STAGES = 2 * MAX_STAGES;
/** the largest finite float32, and the smallest normal one (below it values flush to 0 on some back ends) */
const FLOAT32_MAX = 3.4028234663852886e38;
const FLOAT32_MIN_NORMAL = 1.1754943508222875e-38;
/** bodies nested inside each other, counting block calls (the checker recurses once per level) */
export const MAX_DEPTH = 2 * MAX_NESTING;

export interface CheckOptions {
  /** `--set name=value` overrides, applied to the network named `target` (or the only one) */
  overrides?: Record<string, string>;
  target?: string;
}

/**
 * A block call's checked body, kept for the next call of the same block with
 * the same argument values on the same input shape (a block checks the same
 * wherever it is called): the nodes and stage facts it made, with the call's
 * path to swap for the next call's. Only a body that reported nothing is
 * kept, and it is replayed only where it would again report nothing: at the
 * same nesting depth, within the stage limit, with none of the blocks it
 * calls already open (recursion).
 */
interface BlockMemo {
  path: string;
  flow: Flow;
  infos: StageInfo[];
  stages: number;
  depth: number;
  /** every block expanded inside it, itself included */
  blocks: Set<BlockDecl>;
  /** the block calls made inside it */
  calls: BlockCall[];
  /**
   * the names it read, with what they meant (kept only with a CheckCache): a
   * later check replays it only where each still means the same, and notes
   * them for the network that replays it, as a check of the body would
   */
  reads: Resolution[];
}

/**
 * What the language server keeps of a document's last check, for the next
 * one (pass the same cache to every check of the document). For each network
 * of the file: its stages (the very objects the document's parser handed
 * over: an unchanged item or part of a long network is handed over again),
 * the state of the check before each of them, and the names it resolved. The
 * next check of that network takes what it can: nothing, where a name it
 * resolved now means something else (a block it calls was edited, added or
 * removed) or its header is new; else every stage up to the first one that is
 * not the same object keeps its facts (nodes, stage facts, diagnostics) and
 * the check goes on from there. A network no edit touched is not checked
 * again; an edit near a long network's end re-checks only its end. An edit
 * in a block that changes what its calls give re-checks each network that
 * calls it from the checkpoint before its first stage that read the block.
 */
export class CheckCache {
  /** by network name */
  entries = new Map<string, NetworkEntry>();
  /**
   * the last check took a network's result over although blocks it calls were
   * edited (their calls give the same as before): its diagnostics are right,
   * its stage facts and IR are those of the blocks before the edit, for the
   * caller to work out again when they are asked for (src/lsp/analysis.ts)
   */
  stale = false;
  /** checks made with this cache */
  generation = 0;
  /**
   * where a network calls an edited block whose calls now give something
   * else, its check goes on from the checkpoint before its first stage that
   * called the block (false: from its start, as a test's control)
   */
  fromFirstCall = true;
  /**
   * where a re-checked long network's state at a checkpoint after the edited
   * stages is what it was (shape, paths, nothing reported on the way), the
   * rest of it is taken over (false: checked to its end, as a test's control)
   */
  stopEarly = true;
  /**
   * check only the network of this name, keeping the others' last results
   * for the next check (the language server checks an edited block's first
   * caller so, to publish the block's diagnostics before the rest)
   */
  only: string | undefined;
  /**
   * the block bodies the last check checked or replayed (see BlockMemo), for
   * the next: a block checks the same wherever it is called, so an unchanged
   * block called on the same shape with the same arguments is replayed, not
   * checked again, where every name its body read means the same
   */
  memos = new Map<BlockDecl, Map<string, BlockMemo>>();
  /**
   * called after each network of a check, with the file's diagnostics so far
   * (declarations' and those of the networks checked) and how many networks
   * remain: the language server publishes an edited region's diagnostics
   * from it, while the check goes on with the rest
   */
  onNetwork: ((name: string, diagnostics: readonly Diagnostic[], remaining: number) => void) | undefined;

  /** the networks whose last check read `name` in the compiled file (called a block of that name), in order */
  callers(name: string): string[] {
    const out: string[] = [];
    for (const [net, e] of this.entries) {
      for (const r of e.resolved.values()) {
        if (r.file === ROOT_FILE && r.name === name && r.blocks === undefined) {
          out.push(net);
          break;
        }
      }
    }
    return out;
  }
  /** top-level network stages checked in the last check, and taken from the cache (tests, benches) */
  checked = 0;
  reused = 0;
  /** block calls the last check answered from a memo (of its own or of the check before) */
  replayed = 0;
}

/** the state of a network's check before one of its own stages (lengths of what is appended) */
interface Checkpoint {
  nodes: number;
  infos: number;
  items: number;
  shape: Shape | undefined;
  params: number;
  macs: number;
  stageCount: number;
  expanded: number;
  reports: number;
  errorsRaised: number;
  tooDeep: boolean;
  counts: Map<string, number>;
}

/** a name the check read in a file's scope: what it meant (or, with `blocks`, the block names of that scope) */
interface Resolution {
  file: string | undefined;
  name: string;
  decl: Decl | undefined;
  incomplete: boolean;
  blocks?: string;
  /** the network's own stage whose check first read it (-1: its header; its body's length: its train settings) */
  stage: number;
}

/** a span where it is now: an offset into a declaration of the compiled file (`net`: the network itself), or as it was (`null`) */
interface Placed {
  at: Decl | 'net' | null;
  start: number;
  end: number;
}

/** a diagnostic kept for the next check: its spans in the compiled file placed relative to their declarations */
interface KeptDiagnostic {
  d: Diagnostic;
  span?: Placed;
  notes: (Placed | undefined)[];
  edits: (Placed | undefined)[][];
}

/** a block call's input shape and argument values, and what its body gave */
interface Signature {
  input: Shape;
  values: Map<string, ArgValue>;
  depth: number;
  shape: Shape;
  params: number;
  macs: number;
  stages: number;
}

/** a block call (sig null: its body reported something, or had no input shape) */
interface BlockCall {
  block: BlockDecl;
  key: string;
  sig: Signature | null;
}

interface NetworkEntry {
  /** its stage facts and IR are not what the blocks it calls now give (see CheckCache.stale) */
  stale?: boolean;
  calls: Map<BlockDecl, Map<string, Signature> | null>;
  decl: NetworkDecl;
  body: readonly Stage[];
  overrides: string;
  scope: Scope;
  input: Shape | undefined;
  /** the state before stages 0, CHECKPOINT_EVERY, 2 × CHECKPOINT_EVERY … */
  checkpoints: Checkpoint[];
  /** after the last stage (undefined: the check stopped at the stage limit) */
  end: Checkpoint | undefined;
  nodes: Node[];
  /** its stage facts: infos[infosAt …] */
  infos: StageInfo[];
  infosAt: number;
  items: KeptDiagnostic[];
  resolved: Map<string, Resolution>;
}

interface NetworkCtx {
  modules: readonly Module[];
  overrides: string;
  prev: NetworkEntry | undefined;
  made?: NetworkEntry;
}

/** how many of a network's own stages lie between two checkpoints of its kept check */
const CHECKPOINT_EVERY = 16;

/**
 * where a network's check goes on from: its end, where no stage changed, else
 * the last checkpoint before its first changed stage (or before `limit`, the
 * first stage that called an edited block)
 */
function resumeAt(prev: NetworkEntry, stages: readonly Stage[], limit = Infinity): { from: number; cp: Checkpoint } {
  const n = Math.min(stages.length, prev.body.length, limit);
  let first = 0;
  while (first < n && stages[first] === prev.body[first]) first++;
  if (first === stages.length && first === prev.body.length && prev.end) return { from: first, cp: prev.end };
  const i = Math.min(Math.floor(first / CHECKPOINT_EVERY), prev.checkpoints.length - 1);
  return { from: i * CHECKPOINT_EVERY, cp: prev.checkpoints[i]! };
}

/** the compiled file's key among the modules */
const ROOT_FILE = '\u0000root';

function blockNames(m: Module): string[] {
  return [...m.scope.values()].filter((e) => e.decl.kind === 'block').map((e) => e.decl.name.name);
}

/**
 * Whether the kept result of a network stands for `d` now: `same` (same
 * header, same overrides, every name it read means the same), or the blocks
 * that were edited (a name that meant a block now means another block of that
 * name), or false
 */
function compare(prev: NetworkEntry, d: NetworkDecl, ctx: NetworkCtx): 'same' | Map<BlockDecl, { now: BlockDecl; home: Module }> | false {
  if (prev.overrides !== ctx.overrides) return false;
  // a header parsed again (an edit in a long network's first part) is the same where only its spans moved,
  // and nothing was reported of it (its diagnostics would be placed where it was)
  for (const k of Object.keys(d) as (keyof NetworkDecl)[]) {
    if (k === 'body' || k === 'span' || d[k] === prev.decl[k]) continue;
    if (!sameIgnoringSpans(d[k], prev.decl[k]) || prev.checkpoints[0]!.items > 0) return false;
  }
  if (Object.keys(d).length !== Object.keys(prev.decl).length) return false;
  const byFile = new Map<string | undefined, Module>(ctx.modules.map((m, i) => [i === 0 ? ROOT_FILE : m.file, m]));
  const swaps = new Map<BlockDecl, { now: BlockDecl; home: Module }>();
  for (const r of prev.resolved.values()) {
    const m = byFile.get(r.file);
    if (!m) return false;
    if (r.blocks !== undefined) {
      if (blockNames(m).join('\u0000') !== r.blocks) return false;
      continue;
    }
    const e = m.scope.get(r.name);
    if (e?.decl === r.decl) continue;
    if (e?.decl.kind !== 'block' || r.decl?.kind !== 'block') return false;
    swaps.set(r.decl, { now: e.decl, home: e.module });
  }
  return swaps.size ? swaps : 'same';
}

const isSpan = (x: object): boolean => typeof (x as Span).start === 'number' && typeof (x as Span).end === 'number';

/** two ASTs alike but for where they are */
function sameIgnoringSpans(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return typeof a === 'number' && typeof b === 'number' && Object.is(a, b);
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (isSpan(a) && isSpan(b)) return true;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => sameIgnoringSpans((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** `x` with its spans in the compiled file placed relative to the declaration they are in (`d`: the network checked) */
function kept(x: Diagnostic, d: NetworkDecl, decls: readonly Decl[]): KeptDiagnostic {
  const place = (sp: Span): Placed => {
    let lo = 0;
    let hi = decls.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (decls[mid]!.span.start <= sp.start) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    const at = found < 0 ? null : decls[found] === d ? 'net' : decls[found]!;
    const base = at === null ? 0 : at === 'net' ? d.span.start : at.span.start;
    return { at, start: sp.start - base, end: sp.end - base };
  };
  const here = x.file === undefined;
  return {
    d: x,
    span: here ? place(x.span) : undefined,
    notes: x.notes.map((n) => (n.span && n.file === undefined ? place(n.span) : undefined)),
    edits: x.fixes.map((f) => f.edits.map((e) => (here ? place(e.span) : undefined))),
  };
}

/** a kept diagnostic where its spans are now (`d`: the network, as parsed now) */
function placed(k: KeptDiagnostic, d: NetworkDecl): Diagnostic {
  const at = (p: Placed): Span => {
    const base = p.at === null ? 0 : p.at === 'net' ? d.span.start : p.at.span.start;
    return { start: base + p.start, end: base + p.end };
  };
  const x = k.d;
  return {
    ...x,
    span: k.span ? at(k.span) : x.span,
    notes: x.notes.map((n, i) => (k.notes[i] ? { ...n, span: at(k.notes[i]!) } : n)),
    fixes: x.fixes.map((f, i) => ({ ...f, edits: f.edits.map((e, j) => (k.edits[i]![j] ? { ...e, span: at(k.edits[i]![j]!) } : e)) })),
  };
}

/** What the checker learnt about one stage of source, for hovers and inlay hints. */
export interface StageInfo {
  stage: Stage;
  network: string;
  path: string;
  inShape: Shape;
  outShape: Shape;
  params: number;
  macs: number;
  layer?: AnyLayer;
  rawArgs?: Record<string, ArgValue>;
}

export interface CheckResult {
  networks: Network[];
  stageInfo: StageInfo[];
  diagnostics: Diagnostic[];
}

/**
 * A sink that reports each problem once: a block called twice (or a hundred
 * times by a `repeat`) reports its own mistakes once, at the first call, with
 * the call site as a note. "Once" is per code and place: a later
 * instantiation failing the same way with other shapes is the same root cause.
 * It also records which file a problem is in: the checker sets `file` while it
 * checks a block from an imported file.
 */
class CheckSink extends DiagnosticSink {
  /** the block calls being checked, innermost last, each in the file it is written in */
  readonly frames: { name: string; span: Span; file: string | undefined }[] = [];
  /** the file being checked (undefined: the compiled one) */
  file: string | undefined;
  private readonly seen = new Map<string, Diagnostic>();
  /** errors reported, repeats included (whether a network failed does not depend on what was reported before) */
  errorsRaised = 0;
  /** every report, of any severity, repeats included */
  reports = 0;
  /** a diagnostic another sink made (another network's, or a kept one): added unless one with its place and code is here already */
  adopt(d: Diagnostic): void {
    const key = `${d.file ?? ''}:${d.code}:${d.span.start}:${d.span.end}`;
    if (this.seen.has(key)) return;
    this.seen.set(key, d);
    this.items.push(d);
  }
  override report(code: Code, span: Span, message: string, extra: { notes?: Note[]; fixes?: Diagnostic['fixes'] } = {}): Diagnostic {
    this.reports++;
    if (CODES[code].severity === 'error') this.errorsRaised++;
    const key = `${this.file ?? ''}:${code}:${span.start}:${span.end}`;
    const known = this.seen.get(key);
    if (known) return known;
    const here = (n: Note): Note => (this.file !== undefined && n.span && !('file' in n) ? { ...n, file: this.file } : n);
    const notes = (extra.notes ?? []).map(here);
    const call = (f: (typeof this.frames)[number], message: string): Note => (f.file === undefined ? { message, span: f.span } : { message, span: f.span, file: f.file });
    const inner = this.frames[this.frames.length - 1];
    if (inner) notes.push(call(inner, `in block \`${inner.name}\`, called here`));
    // a problem in an imported file also points at the compiled file's call that leads to it
    const outer = this.frames.find((f) => f.file === undefined);
    if (this.file !== undefined && outer && outer !== inner) notes.push(call(outer, `reached from \`${outer.name}\`, called here`));
    const d = super.report(code, span, message, { ...extra, notes });
    if (this.file !== undefined) d.file = this.file;
    this.seen.set(key, d);
    return d;
  }
}

class PathScope {
  private readonly counts = new Map<string, number>();
  constructor(readonly prefix: string) {}
  next(name: string): string {
    const n = (this.counts.get(name) ?? 0) + 1;
    this.counts.set(name, n);
    return `${this.prefix}${name}${n}`;
  }
  child(segment: string): PathScope {
    return new PathScope(`${segment}/`);
  }
  /** how often each name has been used so far (a copy) */
  snapshot(): Map<string, number> {
    return new Map(this.counts);
  }
  /** whether the names have been used as often as in a snapshot */
  same(counts: ReadonlyMap<string, number>): boolean {
    if (counts.size !== this.counts.size) return false;
    for (const [k, v] of counts) if (this.counts.get(k) !== v) return false;
    return true;
  }
  /** go on from a snapshot */
  restore(counts: ReadonlyMap<string, number>): void {
    this.counts.clear();
    for (const [k, v] of counts) this.counts.set(k, v);
  }
}

type Call = Extract<Stage, { kind: 'call' }>;

interface Flow {
  nodes: Node[];
  /** undefined: poisoned by an earlier error */
  shape: Shape | undefined;
  /** trainable parameters and MACs of `nodes`, summed on the way (a walk per construct would be quadratic) */
  params: number;
  macs: number;
}

function poisoned(): Flow {
  return { nodes: [], shape: undefined, params: 0, macs: 0 };
}

export class Checker {
  /** where problems go: the file's sink, or the sink of the network being checked (merged into the file's after it) */
  sink = new CheckSink();
  private ev = new Evaluator(this.sink);
  /** the file whose names are in scope right now: the compiled one, or the one a called block comes from */
  private module!: Module;
  /** the blocks being expanded, innermost last (a block calling itself is E110) */
  private readonly stack: BlockDecl[] = [];
  private stageCount = 0;
  /** the repeats being expanded, outermost first: a size limit is blamed on the outermost, with the product */
  private repeats: { n: number; keyword: Span; file: string | undefined; stages: number }[] = [];
  /** stages expanded by all the networks so far */
  private expanded = 0;
  /** how many bodies (construct bodies and block calls) are open */
  private depth = 0;
  /** the nesting limit was reported for this network */
  private tooDeep = false;
  private network = '';
  private readonly meantCache = new Map<string, { sug: string | undefined; why: string }>();
  stageInfo: StageInfo[] = [];
  /** checked block bodies by block and by input shape and argument values (see BlockMemo) */
  private readonly blockMemo = new Map<BlockDecl, Map<string, BlockMemo>>();
  /** the blocks expanded inside each block body being recorded, innermost last */
  private readonly recording: Set<BlockDecl>[] = [];
  /** the names read inside each block body being recorded, innermost last (with a CheckCache only) */
  private readonly readRecording: Map<string, Resolution>[] = [];
  /** the memos this check made or replayed: what it leaves in its CheckCache */
  private readonly usedMemos = new Map<BlockDecl, Map<string, BlockMemo>>();

  /** block calls answered from a kept body */
  memoHits = 0;
  /** what layers' shape rules report through (one, reset for each call: a shape rule does not keep it) */
  private readonly layerReports = new LayerReports();

  private root: Module | undefined;
  /** the current network's block calls: each block's call signatures and what they gave (null: some call cannot be summed up so) */
  private calls = new Map<BlockDecl, Map<string, Signature> | null>();
  /** the block calls made inside each block body being recorded, innermost last (kept with its memo) */
  private readonly callRecording: BlockCall[][] = [];
  /** the names resolved while checking the current network (what its kept result depends on) */
  private resolved = new Map<string, Resolution>();
  /** the current network's own stage being checked (-1: its header) */
  private topStage = -1;

  /**
   * `memo: false` checks every block call afresh (the tests compare both
   * ways); `cache`: what the last check of the same document left (the
   * language server's), used where it is sure to be the same, and refilled
   */
  constructor(private readonly opts: { memo?: boolean; cache?: CheckCache } = {}) {}

  /** Check the compiled file's networks (`modules[0]`), and `target` if it is imported. */
  check(modules: readonly Module[], opts: CheckOptions = {}): CheckResult {
    const root = modules[0]!;
    this.root = root;
    if (this.opts.cache && this.opts.memo !== false) this.keptMemos(modules, this.opts.cache);
    for (const m of modules) this.declarations(m, m === root);
    const nets = root.program.decls.filter((d): d is NetworkDecl => d.kind === 'network' && root.own.has(d));
    const single = nets.length === 1 ? nets[0]!.name.name : undefined;
    const chosen = opts.target !== undefined ? root.scope.get(opts.target) : undefined;
    if (chosen && chosen.module !== root && chosen.decl.kind === 'network') nets.push(chosen.decl);
    const networks: Network[] = [];
    const cache = this.opts.cache;
    const kept = cache?.entries ?? new Map<string, NetworkEntry>();
    const next = new Map<string, NetworkEntry>();
    if (cache) {
      cache.checked = 0;
      cache.reused = 0;
      cache.generation++;
    }
    for (const [i, d] of nets.entries()) {
      if (this.expanded > MAX_TOTAL_STAGES) {
        // many networks sharing a runaway block would each expand to the limit again: say so once
        const rest = nets.length - i;
        this.sink.report('E401', d.name.span, `not checked${rest > 1 ? `, nor the ${rest - 1} network${rest > 2 ? 's' : ''} after it` : ''}: the networks before it expand to more than ${MAX_TOTAL_STAGES.toLocaleString('en-US')} stages in all`);
        break;
      }
      if (cache?.only !== undefined && d.name.name !== cache.only) {
        const e = kept.get(d.name.name);
        if (e) next.set(d.name.name, e);
        continue;
      }
      const overrides = d.name.name === (opts.target ?? single) ? opts.overrides ?? {} : {};
      const home = root.scope.get(d.name.name)?.module ?? root;
      // each network is checked into a sink of its own, merged into the file's after it (what the
      // file's sink would have kept): so that it can be kept for the next check of the document
      const fileSink = this.sink;
      this.sink = new CheckSink();
      this.ev = new Evaluator(this.sink);
      this.resolved = new Map();
      this.calls = new Map();
      let n: Network | undefined;
      try {
        const prev = cache && home === root ? kept.get(d.name.name) : undefined;
        const ctx: NetworkCtx | undefined = cache && home === root ? { modules, overrides: JSON.stringify(overrides), prev } : undefined;
        n = this.inModule(home, () => this.checkNetwork(d, overrides, ctx));
        if (ctx?.made) next.set(d.name.name, ctx.made);
      } finally {
        for (const x of this.sink.items) fileSink.adopt(x);
        this.sink = fileSink;
        this.ev = new Evaluator(this.sink);
      }
      if (n) networks.push(n);
      cache?.onNetwork?.(d.name.name, this.sink.items, nets.length - i - 1);
    }
    if (cache) {
      cache.entries = next;
      cache.stale = [...next.values()].some((e) => e.stale);
      // a check of one network (CheckCache.only) keeps the others' memos as well; a whole check, only those it used
      cache.memos = cache.only !== undefined ? this.blockMemo : this.usedMemos;
      cache.replayed = this.memoHits;
    }
    return { networks, stageInfo: this.stageInfo, diagnostics: this.sink.items };
  }

  /** the last check's block memos that still hold: their block is still declared, and every name they read means the same */
  private keptMemos(modules: readonly Module[], cache: CheckCache): void {
    const byFile = new Map<string | undefined, Module>(modules.map((m, i) => [i === 0 ? ROOT_FILE : m.file, m]));
    const declared = new Set<Decl>();
    for (const m of modules) for (const e of m.scope.values()) declared.add(e.decl);
    const holds = new Map<Resolution, boolean>();
    const still = (r: Resolution): boolean => {
      let ok = holds.get(r);
      if (ok === undefined) {
        const m = byFile.get(r.file);
        ok = m !== undefined && m.incomplete === r.incomplete && (r.blocks !== undefined ? blockNames(m).join('\u0000') === r.blocks : m.scope.get(r.name)?.decl === r.decl);
        holds.set(r, ok);
      }
      return ok;
    };
    for (const [block, table] of cache.memos) {
      if (!declared.has(block)) continue;
      let kept: Map<string, BlockMemo> | undefined;
      for (const [key, m] of table) {
        if (!m.reads.every(still) || ![...m.blocks].every((b) => declared.has(b))) continue;
        (kept ??= new Map()).set(key, m);
      }
      if (kept) this.blockMemo.set(block, kept);
    }
  }

  /** note that a memo was made or replayed in this check (kept for the next, with a CheckCache) */
  private useMemo(block: BlockDecl, key: string, m: BlockMemo): void {
    if (!this.opts.cache) return;
    const t = this.usedMemos.get(block);
    if (t) t.set(key, m);
    else this.usedMemos.set(block, new Map([[key, m]]));
  }

  /** run `f` with `m`'s names in scope and its problems reported in its file */
  private inModule<T>(m: Module, f: () => T): T {
    const saved = this.module;
    const savedFile = this.sink.file;
    this.module = m;
    this.sink.file = m.via === undefined ? undefined : m.file;
    try {
      return f();
    } finally {
      this.module = saved;
      this.sink.file = savedFile;
    }
  }

  /** duplicate parameters in every file; in the compiled file also unused parameters and blocks */
  private declarations(m: Module, isRoot: boolean): void {
    this.inModule(m, () => {
      const program = m.program;
      for (const d of program.decls) {
        if (!m.own.has(d)) continue;
        const params = new Map<string, Span>();
        for (const p of d.params) {
          if (params.has(p.name.name)) {
            this.sink.report('E112', p.name.span, `parameter \`${p.name.name}\` is declared twice`, { notes: [{ message: 'first declared here', span: params.get(p.name.name)! }] });
          }
          params.set(p.name.name, p.name.span);
        }
        // an imported file's warnings are its own business, not the importing file's
        if (!isRoot) continue;
        const used = new Set<string>();
        collectRefs(d, used);
        for (const p of d.params) {
          if (!used.has(p.name.name)) this.sink.report('W501', p.name.span, `parameter \`${p.name.name}\` of \`${d.name.name}\` is never used`);
        }
      }
      // a file of blocks only is a library: its blocks are there for the files that import it
      if (!isRoot || !program.decls.some((d) => d.kind === 'network')) return;
      const called = new Set<string>();
      for (const d of program.decls) collectCallees(d, called);
      for (const b of program.decls) {
        if (b.kind === 'block' && m.own.has(b) && !called.has(b.name.name)) this.sink.report('W502', b.name.span, `block \`${b.name.name}\` is never used`);
      }
    });
  }

  private checkNetwork(d: NetworkDecl, overrides: Record<string, string>, ctx?: NetworkCtx): Network | undefined {
    this.network = d.name.name;
    this.stageCount = 0;
    this.repeats = [];
    this.tooDeep = false;
    const before = this.sink.errorsRaised;
    let prev: NetworkEntry | undefined;
    let stale = false;
    let swaps: Map<BlockDecl, { now: BlockDecl; home: Module }> | undefined;
    /** the first of its own stages that read an edited block (its check goes on from the checkpoint before it) */
    let limit = Infinity;
    this.topStage = -1;
    if (ctx?.prev) {
      const p = ctx.prev;
      const r = compare(p, d, ctx);
      // stage facts worked out when asked (stale) can be taken over only whole, by a network none of whose stages changed
      const whole = p.end !== undefined && d.body.length === p.body.length && d.body.every((s, i) => s === p.body[i]);
      if (r === 'same' && (!p.stale || whole)) prev = p;
      else if (r !== false && r !== 'same' && whole && this.sameInterfaces(p, d, r)) prev = p;
      stale = prev !== undefined && (r !== 'same' || p.stale === true);
      if (r !== false && r !== 'same') swaps = r;
      if (!prev && swaps && !p.stale && this.opts.cache!.fromFirstCall) {
        // the edited blocks' calls give something else now: the stages before the first that read one keep their facts
        for (const res of p.resolved.values()) if (res.decl?.kind === 'block' && swaps.has(res.decl)) limit = Math.min(limit, res.stage);
        if (limit >= 0 && limit < Infinity && !d.train?.settings.some((t) => t.key.name === 'freeze')) prev = p;
        else limit = Infinity;
      }
    }
    const { scope, input } = prev ?? this.header(d, overrides);
    const flow = this.body(d, input, scope, prev, ctx, limit < Infinity ? { limit, edited: swaps! } : undefined);
    this.topStage = d.body.length;
    if (ctx?.made && stale) {
      const made = ctx.made;
      made.stale = true;
      for (const [k, r] of made.resolved) {
        const now = r.decl && swaps?.get(r.decl as BlockDecl)?.now;
        if (now) made.resolved.set(k, { ...r, decl: now });
      }
      made.calls = new Map([...made.calls].map(([b, t]) => [swaps?.get(b)?.now ?? b, t]));
    }
    // freeze names are checked against the stages only when every stage is known
    const train = this.trainConfig(d, scope, flow.shape && input ? flow.nodes : undefined);
    // counted before deduplication: a problem already reported for another network still fails this one
    if (this.sink.errorsRaised > before || !input || !flow.shape) return undefined;
    const totalParams = flow.params;
    const totalMacs = flow.macs;
    if (totalParams > MAX_ELEMENTS) {
      this.sink.report('E402', d.name.span, `network \`${d.name.name}\` has ${totalParams.toExponential(3)} parameters, more than can be allocated (${MAX_ELEMENTS})`);
      return undefined;
    }
    const params: Record<string, ArgValue> = {};
    for (const [k, v] of scope.values) params[k] = v;
    return { name: d.name.name, params, input, output: flow.shape, body: flow.nodes, totalParams, totalMacs, train, span: d.span };
  }

  /** the network's parameters (with `--set` overrides) and its input shape */
  private header(d: NetworkDecl, overrides: Record<string, string>): { scope: Scope; input: Shape | undefined } {
    const scope: Scope = { values: new Map(), poisoned: new Set() };
    for (const [k, v] of Object.entries(overrides)) {
      if (!d.params.some((p) => p.name.name === k)) {
        const s = suggest(k, d.params.map((p) => p.name.name));
        const list = d.params.map((p) => p.name.name).join(', ');
        this.sink.report('E111', d.name.span, `--set ${k}=${v}: network \`${d.name.name}\` has no parameter \`${k}\`${s ? `; did you mean \`${s}\`?` : list ? ` (its parameters: ${list})` : ' (it has no parameters)'}`);
      }
    }
    for (const p of d.params) {
      const o = overrides[p.name.name];
      if (o !== undefined) {
        const v = this.override(p.name.name, o, p.span, scope, p.default);
        if (v !== undefined) scope.values.set(p.name.name, v);
        else scope.poisoned!.add(p.name.name);
      } else if (p.default) {
        const v = this.ev.eval(p.default, scope);
        if (v instanceof Word) this.ev.unknownName(v, scope);
        if (v !== undefined && !(v instanceof Word)) scope.values.set(p.name.name, v);
        else scope.poisoned!.add(p.name.name);
      } else {
        scope.poisoned!.add(p.name.name);
        this.sink.report('E109', p.span, `network \`${d.name.name}\` needs a value for parameter \`${p.name.name}\`: give it a default (\`${p.name.name} = …\`) or pass --set ${p.name.name}=…`);
      }
    }
    let input: Shape | undefined;
    if (!d.input) {
      this.sink.report('E113', d.name.span, `network \`${d.name.name}\` has no input; its body must start with \`input [C, H, W]\` or \`input [F]\``);
    } else {
      const dims = d.input.dims.map((e) => this.ev.int(e, scope, 'input dimension'));
      if (dims.every((x): x is number => x !== undefined)) {
        if (dims.length < 1 || dims.length > 3) {
          this.sink.report('E307', d.input.span, `input must be an image [C, H, W], tokens [T, D] or a vector [F], got ${dims.length} dimension${dims.length === 1 ? '' : 's'} ${formatShape(dims)}`);
        } else input = this.sized(dims, d.input.span, 'the input');
      }
    }
    return { scope, input };
  }

  /**
   * The network's own stages, in order. With `ctx`, the state before each of
   * them is noted (the kept result's checkpoints); with `prev`, the stages
   * that are the very objects the last check saw (the document's parser hands
   * back the same stage for unchanged text) keep their facts, and the check
   * goes on from the first one that is not, or (`from1st`) from the first
   * one that read a block edited since (`edited`, old declarations).
   */
  private body(d: NetworkDecl, input: Shape | undefined, scope: Scope, prev: NetworkEntry | undefined, ctx: NetworkCtx | undefined, from1st?: { limit: number; edited: ReadonlyMap<BlockDecl, unknown> }): Flow {
    const stages = d.body;
    const paths = new PathScope('');
    const expandedAt = this.expanded;
    const infosAt = this.stageInfo.length;
    let nodes: Node[] = [];
    let shape = input;
    let params = 0;
    let macs = 0;
    let from = 0;
    let cps: Checkpoint[] = [];
    if (prev) {
      const at = resumeAt(prev, stages, from1st?.limit);
      const cp = at.cp;
      from = at.from;
      nodes = prev.nodes.slice(0, cp.nodes);
      const infos = prev.infos.slice(prev.infosAt, prev.infosAt + cp.infos);
      this.stageInfo = this.stageInfo.length ? this.stageInfo.concat(infos) : infos;
      for (let k = 0; k < cp.items; k++) this.sink.adopt(placed(prev.items[k]!, d));
      this.sink.reports = cp.reports;
      this.sink.errorsRaised = cp.errorsRaised;
      ({ shape, params, macs, tooDeep: this.tooDeep, stageCount: this.stageCount } = cp);
      this.expanded = expandedAt + cp.expanded;
      paths.restore(cp.counts);
      cps = prev.checkpoints.slice(0, Math.ceil(from / CHECKPOINT_EVERY));
      // what the stages before `from` read (the rest is read again); an edited block's calls are all made again
      for (const [k, r] of prev.resolved) if (r.stage < from && !this.resolved.has(k)) this.resolved.set(k, r);
      for (const [b, t] of prev.calls) if (!this.calls.has(b) && !from1st?.edited.has(b)) this.calls.set(b, t && new Map(t));
    }
    if (ctx) {
      this.opts.cache!.checked += stages.length - from;
      this.opts.cache!.reused += from;
    }
    // where the stages from `tail` on are the last check's, the state at a checkpoint among them may be as it was
    let tail = Infinity;
    if (prev && ctx && !from1st && this.opts.cache!.stopEarly && prev.end && stages.length === prev.body.length) {
      tail = stages.length;
      while (tail > from && stages[tail - 1] === prev.body[tail - 1]) tail--;
    }
    const reportsAt = this.sink.reports;
    let stopped = false;
    const snapshot = (): Checkpoint => ({ nodes: nodes.length, infos: this.stageInfo.length - infosAt, items: this.sink.items.length, shape, params, macs, stageCount: this.stageCount, expanded: this.expanded - expandedAt, reports: this.sink.reports, errorsRaised: this.sink.errorsRaised, tooDeep: this.tooDeep, counts: paths.snapshot() });
    this.depth++;
    try {
      for (let k = from; ; k++) {
        // the state before every CHECKPOINT_EVERY-th stage (the first always)
        if (ctx && k % CHECKPOINT_EVERY === 0) cps.push(snapshot());
        if (k >= stages.length) break;
        if (k > from && k >= tail && k % CHECKPOINT_EVERY === 0) {
          const old = prev!.checkpoints[k / CHECKPOINT_EVERY];
          const end = prev!.end!;
          // the same state as before (nothing reported since the kept part either, so that later reports dedupe alike)
          if (
            old &&
            this.sink.reports === reportsAt &&
            old.reports === reportsAt &&
            old.tooDeep === this.tooDeep &&
            (shape === undefined ? old.shape === undefined : old.shape !== undefined && sameShape(shape, old.shape)) &&
            paths.same(old.counts) &&
            this.stageCount + end.stageCount - old.stageCount <= MAX_STAGES
          ) {
            const now = snapshot();
            append(nodes, prev!.nodes.slice(old.nodes, end.nodes));
            append(this.stageInfo, prev!.infos.slice(prev!.infosAt + old.infos, prev!.infosAt + end.infos));
            for (let x = old.items; x < end.items; x++) this.sink.adopt(placed(prev!.items[x]!, d));
            const moved = (c: Checkpoint): Checkpoint => ({
              ...c,
              nodes: c.nodes + now.nodes - old.nodes,
              infos: c.infos + now.infos - old.infos,
              items: c.items + now.items - old.items,
              params: c.params + now.params - old.params,
              macs: c.macs + now.macs - old.macs,
              stageCount: c.stageCount + now.stageCount - old.stageCount,
              expanded: c.expanded + now.expanded - old.expanded,
              reports: c.reports + now.reports - old.reports,
              errorsRaised: c.errorsRaised + now.errorsRaised - old.errorsRaised,
            });
            for (let c = k / CHECKPOINT_EVERY + 1; c < prev!.checkpoints.length; c++) cps.push(moved(prev!.checkpoints[c]!));
            const e = moved(end);
            ({ shape, params, macs, tooDeep: this.tooDeep, stageCount: this.stageCount, reports: this.sink.reports, errorsRaised: this.sink.errorsRaised } = e);
            this.expanded = expandedAt + e.expanded;
            paths.restore(e.counts);
            // what the rest read and called (a name the re-checked stages read before it and no longer do: from here on)
            for (const [key, r] of prev!.resolved) if (!this.resolved.has(key)) this.resolved.set(key, r.stage >= k ? r : { ...r, stage: k });
            for (const [b, t] of prev!.calls) {
              const mine = this.calls.get(b);
              if (mine === undefined) this.calls.set(b, t && new Map(t));
              else if (mine !== null) {
                if (t === null) this.calls.set(b, null);
                else for (const [key, sig] of t) mine.set(key, sig);
              }
            }
            this.opts.cache!.checked -= stages.length - k;
            this.opts.cache!.reused += stages.length - k;
            break;
          }
        }
        const s = stages[k]!;
        this.topStage = k;
        this.expanded++;
        if (++this.stageCount > MAX_STAGES) {
          if (this.stageCount === MAX_STAGES + 1) this.sink.report('E401', s.span, `network \`${this.network}\` expands to more than ${MAX_STAGES.toLocaleString('en-US')} stages`);
          shape = undefined;
          stopped = true;
          break;
        }
        const f = this.stage(s, shape, scope, paths);
        append(nodes, f.nodes);
        shape = f.shape;
        params += f.params;
        macs += f.macs;
        if (s.assert) this.assertion(s, shape, scope);
      }
    } finally {
      this.depth--;
    }
    if (ctx) {
      const decls = ctx.modules[0]!.program.decls;
      ctx.made = {
        decl: d,
        body: stages,
        overrides: ctx.overrides,
        scope,
        input,
        checkpoints: cps,
        end: stopped ? undefined : snapshot(),
        nodes,
        // the check's own array (what later networks append is never read)
        infos: this.stageInfo,
        infosAt,
        items: this.sink.items.map((x) => kept(x, d, decls)),
        resolved: this.resolved,
        calls: this.calls,
      };
    }
    return { nodes, shape, params, macs };
  }

  /**
   * A `--set name=value` value, read as the language reads a parameter's
   * default: an expression (a number, `true`, `false`, a list, arithmetic on
   * the parameters before it). Anything else is one E111 at the parameter.
   */
  private override(name: string, text: string, at: Span, scope: Scope, dflt: Expr | undefined): ArgValue | undefined {
    const flag = `--set ${name}=${text}`;
    const fail = (why: string): undefined => {
      this.sink.report('E111', at, `${flag}: ${why}`);
      return undefined;
    };
    const parsed = parseExpression(text);
    if ('error' in parsed) return fail(`not a value (${parsed.error}); expected a number, \`true\`, \`false\` or a list such as [3, 3]`);
    // evaluated on the side: the value's spans are offsets into the flag, not into the file
    const local = new DiagnosticSink();
    const v = new Evaluator(local).eval(parsed.expr, scope);
    const problem = local.items[0];
    if (problem) return fail(problem.message);
    if (v === undefined) return fail('not a value');
    if (v instanceof Word) {
      return fail(`\`${v.name}\` is not a value; expected a number, \`true\`, \`false\` or a list such as [3, 3]`);
    }
    // the default says what kind of value the parameter holds: `classes = 1000` takes numbers, `bias = true` booleans
    const d = dflt ? new Evaluator(new DiagnosticSink()).eval(dflt, scope) : undefined;
    if (d !== undefined && !(d instanceof Word) && kindOf(d) !== kindOf(v)) {
      return fail(`\`${name}\` takes ${kindOf(d)} (its default is ${fmtValue(d)}), got ${fmtValue(v)}`);
    }
    return v;
  }

  /**
   * The network's `train { … }` section, evaluated and validated against the
   * table of settings (src/check/train-settings.ts): names and values get
   * located diagnostics here, so `alexnetc check` and the editor catch what
   * `alexnetc train` would refuse.
   */
  private trainConfig(d: NetworkDecl, scope: Scope, nodes: Node[] | undefined): TrainConfig {
    const cfg: TrainConfig = {};
    const given = new Map<string, Span>();
    for (const s of d.train?.settings ?? []) {
      const key = s.key.name;
      const spec = findSetting(key);
      if (!spec) {
        const sug = suggestSetting(key);
        const alias = sug && findSetting(sug)!.aliases.includes(key.toLowerCase()) ? ` (\`${key}\` is what other libraries call it)` : '';
        this.sink.report('E115', s.key.span, `unknown training setting \`${key}\`${sug ? `; did you mean \`${sug}\`?${alias}` : ` (settings: ${TRAIN_SETTINGS.map((x) => x.name).join(', ')})`}`, {
          fixes: sug ? [{ title: `replace with \`${sug}\``, edits: [{ span: s.key.span, newText: sug }] }] : [],
        });
        continue;
      }
      const first = given.get(key);
      if (first) {
        this.sink.report('E107', s.key.span, `train setting \`${key}\` is given twice`, { notes: [{ message: 'first given here', span: first }] });
        continue;
      }
      given.set(key, s.key.span);
      // evaluate: words (`adam`, `step`) are the setting's own vocabulary, not parameters
      const word = (v: Evaluated | undefined): ArgValue | undefined => (v instanceof Word ? v.name : v);
      // a freeze list holds stage paths (`stage2/conv1`), read as written rather than as divisions
      const items = s.value.kind === 'list' ? s.value.items : [s.value];
      const readItem = (e: Expr): ArgValue | undefined => (key === 'freeze' ? (stagePathOf(e) ?? word(this.ev.eval(e, scope))) : undefined);
      let head: ArgValue | undefined;
      if (key !== 'freeze') head = word(this.ev.eval(s.value, scope));
      else if (s.value.kind === 'list') {
        const values = items.map(readItem);
        head = values.every((x): x is ArgValue => x !== undefined) ? values : undefined;
      } else head = readItem(s.value);
      if (head === undefined) continue;
      const positional: ArgValue[] = [head];
      const named: Record<string, ArgValue> = {};
      const at: Span[] = [s.value.span];
      const namedAt = new Map<string, { arg: Span; name: Span }>();
      let ok = true;
      for (const a of s.args ?? []) {
        const v = word(this.ev.eval(a.value, scope));
        if (v === undefined) {
          ok = false;
          continue;
        }
        if (a.name) {
          if (namedAt.has(a.name.name)) {
            this.sink.report('E107', a.span, `train setting \`${key}\`: argument \`${a.name.name}\` is given twice`, { notes: [{ message: 'first given here', span: namedAt.get(a.name.name)!.arg }] });
            ok = false;
            continue;
          }
          named[a.name.name] = v;
          namedAt.set(a.name.name, { arg: a.value.span, name: a.name.span });
        } else {
          positional.push(v);
          at.push(a.value.span);
        }
      }
      if (!ok) continue;
      const value = { positional, named };
      const r = spec.parse(value);
      if ('problem' in r) {
        const p = r.problem;
        const span =
          p.at.kind === 'head'
            ? s.value.span
            : p.at.kind === 'item'
              ? (items[p.at.index]?.span ?? s.value.span)
              : p.at.kind === 'positional'
                ? (at[p.at.index] ?? s.span)
                : ((p.at.nameOnly ? namedAt.get(p.at.name)?.name : namedAt.get(p.at.name)?.arg) ?? s.span);
        const fixes = p.suggestion ? [{ title: `replace with \`${p.suggestion}\``, edits: [{ span, newText: p.suggestion }] }] : [];
        this.sink.report(p.code, span, describeProblem(`train { ${key} … }`, p), { fixes });
        continue;
      }
      if (key === 'freeze' && nodes) {
        // the names against the network's stages: each entry located, with the closest path as a fix
        for (const p of checkFreeze(freezeEntries(head), nodes, d.name.name)) {
          const span = s.value.kind === 'list' ? items[p.index]!.span : s.value.span;
          const fixes = p.suggestion ? [{ title: `replace with \`${p.suggestion}\``, edits: [{ span, newText: p.suggestion }] }] : [];
          this.sink.report(p.code, span, `train { freeze … } ${p.message}`, { fixes });
        }
      }
      cfg[key] = value;
    }
    return cfg;
  }

  private stages(stages: readonly Stage[], input: Shape | undefined, scope: Scope, paths: PathScope): Flow {
    const nodes: Node[] = [];
    let shape = input;
    let params = 0;
    let macs = 0;
    if (this.depth >= MAX_DEPTH) {
      if (!this.tooDeep) {
        this.tooDeep = true;
        const all = this.stack.map((b) => b.name.name);
        const names = all.length > 6 ? [...all.slice(0, 3), '…', ...all.slice(-2)] : all;
        const chain = this.stack.length ? ` (blocks ${names.join(' → ')})` : '';
        this.sink.report('E403', stages[0]?.span ?? { start: 0, end: 0 }, `nesting too deep: blocks and bodies nest more than ${MAX_DEPTH} levels here${chain}`);
      }
      return { nodes, shape: undefined, params, macs };
    }
    this.depth++;
    try {
      for (const s of stages) {
        this.expanded++;
        if (++this.stageCount > MAX_STAGES) {
          if (this.stageCount === MAX_STAGES + 1) {
            if (this.repeats.length) this.tooManyStages(stages.length);
            else this.sink.report('E401', s.span, `network \`${this.network}\` expands to more than ${MAX_STAGES.toLocaleString('en-US')} stages`);
          }
          return { nodes, shape: undefined, params, macs };
        }
        const f = this.stage(s, shape, scope, paths);
        append(nodes, f.nodes);
        shape = f.shape;
        params += f.params;
        macs += f.macs;
        if (s.assert) this.assertion(s, shape, scope);
      }
    } finally {
      this.depth--;
    }
    return { nodes, shape, params, macs };
  }

  /**
   * E401 for a network whose repeats multiply past the stage limit: blamed on
   * the outermost repeat of the file being checked (`repeat 1000 { repeat
   * 1000 { relu } }` is the outer one's fault), with the product.
   */
  private tooManyStages(innermost: number): void {
    const here = this.repeats.filter((r) => r.file === this.sink.file);
    const outer = here[0] ?? this.repeats[this.repeats.length - 1]!;
    const chain = this.repeats.slice(this.repeats.indexOf(outer));
    const product = chain.reduce((p, r) => p * r.n, 1) * innermost;
    const how = chain.map((r) => `\`repeat ${r.n}\``).join(' of ') + ` of ${innermost} stage${innermost === 1 ? '' : 's'}`;
    this.sink.report(
      'E401',
      outer.keyword,
      `network \`${this.network}\` expands to more than ${MAX_STAGES.toLocaleString('en-US')} stages (${how}: ${chain.length > 1 || innermost > 1 ? 'at least ' : ''}${product.toLocaleString('en-US')} stages)`,
    );
  }

  private stage(s: Stage, input: Shape | undefined, scope: Scope, paths: PathScope): Flow {
    switch (s.kind) {
      case 'call':
        return this.call(s, input, scope, paths);
      case 'repeat': {
        const n = this.ev.int(s.count, scope, 'repeat count', 0);
        if (n === undefined) return poisoned();
        const nodes: Node[] = [];
        let shape = input;
        let params = 0;
        let macs = 0;
        // an empty body repeats nothing, however often (`repeat 2147483647 { }` must not spin)
        const times = s.body.length ? n : 0;
        for (let i = 0; i < times; i++) {
          // every round adds at least the body's own stages: once the first round has been checked (its
          // mistakes reported), a count that must pass the limit is refused without expanding the rest
          if (i === 1 && (times - 1) * s.body.length > MAX_STAGES - this.stageCount) {
            this.stageCount = MAX_STAGES + 1;
            this.repeats.push({ n, keyword: s.keyword, file: this.sink.file, stages: s.body.length });
            this.tooManyStages(s.body.length);
            this.repeats.pop();
            return poisoned();
          }
          this.repeats.push({ n, keyword: s.keyword, file: this.sink.file, stages: s.body.length });
          let f: Flow;
          try {
            f = this.stages(s.body, shape, scope, paths);
          } finally {
            this.repeats.pop();
          }
          append(nodes, f.nodes);
          shape = f.shape;
          params += f.params;
          macs += f.macs;
          // the scope is the same every time, so once poisoned every further round would only
          // redo the same failed checks (`repeat 1000000 { foo }`)
          if (!shape || this.stageCount > MAX_STAGES) return { nodes, shape: undefined, params, macs };
        }
        if (input && shape) this.info(s, paths.prefix.replace(/\/$/, ''), input, shape, params, macs);
        return { nodes, shape, params, macs };
      }
      case 'residual': {
        if (s.cond) {
          // `residual if cond { … }`: without the condition, the body alone
          const c = this.ev.bool(s.cond, scope);
          if (c === undefined) return poisoned();
          if (!c) return this.stages(s.body, input, scope, paths);
        }
        const path = paths.next('residual');
        const inner = paths.child(path);
        const body = this.stages(s.body, input, scope, inner);
        const sc = s.shortcut ? this.stages(s.shortcut, input, scope, inner.child(`${path}/shortcut`)) : undefined;
        if (!input || !body.shape || (sc && !sc.shape)) return poisoned();
        const other = sc ? sc.shape! : input;
        if (!sameShape(body.shape, other)) {
          this.sink.report(
            'E305',
            s.keyword,
            `residual: the body produces ${formatShape(body.shape)} but the ${sc ? 'shortcut produces' : 'identity shortcut passes'} ${formatShape(other)}; they must match to be added${sc ? '' : ' (add a `shortcut { … }` projection)'}`,
            { notes: sc ? [{ message: `the shortcut produces ${formatShape(other)}`, span: s.shortcutKeyword ?? s.keyword }] : [] },
          );
          return poisoned();
        }
        const node: Node = { kind: 'residual', path, inShape: input, outShape: body.shape, span: s.span, body: body.nodes, shortcut: sc ? sc.nodes : null };
        const params = body.params + (sc?.params ?? 0);
        const macs = body.macs + (sc?.macs ?? 0);
        this.info(s, path, input, body.shape, params, macs);
        return { nodes: [node], shape: body.shape, params, macs };
      }
      case 'concat':
      case 'add': {
        const path = paths.next(s.kind);
        const inner = paths.child(path);
        if (s.branches.length === 0) {
          this.sink.report('E308', s.keyword, `\`${s.kind}\` needs at least one \`branch { … }\``);
          return poisoned();
        }
        const flows: Flow[] = [];
        for (let i = 0; i < s.branches.length; i++) {
          flows.push(this.stages(s.branches[i]!.body, input, scope, inner.child(`${path}/branch${i + 1}`)));
          if (this.stageCount > MAX_STAGES) return poisoned();
        }
        if (!input || flows.some((f) => !f.shape)) return poisoned();
        const first = flows[0]!.shape!;
        for (let i = 1; i < flows.length; i++) {
          const sh = flows[i]!.shape!;
          const ok = s.kind === 'add' ? sameShape(first, sh) : sh.length === first.length && sameShape(sh.slice(1), first.slice(1));
          if (!ok) {
            const need = s.kind === 'add' ? 'the same shape to be added' : 'the same size in every dimension but channels to be concatenated';
            this.sink.report('E305', s.branches[i]!.span, `${s.kind}: branch ${i + 1} produces ${formatShape(sh)} but branch 1 produces ${formatShape(first)}; branches need ${need}`, {
              notes: [{ message: `branch 1 produces ${formatShape(first)}`, span: s.branches[0]!.span }],
            });
            return poisoned();
          }
        }
        const out = s.kind === 'add' ? [...first] : [flows.reduce((c, f) => c + f.shape![0]!, 0), ...first.slice(1)];
        const shape = this.sized(out, s.keyword, `the ${s.kind} output`);
        if (!shape) return poisoned();
        const node: Node = { kind: s.kind, path, inShape: input, outShape: shape, span: s.span, branches: flows.map((f) => f.nodes) };
        const params = flows.reduce((a, f) => a + f.params, 0);
        const macs = flows.reduce((a, f) => a + f.macs, 0);
        this.info(s, path, input, shape, params, macs);
        return { nodes: [node], shape, params, macs };
      }
      case 'split':
        return this.split(s, input, scope, paths);
      case 'if': {
        // the chosen body's stages belong to the enclosing scope, as if written there
        const c = this.ev.bool(s.cond, scope);
        if (c === undefined) return poisoned();
        const body = c ? s.then : (s.else ?? []);
        const f = this.stages(body, input, scope, paths);
        return f;
      }
      case 'gate':
        return this.gate(s, input, scope, paths);
    }
  }

  /** `split { branch … }`: each branch gets its share of the channels, in order; the outputs are concatenated */
  private split(s: Extract<Stage, { kind: 'concat' | 'add' | 'split' }>, input: Shape | undefined, scope: Scope, paths: PathScope): Flow {
    const path = paths.next('split');
    const inner = paths.child(path);
    const k = s.branches.length;
    if (k === 0) {
      this.sink.report('E308', s.keyword, '`split` needs at least one `branch { … }`');
      return poisoned();
    }
    let part: Shape | undefined;
    if (input) {
      if (input.length !== 3 && input.length !== 1) {
        this.sink.report('E307', s.keyword, `split divides the channels of an image [C, H, W] or the features of a vector [F], but its input has shape ${formatShape(input)}`);
      } else if (input[0]! % k !== 0) {
        this.sink.report('E304', s.keyword, `split: ${input[0]} channels do not divide into ${k} equal branches`);
      } else part = [input[0]! / k, ...input.slice(1)];
    }
    const flows: Flow[] = [];
    for (let i = 0; i < k; i++) {
      flows.push(this.stages(s.branches[i]!.body, part, scope, inner.child(`${path}/branch${i + 1}`)));
      if (this.stageCount > MAX_STAGES) return poisoned();
    }
    if (!input || !part || flows.some((f) => !f.shape)) return poisoned();
    const first = flows[0]!.shape!;
    for (let i = 1; i < k; i++) {
      const sh = flows[i]!.shape!;
      if (sh.length !== first.length || !sameShape(sh.slice(1), first.slice(1))) {
        this.sink.report('E305', s.branches[i]!.span, `split: branch ${i + 1} produces ${formatShape(sh)} but branch 1 produces ${formatShape(first)}; branches need the same size in every dimension but channels to be concatenated`, {
          notes: [{ message: `branch 1 produces ${formatShape(first)}`, span: s.branches[0]!.span }],
        });
        return poisoned();
      }
    }
    const shape = this.sized([flows.reduce((c, f) => c + f.shape![0]!, 0), ...first.slice(1)], s.keyword, 'the split output');
    if (!shape) return poisoned();
    const node: Node = { kind: 'split', path, inShape: input, outShape: shape, span: s.span, branches: flows.map((f) => f.nodes) };
    const params = flows.reduce((a, f) => a + f.params, 0);
    const macs = flows.reduce((a, f) => a + f.macs, 0);
    this.info(s, path, input, shape, params, macs);
    return { nodes: [node], shape, params, macs };
  }

  /** `gate { … }`: input × body(input); the body gives the input's shape, or [C, 1, 1] for an image [C, H, W] (broadcast) */
  private gate(s: Extract<Stage, { kind: 'gate' }>, input: Shape | undefined, scope: Scope, paths: PathScope): Flow {
    const path = paths.next('gate');
    const body = this.stages(s.body, input, scope, paths.child(path));
    if (!input || !body.shape) return poisoned();
    const g = body.shape;
    const ok = sameShape(g, input) || (input.length === 3 && sameShape(g, [input[0]!, 1, 1]));
    if (!ok) {
      const want = input.length === 3 ? `${formatShape(input)} or ${formatShape([input[0]!, 1, 1])}` : formatShape(input);
      this.sink.report('E305', s.keyword, `gate: the body produces ${formatShape(g)}, but multiplying the input ${formatShape(input)} needs ${want}`, {
        notes: input.length === 3 && g.length === 3 && g[0] !== input[0] ? [{ message: `the gate has ${g[0]} channels, the input ${input[0]}: the last conv of a squeeze-and-excitation gives the input's channels`, span: s.span }] : [],
      });
      return poisoned();
    }
    const node: Node = { kind: 'gate', path, inShape: input, outShape: [...input], span: s.span, body: body.nodes };
    this.info(s, path, input, input, body.params, body.macs);
    return { nodes: [node], shape: [...input], params: body.params, macs: body.macs };
  }

  private call(s: Call, input: Shape | undefined, scope: Scope, paths: PathScope): Flow {
    const name = s.callee.name;
    if (name === '@input') {
      this.sink.report('E114', s.span, '`input [..]` must be the first line of a network body, and only there');
      return { nodes: [], shape: input, params: 0, macs: 0 };
    }
    if (name === '@train') {
      this.sink.report('E114', s.span, 'a `train { … }` section belongs in a network body, not in a block or a nested body');
      return { nodes: [], shape: input, params: 0, macs: 0 };
    }
    if (name === '@shortcut') {
      this.sink.report('E114', s.span, '`shortcut { … }` belongs right after a residual\'s body: `residual { … } shortcut { … }`');
      return { nodes: [], shape: input, params: 0, macs: 0 };
    }
    const layer = findLayer(name);
    if (layer) return this.layerCall(s, layer, input, scope, paths);
    const entry = this.module.scope.get(name);
    this.depend(name, entry?.decl);
    if (entry?.decl.kind === 'block') return this.blockCall(s, entry.decl, entry.module, input, scope, paths);
    if (entry) {
      this.sink.report('E101', s.callee.span, `\`${name}\` is a network; only layers and blocks can be stages (make the shared part a block)`);
      return poisoned();
    }
    // a file whose imports failed cannot tell a typo from a name in the missing file: the import's error says it all
    if (this.module.incomplete) return poisoned();
    // a layer's own alias (`swish` for silu) is a suggestion of the same function: it wins over the foreign list
    const foreign = LAYERS.some((l) => l.aliases?.includes(name.toLowerCase())) ? undefined : foreignLayer(name);
    if (foreign) {
      this.sink.report('E101', s.callee.span, `\`${name}\` (${foreign.from}) is not in alexnetc's catalogue; its layers are listed in docs/language.md`);
      return poisoned();
    }
    const { sug, why } = this.meant(name);
    this.sink.report('E101', s.callee.span, `unknown layer or block \`${name}\`${sug ? `; did you mean \`${sug}\`?${why}` : ''}`, {
      fixes: sug ? [{ title: `replace with \`${sug}\``, edits: [{ span: s.callee.span, newText: sug }] }] : [],
    });
    return poisoned();
  }

  /** what an unknown callee was probably meant as, worked out once per name and file (a typo repeated on every line) */
  private meant(name: string): { sug: string | undefined; why: string } {
    const key = `${this.sink.file ?? ''}\u0000${name}`;
    const hit = this.meantCache.get(key);
    if (hit) return hit;
    const blocks = blockNames(this.module);
    this.depend('', undefined, blocks.join('\u0000'));
    const alias = LAYERS.find((l) => l.aliases?.includes(name.toLowerCase()));
    const near = suggest(name, [...LAYERS.map((l) => l.name), ...blocks]);
    // a suggestion is a spelling fix, never another function (`relu6` is not `relu`)
    const sug = alias?.name ?? (near !== undefined && !differentFunction(name, near) ? near : undefined);
    const out = { sug, why: alias ? ` (\`${name}\` is what other libraries call it)` : '' };
    this.meantCache.set(key, out);
    return out;
  }

  private layerCall(s: Call, layer: AnyLayer, input: Shape | undefined, scope: Scope, paths: PathScope): Flow {
    const path = paths.next(layer.name);
    const sig = signatureOf(layer);
    const bound = bindArgs(s, sig.slots, sig.what, this.sink);
    if (!bound) return poisoned();
    const raw: Record<string, ArgValue> = {};
    let ok = true;
    const specs = layer.args;
    for (let i = 0; i < specs.length; i++) {
      const spec = specs[i]!;
      const a = bound[i];
      if (!a) {
        if (spec.default !== undefined && spec.default !== null) raw[spec.name] = spec.default;
        continue;
      }
      const v = this.ev.eval(a.value, scope);
      const checked = v === undefined ? undefined : this.argValue(layer.name, spec, v, a.value, scope);
      if (checked === undefined) ok = false;
      else raw[spec.name] = checked;
    }
    if (!ok || !input) return poisoned();
    const ctx = this.layerReports.reset(this.sink, s, specs, bound);
    const res = layer.infer(raw, input, ctx);
    if (!res || ctx.failed) return poisoned();
    const shape = this.sized(res.shape, s.span, layer);
    if (!shape) return poisoned();
    const weights = layer.weights(res.args, input);
    let params = 0;
    for (let i = 0; i < weights.length; i++) {
      const w = weights[i]!;
      const n = product(w.shape);
      if (n > MAX_ELEMENTS) {
        this.sink.report('E402', s.span, `\`${layer.name}\` ${w.name} ${formatShape(w.shape)} has ${n.toExponential(3)} elements, more than can be allocated (${MAX_ELEMENTS})`);
        return poisoned();
      }
      if (w.trainable) params += n;
    }
    const macs = layer.macs(res.args, input, shape);
    const node: LayerNode = { kind: 'layer', path, layer, args: res.args, rawArgs: raw, inShape: input, outShape: shape, span: s.span, weights, params, macs };
    this.stageInfo.push({ stage: s, network: this.network, path, inShape: input, outShape: shape, params, macs, layer, rawArgs: raw });
    return { nodes: [node], shape, params, macs };
  }

  private blockCall(s: Call, block: BlockDecl, home: Module, input: Shape | undefined, scope: Scope, paths: PathScope): Flow {
    const name = block.name.name;
    if (this.stack.includes(block)) {
      const cycle = [...this.stack.slice(this.stack.indexOf(block)), block].map((b) => b.name.name).join(' → ');
      this.sink.report('E110', s.callee.span, `block \`${name}\` calls itself (${cycle}); recursion is not allowed`);
      return poisoned();
    }
    const slots = blockSlotsOf(block);
    const bound = bindArgs(s, slots, `block \`${name}\``, this.sink);
    if (!bound) return poisoned();
    const inner: Scope = { values: new Map(), poisoned: new Set() };
    const frame = { name, span: s.span, file: this.sink.file };
    let ok = true;
    for (const p of block.params) {
      const a = bound[slotIndex(slots, p.name.name)];
      let v: Evaluated | undefined;
      if (a) {
        v = this.ev.eval(a.value, scope);
        if (v instanceof Word) {
          // bare words pass into a block only where a layer takes them (`pad same`, `approximate tanh`)
          if (LAYER_WORDS.has(v.name)) v = v.name;
          else this.ev.unknownName(v, scope);
        }
      } else {
        // a default is written in the block's own file
        this.sink.frames.push(frame);
        v = this.inModule(home, () => {
          const d = this.ev.eval(p.default!, inner);
          if (d instanceof Word) this.ev.unknownName(d, inner);
          return d;
        });
        this.sink.frames.pop();
      }
      if (v === undefined || v instanceof Word) ok = false;
      else inner.values.set(p.name.name, v);
    }
    if (!ok) return poisoned();
    const path = paths.next(name);
    const key = input && this.opts.memo !== false ? memoKey(input, inner.values) : undefined;
    const memos = key === undefined ? undefined : (this.blockMemo.get(block) ?? this.blockMemo.set(block, new Map()).get(block)!);
    const hit = key === undefined ? undefined : memos!.get(key);
    let flow: Flow;
    if (hit && hit.depth === this.depth && this.stageCount + hit.stages <= MAX_STAGES && !this.stack.some((b) => hit.blocks.has(b))) {
      flow = this.replay(hit, path);
      this.memoHits++;
      for (const r of this.recording) for (const b of hit.blocks) r.add(b);
      for (const c of hit.calls) this.called(c);
      if (this.opts.cache) {
        for (const r of hit.reads) this.reread(r);
        this.useMemo(block, key!, hit);
      }
      if (this.opts.cache) this.called({ block, key: key!, sig: { input: input!, values: inner.values, depth: this.depth, shape: flow.shape!, params: flow.params, macs: flow.macs, stages: hit.stages } });
    } else {
      for (const r of this.recording) r.add(block);
      const blocks = new Set<BlockDecl>([block]);
      this.recording.push(blocks);
      const calls: BlockCall[] = [];
      this.callRecording.push(calls);
      const reads = new Map<string, Resolution>();
      if (this.opts.cache) this.readRecording.push(reads);
      const [reports, stageCount, infos, depth] = [this.sink.reports, this.stageCount, this.stageInfo.length, this.depth];
      this.stack.push(block);
      this.sink.frames.push(frame);
      try {
        flow = this.inModule(home, () => this.stages(block.body, input, inner, paths.child(path)));
      } finally {
        this.sink.frames.pop();
        this.stack.pop();
        this.recording.pop();
        this.callRecording.pop();
        if (this.opts.cache) this.readRecording.pop();
      }
      for (const r of this.recording) for (const b of blocks) r.add(b);
      if (key !== undefined && flow.shape && this.sink.reports === reports) {
        const stages = this.stageCount - stageCount;
        const m: BlockMemo = { path, flow, infos: this.stageInfo.slice(infos), stages, depth, blocks, calls, reads: [...reads.values()] };
        memos!.set(key, m);
        this.useMemo(block, key, m);
        if (this.opts.cache) this.called({ block, key, sig: { input: input!, values: inner.values, depth, shape: flow.shape, params: flow.params, macs: flow.macs, stages } });
      } else if (this.opts.cache) this.called({ block, key: '', sig: null });
    }
    if (input && flow.shape) this.info(s, path, input, flow.shape, flow.params, flow.macs);
    return flow;
  }

  /** note a block call's signature and outcome, for the current network and every body being recorded */
  private called(c: BlockCall): void {
    if (!this.opts.cache) return;
    for (const r of this.callRecording) r.push(c);
    const t = this.calls.get(c.block);
    if (t === null) return;
    if (!c.sig) this.calls.set(c.block, null);
    else if (t) t.set(`${c.sig.depth}|${c.key}`, c.sig);
    else this.calls.set(c.block, new Map([[`${c.sig.depth}|${c.key}`, c.sig]]));
  }

  /**
   * Blocks the network calls were edited (`swaps`: each old declaration and
   * the new one): does every call the last check made give the same again
   * (output shape, parameters, MACs, stage count, nothing reported)? Then
   * the network's diagnostics are the same; only its stage facts and IR
   * differ, and those are worked out when asked (CheckCache.stale). Not where
   * a `train { freeze … }` names stages inside the blocks.
   */
  private sameInterfaces(prev: NetworkEntry, d: NetworkDecl, swaps: Map<BlockDecl, { now: BlockDecl; home: Module }>): boolean {
    if (d.train?.settings.some((s) => s.key.name === 'freeze')) return false;
    for (const [was, { now, home }] of swaps) {
      if (!sameIgnoringSpans(was.params, now.params)) return false;
      const table = prev.calls.get(was);
      if (table === null) return false;
      for (const sig of table?.values() ?? []) if (!this.sameCall(now, home, sig)) return false;
    }
    return true;
  }

  /** check `block`'s body alone for one recorded call, on the side: the same outcome? */
  private sameCall(block: BlockDecl, home: Module, sig: Signature): boolean {
    const saved = { sink: this.sink, ev: this.ev, stageCount: this.stageCount, depth: this.depth, infos: this.stageInfo.length, repeats: this.repeats, tooDeep: this.tooDeep, calls: this.calls, expanded: this.expanded };
    const sink = new CheckSink();
    this.sink = sink;
    this.ev = new Evaluator(sink);
    this.stageCount = 0;
    this.depth = sig.depth;
    this.repeats = [];
    this.tooDeep = false;
    this.calls = new Map();
    this.stack.push(block);
    let flow: Flow;
    let stages: number;
    try {
      flow = this.inModule(home, () => this.stages(block.body, sig.input, { values: new Map(sig.values), poisoned: new Set() }, new PathScope('').child('side')));
      stages = this.stageCount;
    } finally {
      this.stack.pop();
      this.stageInfo.length = saved.infos;
      ({ sink: this.sink, ev: this.ev, stageCount: this.stageCount, depth: this.depth, repeats: this.repeats, tooDeep: this.tooDeep, calls: this.calls, expanded: this.expanded } = saved);
    }
    return sink.reports === 0 && flow.shape !== undefined && sameShape(flow.shape, sig.shape) && flow.params === sig.params && flow.macs === sig.macs && stages === sig.stages;
  }

  /** note that the current network's check read `name` in the current file's scope (or, `blocks`, the list of its blocks) */
  private depend(name: string, decl: Decl | undefined, blocks?: string): void {
    // only a kept check needs to know (the command line's checks keep nothing)
    if (!this.opts.cache) return;
    const file = this.module === this.root ? ROOT_FILE : this.module.file;
    const key = `${file}\u0000${name}`;
    let r = this.resolved.get(key);
    if (!r) this.resolved.set(key, (r = { file, name, decl, incomplete: this.module.incomplete, blocks, stage: this.topStage }));
    for (const rec of this.readRecording) if (!rec.has(key)) rec.set(key, r);
  }

  /** a name a replayed body read: noted for the current network and the bodies being recorded, as `depend` would */
  private reread(r: Resolution): void {
    const key = `${r.file}\u0000${r.name}`;
    if (!this.resolved.has(key)) this.resolved.set(key, { ...r, stage: this.topStage });
    for (const rec of this.readRecording) if (!rec.has(key)) rec.set(key, r);
  }

  /** a kept block body for a call at `path`: its nodes and stage facts with the path swapped, its stages counted */
  private replay(m: BlockMemo, path: string): Flow {
    const swap = (p: string): string => (p === m.path ? path : p.startsWith(m.path) && p[m.path.length] === '/' ? path + p.slice(m.path.length) : p);
    const copy = (n: Node): Node => {
      switch (n.kind) {
        case 'layer':
          return { ...n, path: swap(n.path) };
        case 'residual':
          return { ...n, path: swap(n.path), body: n.body.map(copy), shortcut: n.shortcut ? n.shortcut.map(copy) : null };
        case 'gate':
          return { ...n, path: swap(n.path), body: n.body.map(copy) };
        case 'concat':
        case 'add':
        case 'split':
          return { ...n, path: swap(n.path), branches: n.branches.map((b) => b.map(copy)) };
      }
    };
    this.stageCount += m.stages;
    this.expanded += m.stages;
    if (m.path === path) {
      // the same call as the one that made it (the next check of a document, at the same place): nodes and
      // stage facts are not changed after they are made, so the very objects serve
      for (const i of m.infos) this.stageInfo.push(i.network === this.network ? i : { ...i, network: this.network });
      return { nodes: m.flow.nodes.slice(), shape: m.flow.shape, params: m.flow.params, macs: m.flow.macs };
    }
    for (const i of m.infos) this.stageInfo.push({ ...i, network: this.network, path: swap(i.path) });
    return { nodes: m.flow.nodes.map(copy), shape: m.flow.shape, params: m.flow.params, macs: m.flow.macs };
  }

  private argValue(layer: string, spec: ArgSpec, v: Evaluated, e: Expr, scope: Scope): ArgValue | undefined {
    if (v instanceof Word) {
      if (spec.type === 'pad' && v.name === 'same') return 'same';
      if (spec.type === 'word' && spec.words?.includes(v.name)) return v.name;
      const words = spec.type === 'pad' ? ['same'] : spec.type === 'word' ? [...(spec.words ?? [])] : [];
      const s = suggest(v.name, [...scope.values.keys(), ...words]);
      this.sink.report('E102', v.span, `unknown name \`${v.name}\` in ${argWhat(layer, spec)}${s ? `; did you mean \`${s}\`?` : ''}`, {
        fixes: s ? [{ title: `replace with \`${s}\``, edits: [{ span: v.span, newText: s }] }] : [],
      });
      return undefined;
    }
    switch (spec.type) {
      case 'word':
        return typeof v === 'string' && spec.words?.includes(v) ? v : this.wrongArg(layer, spec, v, e);
      case 'bool':
        return typeof v === 'boolean' ? v : this.wrongArg(layer, spec, v, e);
      case 'number':
        return this.numArg(layer, spec, v, v, e, false) ? v : undefined;
      case 'int':
        return this.numArg(layer, spec, v, v, e, true) ? v : undefined;
      case 'int2':
      case 'pad': {
        if (!Array.isArray(v)) return this.numArg(layer, spec, v, v, e, true) ? v : undefined;
        if (!(v.length === 2 || (spec.type === 'pad' && v.length === 4))) return this.wrongArg(layer, spec, v, e);
        for (const x of v) if (!this.numArg(layer, spec, v, x, e, true)) return undefined;
        return v;
      }
    }
  }

  /** E201: an argument of the wrong kind (`v`: the whole value) */
  private wrongArg(layer: string, spec: ArgSpec, v: ArgValue, e: Expr): undefined {
    const expected = {
      int: 'a whole number',
      number: 'a number',
      bool: '`true` or `false`',
      int2: 'a whole number or [h, w]',
      pad: 'a whole number, [h, w], [top, left, bottom, right] or `same`',
      word: (spec.words ?? []).map((w) => `\`${w}\``).join(' or '),
    }[spec.type];
    this.sink.report('E201', e.span, `${argWhat(layer, spec)} expects ${expected}, got ${fmtValue(v)}`);
    return undefined;
  }

  /** whether `x` (`v` or an item of it) is a number the argument takes; if not, reported */
  private numArg(layer: string, spec: ArgSpec, v: ArgValue, x: ArgValue, e: Expr, isInt: boolean): boolean {
    if (typeof x !== 'number') {
      this.wrongArg(layer, spec, v, e);
      return false;
    }
    if (isInt && !Number.isInteger(x)) {
      this.ev.notWhole(e, x, argWhat(layer, spec));
      return false;
    }
    // every number argument ends up a float32 (an ONNX attribute, a tfjs weight): judge the value it becomes
    const f = isInt ? x : Math.fround(x);
    if (!isInt && (Math.abs(x) > FLOAT32_MAX || (x !== 0 && Math.abs(x) < FLOAT32_MIN_NORMAL))) {
      const why = Math.abs(x) > FLOAT32_MAX ? 'is too large for a 32-bit float (at most 3.4e38)' : 'is too small for a 32-bit float (it would be 0 or lose its precision below 1.2e-38)';
      this.sink.report('E202', e.span, `${argWhat(layer, spec)} ${why}, got ${fmtValue(x)}`);
      return false;
    }
    const bad =
      spec.min !== undefined && f < spec.min
        ? `at least ${spec.min}`
        : spec.max !== undefined && f > spec.max
          ? `at most ${spec.max}`
          : spec.above !== undefined && f <= spec.above
            ? `greater than ${spec.above}`
            : spec.below !== undefined && f >= spec.below
              ? `less than ${spec.below}`
              : isInt && x > MAX_INT
                ? `at most ${MAX_INT}`
                : undefined;
    if (bad) {
      const rounded = f !== x ? ` (${fmtValue(f)} as a 32-bit float)` : '';
      this.sink.report('E202', e.span, `${argWhat(layer, spec)} must be ${bad}, got ${fmtValue(x)}${rounded}`);
      return false;
    }
    return true;
  }

  private assertion(s: Stage, shape: Shape | undefined, scope: Scope): void {
    // after a failed stage the assertion cannot be judged: one root cause, one message
    if (!shape) return;
    const a = s.assert!;
    const dims = a.dims.map((e) => this.ev.int(e, scope, 'asserted dimension'));
    if (dims.some((x) => x === undefined)) return;
    if (!sameShape(dims as number[], shape)) {
      const listSpan = { start: a.span.start, end: a.span.end };
      this.sink.report('E306', listSpan, `shape assertion failed: expected ${formatShape(dims as number[])}, but this stage produces ${formatShape(shape)}`, {
        fixes: [{ title: `update the assertion to ${formatShape(shape)}`, edits: [{ span: listSpan, newText: `: ${formatShape(shape)}` }] }],
      });
    }
  }

  /** refuse shapes that could never be allocated, before anything is */
  private sized(shape: Shape, span: Span, what: string | AnyLayer): Shape | undefined {
    const n = product(shape);
    if (n > MAX_ELEMENTS || !Number.isSafeInteger(n)) {
      const named = typeof what === 'string' ? what : `the output of \`${what.name}\``;
      this.sink.report('E401', span, `${named} ${formatShape(shape)} has ${n.toExponential(3)} elements per example, more than can be allocated (${MAX_ELEMENTS})`);
      return undefined;
    }
    return shape;
  }

  private info(stage: Stage, path: string, inShape: Shape, outShape: Shape, params: number, macs: number): void {
    this.stageInfo.push({ stage, network: this.network, path, inShape, outShape, params, macs });
  }

}

/** a block call's input shape and argument values as a key (every number exactly: -0, NaN and Infinity apart) */
function memoKey(input: Shape, values: ReadonlyMap<string, ArgValue>): string {
  const v = (x: ArgValue): string => (Array.isArray(x) ? `[${x.map(v).join(',')}]` : typeof x === 'number' ? (Object.is(x, -0) ? '-0' : String(x)) : typeof x === 'string' ? JSON.stringify(x) : String(x));
  let k = input.join(',');
  for (const [name, x] of values) k += `;${name}=${v(x)}`;
  return k;
}

/** how messages name a layer's argument */
function argWhat(layer: string, spec: ArgSpec): string {
  return `\`${layer}\` argument \`${spec.name}\``;
}

/** a layer's argument slots and how messages name it, made once per layer (not per call) */
const signatures = new WeakMap<AnyLayer, { slots: ParamSlot[]; what: string }>();

function signatureOf(layer: AnyLayer): { slots: ParamSlot[]; what: string } {
  let sig = signatures.get(layer);
  if (!sig) {
    sig = { slots: layer.args.map((a) => ({ name: a.name, required: a.default === undefined, aliases: a.aliases })), what: `\`${layer.name}\`` };
    signatures.set(layer, sig);
  }
  return sig;
}

/** a block's parameters as argument slots (kept while the declaration is the same object) */
const blockSlots = new WeakMap<BlockDecl, ParamSlot[]>();

function blockSlotsOf(block: BlockDecl): ParamSlot[] {
  let slots = blockSlots.get(block);
  if (!slots) {
    slots = block.params.map((p) => ({ name: p.name.name, required: !p.default }));
    blockSlots.set(block, slots);
  }
  return slots;
}

/** what a layer's shape rule reports through: the caret under the argument at fault, else the whole call */
class LayerReports implements LayerContext {
  failed = false;
  private sink!: DiagnosticSink;
  private call!: Call;
  private specs: readonly ArgSpec[] = [];
  private bound: readonly (Arg | undefined)[] = [];
  /** ready for the shape rule of `call` */
  reset(sink: DiagnosticSink, call: Call, specs: readonly ArgSpec[], bound: readonly (Arg | undefined)[]): this {
    this.failed = false;
    this.sink = sink;
    this.call = call;
    this.specs = specs;
    this.bound = bound;
    return this;
  }
  private at(arg: string | undefined): Span {
    if (!arg) return this.call.span;
    for (let i = 0; i < this.specs.length; i++) if (this.specs[i]!.name === arg) return this.bound[i]?.span || this.call.span;
    return this.call.span;
  }
  error(code: Code, message: string, arg?: string): void {
    this.failed = true;
    const s = this.call.span;
    const fixes = code === 'E303' ? [{ title: 'insert `flatten` before it', edits: [{ span: { start: s.start, end: s.start }, newText: 'flatten | ' }] }] : [];
    this.sink.report(code, this.at(arg), message, { fixes });
  }
  warn(code: Code, message: string, arg?: string): void {
    this.sink.report(code, this.at(arg), message);
  }
}

/** the bare words some layer argument takes: they may be passed to blocks as values */
const LAYER_WORDS = new Set(['same', ...LAYERS.flatMap((l) => l.args.flatMap((a) => a.words ?? []))]);

/** push without spreading: a repeat can expand to a million nodes, more than a call's arguments may be */
function append<T>(to: T[], from: readonly T[]): void {
  for (const x of from) to.push(x);
}

function product(shape: readonly number[]): number {
  let n = 1;
  for (let i = 0; i < shape.length; i++) n *= shape[i]!;
  return n;
}

function kindOf(v: ArgValue): string {
  if (typeof v === 'boolean') return '`true` or `false`';
  if (Array.isArray(v)) return `a list of ${v.length}`;
  // whole or not is judged where the value is used (`dense(classes)` needs a whole number, `dropout(rate)` not)
  if (typeof v === 'number') return 'a number';
  return 'a word';
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}


/**
 * The names a declaration uses and the names it calls, kept per declaration:
 * the language server hands the checker the same declaration objects while
 * their text is unchanged (src/syntax/incremental.ts), so an edit elsewhere
 * does not walk them again. Names only: moving a declaration changes nothing here.
 */
const namesOf = new WeakMap<NetworkDecl | BlockDecl, { refs: Set<string>; callees: Set<string> }>();

function names(d: NetworkDecl | BlockDecl): { refs: Set<string>; callees: Set<string> } {
  let n = namesOf.get(d);
  if (!n) {
    n = { refs: new Set(), callees: new Set() };
    if (d.body.length < 64) {
      for (const e of exprsOf(d)) for (const r of refs(e)) n.refs.add(r.name);
      for (const s of allStages(d.body)) if (s.kind === 'call') n.callees.add(s.callee.name);
    } else {
      // a long body: the names of each run of NAME_CHUNK stages are kept with its first stage (a long
      // network is a new declaration after every edit in it, made of the same stages but for the edited part)
      for (const e of exprsOf({ ...d, body: [] })) for (const r of refs(e)) n.refs.add(r.name);
      for (let i = 0; i < d.body.length; i += NAME_CHUNK) {
        const own = chunkNames(d.body, i);
        for (const r of own.refs) n.refs.add(r);
        for (const c of own.callees) n.callees.add(c);
      }
    }
    namesOf.set(d, n);
  }
  return n;
}

const NAME_CHUNK = 64;
interface ChunkNames {
  stages: readonly Stage[];
  refs: Set<string>;
  callees: Set<string>;
}
const chunkNamesOf = new WeakMap<Stage, ChunkNames>();

/** the names used and called by stages i … i + NAME_CHUNK - 1 of a body (kept while they are the same stages) */
function chunkNames(body: readonly Stage[], i: number): ChunkNames {
  const end = Math.min(body.length, i + NAME_CHUNK);
  const kept = chunkNamesOf.get(body[i]!);
  if (kept && kept.stages.length === end - i && kept.stages.every((s, k) => s === body[i + k])) return kept;
  const stages = body.slice(i, end);
  const n: ChunkNames = { stages, refs: new Set(), callees: new Set() };
  for (const e of exprsOf({ kind: 'block', params: [], body: stages } as unknown as BlockDecl)) for (const r of refs(e)) n.refs.add(r.name);
  for (const x of allStages(stages)) if (x.kind === 'call') n.callees.add(x.callee.name);
  chunkNamesOf.set(body[i]!, n);
  return n;
}

function collectRefs(d: NetworkDecl | BlockDecl, out: Set<string>): void {
  for (const r of names(d).refs) out.add(r);
}

function collectCallees(d: NetworkDecl | BlockDecl, out: Set<string>): void {
  for (const c of names(d).callees) out.add(c);
}
