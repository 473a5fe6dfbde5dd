// The shared lexer and parser skip Chevrotain's checks of the grammar at run
// time (they are a good part of the command line's start); here the grammar
// is built with them, so a change that makes it ambiguous or left-recursive
// fails the suite instead of misparsing.
import { CstParser, createToken, Lexer } from 'chevrotain';
import { describe, expect, it } from 'vitest';
import { NetParser } from '../../src/syntax/parser.js';
import { ALL_TOKENS, LEXER_OPTIONS } from '../../src/syntax/tokens.js';
import { parse } from '../../src/syntax/parse.js';

describe('the grammar, validated', () => {
  it('the parser passes every one of Chevrotain’s grammar checks', () => {
    const p = new NetParser(true);
    expect(p.definitionErrors).toEqual([]);
  });

  it('the lexer’s token definitions pass its checks', () => {
    const l = new Lexer(ALL_TOKENS, { ...LEXER_OPTIONS, skipValidations: false, deferDefinitionErrorsHandling: true });
    expect(l.lexerDefinitionErrors).toEqual([]);
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
