// What a fuzzer found: inputs that exhausted the stack (E900), hung, or grew
// super-linearly. Each now checks or stops with a located limit error of its
// own; none may give an internal error. (Speed is measured by the fuzz
// campaign and reported, not asserted here; the timeouts only catch hangs.)
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compile.js';
import { MAX_EXPR_DEPTH, MAX_NESTING, MAX_SYNTAX_ERRORS, MAX_TOKENS } from '../../src/syntax/limits.js';

const net = (body: string, pre = ''): string => `${pre}network N {\n  input [3, 16, 16]\n${body}\n}\n`;
const codes = (text: string): string[] => compile(text, { all: true }).diagnostics.map((d) => d.code);

function located(text: string, code: string): string {
  const r = compile(text, { all: true });
  expect(r.diagnostics.map((d) => d.code)).not.toContain('E900');
  const d = r.diagnostics.find((x) => x.code === code);
  expect(d, `${code} in ${JSON.stringify(r.diagnostics.map((x) => x.code))}`).toBeDefined();
  expect(d!.span.start).toBeGreaterThanOrEqual(0);
  expect(d!.span.end).toBeLessThanOrEqual(text.length);
  return text.slice(d!.span.start, d!.span.end);
}

describe('nesting', () => {
  const deep = (n: number) => ({
    parentheses: net(`  flatten | dense(${'('.repeat(n)}4${')'.repeat(n)})`),
    'unary minus': net(`  flatten | dense(${'- '.repeat(n - 1)}-4)`),
    'mixed signs and parentheses': net(`  flatten | dense(${'-('.repeat(n)}4${')'.repeat(n)})`),
    bodies: net(`${'  repeat 1 {\n'.repeat(n)}  relu\n${'}\n'.repeat(n)}`),
    lists: net(`  conv(4, 3, pad ${'['.repeat(n)}1${']'.repeat(n)})`),
  });
  for (const [what, text] of Object.entries(deep(10_000))) {
    it(`${what}, 10,000 deep, is one E403 where the limit is crossed`, () => {
      expect(codes(text)).toEqual(['E403']);
      expect(located(text, 'E403')).toMatch(/^[-([{]$/);
    });
  }
  // just inside the limit everything still works (and the walks after the parser do not overflow either)
  for (const [what, text] of Object.entries(deep(Math.floor(MAX_NESTING / 2) - 2))) {
    it(`${what} within the limit check normally`, () => {
      expect(codes(text)).not.toContain('E403');
      expect(codes(text)).not.toContain('E900');
    });
  }

  it('a flat sum of thousands of terms is one E403 on the expression', () => {
    const text = net(`  flatten | dense(${Array(5000).fill('1').join(' + ')})`);
    expect(codes(text)).toEqual(['E403']);
    expect(located(text, 'E403')).toMatch(/^1 \+ 1/);
    const fine = net(`  flatten | dense(${Array(MAX_EXPR_DEPTH - 1).fill('1').join(' + ')})`);
    expect(codes(fine)).toEqual([]);
    expect(compile(fine).network!.output).toEqual([MAX_EXPR_DEPTH - 1]);
  });

  it('a chain of thousands of blocks calling blocks is one E403 naming the chain', () => {
    let blocks = '';
    for (let i = 0; i < 5000; i++) blocks += `block b${i} { ${i + 1 < 5000 ? `b${i + 1}` : 'relu'} }\n`;
    const text = net('  b0', blocks);
    const r = compile(text, { all: true });
    expect(r.diagnostics.map((d) => d.code)).toEqual(['E403']);
    expect(r.diagnostics[0]!.message).toMatch(/blocks b0 → b1 → b2 → … →/);
    let short = '';
    for (let i = 0; i < 50; i++) short += `block b${i} { ${i + 1 < 50 ? `b${i + 1}` : 'relu'} }\n`;
    expect(codes(net('  b0', short))).toEqual([]);
  });
});

describe('expansion', () => {
  it('an empty repeat body repeats nothing, however often', () => {
    const r = compile(net('  repeat 2147483647 { }'));
    expect(r.diagnostics).toEqual([]);
    expect(r.network!.output).toEqual([3, 16, 16]);
  });

  it('nested huge repeats stop at the stage limit', () => {
    expect(codes(net('  repeat 2147483647 { repeat 2147483647 { } }'))).toEqual(['E401']);
    expect(codes(net('  repeat 2147483647 { repeat 2147483647 { relu } }'))).toEqual(['E401']);
  });

  it('a failing body is not redone a million times, and is reported once', () => {
    expect(codes(net('  repeat 1000000 { foo }'))).toEqual(['E101']);
    expect(codes(net('  repeat 1000000 { conv(4, 99) }'))).toEqual(['E301']);
  });

  it('a repeat that must pass the limit is refused before it expands', () => {
    const r = compile(net('  repeat 1000000 { relu | relu }'));
    expect(r.diagnostics.map((d) => d.code)).toEqual(['E401']);
    expect(r.diagnostics[0]!.message).toMatch(/`repeat 1000000` of 2 stages/);
  });

  it('networks sharing a runaway block do not each expand it to the limit (found by the fuzzer in vgg.net)', () => {
    let blocks = 'block d0 { relu }\n';
    for (let i = 1; i <= 30; i++) blocks += `block d${i} { add { branch { d${i - 1} } branch { d${i - 1} } } }\n`;
    let text = blocks;
    for (let k = 0; k < 8; k++) text += `network N${k} {\n  input [4]\n  d30\n}\n`;
    const r = compile(text, { all: true });
    expect(r.networks).toEqual([]);
    expect(r.diagnostics.map((d) => d.code)).toEqual(['E401', 'E401']);
    expect(r.diagnostics[1]!.message).toMatch(/not checked, nor the 5 networks after it/);
    const vgg = compile('block c {\n  repeat 1000000 { flatten }\n}\n' + Array.from({ length: 8 }, (_, k) => `network V${k} {\n  input [4]\n  c\n}\n`).join(''), { all: true });
    expect(vgg.diagnostics.map((d) => d.code)).toEqual(['E401']);
    expect(vgg.networks).toEqual([]);
  });

  it('add branches that double at every level stop at the stage limit', () => {
    let blocks = 'block d0 { relu }\n';
    for (let i = 1; i <= 40; i++) blocks += `block d${i} { add { branch { d${i - 1} } branch { d${i - 1} } } }\n`;
    expect(codes(net('  d40', blocks))).toEqual(['E401']);
  });

  it('one root cause in a block instantiated with many shapes is one message', () => {
    const text = net('  repeat 3 { s(4) | conv(8, 1) }', 'block s(c) {\n  conv(c, 99)\n}\n');
    expect(codes(text)).toEqual(['E301']);
  });
});

describe('size', () => {
  it(`a file of more than ${MAX_TOKENS.toLocaleString('en-US')} tokens is one E404 at the first token past the limit`, () => {
    const text = net(`  flatten | dense(${Array(MAX_TOKENS).fill('1').join(', ')})`);
    expect(codes(text)).toEqual(['E404']);
  });

  it(`parsing stops after ${MAX_SYNTAX_ERRORS} syntax errors`, () => {
    const text = net('  dense(4 ] |\n'.repeat(10_000));
    const r = compile(text, { all: true });
    expect(r.diagnostics.length).toBeLessThanOrEqual(MAX_SYNTAX_ERRORS + 1);
    expect(r.diagnostics[r.diagnostics.length - 1]!.message).toMatch(/too many syntax errors/);
    const chars = '@$!;?'.repeat(10_000);
    const r2 = compile(chars, { all: true });
    expect(r2.diagnostics.length).toBeLessThanOrEqual(MAX_SYNTAX_ERRORS + 1);
  });
});

describe('one report, every failure counted', () => {
  it('a network failing the way an earlier one did is not handed out as clean', () => {
    const text = 'block s {\n  relu   : [9]\n}\n\nnetwork A {\n  input [4]\n  s\n}\n\nnetwork B {\n  input [4]\n  s\n}\n';
    const r = compile(text, { all: true });
    expect(r.diagnostics.map((d) => d.code)).toEqual(['E306']);
    expect(r.networks).toEqual([]);
  });
});
