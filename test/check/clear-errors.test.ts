// Every error clear: one message per root cause, the same behaviour for
// every command, and no network handed out from a broken file.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { check, compile } from '../../src/compile.js';

const codes = (text: string, all = true): string[] => compile(text, { all }).diagnostics.map((d) => d.code);

describe('input that is not text', () => {
  it('a binary file is one E003, not one error per byte', () => {
    const text = readFileSync('/bin/ls', 'utf8');
    const r = check(text);
    expect(r.diagnostics.map((d) => d.code)).toEqual(['E003']);
    expect(r.diagnostics[0]!.message).toMatch(/binary data/);
  });

  it('invalid UTF-8 (decoded to U+FFFD) is one E003 where it is', () => {
    const bytes = Buffer.concat([Buffer.from('network N {\n  input [4]  # caf'), Buffer.from([0xe9]), Buffer.from('\n  dense(2)\n}\n')]);
    const text = bytes.toString('utf8');
    const r = check(text);
    expect(r.diagnostics.map((d) => d.code)).toEqual(['E003']);
    expect(text.slice(r.diagnostics[0]!.span.start, r.diagnostics[0]!.span.end)).toBe('\ufffd');
  });

  it('a lone surrogate (from an editor) is E003 too; proper non-ASCII in comments is fine', () => {
    expect(codes('network N {\n  input [4] # \ud800\n  dense(2)\n}\n')).toEqual(['E003']);
    expect(codes('# café, 𝛼 = 0.5\nnetwork N {\n  input [4]\n  dense(2)\n}\n')).toEqual([]);
  });
});

describe('a file without networks', () => {
  it('declaring nothing is E105 for every command (check, summary, compile)', () => {
    for (const text of ['', '\n\n', '# only a comment\n']) {
      expect(codes(text, true), JSON.stringify(text)).toEqual(['E105']);
      expect(codes(text, false), JSON.stringify(text)).toEqual(['E105']);
    }
  });

  it('of blocks only is a library: it checks cleanly (no unused-block warnings) but has nothing to compile', () => {
    const lib = 'block unit(c) {\n  conv(c, 3, pad 1) | relu\n}\n';
    expect(codes(lib, true)).toEqual([]);
    const r = compile(lib);
    expect(r.diagnostics.map((d) => d.code)).toEqual(['E105']);
    expect(r.diagnostics[0]!.message).toMatch(/only blocks/);
  });

  it('with syntax errors only reports those', () => {
    expect(codes('network {', false)).toEqual(['E002', 'E002']);
  });
});

describe('compile() and broken files', () => {
  it('returns no network when anything in the file has an error', () => {
    const good = 'network A {\n  input [4]\n  dense(2)\n}\n';
    expect(compile(good).network).toBeDefined();
    const withSyntaxError = good + 'block b {\n  relu(\n}\n';
    const r = compile(withSyntaxError, { network: 'A' });
    expect(r.diagnostics.some((d) => d.severity === 'error')).toBe(true);
    expect(r.network).toBeUndefined();
    const otherBroken = good + 'network B {\n  input [4]\n  dense(0)\n}\n';
    expect(compile(otherBroken, { network: 'A' }).network).toBeUndefined();
  });

  it('still returns it with warnings only', () => {
    const r = compile('network A(unused = 1) {\n  input [4]\n  dense(2)\n}\n');
    expect(r.diagnostics.map((d) => d.code)).toEqual(['W501']);
    expect(r.network).toBeDefined();
  });
});

describe('a shortcut written inside its residual', () => {
  const text = 'network N {\n  input [16, 8, 8]\n  residual {\n    conv(32, 3, stride 2, pad 1) | relu\n    shortcut { conv(32, 1, stride 2) }\n  }\n  relu\n}\n';

  it('is one error showing the right form, taken as meant (no shape mismatch follows)', () => {
    const r = compile(text, { all: true });
    expect(r.diagnostics.map((d) => d.code)).toEqual(['E114']);
    expect(r.diagnostics[0]!.message).toContain('`residual { … } shortcut { … }`');
  });

  it('has a fix that moves it, after which the file checks cleanly', () => {
    const d = compile(text, { all: true }).diagnostics[0]!;
    let fixed = text;
    for (const e of [...d.fixes[0]!.edits].sort((a, b) => b.span.start - a.span.start)) fixed = fixed.slice(0, e.span.start) + e.newText + fixed.slice(e.span.end);
    expect(fixed).toContain('} shortcut { conv(32, 1, stride 2) }');
    const r = compile(fixed);
    expect(r.diagnostics).toEqual([]);
    expect(r.network!.output).toEqual([32, 4, 4]);
  });

  it('anywhere else it is one E114 and the shape passes through', () => {
    expect(codes('network N {\n  input [4]\n  shortcut { relu }\n  dense(2)\n}\n')).toEqual(['E114']);
  });
});
