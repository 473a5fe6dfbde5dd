// What the cursor is inside of, read from the token stream rather than the
// AST: completion and signature help run on half-typed text (`conv(96, 11, st`)
// that the parser can only partly make sense of.
import type { IToken } from 'chevrotain';
import { lexer } from '../syntax/tokens.js';

export type CursorContext =
  | { kind: 'top' }
  /** inside `{ … }` where a stage can start; `opener` is the word before `{` */
  | { kind: 'body'; opener: string | undefined; afterRepeat: boolean }
  /** inside `train { … }`; `key` is the setting whose value is being typed (`optimizer a|`) */
  | { kind: 'train'; key?: string }
  /** inside the parentheses of a setting's value (`optimizer adam(be|`) */
  | { kind: 'trainArgs'; key: string; named: string[] }
  /** inside a call's parentheses */
  | {
      kind: 'call';
      callee: string;
      calleeStart: number;
      /** index of the argument the cursor is in */
      argIndex: number;
      /** positional arguments before the current one */
      positionalBefore: number;
      /** names of the named arguments written so far (the current one excluded) */
      named: string[];
      /** the current argument's name, when it is written `name value` and the cursor is past the name */
      currentName: string | undefined;
      /** the cursor is where an argument (its name or a positional value) starts */
      atArgStart: boolean;
    }
  /** inside parameter list of a network/block header */
  | { kind: 'params' }
  /** inside `[ … ]` or a parenthesised expression: values */
  | { kind: 'value' };

interface Open {
  tok: IToken;
  index: number;
}

export function tokensOf(text: string): IToken[] {
  return lexer.tokenize(text).tokens;
}

/** the identifier being typed at the cursor (its start), if any */
export function wordStart(text: string, offset: number): number {
  let i = offset;
  while (i > 0 && /[A-Za-z0-9_]/.test(text[i - 1]!)) i--;
  return i;
}

export function cursorContext(text: string, offset: number, tokens: IToken[] = tokensOf(text)): CursorContext {
  const start = wordStart(text, offset);
  // tokens strictly before the word being typed
  const before = tokens.filter((t) => t.startOffset < start && (t.endOffset ?? t.startOffset) < start);
  const stack: Open[] = [];
  before.forEach((t, index) => {
    const im = t.image;
    if (im === '(' || im === '[' || im === '{') stack.push({ tok: t, index });
    else if (im === ')' || im === ']' || im === '}') {
      const want = im === ')' ? '(' : im === ']' ? '[' : '{';
      // tolerate unbalanced text: drop unclosed openers of other kinds
      for (let k = stack.length - 1; k >= 0; k--) {
        if (stack[k]!.tok.image === want) {
          stack.length = k;
          break;
        }
      }
    }
  });
  const top = stack[stack.length - 1];
  if (!top) return { kind: 'top' };
  const prev = before[top.index - 1];
  const prev2 = before[top.index - 2];
  /** the first token of the line a token is on, within the tokens after `from` */
  const lineHead = (index: number, from: number): IToken | undefined => {
    let i = index;
    while (i - 1 > from && before[i - 1]!.startLine === before[index]!.startLine) i--;
    return before[i];
  };
  if (top.tok.image === '{') {
    if (prev?.image === 'train') {
      const last = before.length - 1;
      const t = before[last];
      // `key |`: the cursor is on the same line as a key that starts its line
      if (t && last > top.index && t.tokenType.name === 'Identifier' && !/[\n\r]/.test(text.slice(t.endOffset! + 1, start)) && lineHead(last, top.index) === t) {
        return { kind: 'train', key: t.image };
      }
      return { kind: 'train' };
    }
    const last = before[before.length - 1];
    return { kind: 'body', opener: prev?.image, afterRepeat: last?.image === 'repeat' };
  }
  if (top.tok.image === '[') return { kind: 'value' };
  // `(` of a training setting's value: `optimizer adam(beta1 0.9, |`
  const under = stack[stack.length - 2];
  if (under && under.tok.image === '{' && before[under.index - 1]?.image === 'train') {
    const key = lineHead(top.index, under.index);
    if (key && key.tokenType.name === 'Identifier') {
      const named: string[] = [];
      for (let i = top.index + 1; i < before.length - 1; i++) {
        if (before[i]!.tokenType.name === 'Identifier' && (before[i - 1]!.image === '(' || before[i - 1]!.image === ',')) named.push(before[i]!.image);
      }
      return { kind: 'trainArgs', key: key.image, named };
    }
  }
  // `(`
  if (prev && /^[A-Za-z_]/.test(prev.image) && prev.tokenType.name === 'Identifier') {
    if (prev2 && (prev2.image === 'network' || prev2.image === 'block')) return { kind: 'params' };
    // arguments so far: split at depth-0 commas
    const args: IToken[][] = [[]];
    let depth = 0;
    for (const t of before.slice(top.index + 1)) {
      if (t.image === '(' || t.image === '[') depth++;
      else if (t.image === ')' || t.image === ']') depth--;
      if (depth === 0 && t.image === ',') args.push([]);
      else args[args.length - 1]!.push(t);
    }
    const isNamed = (a: IToken[]): boolean => a.length >= 2 && a[0]!.tokenType.name === 'Identifier' && /^[A-Za-z_0-9([]/.test(a[1]!.image);
    const done = args.slice(0, -1);
    const cur = args[args.length - 1]!;
    return {
      kind: 'call',
      callee: prev.image,
      calleeStart: prev.startOffset,
      argIndex: args.length - 1,
      positionalBefore: done.filter((a) => !isNamed(a)).length,
      named: done.filter(isNamed).map((a) => a[0]!.image),
      currentName:
        cur[0]?.tokenType.name === 'Identifier' && (cur.length === 1 ? start > cur[0].endOffset! + 1 : isNamed(cur)) ? cur[0].image : undefined,
      atArgStart: cur.length === 0,
    };
  }
  return { kind: 'value' };
}
