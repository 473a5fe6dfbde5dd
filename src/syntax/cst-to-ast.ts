// CST → plain AST. With error recovery the CST can miss children or hold
// tokens Chevrotain inserted (NaN offsets): everything here tolerates both.
import type { CstElement, CstNode, IToken } from 'chevrotain';
import type { Fix } from '../diagnostics/index.js';
import type { Span } from '../diagnostics/span.js';
import type * as A from './ast.js';
import { MAX_EXPR_DEPTH } from './limits.js';

type Children = Record<string, CstElement[] | undefined>;

function isToken(e: CstElement): e is IToken {
  return (e as IToken).image !== undefined;
}

function validOffset(t: IToken): boolean {
  return Number.isFinite(t.startOffset) && !t.isInsertedInRecovery;
}

export function tokenSpan(t: IToken): Span {
  return { start: t.startOffset, end: (t.endOffset ?? t.startOffset) + 1 };
}

/**
 * The smallest span covering every real token under a node: Chevrotain's
 * tracked location when it is sound, else (after recovery inserted tokens,
 * whose offsets are NaN) a walk over the node's tokens.
 */
export function cstSpan(n: CstNode, fallback: number): Span {
  const loc = n.location;
  if (loc && !n.recoveredNode && Number.isFinite(loc.startOffset) && Number.isFinite(loc.endOffset)) {
    return { start: loc.startOffset, end: loc.endOffset! + 1 };
  }
  let start = Infinity;
  let end = -Infinity;
  const walk = (node: CstNode): void => {
    for (const list of Object.values(node.children as Children)) {
      for (const e of list ?? []) {
        if (isToken(e)) {
          if (!validOffset(e)) continue;
          if (e.startOffset < start) start = e.startOffset;
          if (e.endOffset! + 1 > end) end = e.endOffset! + 1;
        } else walk(e);
      }
    }
  };
  walk(n);
  return Number.isFinite(start) ? { start, end } : { start: fallback, end: fallback };
}

class Builder {
  /** offset of the last real token seen, the fallback position for recovered pieces */
  private last = 0;

  /** how many `expr` calls are open: the depth of an expression is judged at the outermost */
  private exprNesting = 0;

  constructor(
    private readonly text: string,
    private readonly report: BuildReports,
  ) {}

  private tok(n: CstNode, name: string, i = 0): IToken | undefined {
    const t = (n.children as Children)[name]?.[i];
    if (!t || !isToken(t) || !validOffset(t)) return undefined;
    this.last = t.endOffset! + 1;
    return t;
  }

  private kids(n: CstNode, name: string): CstNode[] {
    const list = (n.children as Children)[name];
    if (!list) return [];
    // the usual case: every element is a node (no copy needed)
    return list.every((e) => !isToken(e)) ? (list as CstNode[]) : list.filter((e): e is CstNode => !isToken(e));
  }

  /** the first child node called `name` (looked up without building a list: this runs for every node) */
  private kid(n: CstNode, name: string): CstNode | undefined {
    const list = (n.children as Children)[name];
    if (list) for (const e of list) if (!isToken(e)) return e;
    return undefined;
  }

  private span(n: CstNode): Span {
    const s = cstSpan(n, this.last);
    if (s.end > this.last) this.last = s.end;
    return s;
  }

  private ident(t: IToken | undefined): A.Ident | undefined {
    return t ? { name: t.image, span: tokenSpan(t) } : undefined;
  }

  file(n: CstNode, text: string): A.Program {
    const decls: A.Decl[] = [];
    const imports: A.ImportDecl[] = [];
    for (const el of Object.values(n.children as Children).flat()) {
      if (!el || isToken(el)) continue;
      if (el.name === 'importDecl') {
        const i = this.importDecl(el);
        if (i) imports.push(i);
        continue;
      }
      const d = el.name === 'network' ? this.network(el) : el.name === 'block' ? this.block(el) : undefined;
      if (d) decls.push(d);
    }
    decls.sort((a, b) => a.span.start - b.span.start);
    imports.sort((a, b) => a.span.start - b.span.start);
    const firstDecl = decls[0]?.span.start ?? Infinity;
    for (const i of imports) if (i.span.start > firstDecl) this.report.misplacedImport(i.span);
    return { imports, decls, comments: [], span: { start: 0, end: text.length } };
  }

  private importDecl(n: CstNode): A.ImportDecl | undefined {
    const t = this.tok(n, 'String');
    if (!t) return undefined;
    return { path: t.image.slice(1, -1), pathSpan: tokenSpan(t), span: this.span(n) };
  }

  private network(n: CstNode): A.NetworkDecl | undefined {
    const name = this.ident(this.tok(n, 'Identifier'));
    if (!name) return undefined;
    const params = this.params(this.kid(n, 'params'));
    const bodyNode = this.kid(n, 'body');
    const stages = bodyNode ? this.body(bodyNode) : [];
    const decl: A.NetworkDecl = { kind: 'network', name, params, body: [], span: this.span(n) };
    for (const s of stages) {
      if (s.kind === 'input') {
        if (!decl.input && decl.body.length === 0) decl.input = { dims: s.dims, span: s.span };
        else decl.body.push(s.misplaced());
      } else if (s.kind === 'train') {
        // one section per network: a second one would silently win over the first
        if (decl.train) this.report.duplicateTrain(s.span, decl.train.span);
        else decl.train = s.section;
      } else if (s.kind === 'shortcut') decl.body.push(s.misplaced());
      else decl.body.push(s);
    }
    return decl;
  }

  private block(n: CstNode): A.BlockDecl | undefined {
    const name = this.ident(this.tok(n, 'Identifier'));
    if (!name) return undefined;
    const params = this.params(this.kid(n, 'params'));
    const bodyNode = this.kid(n, 'body');
    const body = bodyNode ? this.stagesOnly(this.body(bodyNode)) : [];
    return { kind: 'block', name, params, body, span: this.span(n) };
  }

  private params(n: CstNode | undefined): A.Param[] {
    if (!n) return [];
    const out: A.Param[] = [];
    for (const p of this.kids(n, 'param')) {
      const name = this.ident(this.tok(p, 'Identifier'));
      if (!name) continue;
      const e = this.kid(p, 'expr');
      out.push({ name, default: e ? this.expr(e) : undefined, span: this.span(p) });
    }
    return out;
  }

  /** a body's chains flattened into one stage list; separators were checked by the parser driver */
  private body(n: CstNode): Staged[] {
    const out: Staged[] = [];
    let prevEnd = -1;
    for (const chain of this.kids(n, 'chain')) {
      const cs = cstSpan(chain, this.last);
      // a gap holding anything but spaces was already reported (a stray character), so stay quiet
      if (prevEnd >= 0 && /^[ \t]*$/.test(this.text.slice(prevEnd, cs.start))) this.report.missingSeparator({ start: cs.start, end: cs.start });
      prevEnd = cs.end;
      for (const st of this.kids(chain, 'stage')) {
        const s = this.stage(st);
        if (s) out.push(s);
      }
    }
    return out;
  }

  /** input/train outside a network body, and a shortcut away from its residual, are errors; the checker reports them */
  private stagesOnly(stages: Staged[]): A.Stage[] {
    return stages.map((s) => (s.kind === 'input' || s.kind === 'train' || s.kind === 'shortcut' ? s.misplaced() : s));
  }

  private stage(n: CstNode): Staged | undefined {
    const assertNode = this.kid(n, 'assertion');
    let s: Staged | undefined;
    const call = this.kid(n, 'call');
    const rep = this.kid(n, 'repeat');
    const res = this.kid(n, 'residual');
    const merge = this.kid(n, 'merge');
    const gate = this.kid(n, 'gate');
    const cond = this.kid(n, 'ifStage');
    const inp = this.kid(n, 'inputDecl');
    const train = this.kid(n, 'train');
    const shortcut = this.kid(n, 'shortcut');
    if (call) s = this.call(call);
    else if (rep) {
      const kw = this.tok(rep, 'Repeat');
      const e = this.kid(rep, 'expr');
      const b = this.kid(rep, 'body');
      const keyword = kw ? tokenSpan(kw) : this.span(rep);
      s = {
        kind: 'repeat',
        count: e ? this.expr(e) : { kind: 'num', value: 1, text: '1', span: keyword },
        body: b ? this.stagesOnly(this.body(b)) : [],
        span: this.span(rep),
        keyword,
      };
    } else if (res) {
      const kw = this.tok(res, 'Residual');
      const b = this.kid(res, 'body');
      const sc = this.kid(res, 'shortcutBody');
      const sk = this.tok(res, 'Shortcut');
      const inner = b ? this.body(b) : [];
      let shortcut = sc ? this.stagesOnly(this.body(sc)) : undefined;
      let shortcutKeyword = sk ? tokenSpan(sk) : undefined;
      // `residual { … shortcut { … } }`: the shortcut written inside the braces. One error that shows
      // the right form, and the shortcut is taken as meant, so no mismatch follows from it.
      const last = inner[inner.length - 1];
      if (b && last?.kind === 'shortcut' && !shortcut) {
        inner.pop();
        shortcut = last.body;
        shortcutKeyword = last.keyword;
        const bodySpan = cstSpan(b, this.last);
        const from = inner.length ? inner[inner.length - 1]!.span.end : bodySpan.start + 1;
        const moved = this.text.slice(last.span.start, last.span.end);
        this.report.misplacedShortcut(last.keyword, {
          title: 'move the shortcut after the residual\'s closing brace',
          edits: [
            { span: { start: from, end: last.span.end }, newText: '' },
            { span: { start: bodySpan.end, end: bodySpan.end }, newText: ` ${moved}` },
          ],
        });
      }
      const condExpr = this.kid(res, 'expr');
      s = {
        kind: 'residual',
        ...(condExpr ? { cond: this.expr(condExpr) } : {}),
        body: this.stagesOnly(inner),
        shortcut,
        span: this.span(res),
        keyword: kw ? tokenSpan(kw) : this.span(res),
        shortcutKeyword,
      };
    } else if (merge) {
      const kw = this.tok(merge, 'Concat') ?? this.tok(merge, 'Add') ?? this.tok(merge, 'Split');
      const branches = this.kids(merge, 'branch').map((b) => {
        const body = this.kid(b, 'body');
        return { body: body ? this.stagesOnly(this.body(body)) : [], span: this.span(b) };
      });
      s = {
        kind: kw?.image === 'add' || (merge.children as Children).Add ? 'add' : kw?.image === 'split' || (merge.children as Children).Split ? 'split' : 'concat',
        branches,
        span: this.span(merge),
        keyword: kw ? tokenSpan(kw) : this.span(merge),
      };
    } else if (cond) {
      const kw = this.tok(cond, 'If');
      const e = this.kid(cond, 'expr');
      const b = this.kid(cond, 'body');
      const eb = this.kid(cond, 'elseBody');
      const ek = this.tok(cond, 'Else');
      const keyword = kw ? tokenSpan(kw) : this.span(cond);
      s = {
        kind: 'if',
        cond: e ? this.expr(e) : { kind: 'bool', value: false, span: keyword },
        then: b ? this.stagesOnly(this.body(b)) : [],
        ...(eb ? { else: this.stagesOnly(this.body(eb)) } : {}),
        span: this.span(cond),
        keyword,
        ...(ek ? { elseKeyword: tokenSpan(ek) } : {}),
      };
    } else if (gate) {
      const kw = this.tok(gate, 'Gate');
      const b = this.kid(gate, 'body');
      s = { kind: 'gate', body: b ? this.stagesOnly(this.body(b)) : [], span: this.span(gate), keyword: kw ? tokenSpan(kw) : this.span(gate) };
    } else if (inp) {
      const dimsNode = this.kid(inp, 'dims');
      const sp = this.span(inp);
      const dims = dimsNode ? this.exprList(dimsNode) : [];
      s = { kind: 'input', dims, span: sp, misplaced: () => misplacedStage('input', sp) };
    } else if (train) {
      const sp = this.span(train);
      s = { kind: 'train', section: this.trainSection(train), span: sp, misplaced: () => misplacedStage('train', sp) };
    } else if (shortcut) {
      const kw = this.tok(shortcut, 'Shortcut');
      const b = this.kid(shortcut, 'body');
      const sp = this.span(shortcut);
      const keyword = kw ? tokenSpan(kw) : sp;
      s = { kind: 'shortcut', body: b ? this.stagesOnly(this.body(b)) : [], keyword, span: sp, misplaced: () => misplacedStage('shortcut', keyword) };
    }
    if (!s) return undefined;
    if (assertNode && s.kind !== 'input' && s.kind !== 'train' && s.kind !== 'shortcut') {
      const d = this.kid(assertNode, 'dims');
      s.assert = { dims: d ? this.exprList(d) : [], span: this.span(assertNode) };
      s.span = { start: s.span.start, end: Math.max(s.span.end, s.assert.span.end) };
    }
    return s;
  }

  private call(n: CstNode): A.Stage | undefined {
    const callee = this.ident(this.tok(n, 'Identifier'));
    if (!callee) return undefined;
    const argsNode = this.kid(n, 'args');
    return { kind: 'call', callee, args: argsNode ? this.args(argsNode) : [], hasParens: !!argsNode, span: this.span(n) };
  }

  private args(n: CstNode): A.Arg[] {
    const out: A.Arg[] = [];
    for (const a of this.kids(n, 'arg')) {
      const name = this.ident(this.tok(a, 'name'));
      const e = this.kid(a, 'expr');
      if (!e) continue;
      const eq = this.tok(a, 'equals');
      if (eq && name) {
        const value = cstSpan(e, this.last);
        const written = this.text.slice(value.start, value.end);
        this.report.equalsInArgument(tokenSpan(eq), {
          title: `write \`${name.name} ${written.length > 30 ? '…' : written}\``,
          edits: [{ span: { start: name.span.end, end: value.start }, newText: ' ' }],
        }, `${name.name} ${written.length > 30 ? '…' : written}`);
      }
      out.push({ name, value: this.expr(e), span: this.span(a) });
    }
    return out;
  }

  private trainSection(n: CstNode): A.TrainSection {
    const settings: A.TrainSetting[] = [];
    for (const s of this.kids(n, 'setting')) {
      const key = this.ident(this.tok(s, 'key'));
      if (!key) continue;
      const callee = this.ident(this.tok(s, 'callee'));
      const argsNode = this.kid(s, 'args');
      const e = this.kid(s, 'expr');
      const sp = this.span(s);
      if (callee) settings.push({ key, value: { kind: 'ref', name: callee.name, span: callee.span }, args: argsNode ? this.args(argsNode) : [], span: sp });
      else if (e) settings.push({ key, value: this.expr(e), span: sp });
    }
    return { settings, span: this.span(n) };
  }

  private exprList(n: CstNode): A.Expr[] {
    return this.kids(n, 'expr').map((e) => this.expr(e));
  }

  expr(n: CstNode): A.Expr {
    this.exprNesting++;
    let e: A.Expr;
    try {
      const ch = n.children as Children;
      const kids = this.kids(n, 'conjunction');
      // the usual case, one operand and no operator: no lists to build (this runs for every argument)
      if (kids.length === 1 && !ch.Or) e = this.conjunction(kids[0]!);
      else e = this.fold(kids.map((t) => this.conjunction(t)), (ch.Or ?? []) as IToken[], n);
    } finally {
      this.exprNesting--;
    }
    if (this.exprNesting === 0 && e.kind !== 'num' && e.kind !== 'ref' && e.kind !== 'bool' && exprDepth(e) > MAX_EXPR_DEPTH) {
      this.report.tooDeep(e.span);
      return { kind: 'num', value: 0, text: '0', span: e.span };
    }
    return e;
  }

  private conjunction(n: CstNode): A.Expr {
    const ch = n.children as Children;
    const kids = this.kids(n, 'negation');
    if (kids.length === 1 && !ch.And) return this.negation(kids[0]!);
    return this.fold(kids.map((t) => this.negation(t)), (ch.And ?? []) as IToken[], n);
  }

  private negation(n: CstNode): A.Expr {
    const inner = this.kid(n, 'negation');
    if (inner) {
      const not = this.tok(n, 'Not');
      const operand = this.negation(inner);
      return { kind: 'unary', op: 'not', operand, span: { start: not ? not.startOffset : operand.span.start, end: operand.span.end } };
    }
    const c = this.kid(n, 'comparison');
    return c ? this.comparison(c) : { kind: 'num', value: 0, text: '0', span: this.span(n) };
  }

  private comparison(n: CstNode): A.Expr {
    const ch = n.children as Children;
    const kids = this.kids(n, 'sum');
    const ops = [...(ch.EqEq ?? []), ...(ch.NotEq ?? []), ...(ch.LtEq ?? []), ...(ch.GtEq ?? []), ...(ch.Lt ?? []), ...(ch.Gt ?? [])] as IToken[];
    if (kids.length === 1 && ops.length === 0) return this.sum(kids[0]!);
    return this.fold(kids.map((t) => this.sum(t)), ops, n);
  }

  private sum(n: CstNode): A.Expr {
    const ch = n.children as Children;
    const kids = this.kids(n, 'term');
    if (kids.length === 1 && !ch.Plus && !ch.Minus) return this.term(kids[0]!);
    return this.fold(kids.map((t) => this.term(t)), [...(ch.Plus ?? []), ...(ch.Minus ?? [])] as IToken[], n);
  }

  private term(n: CstNode): A.Expr {
    const ch = n.children as Children;
    const kids = this.kids(n, 'unary');
    if (kids.length === 1 && !ch.Star && !ch.SlashSlash && !ch.Slash && !ch.Percent) return this.unary(kids[0]!);
    const factors = kids.map((u) => this.unary(u));
    const ops = [...(ch.Star ?? []), ...(ch.SlashSlash ?? []), ...(ch.Slash ?? []), ...(ch.Percent ?? [])] as IToken[];
    return this.fold(factors, ops, n);
  }

  /** left-associative fold; operators sorted back into source order */
  private fold(operands: A.Expr[], ops: IToken[], n: CstNode): A.Expr {
    if (operands.length === 0) {
      const sp = this.span(n);
      return { kind: 'num', value: 0, text: '0', span: sp };
    }
    const sorted = ops.filter(validOffset).sort((a, b) => a.startOffset - b.startOffset);
    let acc = operands[0]!;
    for (let i = 1; i < operands.length; i++) {
      const right = operands[i]!;
      const op = (sorted[i - 1]?.image ?? '+') as A.BinaryOp;
      acc = { kind: 'binary', op, left: acc, right, span: { start: acc.span.start, end: right.span.end } };
    }
    return acc;
  }

  private unary(n: CstNode): A.Expr {
    const inner = this.kid(n, 'unary');
    const sign = this.tok(n, 'Minus') ?? this.tok(n, 'Plus');
    if (inner) {
      const operand = this.unary(inner);
      const op = sign?.image === '+' ? '+' : '-';
      return { kind: 'unary', op, operand, span: { start: sign ? sign.startOffset : operand.span.start, end: operand.span.end } };
    }
    const p = this.kid(n, 'primary');
    return p ? this.primary(p) : { kind: 'num', value: 0, text: '0', span: this.span(n) };
  }

  private primary(n: CstNode): A.Expr {
    const num = this.tok(n, 'Number');
    if (num) return { kind: 'num', value: Number(num.image), text: num.image, span: tokenSpan(num) };
    const t = this.tok(n, 'True');
    if (t) return { kind: 'bool', value: true, span: tokenSpan(t) };
    const f = this.tok(n, 'False');
    if (f) return { kind: 'bool', value: false, span: tokenSpan(f) };
    const id = this.tok(n, 'Identifier');
    if (id && this.tok(n, 'callOpen')) {
      const args = this.kids(n, 'callArg').map((a) => this.expr(a));
      return { kind: 'call', name: { name: id.image, span: tokenSpan(id) }, args, span: this.span(n) };
    }
    if (id) return { kind: 'ref', name: id.image, span: tokenSpan(id) };
    const sc = this.tok(n, 'Shortcut');
    if (sc) return { kind: 'ref', name: sc.image, span: tokenSpan(sc) };
    const e = this.kid(n, 'expr');
    if (e) return { kind: 'paren', inner: this.expr(e), span: this.span(n) };
    const l = this.kid(n, 'list');
    if (l) return { kind: 'list', items: this.exprList(l), span: this.span(l) };
    return { kind: 'num', value: 0, text: '0', span: this.span(n) };
  }
}

/** A stage list entry before input/train are split off the network body. */
type Staged =
  | A.Stage
  | { kind: 'input'; dims: A.Expr[]; span: Span; misplaced: () => A.Stage; assert?: undefined }
  | { kind: 'train'; section: A.TrainSection; span: Span; misplaced: () => A.Stage; assert?: undefined }
  | { kind: 'shortcut'; body: A.Stage[]; keyword: Span; span: Span; misplaced: () => A.Stage; assert?: undefined };

/**
 * `input`, `train` or `shortcut` where a stage is expected: kept in the AST
 * as a call to a reserved name so the checker reports it at the right place.
 */
function misplacedStage(what: 'input' | 'train' | 'shortcut', sp: Span): A.Stage {
  return { kind: 'call', callee: { name: `@${what}`, span: sp }, args: [], hasParens: false, span: sp };
}

export interface BuildReports {
  /** two stages on one line without `|` between them */
  missingSeparator(at: Span): void;
  /** `residual { … shortcut { … } }`: the shortcut inside the braces (taken as meant) */
  misplacedShortcut(at: Span, fix: Fix): void;
  /** an `import` after a declaration (it still counts) */
  misplacedImport(at: Span): void;
  /** a second `train { … }` section in one network (the first one counts) */
  duplicateTrain(at: Span, first: Span): void;
  /** an expression deeper than MAX_EXPR_DEPTH (it is replaced by a placeholder) */
  tooDeep(at: Span): void;
  /** `name=value` in a call (taken as `name value`) */
  equalsInArgument(at: Span, fix: Fix, meant: string): void;
}

/** The depth of an expression tree, without recursion (it may be thousands deep). */
export function exprDepth(root: A.Expr): number {
  let max = 0;
  const todo: [A.Expr, number][] = [[root, 1]];
  while (todo.length) {
    const [e, d] = todo.pop()!;
    if (d > max) max = d;
    switch (e.kind) {
      case 'binary':
        todo.push([e.left, d + 1], [e.right, d + 1]);
        break;
      case 'unary':
        todo.push([e.operand, d + 1]);
        break;
      case 'paren':
        todo.push([e.inner, d + 1]);
        break;
      case 'call':
        for (const a of e.args) todo.push([a, d + 1]);
        break;
      case 'list':
        for (const i of e.items) todo.push([i, d + 1]);
        break;
      case 'num':
      case 'bool':
      case 'ref':
        break;
    }
  }
  return max;
}

export function buildAst(cst: CstNode, text: string, report: BuildReports): A.Program {
  return new Builder(text, report).file(cst, text);
}

/** the AST of a lone expression (a `--set` value) */
export function buildExpr(cst: CstNode, text: string, tooDeep: (at: Span) => void): A.Expr {
  return new Builder(text, { missingSeparator: () => {}, misplacedShortcut: () => {}, misplacedImport: () => {}, duplicateTrain: () => {}, equalsInArgument: () => {}, tooDeep }).expr(cst);
}
