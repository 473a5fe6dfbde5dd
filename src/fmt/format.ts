// The canonical layout of a `.net` file. The formatter only ever changes
// whitespace and line breaks: the token stream of its output equals the token
// stream of its input (it checks that before returning, so a bug here can
// never corrupt a file), and every comment is kept.
//
// The layout:
// - two spaces of indentation per `{ … }` level;
// - ` | ` between stages of one chain; a chain that the source spread over
//   several lines with trailing `|` is joined onto one line (a line break and
//   `|` mean the same, so chains the source wrote on separate lines stay
//   separate);
// - `, ` between arguments, list items and parameters; `name value` for named
//   arguments; ` = ` in parameter defaults; spaces around binary operators;
// - a body stays on one line (`branch { conv(c1, 1) | relu }`) when the
//   source wrote it on one line, and is otherwise laid out one chain per line;
// - imports first, one per line, and one blank line after them;
// - exactly one blank line between declarations; inside a body, blank lines
//   the author left are kept (several collapse into one), none directly after
//   `{` or before `}`;
// - comments are kept: full-line comments at the indentation of the code they
//   precede, trailing comments after their line; a comment that sat inside a
//   construct that now fits on one line (say, between two arguments) moves to
//   its own line just before it;
// - shape assertions are aligned: in a run of consecutive one-line chains at
//   the same indentation (a blank line, a comment line or a multi-line
//   construct ends the run), every `: [dims]` starts three spaces after the
//   longest chain of the run that has one. Trailing comments are aligned the
//   same way, two spaces after the longest line that has one (gofmt's rule).
//   Elsewhere the assertion follows one space after its stage.
import { printDims, printExpr } from '../syntax/print.js';
import type { IToken } from 'chevrotain';
import type { Arg, Assertion, Decl, Expr, ImportDecl, NetworkDecl, Param, Stage, TrainSection } from '../syntax/ast.js';
import { stagePathOf } from '../check/freeze.js';
import { parse } from '../syntax/parse.js';
import { lexer } from '../syntax/tokens.js';

const INDENT = '  ';
const ASSERT_GAP = 3;
const COMMENT_GAP = 2;

interface Line {
  indent: number;
  /** code (or the comment, for a comment line) */
  text: string;
  /** the trailing `: [dims]` of an alignable line */
  assert?: string;
  /** trailing comment */
  comment?: string;
  kind: 'code' | 'comment' | 'blank';
  /** a complete single-line chain or setting: takes part in alignment */
  alignable: boolean;
}

/** a body item in source order: the network's input and train section are items like stages */
type Item =
  | { kind: 'stage'; stage: Stage; span: { start: number; end: number } }
  | { kind: 'input'; dims: Expr[]; span: { start: number; end: number } }
  | { kind: 'train'; section: TrainSection; span: { start: number; end: number } };

class Unformattable extends Error {}

/** Format a whole file; undefined when it has syntax errors (broken code is never reformatted). */
export function format(text: string): string | undefined {
  const parsed = parse(text);
  if (parsed.diagnostics.length > 0) return undefined;
  try {
    let out = new Printer(text, parsed.tokens, parsed.program.comments).file(parsed.program.imports, parsed.program.decls);
    // keep the file's line endings (the first line break decides)
    if (/^[^\n]*\r\n/.test(text)) out = out.replace(/\n/g, '\r\n');
    return sameTokens(text, out) ? out : undefined;
  } catch (e) {
    if (e instanceof Unformattable) return undefined;
    throw e;
  }
}

/** the safety net: formatting changes whitespace and comment placement only */
function sameTokens(a: string, b: string): boolean {
  const ta = lexer.tokenize(a);
  const tb = lexer.tokenize(b);
  if (ta.errors.length || tb.errors.length || ta.tokens.length !== tb.tokens.length) return false;
  for (let i = 0; i < ta.tokens.length; i++) if (ta.tokens[i]!.image !== tb.tokens[i]!.image) return false;
  const ca = (ta.groups.comments ?? []).map((c) => c.image.trimEnd());
  const cb = (tb.groups.comments ?? []).map((c) => c.image.trimEnd());
  return ca.length === cb.length && ca.every((c, i) => c === cb[i]);
}

class Printer {
  private readonly lines: Line[] = [];
  /** the line being built */
  private cur: { indent: number; text: string; start: number } | undefined;
  private nextComment = 0;
  /** source offset where the last emitted element ended (for blank-line detection) */
  private lastEnd = 0;
  /** the next element starts a new declaration: exactly one blank line before it */
  private declBreak = false;
  private readonly tokStarts: number[];

  constructor(
    private readonly src: string,
    private readonly tokens: IToken[],
    private readonly comments: { text: string; span: { start: number; end: number } }[],
  ) {
    this.tokStarts = tokens.map((t) => t.startOffset);
  }

  /** imports first (the parser reports any written later), one per line, then the declarations */
  file(imports: ImportDecl[], decls: Decl[]): string {
    for (const imp of imports) {
      this.begin(0, imp.span.start);
      this.add(`import "${imp.path}"`);
      this.end(imp.span.end, false);
    }
    decls.forEach((d, i) => {
      if (i > 0 || imports.length) this.declBreak = true;
      this.decl(d);
    });
    // comments after the last declaration
    while (this.nextComment < this.comments.length) this.commentLine(0);
    return render(this.lines);
  }

  // ---- declarations -------------------------------------------------------

  private decl(d: Decl): void {
    const open = this.tokenAfter(d.name.span.end, '{');
    const hasParens = this.tokenAt(d.name.span.end)?.image === '(';
    const params = hasParens ? `(${d.params.map((p) => this.param(p)).join(', ')})` : '';
    this.begin(0, d.span.start);
    this.add(`${d.kind} ${d.name.name}${params} {`);
    this.end(open + 1, false);
    this.items(this.declItems(d), 1);
    this.closer(0, this.closeOf(open));
    this.add('}');
    this.end(this.closeOf(open) + 1, false);
  }

  private declItems(d: Decl): Item[] {
    const items: Item[] = d.body.map((s) => ({ kind: 'stage', stage: s, span: s.span }));
    if (d.kind === 'network') {
      const n = d as NetworkDecl;
      if (n.input) items.push({ kind: 'input', dims: n.input.dims, span: n.input.span });
      if (n.train) items.push({ kind: 'train', section: n.train, span: n.train.span });
    }
    return items.sort((a, b) => a.span.start - b.span.start);
  }

  private param(p: Param): string {
    return p.default ? `${p.name.name} = ${expr(p.default)}` : p.name.name;
  }

  // ---- bodies and chains --------------------------------------------------

  /** one chain per line; stages joined by `|` in the source stay on one line */
  private items(items: Item[], indent: number): void {
    let i = 0;
    while (i < items.length) {
      let j = i;
      while (j + 1 < items.length && this.pipeBetween(items[j]!.span.end, items[j + 1]!.span.start)) j++;
      const chain = items.slice(i, j + 1);
      this.begin(indent, chain[0]!.span.start);
      const lineCount = this.lines.length;
      let tail: Assertion | undefined;
      chain.forEach((it, k) => {
        if (k > 0) this.add(' | ');
        const last = k === chain.length - 1;
        tail = this.item(it, indent, last);
      });
      const single = this.lines.length === lineCount && this.cur!.start === chain[0]!.span.start;
      const end = chain[chain.length - 1]!.span.end;
      if (tail) {
        if (single) this.end(end, true, `: ${dims(tail.dims)}`);
        else {
          this.add(` : ${dims(tail.dims)}`);
          this.end(end, false);
        }
      } else this.end(end, single && chain.every((it) => it.kind !== 'train'));
      i = j + 1;
    }
  }

  /** prints one item into the current line; returns the last item's assertion, left for the caller to place */
  private item(it: Item, indent: number, last: boolean): Assertion | undefined {
    if (it.kind === 'input') {
      this.add(`input ${dims(it.dims)}`);
      return undefined;
    }
    if (it.kind === 'train') {
      this.train(it.section, indent);
      return undefined;
    }
    const s = it.stage;
    this.stage(s, indent);
    if (!s.assert) return undefined;
    if (last) return s.assert;
    this.add(` : ${dims(s.assert.dims)}`);
    return undefined;
  }

  private stage(s: Stage, indent: number): void {
    switch (s.kind) {
      case 'call': {
        if (s.callee.name.startsWith('@')) {
          // a misplaced `input`/`train` (a checker error, not a syntax error): kept as written
          const raw = this.src.slice(s.span.start, s.span.end);
          if (raw.includes('#')) throw new Unformattable();
          this.add(raw.replace(/\s+/g, ' '));
          return;
        }
        this.add(s.callee.name + (s.hasParens ? `(${s.args.map(arg).join(', ')})` : ''));
        return;
      }
      case 'repeat':
        this.add(`repeat ${expr(s.count)} `);
        this.body(s.body, this.tokenAfter(s.count.span.end, '{'), indent);
        return;
      case 'residual':
        this.add(s.cond ? `residual if ${expr(s.cond)} ` : 'residual ');
        this.body(s.body, this.tokenAfter(s.cond ? s.cond.span.end : s.keyword.end, '{'), indent);
        if (s.shortcut && s.shortcutKeyword) {
          this.add(' shortcut ');
          this.body(s.shortcut, this.tokenAfter(s.shortcutKeyword.end, '{'), indent);
        }
        return;
      case 'if':
        this.add(`if ${expr(s.cond)} `);
        this.body(s.then, this.tokenAfter(s.cond.span.end, '{'), indent);
        if (s.else && s.elseKeyword) {
          this.add(' else ');
          this.body(s.else, this.tokenAfter(s.elseKeyword.end, '{'), indent);
        }
        return;
      case 'gate':
        this.add('gate ');
        this.body(s.body, this.tokenAfter(s.keyword.end, '{'), indent);
        return;
      case 'concat':
      case 'add':
      case 'split': {
        const open = this.tokenAfter(s.keyword.end, '{');
        const close = this.closeOf(open);
        this.add(`${s.kind} {`);
        if (this.oneLine(open, close)) {
          for (const b of s.branches) {
            this.add(' branch ');
            this.body(b.body, this.tokenAfter(b.span.start, '{'), indent);
          }
          this.add(s.branches.length ? ' }' : '}');
          return;
        }
        this.end(open + 1, false);
        for (const b of s.branches) {
          this.begin(indent + 1, b.span.start);
          this.add('branch ');
          this.body(b.body, this.tokenAfter(b.span.start, '{'), indent + 1);
          this.end(b.span.end, false);
        }
        this.closer(indent, close);
        this.add('}');
        return;
      }
      default: {
        const never: never = s;
        throw new Error(`unhandled stage ${(never as Stage).kind}`);
      }
    }
  }

  /** `{ chain }` on one line when the source had it so, else one chain per line */
  private body(stages: Stage[], open: number, indent: number): void {
    const close = this.closeOf(open);
    const items: Item[] = stages.map((s) => ({ kind: 'stage', stage: s, span: s.span }));
    if (this.oneLine(open, close)) {
      if (!items.length) {
        this.add('{}');
        return;
      }
      this.add('{ ');
      const saved = this.lines.length;
      items.forEach((it, k) => {
        if (k > 0) this.add(' | ');
        const a = this.item(it, indent, false);
        if (a) this.add(` : ${dims(a.dims)}`);
      });
      if (this.lines.length !== saved) throw new Unformattable();
      this.add(' }');
      return;
    }
    this.add('{');
    this.end(open + 1, false);
    this.items(items, indent + 1);
    this.closer(indent, close);
    this.add('}');
  }

  private train(t: TrainSection, indent: number): void {
    const open = this.tokenAfter(t.span.start, '{');
    const close = this.closeOf(open);
    if (!t.settings.length && !this.commentsIn(open, close)) {
      this.add('train {}');
      return;
    }
    this.add('train {');
    this.end(open + 1, false);
    for (const s of t.settings) {
      this.begin(indent + 1, s.span.start);
      // a freeze list's stage paths keep their `/` tight (`stage2/conv1`): they are paths, not divisions
      const value = s.args ? `${expr(s.value)}(${s.args.map(arg).join(', ')})` : s.key.name === 'freeze' ? freezeValue(s.value) : expr(s.value);
      this.add(`${s.key.name} ${value}`);
      this.end(s.span.end, true);
    }
    this.closer(indent, close);
    this.add('}');
  }

  // ---- lines and comments -------------------------------------------------

  private begin(indent: number, start: number): void {
    this.cur = { indent, text: '', start };
  }

  private add(s: string): void {
    this.cur!.text += s;
  }

  /** start a closing line (`}` …): comments before it belong to the body, one level deeper */
  private closer(indent: number, at: number): void {
    this.flushBefore(at, indent + 1);
    this.begin(indent, at);
  }

  /** finish the current line, which covers source [cur.start, srcEnd) */
  private end(srcEnd: number, alignable: boolean, assert?: string): void {
    const c = this.cur!;
    this.flushBefore(srcEnd, c.indent);
    this.push({ indent: c.indent, text: c.text, assert, kind: 'code', alignable }, c.start);
    this.lastEnd = Math.max(this.lastEnd, srcEnd);
    const next = this.comments[this.nextComment];
    if (next && next.span.start >= srcEnd && /^[ \t\f\v\u00a0\ufeff]*$/.test(this.src.slice(srcEnd, next.span.start))) {
      this.lines[this.lines.length - 1]!.comment = next.text.trimEnd();
      this.lastEnd = next.span.end;
      this.nextComment++;
    }
    this.cur = undefined;
  }

  /** comments that start before `at` and are not printed yet go on their own lines */
  private flushBefore(at: number, indent: number): void {
    while (this.nextComment < this.comments.length && this.comments[this.nextComment]!.span.start < at) this.commentLine(indent);
  }

  private commentLine(indent: number): void {
    const c = this.comments[this.nextComment++]!;
    this.push({ indent, text: c.text.trimEnd(), kind: 'comment', alignable: false }, c.span.start);
    this.lastEnd = Math.max(this.lastEnd, c.span.end);
  }

  private push(line: Line, srcStart: number): void {
    if (this.declBreak) {
      this.lines.push({ indent: 0, text: '', kind: 'blank', alignable: false });
      this.declBreak = false;
    } else if (this.lines.length && /\n[ \t\f\v\r\u00a0\ufeff]*\n/.test(this.src.slice(this.lastEnd, srcStart))) {
      this.lines.push({ indent: 0, text: '', kind: 'blank', alignable: false });
    }
    this.lines.push(line);
  }

  private commentsIn(open: number, close: number): boolean {
    return this.comments.some((c) => c.span.start > open && c.span.start < close);
  }

  private oneLine(open: number, close: number): boolean {
    return !/[\n\r]/.test(this.src.slice(open, close));
  }

  // ---- tokens -------------------------------------------------------------

  /** index of the first token starting at or after `offset` */
  private tokenIndex(offset: number): number {
    let lo = 0;
    let hi = this.tokStarts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.tokStarts[mid]! < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private tokenAt(offset: number): IToken | undefined {
    return this.tokens[this.tokenIndex(offset)];
  }

  /** offset of the first `image` token at or after `offset` */
  private tokenAfter(offset: number, image: string): number {
    for (let i = this.tokenIndex(offset); i < this.tokens.length; i++) if (this.tokens[i]!.image === image) return this.tokens[i]!.startOffset;
    throw new Unformattable();
  }

  /** offset of the `}` matching the `{` at `open` */
  private closeOf(open: number): number {
    let depth = 0;
    for (let i = this.tokenIndex(open); i < this.tokens.length; i++) {
      const im = this.tokens[i]!.image;
      if (im === '{') depth++;
      else if (im === '}' && --depth === 0) return this.tokens[i]!.startOffset;
    }
    throw new Unformattable();
  }

  private pipeBetween(a: number, b: number): boolean {
    const t = this.tokenAt(a);
    return t !== undefined && t.image === '|' && t.startOffset < b;
  }
}

function arg(a: Arg): string {
  return a.name ? `${a.name.name} ${expr(a.value)}` : expr(a.value);
}

const dims = printDims;
const expr = printExpr;

function freezeValue(e: Expr): string {
  const item = (x: Expr): string => stagePathOf(x) ?? expr(x);
  return e.kind === 'list' ? `[${e.items.map(item).join(', ')}]` : item(e);
}

/** blank-line cleanup, alignment, and the final text */
function render(input: Line[]): string {
  const lines: Line[] = [];
  for (const l of input) {
    const prev = lines[lines.length - 1];
    if (l.kind === 'blank' && (!prev || prev.kind === 'blank' || (prev.kind === 'code' && prev.text.endsWith('{') && !prev.comment))) continue;
    if (l.kind !== 'blank' && prev?.kind === 'blank' && l.kind === 'code' && l.text.startsWith('}')) lines.pop();
    lines.push(l);
  }
  while (lines.length && lines[lines.length - 1]!.kind === 'blank') lines.pop();
  // alignment runs
  let i = 0;
  while (i < lines.length) {
    if (!lines[i]!.alignable) {
      i++;
      continue;
    }
    let j = i;
    while (j + 1 < lines.length && lines[j + 1]!.alignable && lines[j + 1]!.indent === lines[i]!.indent) j++;
    const run = lines.slice(i, j + 1);
    const withAssert = run.filter((l) => l.assert);
    if (withAssert.length) {
      const col = Math.max(...withAssert.map((l) => l.text.length)) + ASSERT_GAP;
      for (const l of withAssert) {
        l.text = l.text.padEnd(col) + l.assert;
        l.assert = undefined;
      }
    }
    const withComment = run.filter((l) => l.comment);
    if (withComment.length) {
      const col = Math.max(...withComment.map((l) => l.text.length)) + COMMENT_GAP;
      for (const l of withComment) {
        l.text = l.text.padEnd(col) + l.comment;
        l.comment = undefined;
      }
    }
    i = j + 1;
  }
  const out = lines.map((l) => {
    if (l.kind === 'blank') return '';
    let t = l.text;
    if (l.assert) t += ` ${l.assert}`;
    if (l.comment) t += `${' '.repeat(COMMENT_GAP)}${l.comment}`;
    return INDENT.repeat(l.indent) + t;
  });
  return out.length ? out.join('\n') + '\n' : '';
}

