// The shared lexer and parser skip Chevrotain's checks of the grammar at run
// time (they are a good part of the command line's start); here the grammar
// is built with them, so a change that makes it ambiguous or left-recursive
// fails the suite instead of misparsing.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CstParser, createToken, Lexer, type IToken, type TokenType } from 'chevrotain';
import { describe, expect, it } from 'vitest';
import { NetParser } from '../../src/syntax/parser.js';
import { ALL_TOKENS, LEXER_OPTIONS } from '../../src/syntax/tokens.js';
import { parse } from '../../src/syntax/parse.js';

const ROOT = path.resolve(__dirname, '../..');

describe('the grammar, validated', () => {
  it('the parser passes every one of Chevrotain’s grammar checks', () => {
    const p = new NetParser(true);
    expect(p.definitionErrors).toEqual([]);
  });

  it('the lexer’s token definitions pass its checks', () => {
    const l = new Lexer(ALL_TOKENS, { ...LEXER_OPTIONS, skipValidations: false, deferDefinitionErrorsHandling: true });
    expect(l.lexerDefinitionErrors).toEqual([]);
  });

  it('the tokens’ start characters and line breaks, given to save the lexer work at start, are what it works out itself', () => {
    // the same tokens without the hints: the lexer analyses their regular expressions
    const plain = new Map<TokenType, TokenType>();
    // the tokens others fall back to (longer_alt) first
    for (const t of [...ALL_TOKENS].sort((a, b) => Number(!!a.LONGER_ALT) - Number(!!b.LONGER_ALT))) {
      const longer = t.LONGER_ALT as TokenType | undefined;
      plain.set(
        t,
        createToken({
          name: t.name,
          pattern: t.PATTERN as RegExp,
          ...(t.GROUP !== undefined ? { group: t.GROUP as string } : {}),
          ...(longer ? { longer_alt: plain.get(longer) } : {}),
          ...(t.name === 'Newline' ? { line_breaks: true } : {}),
        }),
      );
    }
    const reference = new Lexer(ALL_TOKENS.map((t) => plain.get(t)!), { ...LEXER_OPTIONS, ensureOptimizations: true });
    const hinted = new Lexer(ALL_TOKENS, { ...LEXER_OPTIONS, ensureOptimizations: true });
    expect(hinted.lexerDefinitionErrors).toEqual([]);
    const texts = fs.readdirSync(path.join(ROOT, 'specs')).filter((f) => f.endsWith('.net')).map((f) => fs.readFileSync(path.join(ROOT, 'specs', f), 'utf8'));
    // every ASCII character and the odd spaces, at the start of a token and inside one (a line each: `#` comments the rest out)
    let all = '';
    for (let c = 0; c < 128; c++) all += `${String.fromCharCode(c)}x${String.fromCharCode(c)}1 ${String.fromCharCode(c)}\n`;
    texts.push(all, all + '\u00a0\ufeff\r\n\rnetwork2 block_ 1e5x .5e-3 "s" #c\r\n', '\u00e9\u2028 é 1.2.3 == != <= >= //');
    const lex = (l: Lexer, t: string) => {
      const r = l.tokenize(t);
      const tok = (x: IToken) => [x.tokenType.name, x.image, x.startOffset, x.startLine, x.startColumn, x.endLine, x.endColumn];
      return { tokens: r.tokens.map(tok), comments: ((r.groups.comments ?? []) as IToken[]).map(tok), errors: r.errors.map((e) => [e.offset, e.length, e.line, e.column]) };
    };
    for (const t of texts) expect(lex(hinted, t)).toEqual(lex(reference, t));
  });

  it('the checks are on when asked for: an ambiguous grammar is refused', () => {
    const A = createToken({ name: 'A', pattern: /a/ });
    class Ambiguous extends CstParser {
      constructor(validate: boolean) {
        super([A], { skipValidations: !validate });
        this.performSelfAnalysis();
      }
      top = this.RULE('top', () => {
        this.OR([{ ALT: () => this.CONSUME(A) }, { ALT: () => this.CONSUME2(A) }]);
      });
    }
    expect(() => new Ambiguous(true)).toThrow(/ambiguous|Ambiguous/);
    expect(() => new Ambiguous(false)).not.toThrow();
  });

  it('the shared parser, built without the checks, parses a spec', () => {
    const r = parse('network N {\n  input [1, 28, 28]\n  conv(6, 5) | relu\n  flatten | dense(10)\n}\n');
    expect(r.diagnostics).toEqual([]);
    expect(r.program.decls.map((d) => d.name.name)).toEqual(['N']);
  });
});
