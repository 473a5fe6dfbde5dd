// src/syntax/lexer.ts gives what a Chevrotain Lexer of the same token types
// gives (full position tracking): the same tokens with the same offsets,
// lines and columns, the same comments, the same errors. Compared on every
// shipped spec, generated networks and their mutations, and random texts
// made of the language's words, operators and characters it does not know.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Lexer, type ILexingResult, type IToken } from 'chevrotain';
import { describe, expect, it } from 'vitest';
import { ALL_TOKENS, LEXER_OPTIONS, lexer } from '../../src/syntax/tokens.js';
import { createRng } from '../../src/util/rng.js';
import { generate } from '../fuzz/generate.js';
import { mutate } from '../fuzz/mutate.js';

const ROOT = path.resolve(__dirname, '../..');
const reference = new Lexer(ALL_TOKENS, LEXER_OPTIONS);

const tok = (t: IToken) => ({
  type: t.tokenType.name,
  idx: t.tokenTypeIdx,
  image: t.image,
  start: t.startOffset,
  end: t.endOffset,
  line: t.startLine,
  column: t.startColumn,
  endLine: t.endLine,
  endColumn: t.endColumn,
});
const view = (r: ILexingResult) => ({ tokens: r.tokens.map(tok), comments: (r.groups.comments ?? []).map(tok), errors: r.errors });

function same(text: string): void {
  expect(view(lexer.tokenize(text)), JSON.stringify(text)).toStrictEqual(view(reference.tokenize(text)));
}

const PIECES = [
  ...ALL_TOKENS.flatMap((t) => (typeof t.PATTERN === 'string' ? [t.PATTERN] : [])),
  'network', 'block', 'input', 'repeat', 'residual', 'shortcut', 'concat', 'add', 'split', 'gate', 'if', 'else', 'and', 'or', 'not', 'branch', 'train', 'import', 'true', 'false',
  'networks', 'input2', 'If', '_', 'x_1', 'conv', 'relu',
  '0', '12', '3.', '.5', '.', '1e5', '2E-3', '4e', '5e+', '1.2.3', '7x',
  '"a.net"', '"', '"open\n', '#', '# a comment', '!', '!=',
  ' ', '  ', '\t', '\f', '\v', '\u00a0', '\ufeff', '\n', '\r\n', '\r', '\n\n',
  '@', '$', '~', '`', ';', '?', '\\', 'é', '\u0000', '\u2028', '😀', '\ud83d', '\ude00',
];

describe('the lexer', () => {
  it('gives what Chevrotain’s lexer gives on the specs, generated networks and their mutations', () => {
    const texts = fs.readdirSync(path.join(ROOT, 'specs')).filter((f) => f.endsWith('.net')).map((f) => fs.readFileSync(path.join(ROOT, 'specs', f), 'utf8'));
    for (let i = 0; i < 40; i++) texts.push(generate(20261207, i).source);
    const base = [...texts];
    for (let i = 0; i < 200; i++) texts.push(mutate(base[i % base.length]!, 20261207, i));
    for (const t of texts) same(t);
  });

  it('gives what Chevrotain’s lexer gives on random texts, unknown characters and unclosed strings among them', () => {
    const r = createRng(20261207, 'lexer');
    for (let i = 0; i < 3000; i++) {
      let t = '';
      const n = Math.floor(r.next() * 24);
      for (let j = 0; j < n; j++) t += PIECES[Math.floor(r.next() * PIECES.length)];
      same(t);
    }
  });

  it('works lines and columns out from offsets, across `\\r\\n`, a lone `\\r` and texts lexed in turn', () => {
    for (const t of ['', 'a', '\n\n  b', 'a\r\nb\rc\n d # x\n"s" é\n!', 'x\ny', 'x\r\ny']) same(t);
    // a token read after another text was lexed still gives its own text's lines
    const first = lexer.tokenize('a\nb\nc').tokens;
    lexer.tokenize('x y z');
    expect(first.map((x) => [x.startLine, x.startColumn])).toEqual([[1, 1], [2, 1], [3, 1]]);
  });
});
