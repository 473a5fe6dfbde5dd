// One analysis per document version: the compile result the CLI would get,
// plus the indexes the editor features read (stage → what the checker learnt
// about it, name occurrences for definition / references / rename).
import { CheckCache, type StageInfo } from '../check/checker.js';
import { compile, type CompileResult, type ParseFile, type ReadFile } from '../compile.js';
import { LineIndex, type Span } from '../diagnostics/span.js';
import type { Arg, BlockDecl, Decl, Program, Stage } from '../syntax/ast.js';
import type { Parsed } from '../syntax/incremental.js';
import { parse } from '../syntax/parse.js';
import { allStages, exprsOf, refs } from '../syntax/walk.js';

export interface Occurrence {
  /**
   * `block:NAME`, `network:NAME` or `param:DECL_INDEX:NAME` for this file's
   * declarations; `FILE|block:NAME`, `FILE|param:NAME:PARAM` and `FILE|file`
   * for what is declared in an imported file
   */
  key: string;
  span: Span;
  /** the declaration itself (not a use) */
  isDecl: boolean;
  /** where it is declared, when that is in an imported file */
  target?: { file: string; span: Span };
}

/** A declaration a name in this file resolves to: its own, or one of a file it imports. */
export interface Resolved<D extends Decl = Decl> {
  decl: D;
  /** the imported file it is in; undefined: this file */
  file?: string;
}

export interface Analysis {
  version: number;
  text: string;
  /** the document's path (undefined for an untitled buffer) */
  file?: string;
  result: CompileResult;
  program: Program | undefined;
  /** every instantiation of a stage, in checking order (built when first read) */
  readonly info: Map<Stage, StageInfo[]>;
  /** built when first read */
  readonly occurrences: Occurrence[];
  /** every file this document imports, directly or not, read or not: a change to one re-checks it */
  deps: Set<string>;
  /** line indexes of the imported files, made when first needed */
  indexes: Map<string, LineIndex>;
}

export interface AnalyzeOptions {
  file?: string;
  readFile?: ReadFile;
  parseFile?: ParseFile;
  /** how to parse the document's own text (the server's IncrementalParser for it); default: parse it whole */
  parse?: (text: string) => Parsed;
  /** what the last check of this document left (the server's, kept beside its parser) */
  checkCache?: CheckCache;
}

export function analyze(text: string, version: number, opts: AnalyzeOptions = {}): Analysis {
  let parsed: Parsed | undefined;
  const parseText = opts.parse ?? parse;
  const base = { all: true, file: opts.file, readFile: opts.readFile, parseFile: opts.parseFile } as const;
  let result = compile(text, { ...base, parse: (t) => (parsed = parseText(t)), checkCache: opts.checkCache });
  // the kept check took a network over whose blocks were edited without changing what their calls give
  // (CheckCache.stale): its diagnostics are right, its stage facts and IR are worked out when a feature
  // asks for them, by a check of the same parse from scratch
  // (kept for the next edit, unless another check came in between)
  const cache = opts.checkCache;
  if (cache?.stale && parsed) {
    const generation = cache.generation;
    result = lazyFacts(result, () => {
      const fresh = new CheckCache();
      const full = compile(text, { ...base, parse: () => parsed!, checkCache: fresh });
      if (cache.generation === generation) [cache.entries, cache.stale] = [fresh.entries, fresh.stale];
      return full;
    });
  }
  const program = result.program;
  // the stage index and the name occurrences are built when a feature first reads them, not
  // for every edit: publishing an edit's diagnostics needs neither
  let info: Map<Stage, StageInfo[]> | undefined;
  let occ: Occurrence[] | undefined;
  const a: Analysis = {
    version,
    text,
    file: opts.file,
    result,
    program,
    get info() {
      if (!info) {
        info = new Map();
        for (const i of result.stageInfo) {
          const list = info.get(i.stage);
          if (list) list.push(i);
          else info.set(i.stage, [i]);
        }
      }
      return info;
    },
    get occurrences() {
      return (occ ??= program ? occurrences(program, a) : []);
    },
    deps: new Set(result.dependencies),
    indexes: new Map(),
  };
  return a;
}

/** `result` with its networks and stage facts taken from `full()`, computed once, when first read */
function lazyFacts(result: CompileResult, full: () => CompileResult): CompileResult {
  let f: CompileResult | undefined;
  const get = (): CompileResult => (f ??= full());
  return {
    ...result,
    get networks() {
      return get().networks;
    },
    get network() {
      return get().network;
    },
    get stageInfo() {
      return get().stageInfo;
    },
  };
}

/** the text of this document or of a file it imports */
export function textOf(a: Analysis, file: string | undefined): string | undefined {
  return file === undefined ? a.text : a.result.files.find((f) => f.file === file)?.text;
}

/** line and column (1-based) in this document or in an imported file */
export function indexOf(a: Analysis, file: string | undefined): LineIndex | undefined {
  if (file === undefined) return undefined;
  let ix = a.indexes.get(file);
  if (!ix) {
    const t = textOf(a, file);
    if (t === undefined) return undefined;
    a.indexes.set(file, (ix = new LineIndex(t)));
  }
  return ix;
}

/** the files this document imports itself, in the order of its imports, with the import's span */
export function directImports(a: Analysis): { file: string; via: Span; program: Program }[] {
  return a.result.files.filter((f) => f.direct).sort((x, y) => x.via.start - y.via.start);
}

/** what a name used in this document means: its own declaration first, then the first import that declares it */
export function resolveName(a: Analysis, name: string): Resolved | undefined {
  const own = a.program?.decls.find((d) => d.name.name === name);
  if (own) return { decl: own };
  for (const f of directImports(a)) {
    const d = f.program.decls.find((x) => x.name.name === name);
    if (d) return { decl: d, file: f.file };
  }
  return undefined;
}

/** every block this document can call */
export function blocksInScope(a: Analysis): Resolved<BlockDecl>[] {
  const out = new Map<string, Resolved<BlockDecl>>();
  for (const d of a.program?.decls ?? []) if (d.kind === 'block' && !out.has(d.name.name)) out.set(d.name.name, { decl: d });
  for (const f of directImports(a)) {
    for (const d of f.program.decls) if (d.kind === 'block' && !out.has(d.name.name)) out.set(d.name.name, { decl: d, file: f.file });
  }
  return [...out.values()];
}

export function contains(s: Span, offset: number): boolean {
  return s.start <= offset && offset <= s.end;
}

// ---- walking the AST ------------------------------------------------------

/** the declaration around an offset (the last one starting before it, for half-typed text) */
export function declAt(program: Program | undefined, offset: number): Decl | undefined {
  let found: Decl | undefined;
  for (const d of program?.decls ?? []) if (d.span.start <= offset) found = d;
  return found;
}

/** every expression of a declaration, with the arguments they belong to */
function occurrences(program: Program, a: Analysis): Occurrence[] {
  const out: Occurrence[] = [];
  const declIndex = new Map<string, number>();
  program.decls.forEach((d, i) => {
    if (!declIndex.has(d.name.name)) declIndex.set(d.name.name, i);
  });
  const blockIndex = (name: string): number | undefined => {
    const i = declIndex.get(name);
    return i !== undefined && program.decls[i]!.kind === 'block' ? i : undefined;
  };
  program.decls.forEach((d, di) => {
    out.push({ key: `${d.kind}:${d.name.name}`, span: d.name.span, isDecl: true });
    const params = new Set(d.params.map((p) => p.name.name));
    for (const p of d.params) out.push({ key: `param:${di}:${p.name.name}`, span: p.name.span, isDecl: true });
    for (const e of exprsOf(d)) for (const r of refs(e)) if (params.has(r.name)) out.push({ key: `param:${di}:${r.name}`, span: r.span, isDecl: false });
    for (const s of allStages(d.body)) {
      if (s.kind !== 'call') continue;
      const bi = blockIndex(s.callee.name);
      if (bi === undefined) {
        imported(s, a, out);
        continue;
      }
      out.push({ key: `block:${s.callee.name}`, span: s.callee.span, isDecl: false });
      const block = program.decls[bi]!;
      for (const a of s.args as Arg[]) {
        if (a.name && block.params.some((p) => p.name.name === a.name!.name)) out.push({ key: `param:${bi}:${a.name.name}`, span: a.name.span, isDecl: false });
      }
    }
  });
  for (const f of directImports(a)) {
    const imp = program.imports.find((i) => i.span.start === f.via.start);
    if (imp) out.push({ key: `${f.file}|file`, span: imp.pathSpan, isDecl: false, target: { file: f.file, span: { start: 0, end: 0 } } });
  }
  return out.sort((a, b) => a.span.start - b.span.start);
}

/** a call of a block from an imported file, and its named arguments */
function imported(s: Extract<Stage, { kind: 'call' }>, a: Analysis, out: Occurrence[]): void {
  const r = resolveName(a, s.callee.name);
  if (!r?.file || r.decl.kind !== 'block') return;
  out.push({ key: `${r.file}|block:${r.decl.name.name}`, span: s.callee.span, isDecl: false, target: { file: r.file, span: r.decl.name.span } });
  for (const arg of s.args as Arg[]) {
    const p = arg.name && r.decl.params.find((x) => x.name.name === arg.name!.name);
    if (p) out.push({ key: `${r.file}|param:${r.decl.name.name}:${p.name.name}`, span: arg.name!.span, isDecl: false, target: { file: r.file, span: p.name.span } });
  }
}

export function occurrenceAt(a: Analysis, offset: number): Occurrence | undefined {
  return a.occurrences.find((o) => contains(o.span, offset));
}

/** the innermost stage under the cursor: a call anywhere in it, a construct on its keyword */
export function stageAt(program: Program | undefined, offset: number): { stage: Stage; decl: Decl } | undefined {
  let best: { stage: Stage; decl: Decl; size: number } | undefined;
  for (const d of program?.decls ?? []) {
    if (!contains(d.span, offset)) continue;
    for (const s of allStages(d.body)) {
      const sp = s.kind === 'call' ? s.span : contains(s.keyword, offset) ? s.keyword : s.kind === 'residual' && s.shortcutKeyword && contains(s.shortcutKeyword, offset) ? s.shortcutKeyword : undefined;
      if (!sp || !contains(sp, offset)) continue;
      const size = sp.end - sp.start;
      if (!best || size <= best.size) best = { stage: s, decl: d, size };
    }
  }
  return best && { stage: best.stage, decl: best.decl };
}
