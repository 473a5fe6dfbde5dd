// The grammar of parser.ts again, as a Chevrotain EmbeddedActionsParser that
// builds the AST while it parses: no concrete syntax tree, no error recovery.
// It is the parse of a text without syntax errors (every shipped spec, every
// file being compiled, most of an edited one), and it gives exactly the AST
// and the diagnostics that parser.ts and cst-to-ast.ts give for it: where it
// meets an error, parse.ts parses the text again with the recovering CST
// parser, so that every syntax error is reported as before.
//
// A file of 10,000 stages made some 200,000 CST nodes (about 20 per
// `conv(8, 3, pad 1)`), all alive until cst-to-ast.ts had read them: half
// the time of a parse was the garbage collector copying them.
// test/syntax/ast-parser.test.ts checks that both parsers record the same
// grammar, and compares their results on the specs and on fuzzed texts.
import { EmbeddedActionsParser, EOF, type IParserErrorMessageProvider, type IToken, type Rule, type TokenType } from 'chevrotain';
import type { Fix } from '../diagnostics/index.js';
import type { Span } from '../diagnostics/span.js';
import type * as A from './ast.js';
import { exprDepth, tokenSpan, type BuildReports } from './cst-to-ast.js';
import { MAX_EXPR_DEPTH } from './limits.js';
import { Precomputed, type LookaheadTable } from './lookahead.js';
import { LOOKAHEAD_TABLE } from './lookahead-table.js';
import { FUNCTION_NAMES } from './parser.js';
import * as T from './tokens.js';

/** the tokens that can start an expression, as parser.ts's gate lists them (no token has categories: a type is its token's own) */
const EXPR_START = new Set<TokenType>([T.NumberLit, T.Identifier, T.True, T.False, T.LParen, T.LBracket, T.Not]);

/** A stage list entry before input/train are split off the network body (as in cst-to-ast.ts). */
type Staged =
  | A.Stage
  | { kind: 'input'; dims: A.Expr[]; span: Span; misplaced: () => A.Stage; assert?: undefined }
  | { kind: 'train'; section: A.TrainSection; span: Span; misplaced: () => A.Stage; assert?: undefined }
  | { kind: 'shortcut'; body: A.Stage[]; keyword: Span; span: Span; misplaced: () => A.Stage; assert?: undefined };

/** the token types the lookahead table names (lookahead.ts) */
export const VOCABULARY: readonly TokenType[] = [...T.ALL_TOKENS, EOF];

/** Chevrotain's grammar recording, which performSelfAnalysis runs and a parser given the table does without */
interface Recorder {
  definedRulesNames: string[];
  enableRecording(): void;
  disableRecording(): void;
  topLevelRuleRecord(name: string, def: () => unknown): Rule;
}
const RECORDER = EmbeddedActionsParser.prototype as unknown as Recorder;
/** where this Chevrotain's recording is not made of those methods, the table's grammar is never used */
const RECORDING_KNOWN = (['enableRecording', 'disableRecording', 'topLevelRuleRecord', 'preComputeLookaheadFunctions'] as const).every((m) => typeof (RECORDER as unknown as Record<string, unknown>)[m] === 'function');

/** the tokens that carry an expression on after an operand (the operators of expr's levels) */
const CONTINUES = new Set<TokenType>([T.Or, T.And, T.EqEq, T.NotEq, T.LtEq, T.GtEq, T.Lt, T.Gt, T.Plus, T.Minus, T.Star, T.SlashSlash, T.Slash, T.Percent]);

type Report = (r: BuildReports) => void;

/** a top-level item with the reports its building made (cst-to-ast.ts builds them kind by kind) */
interface Item {
  kind: 'importDecl' | 'network' | 'block';
  value: A.ImportDecl | A.Decl | undefined;
  reports: Report[];
}

/** no message is shown from this parser (an error sends the text to the recovering one) */
const QUIET: IParserErrorMessageProvider = {
  buildMismatchTokenMessage: () => '',
  buildNotAllInputParsedMessage: () => '',
  buildNoViableAltMessage: () => '',
  buildEarlyExitMessage: () => '',
};

function misplacedStage(what: 'input' | 'train' | 'shortcut', sp: Span): A.Stage {
  return { kind: 'call', callee: { name: `@${what}`, span: sp }, args: [], hasParens: false, span: sp };
}

function stagesOnly(stages: Staged[]): A.Stage[] {
  return stages.map((s) => (s.kind === 'input' || s.kind === 'train' || s.kind === 'shortcut' ? s.misplaced() : s));
}

function ident(t: IToken): A.Ident {
  return { name: t.image, span: tokenSpan(t) };
}

/** left-associative: `acc op right` */
function binary(op: string, left: A.Expr, right: A.Expr): A.Expr {
  return { kind: 'binary', op: op as A.BinaryOp, left, right, span: { start: left.span.start, end: right.span.end } };
}

export class AstParser extends EmbeddedActionsParser {
  /** the text being parsed (for the separator check and the fixes' texts) */
  text = '';
  /** the reports of the item being built, in cst-to-ast.ts's order */
  private reports: Report[] = [];

  /** how the grammar and lookahead were made: from the build's table (lookahead.ts), or recorded and computed here */
  readonly lookahead: Precomputed;

  /** while performSelfAnalysis runs: the rules rebuilt from the table, which it takes instead of recording them */
  private prerecorded: Map<string, Rule> | undefined = undefined;

  /**
   * `table`: the grammar and lookahead made at build time, where the bundle
   * has them; null: record and compute them. A validating parser (`validate`)
   * always records: its checks are of the grammar as written.
   */
  constructor(validate = false, table: LookaheadTable | null = LOOKAHEAD_TABLE ?? null) {
    const lookahead = new Precomputed(validate ? undefined : (table ?? undefined), VOCABULARY, 3);
    super(T.ALL_TOKENS, { recoveryEnabled: false, maxLookahead: 3, skipValidations: !validate, errorMessageProvider: QUIET, lookaheadStrategy: lookahead });
    this.lookahead = lookahead;
    const rules = RECORDING_KNOWN ? lookahead.grammar((this as unknown as Recorder).definedRulesNames) : undefined;
    if (rules) this.prerecorded = new Map(rules.map((r) => [r.name, r]));
    this.performSelfAnalysis();
    this.prerecorded = undefined;
  }

  // Chevrotain's recording, as performSelfAnalysis calls it: where the rules are at hand, each rule
  // is taken from them, and the recording versions of CONSUME, OR, … are neither put on this
  // parser nor deleted again (deleting some ninety fields was a third of the recording's time)
  enableRecording(): void {
    if (!this.prerecorded) RECORDER.enableRecording.call(this);
  }

  disableRecording(): void {
    if (!this.prerecorded) RECORDER.disableRecording.call(this);
  }

  topLevelRuleRecord(name: string, def: () => unknown): Rule {
    return this.prerecorded?.get(name) ?? RECORDER.topLevelRuleRecord.call(this, name, def);
  }

  /** from `first` to the last token consumed */
  private from(first: IToken): Span {
    return { start: first.startOffset, end: this.LA(0).endOffset! + 1 };
  }

  /** an expression where cst-to-ast.ts judges its depth (outside any other expression) */
  private limit(e: A.Expr): A.Expr {
    if (e.kind !== 'num' && e.kind !== 'ref' && e.kind !== 'bool' && exprDepth(e) > MAX_EXPR_DEPTH) {
      const at = e.span;
      this.reports.push((r) => r.tooDeep(at));
      return { kind: 'num', value: 0, text: '0', span: e.span };
    }
    return e;
  }

  /** the program and the reports, in the order cst-to-ast.ts makes them */
  file = this.RULE('file', (): { program: A.Program; reports: Report[] } => {
    const items: Item[] = [];
    this.MANY(() => {
      this.reports = [];
      const item = this.OR([
        { ALT: (): Item => ({ kind: 'importDecl', value: this.SUBRULE(this.importDecl), reports: this.reports }) },
        { ALT: (): Item => ({ kind: 'network', value: this.SUBRULE(this.network), reports: this.reports }) },
        { ALT: (): Item => ({ kind: 'block', value: this.SUBRULE(this.block), reports: this.reports }) },
      ]);
      items.push(item);
    });
    if (this.RECORDING_PHASE) return undefined as never;
    // cst-to-ast.ts reads the file's children kind by kind, in the order each kind first appears
    const kinds: Item['kind'][] = [];
    for (const i of items) if (!kinds.includes(i.kind)) kinds.push(i.kind);
    const decls: A.Decl[] = [];
    const imports: A.ImportDecl[] = [];
    const reports: Report[] = [];
    for (const k of kinds) {
      for (const i of items) {
        if (i.kind !== k) continue;
        for (const r of i.reports) reports.push(r);
        if (k === 'importDecl') imports.push(i.value as A.ImportDecl);
        else decls.push(i.value as A.Decl);
      }
    }
    decls.sort((a, b) => a.span.start - b.span.start);
    imports.sort((a, b) => a.span.start - b.span.start);
    const firstDecl = decls[0]?.span.start ?? Infinity;
    for (const i of imports) if (i.span.start > firstDecl) reports.push((r) => r.misplacedImport(i.span));
    this.reports = [];
    return { program: { imports, decls, comments: [], span: { start: 0, end: this.text.length } }, reports };
  });

  importDecl = this.RULE('importDecl', (): A.ImportDecl => {
    const kw = this.CONSUME(T.Import);
    const t = this.CONSUME(T.StringLit);
    if (this.RECORDING_PHASE) return undefined as never;
    return { path: t.image.slice(1, -1), pathSpan: tokenSpan(t), span: this.from(kw) };
  });

  network = this.RULE('network', (): A.NetworkDecl => {
    const kw = this.CONSUME(T.Network);
    const id = this.CONSUME(T.Identifier);
    const params = this.OPTION(() => this.SUBRULE(this.params));
    const b = this.SUBRULE(this.body);
    if (this.RECORDING_PHASE) return undefined as never;
    const decl: A.NetworkDecl = { kind: 'network', name: ident(id), params: params ?? [], body: [], span: this.from(kw) };
    for (const s of b.stages) {
      if (s.kind === 'input') {
        if (!decl.input && decl.body.length === 0) decl.input = { dims: s.dims, span: s.span };
        else decl.body.push(s.misplaced());
      } else if (s.kind === 'train') {
        if (decl.train) {
          const [at, first] = [s.span, decl.train.span];
          this.reports.push((r) => r.duplicateTrain(at, first));
        } else decl.train = s.section;
      } else if (s.kind === 'shortcut') decl.body.push(s.misplaced());
      else decl.body.push(s);
    }
    return decl;
  });

  block = this.RULE('block', (): A.BlockDecl => {
    const kw = this.CONSUME(T.Block);
    const id = this.CONSUME(T.Identifier);
    const params = this.OPTION(() => this.SUBRULE(this.params));
    const b = this.SUBRULE(this.body);
    if (this.RECORDING_PHASE) return undefined as never;
    return { kind: 'block', name: ident(id), params: params ?? [], body: stagesOnly(b.stages), span: this.from(kw) };
  });

  params = this.RULE('params', (): A.Param[] => {
    const out: A.Param[] = [];
    this.CONSUME(T.LParen);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => out.push(this.SUBRULE(this.param)) });
    this.CONSUME(T.RParen);
    return out;
  });

  param = this.RULE('param', (): A.Param => {
    const id = this.CONSUME(T.Identifier);
    const e = this.OPTION(() => {
      this.CONSUME(T.Equals);
      return this.SUBRULE(this.expr);
    });
    if (this.RECORDING_PHASE) return undefined as never;
    const name = ident(id);
    return { name, default: e ? this.limit(e) : undefined, span: this.from(id) };
  });

  /** a body's chains flattened into one stage list, and its span */
  body = this.RULE('body', (): { stages: Staged[]; span: Span } => {
    const open = this.CONSUME(T.LBrace);
    const stages: Staged[] = [];
    let prevEnd = -1;
    this.MANY(() => {
      const first = this.LA(1);
      const chain = this.SUBRULE(this.chain);
      if (this.RECORDING_PHASE) return;
      const start = first.startOffset;
      // a gap holding anything but spaces was already reported (a stray character), so stay quiet
      if (prevEnd >= 0 && /^[ \t]*$/.test(this.text.slice(prevEnd, start))) this.reports.push((r) => r.missingSeparator({ start, end: start }));
      prevEnd = this.LA(0).endOffset! + 1;
      for (const s of chain) stages.push(s);
    });
    this.CONSUME(T.RBrace);
    if (this.RECORDING_PHASE) return undefined as never;
    return { stages, span: this.from(open) };
  });

  // The rules that run once per stage or argument take their alternatives and
  // bodies from these fields, made once, rather than as new arrays and
  // closures on every call (Chevrotain's advice: half a long network's
  // garbage was these). Such a closure reads no local of the rule: what it
  // gathers goes into a field, saved and restored around the rule.

  /** the stages of the chain being parsed */
  private chained: Staged[] = [];
  private readonly chainMore = (): void => {
    this.CONSUME(T.Pipe);
    this.chained.push(this.SUBRULE2(this.stage));
  };

  /** stages joined by `|`; consecutive chains must be on separate lines */
  chain = this.RULE('chain', (): Staged[] => {
    const saved = this.chained;
    const out: Staged[] = (this.chained = [this.SUBRULE(this.stage)]);
    this.MANY(this.chainMore);
    this.chained = saved;
    return out;
  });

  private readonly stageAlts = [
    { ALT: (): Staged => this.SUBRULE(this.call) },
    { ALT: (): Staged => this.SUBRULE(this.repeat) },
    { ALT: (): Staged => this.SUBRULE(this.residual) },
    { ALT: (): Staged => this.SUBRULE(this.merge) },
    { ALT: (): Staged => this.SUBRULE(this.gate) },
    { ALT: (): Staged => this.SUBRULE(this.ifStage) },
    { ALT: (): Staged => this.SUBRULE(this.inputDecl) },
    { ALT: (): Staged => this.SUBRULE(this.train) },
    { ALT: (): Staged => this.SUBRULE(this.shortcut) },
  ];
  private readonly stageAssertion = (): A.Expr[] => this.SUBRULE(this.assertion);

  stage = this.RULE('stage', (): Staged => {
    const s: Staged = this.OR(this.stageAlts);
    const colon = this.LA(1);
    const dims = this.OPTION(this.stageAssertion);
    // an assertion after input, train or shortcut is parsed and dropped, as cst-to-ast.ts does
    if (dims === undefined || this.RECORDING_PHASE || s.kind === 'input' || s.kind === 'train' || s.kind === 'shortcut') return s;
    s.assert = { dims: dims.map((d) => this.limit(d)), span: this.from(colon) };
    s.span = { start: s.span.start, end: Math.max(s.span.end, s.assert.span.end) };
    return s;
  });

  shortcut = this.RULE('shortcut', (): Staged => {
    const kw = this.CONSUME(T.Shortcut);
    const b = this.SUBRULE(this.body);
    if (this.RECORDING_PHASE) return undefined as never;
    const sp = this.from(kw);
    const keyword = tokenSpan(kw);
    return { kind: 'shortcut', body: stagesOnly(b.stages), keyword, span: sp, misplaced: () => misplacedStage('shortcut', keyword) };
  });

  private readonly callArgs = (): A.Arg[] => this.SUBRULE(this.args);

  call = this.RULE('call', (): A.Stage => {
    const id = this.CONSUME(T.Identifier);
    const args = this.OPTION(this.callArgs);
    if (this.RECORDING_PHASE) return undefined as never;
    return { kind: 'call', callee: ident(id), args: args ?? [], hasParens: !!args, span: this.from(id) };
  });

  /** the arguments of the list being parsed */
  private argList: A.Arg[] = [];
  private readonly argsSep = { SEP: T.Comma, DEF: (): void => void this.argList.push(this.SUBRULE(this.arg)) };

  args = this.RULE('args', (): A.Arg[] => {
    const saved = this.argList;
    const out: A.Arg[] = (this.argList = []);
    this.CONSUME(T.LParen);
    this.MANY_SEP(this.argsSep);
    this.CONSUME(T.RParen);
    this.argList = saved;
    return out;
  });

  // each alternative starts where the `arg` does: its first token is LA(1) when it starts
  private readonly argNamed = {
    // `name value`: an identifier directly followed by the start of an expression
    // (a function call `round(x)` is an expression, not the argument `round` with the value `(x)`)
    GATE: (): boolean =>
      this.LA(1).tokenType === T.Identifier &&
      EXPR_START.has(this.LA(2).tokenType) &&
      !(this.LA(2).tokenType === T.LParen && FUNCTION_NAMES.has(this.LA(1).image)),
    ALT: (): A.Arg => {
      const first = this.LA(1);
      const id = this.CONSUME(T.Identifier, { LABEL: 'name' });
      const e = this.SUBRULE(this.expr);
      if (this.RECORDING_PHASE) return undefined as never;
      return { name: ident(id), value: this.limit(e), span: this.from(first) };
    },
  };

  private readonly argEquals = {
    // `name=value`, as Python writes it: built as `name value` and reported once, with a fix
    GATE: (): boolean => this.LA(1).tokenType === T.Identifier && this.LA(2).tokenType === T.Equals,
    ALT: (): A.Arg => {
      const first = this.LA(1);
      const id = this.CONSUME2(T.Identifier, { LABEL: 'name' });
      const eq = this.CONSUME(T.Equals, { LABEL: 'equals' });
      const valueFirst = this.LA(1);
      const e = this.SUBRULE3(this.expr);
      if (this.RECORDING_PHASE) return undefined as never;
      const name = ident(id);
      const value = this.from(valueFirst);
      const written = this.text.slice(value.start, value.end);
      const shown = written.length > 30 ? '…' : written;
      const fix: Fix = { title: `write \`${name.name} ${shown}\``, edits: [{ span: { start: name.span.end, end: value.start }, newText: ' ' }] };
      this.reports.push((r) => r.equalsInArgument(tokenSpan(eq), fix, `${name.name} ${shown}`));
      return { name, value: this.limit(e), span: this.from(first) };
    },
  };

  private readonly argPositional = {
    ALT: (): A.Arg => {
      const first = this.LA(1);
      const e = this.SUBRULE2(this.expr);
      if (this.RECORDING_PHASE) return undefined as never;
      return { name: undefined, value: this.limit(e), span: this.from(first) };
    },
  };

  private readonly argAlts = [this.argNamed, this.argEquals, this.argPositional];

  arg = this.RULE('arg', (): A.Arg => {
    if (this.RECORDING_PHASE) return this.OR(this.argAlts);
    // the alternative OR would take: the first whose gate holds (where one holds, its tokens can
    // only go on as that alternative); else the last, whose expression fails where OR would
    return (this.argNamed.GATE() ? this.argNamed : this.argEquals.GATE() ? this.argEquals : this.argPositional).ALT();
  });

  repeat = this.RULE('repeat', (): A.Stage => {
    const kw = this.CONSUME(T.Repeat);
    const count = this.SUBRULE(this.expr);
    // judged before the body is read, as cst-to-ast.ts does (the order of the reports)
    const limited = this.RECORDING_PHASE ? count : this.limit(count);
    const b = this.SUBRULE(this.body);
    if (this.RECORDING_PHASE) return undefined as never;
    return { kind: 'repeat', count: limited, body: stagesOnly(b.stages), span: this.from(kw), keyword: tokenSpan(kw) };
  });

  residual = this.RULE('residual', (): A.Stage => {
    const kw = this.CONSUME(T.Residual);
    // `residual if cond { … }`: a residual only when cond holds, else the body alone
    const cond = this.OPTION2(() => {
      this.CONSUME(T.If);
      return this.SUBRULE(this.expr);
    });
    const b = this.SUBRULE(this.body);
    const after = this.OPTION(() => {
      const sk = this.CONSUME(T.Shortcut);
      const body = this.SUBRULE2(this.body, { LABEL: 'shortcutBody' });
      return { sk, body };
    });
    if (this.RECORDING_PHASE) return undefined as never;
    const inner = b.stages;
    let shortcut = after ? stagesOnly(after.body.stages) : undefined;
    let shortcutKeyword = after ? tokenSpan(after.sk) : undefined;
    // `residual { … shortcut { … } }`: the shortcut written inside the braces. One error that shows
    // the right form, and the shortcut is taken as meant, so no mismatch follows from it.
    const last = inner[inner.length - 1];
    if (last?.kind === 'shortcut' && !shortcut) {
      inner.pop();
      shortcut = last.body;
      shortcutKeyword = last.keyword;
      const bodySpan = b.span;
      const from = inner.length ? inner[inner.length - 1]!.span.end : bodySpan.start + 1;
      const moved = this.text.slice(last.span.start, last.span.end);
      const fix: Fix = {
        title: 'move the shortcut after the residual\'s closing brace',
        edits: [
          { span: { start: from, end: last.span.end }, newText: '' },
          { span: { start: bodySpan.end, end: bodySpan.end }, newText: ` ${moved}` },
        ],
      };
      const at = last.keyword;
      this.reports.push((r) => r.misplacedShortcut(at, fix));
    }
    const span = this.from(kw);
    return {
      kind: 'residual',
      ...(cond ? { cond: this.limit(cond) } : {}),
      body: stagesOnly(inner),
      shortcut,
      span,
      keyword: tokenSpan(kw),
      shortcutKeyword,
    };
  });

  merge = this.RULE('merge', (): A.Stage => {
    const kw = this.OR([{ ALT: () => this.CONSUME(T.Concat) }, { ALT: () => this.CONSUME(T.Add) }, { ALT: () => this.CONSUME(T.Split) }]);
    const branches: A.Branch[] = [];
    this.CONSUME(T.LBrace);
    this.MANY(() => branches.push(this.SUBRULE(this.branch)));
    this.CONSUME(T.RBrace);
    if (this.RECORDING_PHASE) return undefined as never;
    const kind = kw.tokenType === T.Add ? 'add' : kw.tokenType === T.Split ? 'split' : 'concat';
    return { kind, branches, span: this.from(kw), keyword: tokenSpan(kw) };
  });

  /** `if cond { … } else { … }`: the stages of the branch the condition picks */
  ifStage = this.RULE('ifStage', (): A.Stage => {
    const kw = this.CONSUME(T.If);
    const e = this.SUBRULE(this.expr);
    const cond = this.RECORDING_PHASE ? e : this.limit(e);
    const b = this.SUBRULE(this.body);
    const otherwise = this.OPTION(() => {
      const ek = this.CONSUME(T.Else);
      const body = this.SUBRULE2(this.body, { LABEL: 'elseBody' });
      return { ek, body };
    });
    if (this.RECORDING_PHASE) return undefined as never;
    return {
      kind: 'if',
      cond,
      then: stagesOnly(b.stages),
      ...(otherwise ? { else: stagesOnly(otherwise.body.stages) } : {}),
      span: this.from(kw),
      keyword: tokenSpan(kw),
      ...(otherwise ? { elseKeyword: tokenSpan(otherwise.ek) } : {}),
    };
  });

  /** `gate { … }`: the input times what the body computes from it (squeeze-and-excitation) */
  gate = this.RULE('gate', (): A.Stage => {
    const kw = this.CONSUME(T.Gate);
    const b = this.SUBRULE(this.body);
    if (this.RECORDING_PHASE) return undefined as never;
    return { kind: 'gate', body: stagesOnly(b.stages), span: this.from(kw), keyword: tokenSpan(kw) };
  });

  branch = this.RULE('branch', (): A.Branch => {
    const kw = this.CONSUME(T.Branch);
    const b = this.SUBRULE(this.body);
    if (this.RECORDING_PHASE) return undefined as never;
    return { body: stagesOnly(b.stages), span: this.from(kw) };
  });

  inputDecl = this.RULE('inputDecl', (): Staged => {
    const kw = this.CONSUME(T.Input);
    const d = this.SUBRULE(this.dims);
    if (this.RECORDING_PHASE) return undefined as never;
    const sp = this.from(kw);
    return { kind: 'input', dims: d.map((x) => this.limit(x)), span: sp, misplaced: () => misplacedStage('input', sp) };
  });

  train = this.RULE('train', (): Staged => {
    const kw = this.CONSUME(T.Train);
    const settings: A.TrainSetting[] = [];
    this.CONSUME(T.LBrace);
    this.MANY(() => settings.push(this.SUBRULE(this.setting)));
    this.CONSUME(T.RBrace);
    if (this.RECORDING_PHASE) return undefined as never;
    const sp = this.from(kw);
    return { kind: 'train', section: { settings, span: this.from(kw) }, span: sp, misplaced: () => misplacedStage('train', sp) };
  });

  /** `key value` or `key name(args)` inside a train section */
  setting = this.RULE('setting', (): A.TrainSetting => {
    const keyTok = this.CONSUME(T.Identifier, { LABEL: 'key' });
    return this.OR([
      {
        GATE: () => this.LA(1).tokenType === T.Identifier && this.LA(2).tokenType === T.LParen,
        ALT: (): A.TrainSetting => {
          const c = this.CONSUME2(T.Identifier, { LABEL: 'callee' });
          const args = this.SUBRULE(this.args);
          if (this.RECORDING_PHASE) return undefined as never;
          const callee = ident(c);
          return { key: ident(keyTok), value: { kind: 'ref', name: callee.name, span: callee.span }, args, span: this.from(keyTok) };
        },
      },
      {
        ALT: (): A.TrainSetting => {
          const e = this.SUBRULE(this.expr);
          if (this.RECORDING_PHASE) return undefined as never;
          return { key: ident(keyTok), value: this.limit(e), span: this.from(keyTok) };
        },
      },
    ]);
  });

  assertion = this.RULE('assertion', (): A.Expr[] => {
    this.CONSUME(T.Colon);
    return this.SUBRULE(this.dims);
  });

  dims = this.RULE('dims', (): A.Expr[] => {
    const out: A.Expr[] = [];
    this.CONSUME(T.LBracket);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => out.push(this.SUBRULE(this.expr)) });
    this.CONSUME(T.RBracket);
    return out;
  });

  /** an expression, its depth not judged (the caller does, where cst-to-ast.ts does) */
  expr = this.RULE('expr', (): A.Expr => {
    // the usual argument, a number or a name that no operator follows, is what the seven rules
    // below would give for it, without them (a third of the parse of a long network)
    if (!this.RECORDING_PHASE && !CONTINUES.has(this.LA(2).tokenType)) {
      const first = this.LA(1).tokenType;
      if (first === T.NumberLit) {
        const t = this.CONSUME(T.NumberLit);
        return { kind: 'num', value: Number(t.image), text: t.image, span: tokenSpan(t) };
      }
      if (first === T.Identifier && this.LA(2).tokenType !== T.LParen) {
        const t = this.CONSUME(T.Identifier);
        return { kind: 'ref', name: t.image, span: tokenSpan(t) };
      }
    }
    let acc = this.SUBRULE(this.conjunction);
    this.MANY(() => {
      this.CONSUME(T.Or);
      const right = this.SUBRULE2(this.conjunction);
      if (!this.RECORDING_PHASE) acc = binary('or', acc, right);
    });
    return acc;
  });

  conjunction = this.RULE('conjunction', (): A.Expr => {
    let acc = this.SUBRULE(this.negation);
    this.MANY(() => {
      this.CONSUME(T.And);
      const right = this.SUBRULE2(this.negation);
      if (!this.RECORDING_PHASE) acc = binary('and', acc, right);
    });
    return acc;
  });

  negation = this.RULE('negation', (): A.Expr =>
    this.OR([
      {
        ALT: (): A.Expr => {
          const not = this.CONSUME(T.Not);
          const operand = this.SUBRULE(this.negation);
          if (this.RECORDING_PHASE) return undefined as never;
          return { kind: 'unary', op: 'not', operand, span: { start: not.startOffset, end: operand.span.end } };
        },
      },
      { ALT: () => this.SUBRULE(this.comparison) },
    ]),
  );

  comparison = this.RULE('comparison', (): A.Expr => {
    const left = this.SUBRULE(this.sum);
    const more = this.OPTION(() => {
      const op = this.OR([
        { ALT: () => this.CONSUME(T.EqEq) },
        { ALT: () => this.CONSUME(T.NotEq) },
        { ALT: () => this.CONSUME(T.LtEq) },
        { ALT: () => this.CONSUME(T.GtEq) },
        { ALT: () => this.CONSUME(T.Lt) },
        { ALT: () => this.CONSUME(T.Gt) },
      ]);
      const right = this.SUBRULE2(this.sum);
      return { op, right };
    });
    if (!more || this.RECORDING_PHASE) return left;
    return binary(more.op.image, left, more.right);
  });

  sum = this.RULE('sum', (): A.Expr => {
    let acc = this.SUBRULE(this.term);
    this.MANY(() => {
      const op = this.OR([{ ALT: () => this.CONSUME(T.Plus) }, { ALT: () => this.CONSUME(T.Minus) }]);
      const right = this.SUBRULE2(this.term);
      if (!this.RECORDING_PHASE) acc = binary(op.image, acc, right);
    });
    return acc;
  });

  term = this.RULE('term', (): A.Expr => {
    let acc = this.SUBRULE(this.unary);
    this.MANY(() => {
      const op = this.OR([
        { ALT: () => this.CONSUME(T.Star) },
        { ALT: () => this.CONSUME(T.SlashSlash) },
        { ALT: () => this.CONSUME(T.Slash) },
        { ALT: () => this.CONSUME(T.Percent) },
      ]);
      const right = this.SUBRULE2(this.unary);
      if (!this.RECORDING_PHASE) acc = binary(op.image, acc, right);
    });
    return acc;
  });

  unary = this.RULE('unary', (): A.Expr =>
    this.OR([
      {
        ALT: (): A.Expr => {
          const sign = this.OR2([{ ALT: () => this.CONSUME(T.Minus) }, { ALT: () => this.CONSUME(T.Plus) }]);
          const operand = this.SUBRULE(this.unary);
          if (this.RECORDING_PHASE) return undefined as never;
          return { kind: 'unary', op: sign.image === '+' ? '+' : '-', operand, span: { start: sign.startOffset, end: operand.span.end } };
        },
      },
      { ALT: () => this.SUBRULE(this.primary) },
    ]),
  );

  primary = this.RULE('primary', (): A.Expr =>
    this.OR([
      {
        ALT: (): A.Expr => {
          const t = this.CONSUME(T.NumberLit);
          // recording the grammar, a token's offsets are NaN: a span of them would make V8 box every span's numbers
          if (this.RECORDING_PHASE) return undefined as never;
          return { kind: 'num', value: Number(t.image), text: t.image, span: tokenSpan(t) };
        },
      },
      {
        ALT: (): A.Expr => {
          const t = this.CONSUME(T.True);
          // recording the grammar, a token's offsets are NaN: a span of them would make V8 box every span's numbers
          if (this.RECORDING_PHASE) return undefined as never;
          return { kind: 'bool', value: true, span: tokenSpan(t) };
        },
      },
      {
        ALT: (): A.Expr => {
          const t = this.CONSUME(T.False);
          // recording the grammar, a token's offsets are NaN: a span of them would make V8 box every span's numbers
          if (this.RECORDING_PHASE) return undefined as never;
          return { kind: 'bool', value: false, span: tokenSpan(t) };
        },
      },
      {
        // a function of the expressions (`round(c * width)`) or a name
        ALT: (): A.Expr => {
          const id = this.CONSUME(T.Identifier);
          const args = this.OPTION(() => {
            const items: A.Expr[] = [];
            this.CONSUME2(T.LParen, { LABEL: 'callOpen' });
            this.MANY_SEP({ SEP: T.Comma, DEF: () => items.push(this.SUBRULE2(this.expr, { LABEL: 'callArg' })) });
            this.CONSUME2(T.RParen, { LABEL: 'callClose' });
            return items;
          });
          if (this.RECORDING_PHASE) return undefined as never;
          if (args) return { kind: 'call', name: { name: id.image, span: tokenSpan(id) }, args, span: this.from(id) };
          return { kind: 'ref', name: id.image, span: tokenSpan(id) };
        },
      },
      // a residual's `shortcut` scope in a stage path (`freeze [down1/residual1/shortcut]`)
      {
        ALT: (): A.Expr => {
          const t = this.CONSUME(T.Shortcut);
          // recording the grammar, a token's offsets are NaN: a span of them would make V8 box every span's numbers
          if (this.RECORDING_PHASE) return undefined as never;
          return { kind: 'ref', name: t.image, span: tokenSpan(t) };
        },
      },
      {
        ALT: (): A.Expr => {
          const open = this.CONSUME(T.LParen);
          const inner = this.SUBRULE(this.expr);
          this.CONSUME(T.RParen);
          if (this.RECORDING_PHASE) return undefined as never;
          return { kind: 'paren', inner, span: this.from(open) };
        },
      },
      { ALT: () => this.SUBRULE(this.list) },
    ]),
  );

  list = this.RULE('list', (): A.Expr => {
    const open = this.CONSUME(T.LBracket);
    const items: A.Expr[] = [];
    this.MANY_SEP({ SEP: T.Comma, DEF: () => items.push(this.SUBRULE(this.expr)) });
    this.CONSUME(T.RBracket);
    if (this.RECORDING_PHASE) return undefined as never;
    return { kind: 'list', items, span: this.from(open) };
  });

  /**
   * A lone expression (a `--set` value) judged for depth as a file's are;
   * undefined where it is not one (the caller asks the recovering parser why).
   */
  lone(tokens: IToken[], text: string, tooDeep: (at: Span) => void): A.Expr | undefined {
    this.text = text;
    this.input = tokens;
    this.reports = [];
    const e = this.expr();
    if (this.errors.length) return undefined;
    const limited = this.limit(e);
    for (const r of this.reports) r({ missingSeparator: () => {}, misplacedShortcut: () => {}, misplacedImport: () => {}, duplicateTrain: () => {}, equalsInArgument: () => {}, tooDeep });
    this.reports = [];
    return limited;
  }
}
