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
import type { Span } from '../diagnostics/span.js';
import type { NetworkDecl, Program } from './ast.js';
import { MAX_TOKENS } from './limits.js';
import { parse, type ParseResult } from './parse.js';

/** what the compiler needs of a parse (the tokens are the formatter's, and not kept here) */
export type Parsed = Omit<ParseResult, 'tokens'>;

interface Piece {
  text: string;
  /** where its spans point now (the piece was parsed at 0 and has been moved since) */
  at: number;
  result: ParseResult;
  /** every span object of its program, each once: moving the piece is one pass over them, not a walk of its tree */
  spans: Span[];
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

/** one parsed unit of the text: a whole item, or a long network's head or one of its parts */
interface Unit {
  /** where its own text starts and ends in the text (a part's wrapping is not in it) */
  start: number;
  end: number;
  kind: 'plain' | 'head' | 'mid' | 'last';
  piece: Piece;
}

/** a top-level item of the last text, and what it was parsed into */
interface Item {
  start: number;
  end: number;
  units: Unit[];
  /** a long network put together from its units (its own span object moves with it) */
  net?: NetworkDecl;
}

/** where a unit's piece starts, relative to the unit's own text (a part is parsed inside WRAP) */
const lead = (kind: Unit['kind']): number => (kind === 'mid' || kind === 'last' ? WRAP.length : 0);

export class IncrementalParser {
  /** pieces parsed (not reused), for tests and benches */
  pieceParses = 0;
  /** whole-file parses (a piece had a diagnostic), for tests */
  fullParses = 0;
  /** the last text parsed, its item starts and items (by start), and its units (by start) */
  private last: { text: string; starts: number[]; items: Map<number, Item>; units: Map<number, Unit> } | undefined;
  /**
   * what the last parse found changed since the text before it (`was`):
   * `start` to `end` in the new text replaced `start` to `end - delta` in
   * `was` (the language server places its last diagnostics by it)
   */
  changed: { was: string; start: number; end: number; delta: number } | undefined;

  /**
   * `every`: a network longer than twice this many lines is itself parsed in
   * parts of about this many lines (its header with the first lines, then the
   * rest of its body as blocks), so that an edit in it re-parses one part
   */
  constructor(private readonly every = 100) {}

  parse(text: string): Parsed {
    // what changed since the last text: the items and units before the change stay where they were,
    // those after it move by `delta`; only the text in between is scanned and cut again
    const old = this.last;
    let P = 0;
    let E = text.length;
    let delta = 0;
    let starts: number[];
    if (old) {
      const max = Math.min(old.text.length, text.length);
      P = commonPrefix(old.text, text, max);
      E = text.length - commonSuffix(old.text, text, max - P);
      delta = text.length - old.text.length;
      starts = movedStarts(old.starts, text, P, E, delta);
      this.changed = { was: old.text, start: P, end: E, delta };
    } else {
      starts = pieceStarts(text);
      this.changed = undefined;
    }
    /** an old unit or item whose text is the same, at the same place before the change or moved after it */
    const same = <T extends { end: number }>(map: Map<number, T> | undefined, a: number, b: number): T | undefined => {
      if (!map) return undefined;
      const o = b <= P ? map.get(a) : a >= E ? map.get(a - delta) : undefined;
      return o && o.end === (b <= P ? b : b - delta) ? o : undefined;
    };
    // first every item and unit found in the last text by its place, then the others by their text
    type Want = { start: number; end: number; kind: Unit['kind']; old?: Unit };
    const plan: { start: number; end: number; old?: Item; units: Want[] }[] = [];
    const used = new Set<Unit>();
    for (let i = 0; i < starts.length; i++) {
      const a = starts[i]!;
      const b = starts[i + 1] ?? text.length;
      const item = same(old?.items, a, b);
      if (item) {
        for (const u of item.units) used.add(u);
        plan.push({ start: a, end: b, old: item, units: [] });
        continue;
      }
      const long = b - a > 2 * this.every * 8 && text.startsWith('network', a);
      const cuts = long ? networkCuts(text.slice(a, b), this.every) : [];
      const units: Want[] = [];
      if (!cuts.length) units.push({ start: a, end: b, kind: 'plain' });
      else {
        units.push({ start: a, end: a + cuts[0]!, kind: 'head' });
        for (let k = 0; k < cuts.length; k++) units.push({ start: a + cuts[k]!, end: k === cuts.length - 1 ? b : a + cuts[k + 1]!, kind: k === cuts.length - 1 ? 'last' : 'mid' });
      }
      for (const w of units) {
        const u = same(old?.units, w.start, w.end);
        if (u && u.kind === w.kind) {
          w.old = u;
          used.add(u);
        }
      }
      plan.push({ start: a, end: b, units });
    }
    // the last text's other units, by their text: an edit undone, or an item moved, finds its parse
    const spare = new Map<string, Piece[]>();
    for (const u of old?.units.values() ?? []) {
      if (used.has(u)) continue;
      const list = spare.get(u.piece.text);
      if (list) list.push(u.piece);
      else spare.set(u.piece.text, [u.piece]);
    }
    const unit = (w: Want): Unit => {
      let p = w.old?.piece;
      if (!p) {
        const src = w.kind === 'plain' ? text.slice(w.start, w.end) : w.kind === 'head' ? text.slice(w.start, w.end) + '\n}' : WRAP + text.slice(w.start, w.end) + (w.kind === 'last' ? '' : '\n}');
        // the same text twice in a file (two equal blocks) gets two pieces: each is used once per parse
        p = spare.get(src)?.pop();
        if (!p) {
          this.pieceParses++;
          const result = parse(src);
          p = { text: src, at: 0, result, spans: spansOf(result.program) };
        }
      }
      move(p, w.start - lead(w.kind));
      return { start: w.start, end: w.end, kind: w.kind, piece: p };
    };

    const program: Program = { imports: [], decls: [], comments: [], span: { start: 0, end: text.length } };
    const items = new Map<number, Item>();
    const units = new Map<number, Unit>();
    let clean = true;
    let tokens = 0;
    const take = (u: Unit): Program => {
      units.set(u.start, u);
      tokens += u.piece.result.tokens.length;
      if (u.piece.result.diagnostics.length || u.piece.result.limited) clean = false;
      for (const x of u.piece.result.program.comments) program.comments.push(x);
      return u.piece.result.program;
    };
    for (const it of plan) {
      if (it.old) {
        // the same item: its units and its put-together network move as one
        const shift = it.start - it.old.start;
        const moved: Unit[] = it.old.units.map((u) => ({ ...u, start: u.start + shift, end: u.end + shift }));
        for (const u of moved) move(u.piece, u.start - lead(u.kind));
        if (it.old.net && shift) {
          it.old.net.span.start += shift;
          it.old.net.span.end += shift;
        }
        const progs = moved.map(take);
        if (it.old.net) program.decls.push(it.old.net);
        else {
          for (const x of progs[0]!.imports) program.imports.push(x);
          for (const x of progs[0]!.decls) program.decls.push(x);
        }
        items.set(it.start, { start: it.start, end: it.end, units: moved, net: it.old.net });
        continue;
      }
      // once the text is known to be parsed whole, only what is already parsed is kept
      if (!clean) continue;
      const made = it.units.map(unit);
      if (made.length === 1) {
        const pr = take(made[0]!);
        for (const x of pr.imports) program.imports.push(x);
        for (const x of pr.decls) program.decls.push(x);
        items.set(it.start, { start: it.start, end: it.end, units: made });
        continue;
      }
      // a long network: its header and first lines (closed here), then the rest of its body in parts
      const head = take(made[0]!);
      const net = head.decls[0];
      if (head.decls.length !== 1 || net?.kind !== 'network' || head.imports.length) {
        clean = false;
        continue;
      }
      const body = [...net.body];
      let end = net.span.end;
      for (let k = 1; k < made.length && clean; k++) {
        const part = take(made[k]!);
        const b = part.decls[0];
        if (part.decls.length !== 1 || b?.kind !== 'block' || part.imports.length) clean = false;
        else {
          for (const s of b.body) body.push(s);
          end = b.span.end;
        }
      }
      if (!clean) continue;
      const whole: NetworkDecl = { ...net, body, span: { start: net.span.start, end } };
      program.decls.push(whole);
      items.set(it.start, { start: it.start, end: it.end, units: made, net: whole });
    }
    this.last = { text, starts, items, units };
    if (!clean || tokens > MAX_TOKENS) {
      this.fullParses++;
      const { program, diagnostics, limited } = parse(text);
      return { program, diagnostics, limited };
    }
    program.comments.sort((a, b) => a.span.start - b.span.start);
    return { program, diagnostics: [], limited: false };
  }
}

/** move a piece's spans so that its text starts at `at` */
function move(p: Piece, at: number): void {
  if (p.at === at) return;
  const delta = at - p.at;
  for (const sp of p.spans) {
    sp.start += delta;
    sp.end += delta;
  }
  p.at = at;
}

/** how many characters `a` and `b` share at their start (at most `max`), comparing runs of text natively, not a character at a time */
export function commonPrefix(a: string, b: string, max: number): number {
  let n = 0;
  for (let step = 64; n < max; step *= 2) {
    const m = Math.min(step, max - n);
    if (a.slice(n, n + m) !== b.slice(n, n + m)) {
      let lo = n;
      let hi = n + m;
      while (hi - lo > 16) {
        const mid = (lo + hi) >> 1;
        if (a.slice(lo, mid) === b.slice(lo, mid)) lo = mid;
        else hi = mid;
      }
      while (lo < hi && a.charCodeAt(lo) === b.charCodeAt(lo)) lo++;
      return lo;
    }
    n += m;
  }
  return max;
}

/** how many characters `a` and `b` share at their end (at most `max`) */
export function commonSuffix(a: string, b: string, max: number): number {
  const la = a.length;
  const lb = b.length;
  let n = 0;
  for (let step = 64; n < max; step *= 2) {
    const m = Math.min(step, max - n);
    if (a.slice(la - n - m, la - n) !== b.slice(lb - n - m, lb - n)) {
      // the shared run ends somewhere in these m characters: narrow it from the end
      let lo = n;
      let hi = n + m;
      while (hi - lo > 16) {
        const mid = (lo + hi) >> 1;
        if (a.slice(la - mid, la - lo) === b.slice(lb - mid, lb - lo)) lo = mid;
        else hi = mid;
      }
      while (lo < hi && a.charCodeAt(la - lo - 1) === b.charCodeAt(lb - lo - 1)) lo++;
      return lo;
    }
    n += m;
  }
  return max;
}

/**
 * `pieceStarts(text)`, from the last text's starts: those well before the
 * change (at `P`) kept, those well after it (at `E`, the new text's end of
 * the change) moved by `delta`, and only the lines around the change scanned
 */
export function movedStarts(old: readonly number[], text: string, P: number, E: number, delta: number): number[] {
  // a start is a line break and a keyword (7 characters) and the character after it
  const lo = Math.max(0, P - 8);
  const hi = E + 8;
  const starts: number[] = [];
  for (const s of old) {
    if (s >= lo) break;
    starts.push(s);
  }
  if (!starts.length) starts.push(0);
  const window = text.slice(lo, hi + 8);
  const re = /^(?:network|block)(?![A-Za-z0-9_])/gm;
  for (let m = re.exec(window); m; m = re.exec(window)) {
    const at = lo + m.index;
    if (at >= hi) break;
    // the window's first column is a line's first only where the text's is
    if (at > 0 && (m.index > 0 || /[\n\r\u2028\u2029]/.test(text[at - 1]!))) starts.push(at);
  }
  for (const s of old) if (s + delta >= hi) starts.push(s + delta);
  return starts;
}

const isSpan = (o: Record<string, unknown>): boolean => typeof o.start === 'number' && typeof o.end === 'number';

/**
 * Every span object under `root`, each once (the builder shares one between
 * two nodes here and there: a keyword that is also a default's span), so that
 * the piece can be moved by one pass over them.
 */
function spansOf(root: Program): Span[] {
  const seen = new Set<object>();
  const spans: Span[] = [];
  const visit = (o: unknown): void => {
    if (typeof o !== 'object' || o === null || seen.has(o)) return;
    seen.add(o);
    if (Array.isArray(o)) {
      for (let i = 0; i < o.length; i++) visit(o[i]);
      return;
    }
    const r = o as Record<string, unknown>;
    if (isSpan(r)) {
      spans.push(r as unknown as Span);
      return;
    }
    for (const k in r) visit(r[k]);
  };
  visit(root.imports);
  visit(root.decls);
  visit(root.comments);
  return spans;
}
