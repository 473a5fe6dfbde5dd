// Re-parsing only what an edit touched. A text is cut, by a cheap scan, into
// top-level items: whatever comes before the first declaration (imports,
// comments), then one piece per line that starts, in its first column, with
// `network` or `block`. Each piece is parsed on its own and kept, keyed by its
// text, for the next parse: an unchanged piece is not parsed again, only
// moved to where it now starts.
//
// The pieces' results stand for the whole file's only where that is sure to
// be the same: every piece parses without a diagnostic (a token never spans a
// line, so the pieces' tokens are the file's, and a clean declaration ends at
// its own `}`). Anything else — a syntax error anywhere, a limit — is parsed
// whole by `parse`, exactly as before.
import type { Program } from './ast.js';
import { MAX_TOKENS } from './limits.js';
import { parse, type ParseResult } from './parse.js';

/** what the compiler needs of a parse (the tokens are the formatter's, and not kept here) */
export type Parsed = Omit<ParseResult, 'tokens'>;

interface Piece {
  text: string;
  /** where its spans point now (the piece was parsed at 0 and has been moved since) */
  at: number;
  result: ParseResult;
  /** no object of its program is reached twice (see unshare) */
  tree: boolean;
}

/** where the top-level pieces start: 0, then each line that begins with `network` or `block` */
export function pieceStarts(text: string): number[] {
  const starts = [0];
  const re = /^(?:network|block)(?![A-Za-z0-9_])/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) if (m.index > 0) starts.push(m.index);
  return starts;
}

export class IncrementalParser {
  /** pieces parsed (not reused), for tests and benches */
  pieceParses = 0;
  /** whole-file parses (a piece had a diagnostic), for tests */
  fullParses = 0;
  private pieces = new Map<string, Piece[]>();

  parse(text: string): Parsed {
    const starts = pieceStarts(text);
    const next = new Map<string, Piece[]>();
    const used: Piece[] = [];
    let clean = true;
    let tokens = 0;
    for (let i = 0; i < starts.length; i++) {
      const start = starts[i]!;
      const piece = text.slice(start, starts[i + 1] ?? text.length);
      // the same text twice in a file (two equal blocks) gets two pieces: each is used once per parse
      const old = this.pieces.get(piece);
      let p = old?.pop();
      if (!p) {
        this.pieceParses++;
        const result = parse(piece);
        p = { text: piece, at: 0, result, tree: unshare(result.program) };
      }
      const list = next.get(piece);
      if (list) list.push(p);
      else next.set(piece, [p]);
      used.push(p);
      tokens += p.result.tokens.length;
      if (p.result.diagnostics.length || p.result.limited) clean = false;
    }
    this.pieces = next;
    if (!clean || tokens > MAX_TOKENS) {
      this.fullParses++;
      const { program, diagnostics, limited } = parse(text);
      return { program, diagnostics, limited };
    }
    const program: Program = { imports: [], decls: [], comments: [], span: { start: 0, end: text.length } };
    for (let i = 0; i < used.length; i++) {
      const p = used[i]!;
      const start = starts[i]!;
      if (p.at !== start) {
        shift(p.result.program, start - p.at, p.tree);
        p.at = start;
      }
      const pr = p.result.program;
      for (const x of pr.imports) program.imports.push(x);
      for (const x of pr.decls) program.decls.push(x);
      for (const x of pr.comments) program.comments.push(x);
    }
    return { program, diagnostics: [], limited: false };
  }
}

const isSpan = (o: Record<string, unknown>): boolean => typeof o.start === 'number' && typeof o.end === 'number';

/**
 * Make every span object under `root` appear once (the builder shares one
 * between two nodes here and there: a keyword that is also a default's span),
 * so that `shift` can move each span it meets without remembering which it has
 * moved. False where some other object is shared: then `shift` must remember.
 */
function unshare(root: Program): boolean {
  const seen = new Set<object>();
  let tree = true;
  const visit = (o: object): void => {
    if (Array.isArray(o)) {
      for (let i = 0; i < o.length; i++) {
        const x: unknown = o[i];
        if (typeof x !== 'object' || x === null) continue;
        if (seen.has(x)) {
          if (isSpan(x as Record<string, unknown>)) o[i] = { ...(x as object) };
          else tree = false;
          continue;
        }
        seen.add(x);
        visit(x);
      }
      return;
    }
    const r = o as Record<string, unknown>;
    if (isSpan(r)) return;
    for (const k in r) {
      const x = r[k];
      if (typeof x !== 'object' || x === null) continue;
      if (seen.has(x)) {
        if (isSpan(x as Record<string, unknown>)) r[k] = { ...(x as object) };
        else tree = false;
        continue;
      }
      seen.add(x);
      visit(x);
    }
  };
  visit(root);
  return tree;
}

/** Move every span under `root` by `delta`, in place (`tree`: no object is reached twice). */
function shift(root: Program, delta: number, tree: boolean): void {
  const seen = tree ? undefined : new Set<object>();
  const visit = (o: unknown): void => {
    if (typeof o !== 'object' || o === null) return;
    if (seen) {
      if (seen.has(o)) return;
      seen.add(o);
    }
    if (Array.isArray(o)) {
      for (let i = 0; i < o.length; i++) visit(o[i]);
      return;
    }
    const r = o as Record<string, unknown>;
    if (typeof r.start === 'number' && typeof r.end === 'number') {
      r.start += delta;
      r.end += delta;
      return;
    }
    for (const k in r) visit(r[k]);
  };
  visit(root.imports);
  visit(root.decls);
  visit(root.comments);
}
