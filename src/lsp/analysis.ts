// One analysis per document version: the compile result the CLI would get,
// plus the indexes the editor features read (stage → what the checker learnt
// about it, name occurrences for definition / references / rename).
import type { StageInfo } from '../check/checker.js';
import { compile, type CompileResult } from '../compile.js';
import type { Span } from '../diagnostics/span.js';
import type { Arg, Decl, Expr, Program, Stage } from '../syntax/ast.js';
import { allStages, exprsOf, refs } from '../syntax/walk.js';

export interface Occurrence {
  /** `block:NAME`, `network:NAME` or `param:DECL_INDEX:NAME` */
  key: string;
  span: Span;
  /** the declaration itself (not a use) */
  isDecl: boolean;
}

export interface Analysis {
  version: number;
  text: string;
  result: CompileResult;
  program: Program | undefined;
  /** every instantiation of a stage, in checking order */
  info: Map<Stage, StageInfo[]>;
  occurrences: Occurrence[];
}

export function analyze(text: string, version: number): Analysis {
  const result = compile(text, { all: true });
  const info = new Map<Stage, StageInfo[]>();
  for (const i of result.stageInfo) {
    const list = info.get(i.stage);
    if (list) list.push(i);
    else info.set(i.stage, [i]);
  }
  const program = result.program;
  return { version, text, result, program, info, occurrences: program ? occurrences(program) : [] };
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
function occurrences(program: Program): Occurrence[] {
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
      if (bi === undefined) continue;
      out.push({ key: `block:${s.callee.name}`, span: s.callee.span, isDecl: false });
      const block = program.decls[bi]!;
      for (const a of s.args as Arg[]) {
        if (a.name && block.params.some((p) => p.name.name === a.name!.name)) out.push({ key: `param:${bi}:${a.name.name}`, span: a.name.span, isDecl: false });
      }
    }
  });
  return out.sort((a, b) => a.span.start - b.span.start);
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
