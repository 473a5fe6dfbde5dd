// The AST parser's table (src/syntax/lookahead.ts), made when the command line
// is bundled: it must be the grammar the parser of these sources records and
// the lookahead Chevrotain computes from it (a grammar edited since the build,
// or a Chevrotain that records more than the table keeps, fails here); the
// grammar a parser rebuilds from it must equal the recorded one, field for
// field; and a parser given it must parse every text as one that recorded and
// computed its own.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EOF, getLookaheadPaths, type Rule, type TokenType } from 'chevrotain';
import { describe, expect, it } from 'vitest';
import { AstParser, VOCABULARY } from '../../src/syntax/ast-parser.js';
import { lookaheadTable, type LookaheadTable } from '../../src/syntax/lookahead.js';
import { ALL_TOKENS, lexer } from '../../src/syntax/tokens.js';
import { generate } from '../fuzz/generate.js';
import { mutate } from '../fuzz/mutate.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
/** what scripts/bundle-cli.mjs put in the bundles (the test run's global setup has just built them) */
const built = JSON.parse(fs.readFileSync(path.join(ROOT, 'dist/cli/bundle/lookahead.json'), 'utf8')) as LookaheadTable;
const rules = (p: AstParser): Rule[] => Object.values(p.getGAstProductions());

/** the program, the reports' count and the errors of one direct parse */
function parsed(p: AstParser, text: string): unknown {
  p.text = text;
  p.input = lexer.tokenize(text).tokens;
  let r;
  try {
    r = p.file();
  } catch (e) {
    // nesting too deep for the stack (parse.ts turns it away before parsing)
    p.input = [];
    if (e instanceof RangeError) return 'stack overflow';
    throw e;
  }
  const out = { program: r?.program, reports: r?.reports.length, errors: p.errors.map((e) => [e.name, e.token.startOffset, e.token.image]) };
  p.input = [];
  return JSON.parse(JSON.stringify(out));
}

describe('the lookahead table made at build time', () => {
  it('is what Chevrotain records and computes from the grammar of these sources', () => {
    const own = new AstParser(false, null);
    expect(own.lookahead.used).toBe(false);
    expect(built).toEqual(lookaheadTable(rules(own), 3, VOCABULARY));
    // and each entry is getLookaheadPaths' answer for that production (an OR's alternatives; the paths into an OPTION, MANY, …)
    const byName = new Map(rules(own).map((r) => [r.name, r]));
    const kinds = new Set<string>();
    for (const [k, [depth, paths]] of Object.entries(built.productions)) {
      const [rule, kind, occurrence] = k.split('/') as [string, 'Alternation' | 'Option', string];
      kinds.add(kind);
      const want = getLookaheadPaths({ occurrence: Number(occurrence), rule: byName.get(rule)!, prodType: kind, maxLookahead: depth });
      expect(paths, k).toEqual((kind === 'Alternation' ? want : want.slice(0, 1)).map((a) => a.map((p) => p.map((t) => t.name))));
    }
    expect([...kinds].sort()).toEqual(['Alternation', 'Option', 'Repetition', 'RepetitionWithSeparator']);
  });

  it('gives a parser the grammar it would record: the same rules, of the same classes, field for field', () => {
    const table = new AstParser(false, built);
    const own = new AstParser(false, null);
    expect(table.lookahead.used).toBe(true);
    expect(rules(table)).toStrictEqual(rules(own));
    // new objects, not the recorded ones
    const byName = new Map(rules(table).map((r) => [r.name, r]));
    for (const r of rules(own)) expect(byName.get(r.name)).not.toBe(r);
    // a rebuilt rule's references are to the rebuilt rules
    const refs: unknown[] = [];
    const walk = (defs: Array<{ referencedRule?: unknown; definition?: unknown[] }>): void => {
      for (const d of defs) {
        if (d.referencedRule) refs.push(d.referencedRule);
        else if (d.definition) walk(d.definition as typeof defs);
      }
    };
    for (const r of rules(table)) walk(r.definition as never);
    expect(refs.length).toBeGreaterThan(30);
    for (const x of refs) expect([...byName.values()]).toContain(x);
  });

  it('is used by a parser given it, and that parser parses as one that computed its own', () => {
    const table = new AstParser(false, built);
    const own = new AstParser(false, null);
    expect(table.lookahead.used).toBe(true);
    const specs = fs.readdirSync(path.join(ROOT, 'specs')).filter((f) => f.endsWith('.net')).map((f) => fs.readFileSync(path.join(ROOT, 'specs', f), 'utf8'));
    const texts = [...specs];
    for (let i = 0; i < 40; i++) texts.push(generate(20261208, i).source);
    const base = [...texts];
    for (let i = 0; i < 300; i++) texts.push(mutate(base[i % base.length]!, 20261208, i));
    let failed = 0;
    for (const t of texts) {
      const a = parsed(table, t);
      expect(a, t).toEqual(parsed(own, t));
      if (typeof a === 'string' || (a as { errors: unknown[] }).errors.length) failed++;
    }
    // both sides of the choices were taken: texts that parse and texts that stop at an error
    expect(failed).toBeGreaterThan(20);
    expect(failed).toBeLessThan(texts.length - 20);
  });

  it('makes functions that choose as Chevrotain’s own do, for every production and next tokens', () => {
    const table = new AstParser(false, built);
    const own = new AstParser(false, null);
    type La = (this: unknown, orAlts?: Array<{ GATE?: () => boolean }>) => unknown;
    const funcs = (p: AstParser) => (p as unknown as { lookAheadFuncsCache: Map<number, La> }).lookAheadFuncsCache;
    expect([...funcs(table).keys()].sort()).toEqual([...funcs(own).keys()].sort());
    const types = [...ALL_TOKENS, EOF];
    const byName = new Map(types.map((t) => [t.name, t]));
    const token = (t: TokenType) => ({ tokenType: t, tokenTypeIdx: t.tokenTypeIdx!, image: '', startOffset: 0 });
    let seed = 7;
    const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const pick = () => types[Math.floor(random() * types.length)]!;
    // next tokens: every path of the table, cut short and carried on at random, and random ones
    const sequences: TokenType[][] = [];
    for (const [, [, alts]] of Object.entries(built.productions)) {
      for (const path of alts.flat()) {
        for (let cut = 0; cut <= path.length; cut++) sequences.push([...path.slice(0, cut).map((n) => byName.get(n)!), pick(), pick(), pick()]);
      }
    }
    for (let i = 0; i < 300; i++) sequences.push([pick(), pick(), pick(), pick()]);
    let chosen = 0;
    for (const [key, mine] of funcs(table)) {
      const theirs = funcs(own).get(key)!;
      for (const seq of sequences) {
        const toks = [...seq.map(token), token(EOF), token(EOF), token(EOF)];
        const self = { LA: (i: number) => toks[i - 1], LA_FAST: (i: number) => toks[i - 1] };
        const gates = Array.from({ length: 8 }, () => ({ GATE: random() < 0.5 ? undefined : random() < 0.5 ? () => true : () => false }));
        for (const orAlts of [undefined, gates]) {
          const a = mine.call(self, orAlts);
          expect(a, `${key} ${seq.map((t) => t.name).join(' ')}`).toBe(theirs.call(self, orAlts));
          if (a !== undefined && a !== false) chosen++;
        }
      }
    }
    expect(chosen).toBeGreaterThan(1000);
  });

  it('is not used where it is not this parser\'s (other rules, tokens or maxLookahead), nor by a validating parser', () => {
    const text = fs.readFileSync(path.join(ROOT, 'specs/resnet.net'), 'utf8');
    const want = parsed(new AstParser(false, null), text);
    const copy = (): LookaheadTable => JSON.parse(JSON.stringify(built)) as LookaheadTable;
    const renamed = copy();
    const name = renamed.rules[3]!.fields.find(([k]) => k === 'name')!;
    name[1] = `${String(name[1])}X`;
    const tokens = copy();
    tokens.tokens[5] = 'NotAToken';
    const deeper = copy();
    deeper.maxLookahead = 4;
    const fewer = copy();
    fewer.rules.pop();
    const unknownToken = copy();
    JSON.stringify(unknownToken.rules, (_, v: { token?: string }) => (v && typeof v === 'object' && v.token === 'Identifier' ? ((v.token = 'Nope'), v) : v));
    expect(JSON.stringify(unknownToken)).toContain('"Nope"');
    const unknownClass = copy();
    unknownClass.rules[0]!.fields.find(([k]) => k === '_definition')![1] = [{ class: 'Mystery', fields: [] }];
    for (const [what, stale] of Object.entries({ renamed, tokens, deeper, fewer, unknownToken, unknownClass })) {
      const p = new AstParser(false, stale);
      expect(p.lookahead.used, what).toBe(false);
      expect(rules(p).map((r) => r.name), what).toEqual(rules(new AstParser(false, null)).map((r) => r.name));
      expect(parsed(p, text), what).toEqual(want);
    }
    expect(new AstParser(true, built).lookahead.used).toBe(false);
  });

  it('is in every bundle: main.js\'s chunks, check.cjs and lsp.cjs', () => {
    const dir = path.join(ROOT, 'dist/cli/bundle');
    // a production's key is written nowhere else (lookahead.ts makes them at run time)
    const withTable = fs.readdirSync(dir).filter((f) => /\.c?js$/.test(f) && fs.readFileSync(path.join(dir, f), 'utf8').includes('file/Alternation/0'));
    expect(withTable).toContain('check.cjs');
    expect(withTable).toContain('lsp.cjs');
    // and one chunk of main.js
    expect(withTable.length).toBe(3);
  });
});
