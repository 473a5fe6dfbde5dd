// The lexer: text → tokens, comments and errors, exactly as a Chevrotain
// Lexer built from tokens.ts's ALL_TOKENS (full position tracking) gives
// them, in one pass over the characters: Chevrotain's tries the regular
// expression of each pattern the next character can start, keyword by
// keyword, and was a fifth of a long network's parse and check; here a
// token's kind follows from its first characters. test/syntax/lexer.test.ts
// compares both on the specs, fuzzed texts and random characters.
//
// A token is an object literal of Chevrotain's own fields (so that V8, which
// tracks where literals are made, allocates the tokens of a long file where
// they live instead of copying each one out of the young generation: tokens
// of a class were twice as slow to make), the token type first: a literal
// with the keys in the order of Chevrotain's would share the shape of the
// tokens the parser makes with NaN offsets, and V8 would box each offset,
// line and column of every token in a heap number of its own.
import type { ILexingError, ILexingResult, IToken, TokenType } from 'chevrotain';

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isIdentStart = (c: number): boolean => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
const isIdentPart = (c: number): boolean => isIdentStart(c) || isDigit(c);
/** WhiteSpace's characters: space, tab, form feed, vertical tab, no-break space, BOM */
const isSpace = (c: number): boolean => c === 32 || c === 9 || c === 12 || c === 11 || c === 0xa0 || c === 0xfeff;

/** the length of the number at `i` (NumberLit's pattern), or 0 */
function numberLength(text: string, i: number): number {
  let j = i;
  const n = text.length;
  if (isDigit(text.charCodeAt(j))) {
    while (j < n && isDigit(text.charCodeAt(j))) j++;
    if (text.charCodeAt(j) === 46) {
      j++;
      while (j < n && isDigit(text.charCodeAt(j))) j++;
    }
  } else if (text.charCodeAt(j) === 46 && isDigit(text.charCodeAt(j + 1))) {
    j++;
    while (j < n && isDigit(text.charCodeAt(j))) j++;
  } else return 0;
  const e = text.charCodeAt(j);
  if (e === 101 || e === 69) {
    let k = j + 1;
    const sign = text.charCodeAt(k);
    if (sign === 43 || sign === 45) k++;
    if (isDigit(text.charCodeAt(k))) {
      while (k < n && isDigit(text.charCodeAt(k))) k++;
      j = k;
    }
  }
  return j - i;
}

/** the length of the string at `i` (StringLit's pattern: to the next `"` on the line), or 0 */
function stringLength(text: string, i: number): number {
  for (let j = i + 1; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === 34) return j + 1 - i;
    if (c === 10 || c === 13) return 0;
  }
  return 0;
}

/** whether some token (skipped ones included) starts at `i`: where lexing resumes after unexpected characters */
function startsToken(text: string, i: number, single: ReadonlyMap<number, TokenType>): boolean {
  const c = text.charCodeAt(i);
  if (isSpace(c) || c === 10 || c === 35 || isIdentStart(c) || isDigit(c) || single.has(c)) return true;
  const next = text.charCodeAt(i + 1);
  if (c === 13) return next === 10;
  if (c === 46) return isDigit(next);
  if (c === 33) return next === 61;
  if (c === 34) return stringLength(text, i) > 0;
  return false;
}

/** the token types the scanner makes (tokens.ts's), by what they are */
export interface TokenKinds {
  /** a keyword's pattern is the word and `\b` */
  keywords: readonly TokenType[];
  identifier: TokenType;
  number: TokenType;
  string: TokenType;
  comment: TokenType;
  /** the two-character operators: `==`, `!=`, `<=`, `>=`, `//` */
  eqEq: TokenType;
  notEq: TokenType;
  ltEq: TokenType;
  gtEq: TokenType;
  slashSlash: TokenType;
  /** the tokens whose pattern is one character */
  single: readonly TokenType[];
}

/** a lexer of these token types: `tokenize` as Chevrotain's Lexer has it */
export function scanner(kinds: TokenKinds): { tokenize(text: string): ILexingResult } {
  const words = kinds.keywords.map((k) => [(k.PATTERN as RegExp).source.replace(/\\b$/, ''), k] as const);
  const operators = [...kinds.single, kinds.eqEq, kinds.notEq, kinds.ltEq, kinds.gtEq, kinds.slashSlash];
  const tables: Tables = {
    keywords: new Map(words),
    single: new Map(kinds.single.map((t) => [(t.PATTERN as string).charCodeAt(0), t])),
    images: new Map([...words.map(([w, k]) => [k, w] as const), ...operators.map((t) => [t, t.PATTERN as string] as const)]),
  };
  return { tokenize: (text) => tokenize(text, kinds, tables) };
}

interface Tables {
  keywords: ReadonlyMap<string, TokenType>;
  /** the tokens of one character, by its code */
  single: ReadonlyMap<number, TokenType>;
  /** the text of the tokens that are always the same text: a keyword's or an operator's (one string for all of them) */
  images: ReadonlyMap<TokenType, string>;
}

function tokenize(text: string, kinds: TokenKinds, { keywords, single, images }: Tables): ILexingResult {
  const tokens: IToken[] = [];
  const comments: IToken[] = [];
  const errors: ILexingError[] = [];
  const n = text.length;
  /** the line being lexed, and the offset it starts at (a line starts after every `\n`; a lone `\r` is a stray character, not a line break) */
  let line = 1;
  let lineStart = 0;
  /** `image`: the token's text, where it is always the same text (an operator's) */
  const push = (to: IToken[], type: TokenType, start: number, end: number, image = text.substring(start, end)): void => {
    const column = start - lineStart + 1;
    to.push({ tokenType: type, tokenTypeIdx: type.tokenTypeIdx!, image, startOffset: start, endOffset: end - 1, startLine: line, endLine: line, startColumn: column, endColumn: column + end - start - 1 });
  };
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      while (i < n && isSpace(text.charCodeAt(i))) i++;
      continue;
    }
    if (c === 10 || (c === 13 && text.charCodeAt(i + 1) === 10)) {
      i += c === 10 ? 1 : 2;
      line++;
      lineStart = i;
      continue;
    }
    if (isIdentStart(c)) {
      let j = i + 1;
      while (j < n && isIdentPart(text.charCodeAt(j))) j++;
      const word = text.substring(i, j);
      const keyword = keywords.get(word);
      const image = keyword ? images.get(keyword)! : word;
      const type = keyword ?? kinds.identifier;
      const column = i - lineStart + 1;
      tokens.push({ tokenType: type, tokenTypeIdx: type.tokenTypeIdx!, image, startOffset: i, endOffset: j - 1, startLine: line, endLine: line, startColumn: column, endColumn: column + j - i - 1 });
      i = j;
      continue;
    }
    const next = text.charCodeAt(i + 1);
    let type: TokenType | undefined;
    let len = 1;
    if (isDigit(c) || (c === 46 && isDigit(next))) {
      type = kinds.number;
      len = numberLength(text, i);
    } else if ((next === 61 && (c === 61 || c === 33 || c === 60 || c === 62)) || (c === 47 && next === 47)) {
      type = c === 61 ? kinds.eqEq : c === 33 ? kinds.notEq : c === 60 ? kinds.ltEq : c === 62 ? kinds.gtEq : kinds.slashSlash;
      len = 2;
    } else if (c === 35) {
      let j = i + 1;
      while (j < n && text.charCodeAt(j) !== 10 && text.charCodeAt(j) !== 13) j++;
      push(comments, kinds.comment, i, j);
      i = j;
      continue;
    } else if (c === 34) {
      len = stringLength(text, i);
      if (len) type = kinds.string;
    } else type = single.get(c);
    if (type) {
      if (type === kinds.number || type === kinds.string) push(tokens, type, i, i + len);
      else push(tokens, type, i, i + len, images.get(type)!);
      i += len;
      continue;
    }
    // unexpected characters: up to where a token can start again, as one error
    const start = i;
    i++;
    while (i < n && !startsToken(text, i, single)) i++;
    errors.push({
      offset: start,
      line,
      column: start - lineStart + 1,
      length: i - start,
      message: `unexpected character: ->${text.charAt(start)}<- at offset: ${start}, skipped ${i - start} characters.`,
    });
  }
  return { tokens, groups: { comments }, errors };
}
