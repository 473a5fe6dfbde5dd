// Text → AST plus syntax diagnostics. Lexer and parser errors become
// diagnostics with readable messages; recovery keeps the rest of the file.
import type { IParserErrorMessageProvider, IRecognitionException, IToken, TokenType } from 'chevrotain';
import { EOF } from 'chevrotain';
import { DiagnosticSink, type Diagnostic } from '../diagnostics/index.js';
import type { Span } from '../diagnostics/span.js';
import type { Expr, Program } from './ast.js';
import { buildAst, buildExpr, tokenSpan } from './cst-to-ast.js';
import { parser } from './parser.js';
import { Identifier, lexer } from './tokens.js';
import { suggest } from '../check/suggest.js';

export interface ParseResult {
  program: Program;
  diagnostics: Diagnostic[];
  tokens: IToken[];
}

function describe(t: IToken): string {
  if (t.tokenType === EOF) return 'the end of the file';
  return `'${t.image}'`;
}

function label(t: TokenType): string {
  return t.LABEL ?? t.name;
}

const RULE_NAMES: Record<string, string> = {
  file: '`network` or `block`',
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
  const s = t.tokenType === Identifier ? suggest(t.image, ['network', 'block']) : undefined;
  return `expected \`network\` or \`block\` but found ${describe(t)}${s ? `; did you mean \`${s}\`?` : ''}`;
}

const messages: IParserErrorMessageProvider = {
  buildMismatchTokenMessage: ({ expected, actual }) =>
    expected === EOF ? topLevel(actual) : `expected ${label(expected)} but found ${describe(actual)}`,
  buildNotAllInputParsedMessage: ({ firstRedundant }) => topLevel(firstRedundant),
  buildNoViableAltMessage: ({ actual, ruleName }) =>
    `expected ${RULE_NAMES[ruleName] ?? ruleName} but found ${describe(actual[0]!)}`,
  buildEarlyExitMessage: ({ actual, ruleName }) => `expected ${RULE_NAMES[ruleName] ?? ruleName} but found ${describe(actual[0]!)}`,
};

(parser as unknown as { errorMessageProvider: IParserErrorMessageProvider }).errorMessageProvider = messages;

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

export function parse(text: string): ParseResult {
  const sink = new DiagnosticSink();
  const lexed = lexer.tokenize(text);
  for (const e of lexed.errors) {
    const ch = text.slice(e.offset, e.offset + e.length);
    sink.report('E001', { start: e.offset, end: e.offset + e.length }, `unexpected character${e.length > 1 ? 's' : ''} ${JSON.stringify(ch.length > 20 ? ch.slice(0, 20) + '…' : ch)}`);
  }
  parser.input = lexed.tokens;
  const cst = parser.file();
  // one root cause, one diagnostic: recovery can report the same spot more than once
  const seen = new Set<number>();
  let lastLine = -1;
  for (const e of parser.errors) {
    const sp = errorSpan(e, text);
    const line = Number.isFinite(e.token.startLine) ? e.token.startLine! : -1;
    if (seen.has(sp.start)) continue;
    // follow-on errors on the same line as the previous one are noise from recovery
    if (line !== -1 && line === lastLine) continue;
    seen.add(sp.start);
    lastLine = line;
    sink.report('E002', sp, e.message);
  }
  const program = buildAst(cst, text, (at) => sink.report('E002', at, 'expected `|` or a line break between two stages'));
  program.comments = ((lexed.groups.comments ?? []) as IToken[]).map((c) => ({ text: c.image, span: tokenSpan(c) }));
  return { program, diagnostics: sink.items, tokens: lexed.tokens };
}

/**
 * A lone expression, as a command line gives one (`--set classes=10`,
 * `--set k=[3, 5]`): the expression, or why the text is not one.
 */
export function parseExpression(text: string): { expr: Expr } | { error: string } {
  const lexed = lexer.tokenize(text);
  if (lexed.errors.length) {
    const e = lexed.errors[0]!;
    return { error: `unexpected character ${JSON.stringify(text.slice(e.offset, e.offset + e.length))}` };
  }
  if (lexed.tokens.length === 0) return { error: 'it is empty' };
  parser.input = lexed.tokens;
  const cst = parser.expr();
  const e = parser.errors[0];
  if (e?.name === 'NotAllInputParsedException') return { error: `unexpected ${describe(e.token)} after the value` };
  if (e) return { error: e.message.replace(/ but found the end of the file$/, ', but it ends') };
  return { expr: buildExpr(cst, text) };
}
