// Tokens in one ordered array (the order is the lexer's priority).
import { createToken, Lexer, type TokenType } from 'chevrotain';
import { scanner } from './lexer.js';

// The tokens with a regular expression say which characters they can start with and that
// they never span a line (`start_chars_hint`, `line_breaks`), for a Chevrotain Lexer built
// from them (the tests' reference for lexer.ts), which would otherwise work both out.
// test/syntax/grammar.test.ts checks them against a lexer that works them out.
const LETTERS = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_'];

export const Identifier = createToken({ name: 'Identifier', pattern: /[A-Za-z_][A-Za-z0-9_]*/, label: 'a name', start_chars_hint: LETTERS, line_breaks: false });

function keyword(word: string): TokenType {
  return createToken({
    name: word[0]!.toUpperCase() + word.slice(1),
    pattern: new RegExp(`${word}\\b`),
    longer_alt: Identifier,
    label: `'${word}'`,
    start_chars_hint: [word[0]!],
    line_breaks: false,
  });
}

export const Network = keyword('network');
export const Block = keyword('block');
export const Input = keyword('input');
export const Repeat = keyword('repeat');
export const Residual = keyword('residual');
export const Shortcut = keyword('shortcut');
export const Concat = keyword('concat');
export const Add = keyword('add');
export const Split = keyword('split');
export const Gate = keyword('gate');
export const If = keyword('if');
export const Else = keyword('else');
export const And = keyword('and');
export const Or = keyword('or');
export const Not = keyword('not');
export const Branch = keyword('branch');
export const Train = keyword('train');
export const Import = keyword('import');
export const True = keyword('true');
export const False = keyword('false');

export const KEYWORDS = [Network, Block, Import, Input, Repeat, Residual, Shortcut, Concat, Add, Split, Gate, If, Else, And, Or, Not, Branch, Train, True, False];

export const NumberLit = createToken({
  name: 'Number',
  pattern: /(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/,
  label: 'number',
  start_chars_hint: [...'0123456789.'],
  line_breaks: false,
});

/** a file name in `import "common.net"`: double quotes, on one line, no escapes */
export const StringLit = createToken({ name: 'String', pattern: /"[^"\n\r]*"/, label: 'a string', start_chars_hint: ['"'], line_breaks: false });

export const LParen = createToken({ name: 'LParen', pattern: '(', label: "'('" });
export const RParen = createToken({ name: 'RParen', pattern: ')', label: "')'" });
export const LBrace = createToken({ name: 'LBrace', pattern: '{', label: "'{'" });
export const RBrace = createToken({ name: 'RBrace', pattern: '}', label: "'}'" });
export const LBracket = createToken({ name: 'LBracket', pattern: '[', label: "'['" });
export const RBracket = createToken({ name: 'RBracket', pattern: ']', label: "']'" });
export const Comma = createToken({ name: 'Comma', pattern: ',', label: "','" });
export const Pipe = createToken({ name: 'Pipe', pattern: '|', label: "'|'" });
export const Colon = createToken({ name: 'Colon', pattern: ':', label: "':'" });
export const EqEq = createToken({ name: 'EqEq', pattern: '==', label: "'=='" });
export const NotEq = createToken({ name: 'NotEq', pattern: '!=', label: "'!='" });
export const LtEq = createToken({ name: 'LtEq', pattern: '<=', label: "'<='" });
export const GtEq = createToken({ name: 'GtEq', pattern: '>=', label: "'>='" });
export const Lt = createToken({ name: 'Lt', pattern: '<', label: "'<'" });
export const Gt = createToken({ name: 'Gt', pattern: '>', label: "'>'" });
export const Equals = createToken({ name: 'Equals', pattern: '=', label: "'='" });
export const Plus = createToken({ name: 'Plus', pattern: '+', label: "'+'" });
export const Minus = createToken({ name: 'Minus', pattern: '-', label: "'-'" });
export const Star = createToken({ name: 'Star', pattern: '*', label: "'*'" });
export const SlashSlash = createToken({ name: 'SlashSlash', pattern: '//', label: "'//'" });
export const Slash = createToken({ name: 'Slash', pattern: '/', label: "'/'" });
export const Percent = createToken({ name: 'Percent', pattern: '%', label: "'%'" });

export const Comment = createToken({ name: 'Comment', pattern: /#[^\n\r]*/, group: 'comments', start_chars_hint: ['#'], line_breaks: false });
export const Newline = createToken({ name: 'Newline', pattern: /\r?\n/, group: Lexer.SKIPPED, line_breaks: true, start_chars_hint: ['\r', '\n'] });
export const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t\f\v\u00a0\ufeff]+/, group: Lexer.SKIPPED, start_chars_hint: [' ', '\t', '\f', '\v', '\u00a0', '\ufeff'], line_breaks: false });

export const ALL_TOKENS: TokenType[] = [
  WhiteSpace,
  Newline,
  Comment,
  ...KEYWORDS,
  Identifier,
  NumberLit,
  StringLit,
  LParen,
  RParen,
  LBrace,
  RBrace,
  LBracket,
  RBracket,
  Comma,
  Pipe,
  Colon,
  EqEq,
  NotEq,
  LtEq,
  GtEq,
  Lt,
  Gt,
  Equals,
  Plus,
  Minus,
  Star,
  SlashSlash,
  Slash,
  Percent,
];

/** the options of a Chevrotain Lexer of ALL_TOKENS that gives what `lexer` gives (test/syntax/lexer.test.ts) */
export const LEXER_OPTIONS = { positionTracking: 'full', ensureOptimizations: false } as const;

/** the lexer (src/syntax/lexer.ts): what a Chevrotain Lexer of ALL_TOKENS with LEXER_OPTIONS gives, in a fraction of its time */
export const lexer = scanner({
  keywords: KEYWORDS,
  identifier: Identifier,
  number: NumberLit,
  string: StringLit,
  comment: Comment,
  eqEq: EqEq,
  notEq: NotEq,
  ltEq: LtEq,
  gtEq: GtEq,
  slashSlash: SlashSlash,
  single: [LParen, RParen, LBrace, RBrace, LBracket, RBracket, Comma, Pipe, Colon, Equals, Lt, Gt, Plus, Minus, Star, Slash, Percent],
});
