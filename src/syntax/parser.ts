// The grammar, as a Chevrotain CstParser with error recovery. It stays pure:
// cst-to-ast.ts turns the CST into the plain AST. It parses the texts that
// have syntax errors; ast-parser.ts, the same grammar building the AST as it
// goes, parses those without (parse.ts tries it first).
import { CstParser, type CstNode, type IToken, tokenMatcher } from 'chevrotain';
import * as T from './tokens.js';

/** tokens that can start an expression (used to tell `stride 4` from a positional `c`) */
/** the expression functions (src/check/functions.ts) */
export const FUNCTION_NAMES = new Set(['round', 'floor', 'ceil', 'min', 'max', 'make_divisible']);

const EXPR_START = [T.NumberLit, T.Identifier, T.True, T.False, T.LParen, T.LBracket, T.Not];

export class NetParser extends CstParser {
  /**
   * `validate`: run Chevrotain's checks of the grammar itself (ambiguities, left
   * recursion, …). They cost a good part of every start and can only fail when
   * this file changes, so the one shared instance skips them and a test
   * (test/syntax/grammar.test.ts) builds a validated parser instead.
   */
  constructor(validate = false) {
    super(T.ALL_TOKENS, { recoveryEnabled: true, maxLookahead: 3, nodeLocationTracking: 'onlyOffset', skipValidations: !validate });
    this.performSelfAnalysis();
  }

  file = this.RULE('file', () => {
    // imports belong at the top; one written later still parses, and gets E114
    this.MANY(() => {
      this.OR([{ ALT: () => this.SUBRULE(this.importDecl) }, { ALT: () => this.SUBRULE(this.network) }, { ALT: () => this.SUBRULE(this.block) }]);
    });
  });

  importDecl = this.RULE('importDecl', () => {
    this.CONSUME(T.Import);
    this.CONSUME(T.StringLit);
  });

  network = this.RULE('network', () => {
    this.CONSUME(T.Network);
    this.CONSUME(T.Identifier);
    this.OPTION(() => this.SUBRULE(this.params));
    this.SUBRULE(this.body);
  });

  block = this.RULE('block', () => {
    this.CONSUME(T.Block);
    this.CONSUME(T.Identifier);
    this.OPTION(() => this.SUBRULE(this.params));
    this.SUBRULE(this.body);
  });

  params = this.RULE('params', () => {
    this.CONSUME(T.LParen);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.param) });
    this.CONSUME(T.RParen);
  });

  param = this.RULE('param', () => {
    this.CONSUME(T.Identifier);
    this.OPTION(() => {
      this.CONSUME(T.Equals);
      this.SUBRULE(this.expr);
    });
  });

  body = this.RULE('body', () => {
    this.CONSUME(T.LBrace);
    this.MANY(() => this.SUBRULE(this.chain));
    this.CONSUME(T.RBrace);
  });

  /** stages joined by `|`; consecutive chains must be on separate lines */
  chain = this.RULE('chain', () => {
    this.SUBRULE(this.stage);
    this.MANY(() => {
      this.CONSUME(T.Pipe);
      this.SUBRULE2(this.stage);
    });
  });

  stage = this.RULE('stage', () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.call) },
      { ALT: () => this.SUBRULE(this.repeat) },
      { ALT: () => this.SUBRULE(this.residual) },
      { ALT: () => this.SUBRULE(this.merge) },
      { ALT: () => this.SUBRULE(this.gate) },
      { ALT: () => this.SUBRULE(this.ifStage) },
      { ALT: () => this.SUBRULE(this.inputDecl) },
      { ALT: () => this.SUBRULE(this.train) },
      // only valid right after a residual's body (which takes it itself); anywhere else, such as
      // inside the residual's braces, it parses so the checker can show the right form
      { ALT: () => this.SUBRULE(this.shortcut) },
    ]);
    this.OPTION(() => this.SUBRULE(this.assertion));
  });

  shortcut = this.RULE('shortcut', () => {
    this.CONSUME(T.Shortcut);
    this.SUBRULE(this.body);
  });

  call = this.RULE('call', () => {
    this.CONSUME(T.Identifier);
    this.OPTION(() => this.SUBRULE(this.args));
  });

  args = this.RULE('args', () => {
    this.CONSUME(T.LParen);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.arg) });
    this.CONSUME(T.RParen);
  });

  arg = this.RULE('arg', () => {
    this.OR([
      {
        // `name value`: an identifier directly followed by the start of an expression
        // (a function call `round(x)` is an expression, not the argument `round` with the value `(x)`)
        GATE: () =>
          tokenMatcher(this.LA(1), T.Identifier) &&
          EXPR_START.some((t) => tokenMatcher(this.LA(2), t)) &&
          !(FUNCTION_NAMES.has(this.LA(1).image) && tokenMatcher(this.LA(2), T.LParen)),
        ALT: () => {
          this.CONSUME(T.Identifier, { LABEL: 'name' });
          this.SUBRULE(this.expr);
        },
      },
      {
        // `name=value`, as Python writes it: built as `name value` and reported once, with a fix (cst-to-ast.ts)
        GATE: () => tokenMatcher(this.LA(1), T.Identifier) && tokenMatcher(this.LA(2), T.Equals),
        ALT: () => {
          this.CONSUME2(T.Identifier, { LABEL: 'name' });
          this.CONSUME(T.Equals, { LABEL: 'equals' });
          this.SUBRULE3(this.expr);
        },
      },
      { ALT: () => this.SUBRULE2(this.expr) },
    ]);
  });

  repeat = this.RULE('repeat', () => {
    this.CONSUME(T.Repeat);
    this.SUBRULE(this.expr);
    this.SUBRULE(this.body);
  });

  residual = this.RULE('residual', () => {
    this.CONSUME(T.Residual);
    // `residual if cond { … }`: a residual only when cond holds, else the body alone
    this.OPTION2(() => {
      this.CONSUME(T.If);
      this.SUBRULE(this.expr);
    });
    this.SUBRULE(this.body);
    this.OPTION(() => {
      this.CONSUME(T.Shortcut);
      this.SUBRULE2(this.body, { LABEL: 'shortcutBody' });
    });
  });

  merge = this.RULE('merge', () => {
    this.OR([{ ALT: () => this.CONSUME(T.Concat) }, { ALT: () => this.CONSUME(T.Add) }, { ALT: () => this.CONSUME(T.Split) }]);
    this.CONSUME(T.LBrace);
    this.MANY(() => this.SUBRULE(this.branch));
    this.CONSUME(T.RBrace);
  });

  /** `if cond { … } else { … }`: the stages of the branch the condition picks */
  ifStage = this.RULE('ifStage', () => {
    this.CONSUME(T.If);
    this.SUBRULE(this.expr);
    this.SUBRULE(this.body);
    this.OPTION(() => {
      this.CONSUME(T.Else);
      this.SUBRULE2(this.body, { LABEL: 'elseBody' });
    });
  });

  /** `gate { … }`: the input times what the body computes from it (squeeze-and-excitation) */
  gate = this.RULE('gate', () => {
    this.CONSUME(T.Gate);
    this.SUBRULE(this.body);
  });

  branch = this.RULE('branch', () => {
    this.CONSUME(T.Branch);
    this.SUBRULE(this.body);
  });

  inputDecl = this.RULE('inputDecl', () => {
    this.CONSUME(T.Input);
    this.SUBRULE(this.dims);
  });

  train = this.RULE('train', () => {
    this.CONSUME(T.Train);
    this.CONSUME(T.LBrace);
    this.MANY(() => this.SUBRULE(this.setting));
    this.CONSUME(T.RBrace);
  });

  /** `key value` or `key name(args)` inside a train section */
  setting = this.RULE('setting', () => {
    this.CONSUME(T.Identifier, { LABEL: 'key' });
    this.OR([
      {
        GATE: () => tokenMatcher(this.LA(1), T.Identifier) && tokenMatcher(this.LA(2), T.LParen),
        ALT: () => {
          this.CONSUME2(T.Identifier, { LABEL: 'callee' });
          this.SUBRULE(this.args);
        },
      },
      { ALT: () => this.SUBRULE(this.expr) },
    ]);
  });

  assertion = this.RULE('assertion', () => {
    this.CONSUME(T.Colon);
    this.SUBRULE(this.dims);
  });

  dims = this.RULE('dims', () => {
    this.CONSUME(T.LBracket);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.expr) });
    this.CONSUME(T.RBracket);
  });

  expr = this.RULE('expr', () => {
    this.SUBRULE(this.conjunction);
    this.MANY(() => {
      this.CONSUME(T.Or);
      this.SUBRULE2(this.conjunction);
    });
  });

  conjunction = this.RULE('conjunction', () => {
    this.SUBRULE(this.negation);
    this.MANY(() => {
      this.CONSUME(T.And);
      this.SUBRULE2(this.negation);
    });
  });

  negation = this.RULE('negation', () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Not);
          this.SUBRULE(this.negation);
        },
      },
      { ALT: () => this.SUBRULE(this.comparison) },
    ]);
  });

  comparison = this.RULE('comparison', () => {
    this.SUBRULE(this.sum);
    this.OPTION(() => {
      this.OR([
        { ALT: () => this.CONSUME(T.EqEq) },
        { ALT: () => this.CONSUME(T.NotEq) },
        { ALT: () => this.CONSUME(T.LtEq) },
        { ALT: () => this.CONSUME(T.GtEq) },
        { ALT: () => this.CONSUME(T.Lt) },
        { ALT: () => this.CONSUME(T.Gt) },
      ]);
      this.SUBRULE2(this.sum);
    });
  });

  sum = this.RULE('sum', () => {
    this.SUBRULE(this.term);
    this.MANY(() => {
      this.OR([{ ALT: () => this.CONSUME(T.Plus) }, { ALT: () => this.CONSUME(T.Minus) }]);
      this.SUBRULE2(this.term);
    });
  });

  term = this.RULE('term', () => {
    this.SUBRULE(this.unary);
    this.MANY(() => {
      this.OR([
        { ALT: () => this.CONSUME(T.Star) },
        { ALT: () => this.CONSUME(T.SlashSlash) },
        { ALT: () => this.CONSUME(T.Slash) },
        { ALT: () => this.CONSUME(T.Percent) },
      ]);
      this.SUBRULE2(this.unary);
    });
  });

  unary = this.RULE('unary', () => {
    this.OR([
      {
        ALT: () => {
          this.OR2([{ ALT: () => this.CONSUME(T.Minus) }, { ALT: () => this.CONSUME(T.Plus) }]);
          this.SUBRULE(this.unary);
        },
      },
      { ALT: () => this.SUBRULE(this.primary) },
    ]);
  });

  primary = this.RULE('primary', () => {
    this.OR([
      { ALT: () => this.CONSUME(T.NumberLit) },
      { ALT: () => this.CONSUME(T.True) },
      { ALT: () => this.CONSUME(T.False) },
      {
        // a function of the expressions (`round(c * width)`) or a name
        ALT: () => {
          this.CONSUME(T.Identifier);
          this.OPTION(() => {
            this.CONSUME2(T.LParen, { LABEL: 'callOpen' });
            this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE2(this.expr, { LABEL: 'callArg' }) });
            this.CONSUME2(T.RParen, { LABEL: 'callClose' });
          });
        },
      },
      // a residual's `shortcut` scope in a stage path (`freeze [down1/residual1/shortcut]`)
      { ALT: () => this.CONSUME(T.Shortcut) },
      {
        ALT: () => {
          this.CONSUME(T.LParen);
          this.SUBRULE(this.expr);
          this.CONSUME(T.RParen);
        },
      },
      { ALT: () => this.SUBRULE(this.list) },
    ]);
  });

  list = this.RULE('list', () => {
    this.CONSUME(T.LBracket);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.expr) });
    this.CONSUME(T.RBracket);
  });
}

let shared: NetParser | undefined;

/**
 * One reused parser instance (Chevrotain's advice: construction is the
 * expensive part), built when first needed: a text without syntax errors is
 * parsed by ast-parser.ts alone, so a start that meets none never builds it.
 */
export function cstParser(): NetParser {
  return (shared ??= new NetParser());
}

export type { CstNode, IToken };
