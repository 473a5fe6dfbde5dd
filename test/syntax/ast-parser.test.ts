// parse.ts parses a text with the AST-building parser (src/syntax/ast-parser.ts)
// and, where that meets a syntax error, again with the recovering CST parser
// and cst-to-ast.ts. For a text without one, both must give exactly the same
// program, diagnostics (their order too) and limit: compared here on every
// shipped spec, generated networks, fuzzed mutations of both, and texts that
// make each of the builder's own reports. The two parsers must also record
// one grammar.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AstParser } from '../../src/syntax/ast-parser.js';
import { NetParser } from '../../src/syntax/parser.js';
import { parse, parseExpression } from '../../src/syntax/parse.js';
import { generate } from '../fuzz/generate.js';
import { mutate } from '../fuzz/mutate.js';

const ROOT = path.resolve(__dirname, '../..');
const specs = fs.readdirSync(path.join(ROOT, 'specs')).filter((f) => f.endsWith('.net')).sort().map((f) => fs.readFileSync(path.join(ROOT, 'specs', f), 'utf8'));

/** deeper than MAX_EXPR_DEPTH (a chain of `+` counts one level per term) */
const deep = Array.from({ length: 300 }, (_, i) => `${i + 1}`).join(' + ');

/** texts without a syntax error that make the builder report something (or keep something apart) */
const REPORTED = [
  'network N {\n  input [1, 8, 8]\n  conv(4, 3) relu\n  relu | relu relu\n}\n',
  'network N {\n  input [1, 8, 8]\n  conv(4, k=3, stride=(1 + 1))\n}\n',
  `network N(x = ${deep}) {\n  input [1, ${deep}, 8]\n  repeat ${deep} {\n    relu relu\n  }\n  residual if ${deep} == 1 {\n    relu relu\n  }\n  if ${deep} { relu } else { relu relu }\n  conv(4, k=${deep}) : [${deep}]\n  train { epochs ${deep}\n  optimizer sgd(lr=${deep}) }\n}\n`,
  `network N {\n  input [1, 8, 8]\n  conv(4, k=(${deep}))\n}\n`,
  'network N {\n  input [1, 8, 8]\n  train { epochs 1 }\n  train { epochs 2 }\n  input [1, 2]\n  shortcut { relu }\n}\nimport "a.net"\nblock B { input [1] | train { epochs 1 } | shortcut { relu } : [1] }\nimport "b.net"\n',
  'block B { relu }\nnetwork N {\n  input [1, 8, 8] : [1, 8, 8]\n  residual { relu\n    shortcut { conv(1, 1) } }\n  residual { shortcut { relu } }\n  residual { relu } shortcut { relu } : [1, 8, 8]\n}\nblock C { relu }\nimport "c.net"\n',
  'network N { input [1] | add { branch { relu } branch { relu relu } } | split { branch { relu } } | gate { relu } | concat { } }\n',
  'network N {\n  input [3, 8, 8]\n  conv(max(2, round(3.5 * -x)), make_divisible(8, 4)) : [not a and b or c, -+-1 // 2 % 3 / 4, x <= 1, x >= 1, x != 1, x < 1, x > 1]\n  train { freeze [a/shortcut, [1, [2]], (3), true, false, 1e-3, .5]\n    optimizer adam() }\n}\n',
  '',
  '# only a comment\n',
];

/** both parses of `text` are the same; true where it has no syntax error (the direct parse was compared) */
function same(text: string): boolean {
  const direct = parse(text);
  const recovering = parse(text, { recovering: true });
  expect(direct, text).toStrictEqual(recovering);
  // the E002s the builder itself reports (`k=3`, two stages on a line) are not syntax errors
  return direct.diagnostics.every((d) => d.code !== 'E001' && (d.code !== 'E002' || /^arguments are named without|^expected `\|` or a line break between/.test(d.message)));
}

describe('the AST-building parser', () => {
  it('records the same grammar as the recovering CST parser, and passes Chevrotain’s checks', () => {
    const ast = new AstParser(true);
    expect(ast.definitionErrors).toEqual([]);
    expect(ast.getSerializedGastProductions()).toStrictEqual(new NetParser().getSerializedGastProductions());
  });

  it('gives what the recovering parser gives: the builder’s reports', () => {
    // each of them without a syntax error: the direct parse is the one compared
    for (const t of REPORTED) expect(same(t), t).toBe(true);
    const codes = REPORTED.flatMap((t) => parse(t).diagnostics.map((d) => d.code));
    // every report of the builder is made at least once above (E002 separator and `=`, E403, E106, E114)
    expect(new Set(codes)).toEqual(new Set(['E002', 'E403', 'E106', 'E114']));
    expect(parse(REPORTED[2]!).diagnostics.filter((d) => d.code === 'E403').length).toBe(9);
  });

  it('gives what the recovering parser gives: specs, generated networks and their mutations', () => {
    const texts = [...specs];
    for (let i = 0; i < 60; i++) texts.push(generate(20261207, i).source);
    const base = [...texts];
    for (let i = 0; i < 250; i++) texts.push(mutate(base[i % base.length]!, 20261207, i));
    let clean = 0;
    for (const t of texts) if (same(t)) clean++;
    // the comparison means something only where the direct parse was used: the texts without a syntax error
    expect(clean).toBeGreaterThan(100);
  });

  it('gives what the recovering parser gives for lone expressions (`--set` values)', () => {
    for (const t of ['10', '[3, 5]', 'x * 2 + -1', 'round(c * 0.5)', deep, `(${deep})`, 'true and not false', '3 +', '(', '[1, 2', '1 2', '', 'x)']) {
      expect(parseExpression(t), t).toStrictEqual(parseExpression(t, { recovering: true }));
    }
  });
});
