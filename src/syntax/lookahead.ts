// The AST parser's lookahead, computed when the command line is bundled
// instead of on every start. Chevrotain's self-analysis records the grammar
// and then, for each OR, OPTION, MANY, … of it, computes the token paths
// that choose the way (getLookaheadPaths) and makes a function of them; the
// paths are most of that time (some 17 ms of a 100 ms start). The paths do
// not change unless the grammar does: scripts/bundle-cli.mjs computes them
// from the built parser with Chevrotain's own getLookaheadPaths and puts the
// table in the bundles (lookahead-table.ts), and Precomputed gives Chevrotain
// the functions made from it. The table carries a fingerprint of the
// recorded grammar it was computed from; where the grammar a parser records
// differs (a rule edited since), the parser computes its lookahead as usual.
// test/syntax/lookahead.test.ts compares the table with what Chevrotain
// computes, and the parses made with it with those made without.
import {
  Alternation,
  getLookaheadPaths,
  LLkLookaheadStrategy,
  Option,
  Repetition,
  RepetitionMandatory,
  RepetitionMandatoryWithSeparator,
  RepetitionWithSeparator,
  serializeGrammar,
  type ILookaheadStrategy,
  type ILookaheadValidationError,
  type IOrAlt,
  type IProduction,
  type IToken,
  type LookaheadProductionType,
  type OptionalProductionType,
  type Rule,
  type TokenType,
} from 'chevrotain';

/** the paths of one production, by token name: for an OR, one list of paths per alternative; for the others, the paths into it */
export interface LookaheadTable {
  /** the recorded grammar it was computed from, and the parser's maxLookahead (grammarFingerprint) */
  grammar: string;
  /** `rule/kind/occurrence` → [k, paths per alternative] */
  productions: Record<string, [number, string[][][]]>;
}

const KINDS: Array<[new (...a: never[]) => IProduction, LookaheadProductionType]> = [
  [Alternation, 'Alternation'],
  [Option, 'Option'],
  [Repetition, 'Repetition'],
  [RepetitionMandatory, 'RepetitionMandatory'],
  [RepetitionMandatoryWithSeparator, 'RepetitionMandatoryWithSeparator'],
  [RepetitionWithSeparator, 'RepetitionWithSeparator'],
];

/** every production of a rule that has a lookahead function: [kind, occurrence, its own maxLookahead] */
function productions(rule: Rule): Array<[LookaheadProductionType, number, number | undefined]> {
  const out: Array<[LookaheadProductionType, number, number | undefined]> = [];
  const walk = (defs: IProduction[]): void => {
    for (const d of defs) {
      const kind = KINDS.find(([c]) => d instanceof c)?.[1];
      const p = d as IProduction & { idx: number; maxLookahead?: number; definition?: IProduction[] };
      if (kind) out.push([kind, p.idx, p.maxLookahead]);
      // a NonTerminal's definition is its rule's: not walked
      if (p.definition && !('referencedRule' in p)) walk(p.definition);
    }
  };
  walk(rule.definition);
  return out;
}

/** the recorded grammar (serializeGrammar) and the parser's maxLookahead, as one string: compared whole (a hash of it would cost more than the comparison) */
export function grammarFingerprint(rules: Rule[], maxLookahead: number): string {
  return `${maxLookahead}|${JSON.stringify(serializeGrammar(rules))}`;
}

const key = (rule: string, kind: LookaheadProductionType, occurrence: number): string => `${rule}/${kind}/${occurrence}`;

/** The table of a recorded grammar, as Chevrotain computes the paths (getLookaheadPaths). */
export function lookaheadTable(rules: Rule[], maxLookahead: number): LookaheadTable {
  const table: LookaheadTable = { grammar: grammarFingerprint(rules, maxLookahead), productions: {} };
  for (const rule of rules) {
    for (const [kind, occurrence, own] of productions(rule)) {
      const k = own || maxLookahead;
      const paths = getLookaheadPaths({ occurrence, rule, prodType: kind, maxLookahead: k });
      // an OPTION, MANY, …: Chevrotain's function looks at the paths into it (the first), not those after it
      const used = kind === 'Alternation' ? paths : paths.slice(0, 1);
      table.productions[key(rule.name, kind, occurrence)] = [k, used.map((alt) => alt.map((path) => path.map((t) => t.name)))];
    }
  }
  return table;
}

interface Looking {
  LA(i: number): IToken;
}

/** Chevrotain's tokenStructuredMatcher: the type itself, or a type of its category */
function matches(t: IToken, type: TokenType): boolean {
  const x = type as TokenType & { tokenTypeIdx: number; isParent?: boolean; categoryMatchesMap?: Record<number, boolean> };
  return t.tokenTypeIdx === x.tokenTypeIdx || (x.isParent === true && x.categoryMatchesMap?.[t.tokenTypeIdx] === true);
}

function pathMatches(p: Looking, path: TokenType[]): boolean {
  for (let i = 0; i < path.length; i++) if (!matches(p.LA(i + 1), path[i]!)) return false;
  return true;
}

/** the first alternative with a path that the next tokens match (and whose GATE, where there are gates, allows it), as Chevrotain's does */
function alternationFunction(alts: TokenType[][][], hasPredicates: boolean): (this: Looking, orAlts?: IOrAlt<unknown>[]) => number | undefined {
  if (!hasPredicates && alts.every((a) => a.every((path) => path.length === 1))) {
    const choice = new Map<number, number>();
    alts.forEach((a, i) => {
      for (const [t] of a as [TokenType][]) {
        const x = t as TokenType & { tokenTypeIdx: number; categoryMatches?: number[] };
        if (!choice.has(x.tokenTypeIdx)) choice.set(x.tokenTypeIdx, i);
        for (const c of x.categoryMatches ?? []) if (!choice.has(c)) choice.set(c, i);
      }
    });
    return function (this: Looking) {
      return choice.get(this.LA(1).tokenTypeIdx);
    };
  }
  return function (this: Looking, orAlts?: IOrAlt<unknown>[]) {
    for (let i = 0; i < alts.length; i++) {
      const gate = hasPredicates ? orAlts?.[i]?.GATE : undefined;
      if (gate !== undefined && gate.call(this) === false) continue;
      for (const path of alts[i]!) if (pathMatches(this, path)) return i;
    }
    return undefined;
  };
}

/** whether the next tokens go into an OPTION, MANY, …: one of its paths matches */
function optionalFunction(paths: TokenType[][]): (this: Looking) => boolean {
  return function (this: Looking) {
    for (const path of paths) if (pathMatches(this, path)) return true;
    return false;
  };
}

/**
 * Chevrotain's LL(k) lookahead, its paths taken from a table where the table
 * was computed from the grammar this parser recorded; computed as usual where
 * not (or where a production is missing from it).
 */
export class Precomputed implements ILookaheadStrategy {
  private readonly llk: ILookaheadStrategy;
  private readonly types: Map<string, TokenType>;
  private current = false;
  /** whether the table was used (the recorded grammar was the table's) */
  used = false;

  constructor(
    private readonly table: LookaheadTable | undefined,
    tokens: readonly TokenType[],
    private readonly maxLookahead: number,
  ) {
    this.llk = new LLkLookaheadStrategy({ maxLookahead });
    this.types = new Map(tokens.map((t) => [t.name, t]));
  }

  validate(options: { rules: Rule[]; tokenTypes: TokenType[]; grammarName: string }): ILookaheadValidationError[] {
    return this.llk.validate(options);
  }

  initialize(options: { rules: Rule[] }): void {
    this.current = this.table !== undefined && this.table.grammar === grammarFingerprint(options.rules, this.maxLookahead);
    this.used = this.current;
  }

  private paths(rule: string, kind: LookaheadProductionType, occurrence: number, k: number): TokenType[][][] | undefined {
    const entry = this.current ? this.table!.productions[key(rule, kind, occurrence)] : undefined;
    if (!entry || entry[0] !== k) return undefined;
    const out: TokenType[][][] = [];
    for (const alt of entry[1]) {
      const a: TokenType[][] = [];
      for (const path of alt) {
        const p: TokenType[] = [];
        for (const name of path) {
          const t = this.types.get(name);
          if (!t) return undefined;
          p.push(t);
        }
        a.push(p);
      }
      out.push(a);
    }
    return out;
  }

  buildLookaheadForAlternation(options: { prodOccurrence: number; rule: Rule; maxLookahead: number; hasPredicates: boolean; dynamicTokensEnabled: boolean }): (orAlts?: IOrAlt<unknown>[]) => number | undefined {
    const alts = options.dynamicTokensEnabled ? undefined : this.paths(options.rule.name, 'Alternation', options.prodOccurrence, options.maxLookahead);
    return alts ? alternationFunction(alts, options.hasPredicates) : this.llk.buildLookaheadForAlternation(options);
  }

  buildLookaheadForOptional(options: { prodOccurrence: number; prodType: OptionalProductionType; rule: Rule; maxLookahead: number; dynamicTokensEnabled: boolean }): () => boolean {
    const alts = options.dynamicTokensEnabled ? undefined : this.paths(options.rule.name, options.prodType, options.prodOccurrence, options.maxLookahead);
    return alts ? optionalFunction(alts[0]!) : this.llk.buildLookaheadForOptional(options);
  }
}
