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

/** what a middle or last part of a long network's body is wrapped in to be parsed alone */
const WRAP = 'block __part {\n';

/**
 * Where a long network's body may be cut: the starts of lines directly in its
 * body (not inside a nested body, brackets or parentheses) that begin a stage
 * (not `shortcut` or `else`, which belong to the line before), at least
 * `every` lines apart. Empty where the body holds an `input` or `train` after
 * its first part (a part parsed as a block would read those as misplaced).
 */
export function networkCuts(piece: string, every: number): number[] {
  const cuts: number[] = [];
  let depth = 0;
  let nest = 0;
  let lines = 0;
  for (let i = 0; i < piece.length; i++) {
    const c = piece.charCodeAt(i);
    if (c === 35 /* # */) {
      while (i < piece.length && piece.charCodeAt(i) !== 10 && piece.charCodeAt(i) !== 13) i++;
      i--;
    } else if (c === 34 /* " */) {
      i++;
      while (i < piece.length && piece.charCodeAt(i) !== 34 && piece.charCodeAt(i) !== 10) i++;
    } else if (c === 123) depth++;
    else if (c === 125) depth--;
    else if (c === 40 || c === 91) nest++;
    else if (c === 41 || c === 93) nest--;
    else if (c === 10) {
      lines++;
      if (depth !== 1 || nest !== 0 || lines < every) continue;
      const m = /^[ \t]*([A-Za-z_][A-Za-z0-9_]*)/.exec(piece.slice(i + 1, i + 80));
      if (!m || m[1] === 'shortcut' || m[1] === 'else') continue;
      cuts.push(i + 1);
      lines = 0;
    }
  }
  if (cuts.length && /(?<![A-Za-z0-9_])(?:input|train)(?![A-Za-z0-9_])/.test(piece.slice(cuts[0]))) return [];
  return cuts;
}

export class IncrementalParser {
  /** pieces parsed (not reused), for tests and benches */
  pieceParses = 0;
  /** whole-file parses (a piece had a diagnostic), for tests */
  fullParses = 0;
  private pieces = new Map<string, Piece[]>();
  private next = new Map<string, Piece[]>();

  /**
   * `every`: a network longer than twice this many lines is itself parsed in
   * parts of about this many lines (its header with the first lines, then the
   * rest of its body as blocks), so that an edit in it re-parses one part
   */
  constructor(private readonly every = 100) {}

  /** the parse of `src` (kept, or parsed now), its spans moved so that `src` starts at `at` */
  private unit(src: string, at: number): Piece {
    // the same text twice in a file (two equal blocks) gets two pieces: each is used once per parse
    let p = this.pieces.get(src)?.pop();
    if (!p) {
      this.pieceParses++;
      const result = parse(src);
      p = { text: src, at: 0, result, tree: unshare(result.program) };
    }
    const list = this.next.get(src);
    if (list) list.push(p);
    else this.next.set(src, [p]);
    if (p.at !== at) {
      shift(p.result.program, at - p.at, p.tree);
      p.at = at;
    }
    return p;
  }

  parse(text: string): Parsed {
    const starts = pieceStarts(text);
    this.next = new Map();
    const program: Program = { imports: [], decls: [], comments: [], span: { start: 0, end: text.length } };
    let clean = true;
    let tokens = 0;
    const take = (p: Piece): Program => {
      tokens += p.result.tokens.length;
      if (p.result.diagnostics.length || p.result.limited) clean = false;
      for (const x of p.result.program.comments) program.comments.push(x);
      return p.result.program;
    };
    for (let i = 0; i < starts.length && clean; i++) {
      const start = starts[i]!;
      const piece = text.slice(start, starts[i + 1] ?? text.length);
      const cuts = piece.startsWith('network') && piece.length > 2 * this.every * 8 ? networkCuts(piece, this.every) : [];
      if (!cuts.length) {
        const pr = take(this.unit(piece, start));
        for (const x of pr.imports) program.imports.push(x);
        for (const x of pr.decls) program.decls.push(x);
        continue;
      }
      // a long network: its header and first lines (closed here), then the rest of its body in parts
      const head = take(this.unit(piece.slice(0, cuts[0]) + '\n}', start));
      const net = head.decls[0];
      if (head.decls.length !== 1 || net?.kind !== 'network' || head.imports.length) {
        clean = false;
        break;
      }
      const body = [...net.body];
      let end = net.span.end;
      for (let k = 0; k < cuts.length && clean; k++) {
        const from = cuts[k]!;
        const last = k === cuts.length - 1;
        const part = take(this.unit(WRAP + piece.slice(from, last ? piece.length : cuts[k + 1]) + (last ? '' : '\n}'), start + from - WRAP.length));
        const b = part.decls[0];
        if (part.decls.length !== 1 || b?.kind !== 'block' || part.imports.length) clean = false;
        else {
          for (const s of b.body) body.push(s);
          end = b.span.end;
        }
      }
      program.decls.push({ ...net, body, span: { start: net.span.start, end } });
    }
    this.pieces = this.next;
    if (!clean || tokens > MAX_TOKENS) {
      this.fullParses++;
      const { program, diagnostics, limited } = parse(text);
      return { program, diagnostics, limited };
    }
    program.comments.sort((a, b) => a.span.start - b.span.start);
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
