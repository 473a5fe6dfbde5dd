// The AST parser's self-analysis, done when the command line is bundled
// instead of on every start. Chevrotain's performSelfAnalysis records the
// grammar (it runs every rule with recording versions of CONSUME, OR, …
// swapped onto the instance, then deletes them again) and then, for each OR,
// OPTION, MANY, … of it, computes the token paths that choose the way
// (getLookaheadPaths) and makes a function of them. Neither changes unless the
// grammar does: scripts/bundle-cli.mjs records the built parser's grammar
// and computes the paths with Chevrotain's own code, and puts both in the
// bundles (lookahead-table.ts). A parser given the table rebuilds the
// recorded grammar from it (Chevrotain's own classes, field for field)
// instead of recording it, and Precomputed gives Chevrotain the lookahead
// functions made from its paths.
//
// The table goes into each bundle in the same run, from the same built files,
// as the parser it was recorded from. It is used only where it is this
// parser's: the same rules in the same order, the same tokens, the same
// maxLookahead, and the Chevrotain methods it stands in for; else the parser
// records and computes as usual (dist/ itself, the tests, the library have no
// table). test/syntax/lookahead.test.ts fails on drift: the table must be what
// the sources' parser records and computes, the grammar rebuilt from it must
// equal the recorded one, and parses with it must equal those without.
import {
  Alternation,
  Alternative,
  getLookaheadPaths,
  LLkLookaheadStrategy,
  NonTerminal,
  Option,
  Repetition,
  RepetitionMandatory,
  RepetitionMandatoryWithSeparator,
  RepetitionWithSeparator,
  Rule,
  Terminal,
  type ILookaheadStrategy,
  type ILookaheadValidationError,
  type IOrAlt,
  type IProduction,
  type IToken,
  type LookaheadProductionType,
  type OptionalProductionType,
  type TokenType,
} from 'chevrotain';

/** a recorded production: its class and its own fields, with productions, token types and rules by name */
export interface RecordedNode {
  class: string;
  fields: Array<[string, RecordedValue]>;
}
type RecordedValue = string | number | boolean | null | { token: string } | { rule: string } | RecordedNode[];

/** what a parser's self-analysis makes, made at build time */
export interface LookaheadTable {
  /** the parser's maxLookahead */
  maxLookahead: number;
  /** the token vocabulary's names, in order */
  tokens: string[];
  /** the recorded grammar, rule by rule in the order they are defined */
  rules: RecordedNode[];
  /** `rule/kind/occurrence` → [k, paths per alternative] (for an OR, one list of paths per alternative; for the others, the paths into it) */
  productions: Record<string, [number, string[][][]]>;
}

/** the classes a recorded grammar is made of (Chevrotain's own: its analyses test them with instanceof) */
const CLASSES: Record<string, { prototype: object }> = { Rule, NonTerminal, Terminal, Alternative, Alternation, Option, Repetition, RepetitionMandatory, RepetitionMandatoryWithSeparator, RepetitionWithSeparator };

/** a recorded rule or production as data: every own field, so that rebuilding it gives the same object */
function recordNode(node: object, tokens: readonly TokenType[]): RecordedNode {
  const name = Object.keys(CLASSES).find((n) => Object.getPrototypeOf(node) === CLASSES[n]!.prototype);
  if (name === undefined) throw new Error(`lookahead table: a recorded production of an unknown class (${node.constructor.name})`);
  const fields: RecordedNode['fields'] = [];
  for (const [k, v] of Object.entries(node)) {
    if (Array.isArray(v)) fields.push([k, v.map((x: object) => recordNode(x, tokens))]);
    else if (v instanceof Rule) fields.push([k, { rule: v.name }]);
    else if (tokens.includes(v as TokenType)) fields.push([k, { token: (v as TokenType).name }]);
    else if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) fields.push([k, v as string | number | boolean | null]);
    else throw new Error(`lookahead table: field ${k} of a recorded ${name} holds what the table cannot (${typeof v})`);
  }
  return { class: name, fields };
}

/**
 * The rules of a recorded grammar rebuilt from the table, or undefined where
 * one of its tokens or classes is not this parser's. Rules are referred to by
 * name, and linked to the rebuilt rules.
 */
function rebuild(recorded: RecordedNode[], tokens: Map<string, TokenType>): Rule[] | undefined {
  const rules = new Map<string, Rule>();
  const links: Array<[Record<string, unknown>, string, string]> = [];
  let ok = true;
  const make = (r: RecordedNode): object => {
    const proto = CLASSES[r.class]?.prototype;
    if (!proto) ok = false;
    const o = Object.create(proto ?? Object.prototype) as Record<string, unknown>;
    for (const [k, v] of r.fields) {
      if (Array.isArray(v)) o[k] = v.map(make);
      else if (v !== null && typeof v === 'object' && 'token' in v) {
        o[k] = tokens.get(v.token);
        if (o[k] === undefined) ok = false;
      } else if (v !== null && typeof v === 'object' && 'rule' in v) {
        o[k] = undefined;
        links.push([o, k, v.rule]);
      } else o[k] = v;
    }
    if (r.class === 'Rule') rules.set(o.name as string, o as unknown as Rule);
    return o;
  };
  const out = recorded.map(make) as Rule[];
  for (const [o, k, name] of links) {
    o[k] = rules.get(name);
    if (o[k] === undefined) ok = false;
  }
  return ok ? out : undefined;
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

const key = (rule: string, kind: LookaheadProductionType, occurrence: number): string => `${rule}/${kind}/${occurrence}`;

/** The table of a recorded grammar (a parser's getGAstProductions, in order), its paths as Chevrotain computes them (getLookaheadPaths). */
export function lookaheadTable(rules: Rule[], maxLookahead: number, tokens: readonly TokenType[]): LookaheadTable {
  const table: LookaheadTable = { maxLookahead, tokens: tokens.map((t) => t.name), rules: rules.map((r) => recordNode(r, tokens)), productions: {} };
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
 * Chevrotain's LL(k) lookahead, its paths taken from the table where the
 * parser's grammar was rebuilt from it (grammar()); computed as usual where
 * not (or where a production is missing from it).
 */
export class Precomputed implements ILookaheadStrategy {
  private readonly llk: ILookaheadStrategy;
  private readonly types: Map<string, TokenType>;
  private current = false;
  /** the rules rebuilt from the table (grammar()) */
  private rebuilt: Rule[] | undefined;
  /** whether the table was used (the parser's grammar was rebuilt from it) */
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

  /**
   * The grammar the parser would record, rebuilt from the table, where the
   * table is this parser's: its rules (by name, in the order the parser
   * defines them), its tokens and maxLookahead. Undefined where not.
   */
  grammar(ruleNames: readonly string[]): Rule[] | undefined {
    const t = this.table;
    if (t === undefined || t.maxLookahead !== this.maxLookahead || t.rules.length !== ruleNames.length || t.tokens.length !== this.types.size) return undefined;
    let i = 0;
    for (const name of this.types.keys()) if (t.tokens[i++] !== name) return undefined;
    for (let r = 0; r < ruleNames.length; r++) {
      const name = t.rules[r]!.fields.find(([k]) => k === 'name')?.[1];
      if (name !== ruleNames[r]) return undefined;
    }
    this.rebuilt = rebuild(t.rules, this.types);
    return this.rebuilt;
  }

  initialize(options: { rules: Rule[] }): void {
    const rebuilt = this.rebuilt;
    this.current = rebuilt !== undefined && options.rules.length === rebuilt.length && options.rules.every((r, i) => r === rebuilt[i]);
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
