// What reaches the terminal when a diagnostic is rendered (issue 22, item 7):
// control characters from the source never act on the terminal — they are
// shown (control pictures in frames, \x1b-style escapes in messages) — and a
// long line is cut to a window around the caret.
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compile.js';
import { renderDiagnostic } from '../../src/diagnostics/render.js';

const rendered = (text: string): string =>
  compile(text, { all: true })
    .diagnostics.map((d) => renderDiagnostic(d, 'x.net', text, { color: false }))
    .join('\n\n');

/** every control character but newline, which separates the frame's lines */
const controls = (s: string): string[] => [...s].filter((ch) => /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/.test(ch));

describe('control characters in code frames', () => {
  it('ESC[31m in a .net file does not colour the terminal: shown as ␛', () => {
    const out = rendered('network A {\n  input [3, 8, 8]\n  \x1b[31mconv(4, 3) | relu\n}\n');
    expect(out).toContain('␛[31mconv');
    expect(controls(out)).toEqual([]);
  });

  it('NUL, backspace and carriage return are shown, and the caret stays under its character', () => {
    const text = 'network A {\n  input [4]\n  dense(2) | \b\x1b\x07\x7f relux\n}\n';
    const out = rendered(text);
    expect(controls(out)).toEqual([]);
    const lines = out.split('\n');
    const src = lines.findIndex((l) => /^\s+3 \|/.test(l));
    expect(lines[src]).toContain('␈␛␇␡ relux');
    // the first error is the lexer's, at the backspace: its caret is under the ␈
    const caret = lines[src + 1]!.indexOf('^');
    expect(lines[src]![caret]).toBe('␈');
    // a NUL (a binary file): E003, its caret under the ␀
    const nul = rendered('network A {\n  input [4]\n  relu \x00 relu\n}\n').split('\n');
    const at = nul.findIndex((l) => /^\s+3 \|/.test(l));
    expect(nul[at]![nul[at + 1]!.indexOf('^')]).toBe('␀');
  });

  it('a message quoting a control character escapes it', () => {
    const out = rendered('network A {\n  input [4]\n  dense(2) | \u202erelu\n}\n');
    expect(controls(out)).toEqual([]);
  });
});

describe('long lines', () => {
  it('a 20,000-character line is cut around the caret, which still points at the error', () => {
    const text = `network A {\n  input [4]\n  ${'relu | '.repeat(3000)}relux | ${'relu | '.repeat(3000)}relu\n}\n`;
    const out = rendered(text);
    const lines = out.split('\n');
    const src = lines.findIndex((l) => /^\s+3 \|/.test(l));
    expect(src).toBeGreaterThan(0);
    expect(lines[src]!.length).toBeLessThan(140);
    expect(lines[src]).toMatch(/^\s+3 \| …[ |relu]+relux[ |relu]+…$/);
    const caret = lines[src + 1]!.indexOf('^');
    expect(lines[src]!.slice(caret, caret + 5)).toBe('relux');
  });
});
