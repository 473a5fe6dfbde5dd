// Text → AST plus syntax diagnostics. Lexer and parser errors become
// diagnostics with readable messages; recovery keeps the rest of the file.
import type { CstNode, IParserErrorMessageProvider, IRecognitionException, IToken, TokenType } from 'chevrotain';
import { EOF } from 'chevrotain';
import { DiagnosticSink, type Diagnostic } from '../diagnostics/index.js';
import type { Span } from '../diagnostics/span.js';
import type { Expr, Program } from './ast.js';
import { AstParser } from './ast-parser.js';
import { buildAst, buildExpr, tokenSpan, type BuildReports } from './cst-to-ast.js';
import { cstParser, type NetParser } from './parser.js';
import { Block, Colon, Comma, Equals, False, Identifier, LBrace, LBracket, lexer, LParen, Minus, Network, NumberLit, Percent, Pipe, Plus, RBrace, RBracket, Repeat, RParen, Slash, SlashSlash, Star, True } from './tokens.js';
import { suggest } from '../util/suggest.js';
import { MAX_EXPR_DEPTH, MAX_NESTING, MAX_SYNTAX_ERRORS, MAX_TOKENS } from './limits.js';

export { MAX_EXPR_DEPTH, MAX_NESTING, MAX_SYNTAX_ERRORS, MAX_TOKENS } from './limits.js';

export interface ParseResult {
  program: Program;
  diagnostics: Diagnostic[];
  tokens: IToken[];
  /** a nesting limit was hit (E403): the program is partial and should not be checked */
  limited: boolean;
}



function describe(t: IToken): string {
  if (t.tokenType === EOF) return 'the end of the file';
  return `'${t.image}'`;
}

function label(t: TokenType): string {
  return t.LABEL ?? t.name;
}

const RULE_NAMES: Record<string, string> = {
  file: '`import`, `network` or `block`',
  stage: 'a stage (a layer call, `repeat`, `residual`, `concat` or `add`)',
  arg: 'an argument',
  expr: 'an expression',
  term: 'an expression',
  unary: 'an expression',
  primary: 'a number, a name, `(` or `[`',
  setting: 'a training setting value',
  merge: '`concat` or `add`',
};

/** at the top level only declarations may start; a misspelt keyword gets a suggestion */
function topLevel(t: IToken): string {
  const s = t.tokenType === Identifier ? suggest(t.image, ['network', 'block', 'import']) : undefined;
  return `expected \`network\`, \`block\` or \`import\` but found ${describe(t)}${s ? `; did you mean \`${s}\`?` : ''}`;
}

/** Thrown out of the parser (through the message provider) when it has found too many errors to go on. */
class TooManyErrors extends Error {
  constructor(readonly token: IToken) {
    super('too many syntax errors');
  }
}

/** errors the parser has raised in the current parse (recovery raises a few per real error) */
let raised = 0;

/** the parser's messages; counting them is how a hopeless parse is stopped early */
function counted<A>(build: (a: A) => string, token: (a: A) => IToken): (a: A) => string {
  return (a) => {
    if (++raised > 2 * MAX_SYNTAX_ERRORS) throw new TooManyErrors(token(a));
    return build(a);
  };
}

const messages: IParserErrorMessageProvider = {
  buildMismatchTokenMessage: counted(
    ({ expected, actual }) => (expected === EOF ? topLevel(actual) : `expected ${label(expected)} but found ${describe(actual)}`),
    (a) => a.actual,
  ),
  buildNotAllInputParsedMessage: counted(({ firstRedundant }) => topLevel(firstRedundant), (a) => a.firstRedundant),
  buildNoViableAltMessage: counted(({ actual, ruleName }) => `expected ${RULE_NAMES[ruleName] ?? ruleName} but found ${describe(actual[0]!)}`, (a) => a.actual[0]!),
  buildEarlyExitMessage: counted(({ actual, ruleName }) => `expected ${RULE_NAMES[ruleName] ?? ruleName} but found ${describe(actual[0]!)}`, (a) => a.actual[0]!),
};

/** the parser of texts without syntax errors (the AST as it parses) */
const astParser = new AstParser();

/** the recovering parser of texts with syntax errors, with this file's messages */
function recovering(): NetParser {
  const p = cstParser();
  (p as unknown as { errorMessageProvider: IParserErrorMessageProvider }).errorMessageProvider = messages;
  return p;
}

/** Where to put the caret for a parse error: the offending token, or just after the previous one. */
function errorSpan(e: IRecognitionException, text: string): Span {
  const t = e.token;
  const prev = (e as IRecognitionException & { previousToken?: IToken }).previousToken;
  const prevEnd = prev && Number.isFinite(prev.endOffset) ? prev.endOffset! + 1 : undefined;
  const missing = e.name === 'MismatchedTokenException';
  if (t.tokenType === EOF || !Number.isFinite(t.startOffset)) {
    const at = prevEnd ?? text.length;
    return { start: at, end: at };
  }
  // a missing `)` or `]` at the end of a line is reported where it belongs, not on the next line
  if (missing && prevEnd !== undefined && /[\n\r]/.test(text.slice(prevEnd, t.startOffset))) return { start: prevEnd, end: prevEnd };
  return tokenSpan(t);
}

/** Tokens after which a `+`/`-` is a binary operator; after anything else it is a sign. */
const OPERAND_END = new Set<TokenType>([NumberLit, Identifier, True, False, RParen, RBracket]);
const OPENERS = new Set<TokenType>([LParen, LBracket, LBrace]);
const CLOSERS = new Set<TokenType>([RParen, RBracket, RBrace]);

/**
 * The first token at which brackets, braces and prefix signs nest deeper than
 * MAX_NESTING, found before the (recursive) parser runs. A sign opens a level
 * that lasts as long as its operand: `-(-(4))` is four deep.
 */
function tooDeep(tokens: readonly IToken[]): IToken | undefined {
  const levels: number[] = [];
  let level = 0;
  let signs = 0;
  let prev: TokenType | undefined;
  for (const t of tokens) {
    const type = t.tokenType;
    if ((type === Plus || type === Minus) && (prev === undefined || !OPERAND_END.has(prev))) {
      if (level + ++signs > MAX_NESTING) return t;
    } else if (OPENERS.has(type)) {
      levels.push(level);
      level += 1 + signs;
      signs = 0;
      if (level > MAX_NESTING) return t;
    } else {
      if (CLOSERS.has(type)) level = levels.pop() ?? 0;
      signs = 0;
    }
    prev = type;
  }
  return undefined;
}

/**
 * The first sign that a text is not a UTF-8 text file: a NUL (binary data),
 * U+FFFD (what a UTF-8 decoder makes of invalid bytes) or a lone surrogate.
 */
const NOT_TEXT = /\u0000|\ufffd|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * `recovering`: parse with the recovering CST parser even where the text has
 * no syntax error (the tests compare both parsers' results; nothing else needs it).
 */
export function parse(text: string, options: { recovering?: boolean } = {}): ParseResult {
  const sink = new DiagnosticSink();
  const bad = NOT_TEXT.exec(text);
  if (bad) {
    // one message, not one per stray byte (a binary file gave 130,385)
    const why = bad[0] === '\u0000' ? 'binary data (a NUL byte) here' : 'bytes that are not valid UTF-8 here';
    sink.report('E003', { start: bad.index, end: bad.index + bad[0].length }, `this is not a UTF-8 text file: ${why}; a .net file is UTF-8 text`);
    return { program: { imports: [], decls: [], comments: [], span: { start: 0, end: text.length } }, diagnostics: sink.items, tokens: [], limited: true };
  }
  const lexed = lexer.tokenize(text);
  for (const e of lexed.errors) {
    const ch = text.slice(e.offset, e.offset + e.length);
    sink.report('E001', { start: e.offset, end: e.offset + e.length }, `unexpected character${e.length > 1 ? 's' : ''} ${JSON.stringify(ch.length > 20 ? ch.slice(0, 20) + '…' : ch)}`);
  }
  const stop = (): ParseResult => {
    const program: Program = { imports: [], decls: [], comments: [], span: { start: 0, end: text.length } };
    return { program, diagnostics: sink.items, tokens: lexed.tokens, limited: true };
  };
  if (lexed.tokens.length > MAX_TOKENS) {
    const t = lexed.tokens[MAX_TOKENS]!;
    sink.report('E404', tokenSpan(t), `file too large: more than ${MAX_TOKENS.toLocaleString('en-US')} tokens (this is token ${(MAX_TOKENS + 1).toLocaleString('en-US')}); split it into files that import each other`);
    return stop();
  }
  const deep = tooDeep(lexed.tokens);
  if (deep) {
    sink.report('E403', tokenSpan(deep), `nesting too deep: brackets, braces and signs nest more than ${MAX_NESTING} levels here`);
    return stop();
  }
  const tooMany = (t: IToken): ParseResult => {
    const at = Number.isFinite(t.startOffset) ? tokenSpan(t) : { start: text.length, end: text.length };
    sink.report('E002', at, `too many syntax errors (more than ${MAX_SYNTAX_ERRORS}); stopped here — is this a .net file?`);
    return stop();
  };
  if (lexed.errors.length > MAX_SYNTAX_ERRORS) {
    sink.items.length = MAX_SYNTAX_ERRORS;
    const e = lexed.errors[MAX_SYNTAX_ERRORS]!;
    return tooMany({ startOffset: e.offset, endOffset: e.offset + e.length - 1 } as IToken);
  }
  const constructs = unknownConstructs(lexed.tokens, text, sink);
  const unclosed = unclosedBrace(constructs.tokens, text);
  if (unclosed) {
    const before = unclosed.before ? `\`${unclosed.before}\` ` : '';
    sink.report('E002', tokenSpan(unclosed.open), `unclosed \`{\`: the ${before}body opened here has no \`}\``, {
      notes: unclosed.closer ? [{ message: `this \`}\` is indented as the end of the enclosing body`, span: tokenSpan(unclosed.closer) }] : [],
    });
  }
  let limited = false;
  const reports: BuildReports = {
    missingSeparator: (at) => sink.report('E002', at, 'expected `|` or a line break between two stages'),
    duplicateTrain: (at, first) =>
      sink.report('E106', at, 'a network has one `train { … }` section; merge this one into the first', { notes: [{ message: 'the first one', span: first }] }),
    misplacedImport: (at) => sink.report('E114', at, '`import` goes at the top of the file, before the first declaration'),
    misplacedShortcut: (at, fix) =>
      sink.report('E114', at, 'a residual\'s shortcut goes after its closing brace, not inside it: `residual { … } shortcut { … }`', { fixes: [fix] }),
    equalsInArgument: (at, fix, meant) => sink.report('E002', at, `arguments are named without \`=\`: \`${meant}\``, { fixes: [fix] }),
    tooDeep: (at) => {
      limited = true;
      sink.report('E403', at, `expression too deep: more than ${MAX_EXPR_DEPTH} operations nested (a long chain of + or * counts one per term); split it with parameters`);
    },
  };
  // without a syntax error, the AST straight from the parser; with one, the recovering parser reports it (and all the others)
  let direct: ReturnType<AstParser['file']> | undefined;
  if (!options.recovering) {
    astParser.text = text;
    astParser.input = constructs.tokens;
    direct = astParser.file();
    if (astParser.errors.length) direct = undefined;
    astParser.input = [];
  }
  let built: Program;
  if (direct) {
    built = direct.program;
    for (const r of direct.reports) r(reports);
  } else {
    const parser = recovering();
    parser.input = constructs.tokens;
    raised = 0;
    let cst: CstNode | undefined;
    let abort: TooManyErrors | undefined;
    try {
      cst = parser.file();
    } catch (e) {
      if (!(e instanceof TooManyErrors)) throw e;
      abort = e;
    }
    // one root cause, one diagnostic: recovery can report the same spot more than once
    const seen = new Set<number>();
    let lastLine = -1;
    for (const e of parser.errors) {
      if (sink.items.length >= MAX_SYNTAX_ERRORS) {
        abort ??= new TooManyErrors(e.token);
        break;
      }
      const sp = errorSpan(e, text);
      const line = Number.isFinite(e.token.startLine) ? e.token.startLine! : -1;
      if (seen.has(sp.start)) continue;
      // what follows an unclosed brace is parsed against the wrong body: its errors are that one's
      if (unclosed && sp.start > unclosed.open.startOffset) continue;
      // follow-on errors on the same line as the previous one are noise from recovery
      if (line !== -1 && line === lastLine) continue;
      seen.add(sp.start);
      lastLine = line;
      sink.report('E002', sp, e.message);
    }
    parser.input = [];
    if (abort) return tooMany(abort.token);
    built = buildAst(cst!, text, reports);
  }
  built.comments = ((lexed.groups.comments ?? []) as IToken[]).map((c) => ({ text: c.image, span: tokenSpan(c) }));
  // a structure that could not be read as written is not checked: its errors would all follow from it
  if (unclosed || constructs.found) limited = true;
  return { program: built, diagnostics: sink.items, tokens: lexed.tokens, limited };
}

/** Constructs with a body in braces; an unknown word before `{` is compared with these. */
const CONSTRUCTS = ['repeat', 'residual', 'shortcut', 'concat', 'add', 'branch', 'train'];

/** tokens after which a line break does not start a stage (the expression or declaration goes on) */
const STAGE_CANNOT_FOLLOW = new Set<TokenType>([Network, Block, Repeat, Plus, Minus, Star, Slash, SlashSlash, Percent, Comma, LParen, LBracket, Colon, Equals]);

/** Words of other languages for a construct alexnetc has under another name (the same operation). */
const CONSTRUCT_NAMES: Record<string, string> = { sum: 'add', cat: 'concat', concatenate: 'concat', loop: 'repeat', for: 'repeat' };

/**
 * `mul { branch { … } }`: a word that is not a construct, followed by a body.
 * One error naming it (with a suggestion where one construct is meant), and
 * the body is taken out of the token stream so that it causes no more.
 */
function unknownConstructs(tokens: IToken[], text: string, sink: DiagnosticSink): { tokens: IToken[]; found: boolean } {
  let out = tokens;
  let found = false;
  for (let i = 0; i + 1 < out.length; i++) {
    const t = out[i]!;
    if (t.tokenType !== Identifier || out[i + 1]!.tokenType !== LBrace) continue;
    // only where a stage starts (after `{`, `}`, `|` or at the start of a line), not `network A {` or `repeat n {`
    const prev = out[i - 1];
    const startsStage =
      prev === undefined ||
      prev.tokenType === LBrace ||
      prev.tokenType === RBrace ||
      prev.tokenType === Pipe ||
      (/[\n\r]/.test(text.slice(prev.endOffset! + 1, t.startOffset)) && !STAGE_CANNOT_FOLLOW.has(prev.tokenType));
    if (!startsStage) continue;
    let depth = 0;
    let j = i + 1;
    for (; j < out.length; j++) {
      if (out[j]!.tokenType === LBrace) depth++;
      else if (out[j]!.tokenType === RBrace && --depth === 0) break;
    }
    if (j === out.length) continue; // unclosed: unclosedBrace says so
    const word = t.image.toLowerCase();
    const meant = CONSTRUCT_NAMES[word] ?? suggest(word, CONSTRUCTS);
    sink.report(
      'E002',
      tokenSpan(t),
      `\`${t.image} { … }\` is not a construct: a body in braces follows ${CONSTRUCTS.map((c) => `\`${c}\``).join(', ')}` +
        (meant ? `; did you mean \`${meant}\`?` : ' (branches are merged by `concat` or `add`; other merges are not in the catalogue)'),
      { fixes: meant ? [{ title: `replace with \`${meant}\``, edits: [{ span: tokenSpan(t), newText: meant }] }] : [] },
    );
    found = true;
    out = [...out.slice(0, i + 1), ...out.slice(j + 1)];
  }
  return { tokens: out, found };
}

/** The indentation of the line a token is on. */
function indentOf(text: string, t: IToken): number {
  const start = text.lastIndexOf('\n', t.startOffset - 1) + 1;
  return /^[ \t]*/.exec(text.slice(start, t.startOffset))![0].length;
}

/**
 * With more `{` than `}`: which `{` is the unclosed one. A `}` indented less
 * than the line of the innermost open `{` closes an outer one (the way the
 * author indented it), so the inner one is the unclosed brace; at the end of
 * the file, the innermost still open.
 */
function unclosedBrace(tokens: readonly IToken[], text: string): { open: IToken; before?: string; closer?: IToken } | undefined {
  let balance = 0;
  for (const t of tokens) balance += t.tokenType === LBrace ? 1 : t.tokenType === RBrace ? -1 : 0;
  if (balance <= 0) return undefined;
  const stack: { open: IToken; before?: string }[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.tokenType === LBrace) {
      const prev = tokens[i - 1];
      const before2 = tokens[i - 2];
      const before = prev && (prev.tokenType === Identifier && (before2?.tokenType === Network || before2?.tokenType === Block) ? `${before2.image} ${prev.image}` : prev.tokenType === RParen ? undefined : prev.image);
      stack.push({ open: t, before });
    } else if (t.tokenType === RBrace) {
      const top = stack[stack.length - 1];
      if (!top) continue;
      if (stack.length > 1 && indentOf(text, t) < indentOf(text, top.open)) return { ...top, closer: t };
      stack.pop();
    }
  }
  return stack[stack.length - 1];
}

/**
 * A lone expression, as a command line gives one (`--set classes=10`,
 * `--set k=[3, 5]`): the expression, or why the text is not one.
 */
export function parseExpression(text: string, options: { recovering?: boolean } = {}): { expr: Expr } | { error: string } {
  const lexed = lexer.tokenize(text);
  if (lexed.errors.length) {
    const e = lexed.errors[0]!;
    return { error: `unexpected character ${JSON.stringify(text.slice(e.offset, e.offset + e.length))}` };
  }
  if (lexed.tokens.length === 0) return { error: 'it is empty' };
  if (tooDeep(lexed.tokens)) return { error: `it nests more than ${MAX_NESTING} levels deep` };
  let deep = false;
  const direct = options.recovering ? undefined : astParser.lone(lexed.tokens, text, () => (deep = true));
  astParser.input = [];
  if (direct) return deep ? { error: `it is more than ${MAX_EXPR_DEPTH} operations deep` } : { expr: direct };
  const parser = recovering();
  parser.input = lexed.tokens;
  const cst = parser.expr();
  const e = parser.errors[0];
  if (e?.name === 'NotAllInputParsedException') return { error: `unexpected ${describe(e.token)} after the value` };
  parser.input = [];
  if (e) return { error: e.message.replace(/ but found the end of the file$/, ', but it ends') };
  const expr = buildExpr(cst, text, () => (deep = true));
  return deep ? { error: `it is more than ${MAX_EXPR_DEPTH} operations deep` } : { expr };
}
