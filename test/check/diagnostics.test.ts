// Every diagnostic code has a fixture in test/fixtures/diagnostics whose
// rendered diagnostics are a golden file.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile, type CompileOptions } from '../../src/compile.js';
import { CODES } from '../../src/diagnostics/codes.js';
import { renderDiagnostic } from '../../src/diagnostics/render.js';
import { expectGolden } from '../golden.js';

const dir = path.join(import.meta.dirname, '../fixtures/diagnostics');
const fixtures = readdirSync(dir).filter((f) => f.endsWith('.net')).sort();

function options(text: string): CompileOptions {
  const m = /^# options: (.*)$/m.exec(text);
  return { all: true, ...(m ? JSON.parse(m[1]!) : {}) };
}

describe('diagnostic fixtures', () => {
  for (const f of fixtures) {
    it(f, () => {
      const text = readFileSync(path.join(dir, f), 'utf8');
      // imports resolve against the fixtures folder, so the goldens name portable relative paths
      const r = compile(text, { file: f, readFile: (p) => readFileSync(path.join(dir, p), 'utf8'), ...options(text) });
      const rendered = r.diagnostics.map((d) => renderDiagnostic(d, f, text, { sources: r.files })).join('\n\n') + '\n';
      expectGolden(path.join(dir, f.replace(/\.net$/, '.out')), rendered);
      const code = f.slice(0, 4);
      expect(r.diagnostics.map((d) => d.code)).toContain(code);
      // nothing a fixture holds may crash the compiler
      expect(r.diagnostics.map((d) => d.code)).not.toContain('E900');
    });
  }

  it('covers every diagnostic code', () => {
    const covered = new Set(fixtures.map((f) => f.slice(0, 4)));
    const missing = Object.keys(CODES).filter((c) => c !== 'E900' && !covered.has(c));
    expect(missing).toEqual([]);
  });

  it('turns an internal failure into E900, not a throw', () => {
    const r = compile(null as unknown as string);
    expect(r.diagnostics.map((d) => d.code)).toEqual(['E900']);
    expect(r.diagnostics[0]!.message).toMatch(/internal error/);
  });
});

describe('error recovery', () => {
  it('one typo gives one diagnostic and the rest is still checked', () => {
    const text = readFileSync(path.join(dir, 'E002-missing-paren.net'), 'utf8');
    const r = compile(text, { all: true });
    expect(r.diagnostics.map((d) => d.code)).toEqual(['E002', 'E101']);
  });

  it('a misspelt keyword does not hide the next declaration', () => {
    const r = compile('networkk A { input [4] dense(2) }\nnetwork B {\n  input [4]\n  dense(0)\n}\n', { all: true });
    expect(r.diagnostics.map((d) => d.code)).toEqual(['E002', 'E202']);
  });

  it('reports each error of a block called twice once, with the call site as a note', () => {
    const r = compile('block s(c) {\n  conv(c, 99)\n}\nnetwork A {\n  input [3, 8, 8]\n  s(4)\n  s(8)\n}\n', { all: true });
    expect(r.diagnostics.map((d) => d.code)).toEqual(['E301']);
    expect(r.diagnostics[0]!.notes[0]!.message).toMatch(/in block `s`, called here/);
  });

  it('poisons the shape after an error so one root cause gives one diagnostic', () => {
    const r = compile('network A {\n  input [3, 8, 8]\n  conv(4, 99)\n  conv(4, 3) | maxpool(2)\n  dense(10)    : [7]\n}\n', { all: true });
    expect(r.diagnostics.map((d) => d.code)).toEqual(['E301']);
  });
});

describe('did you mean', () => {
  const cases: [string, string, string][] = [
    ['network A {\n  input [3, 8, 8]\n  covn(4, 3)\n}', 'E101', 'conv'],
    ['network A {\n  input [3, 8, 8]\n  conv(4, 3, stirde 2)\n}', 'E103', 'stride'],
    ['network A(width = 4) {\n  input [3, 8, 8]\n  conv(widht, 3)\n}', 'E102', 'width'],
    ['network A {\n  input [3, 8, 8]\n  globalavgpol\n}', 'E101', 'globalavgpool'],
  ];
  for (const [text, code, fix] of cases) {
    it(`${code} suggests ${fix}`, () => {
      const d = compile(text, { all: true }).diagnostics.find((x) => x.code === code)!;
      expect(d.message).toContain(`did you mean \`${fix}\``);
      expect(d.fixes[0]!.edits[0]!.newText).toBe(fix);
      expect(text.slice(d.span.start, d.span.end)).not.toBe(fix);
    });
  }
});
