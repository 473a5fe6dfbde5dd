// Randomly re-spaced and re-commented versions of every shipped spec: the
// formatter accepts each one that still parses, is idempotent on it,
// keeps every comment, and keeps the meaning.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compile.js';
import { format } from '../../src/fmt/format.js';
import { parse } from '../../src/syntax/parse.js';

const root = path.resolve(__dirname, '../..');
const specs = fs.readdirSync(path.join(root, 'specs')).filter((f) => f.endsWith('.net')).sort();

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** re-space around punctuation, break lines after `(`, `,`, `|`, add trailing comments (comments themselves untouched) */
function mangle(text: string, r: () => number): string {
  const spaces = () => ' '.repeat(Math.floor(r() * 3));
  const code = (c: string): string =>
    // `=` alone (a parameter default), not inside `==`, `!=`, `<=`, `>=`
    c.replace(/ *([(),|:\[\]]|(?<![=!<>])=(?!=)) */g, (_m, p: string) => {
      const after = (p === '(' || p === ',' || p === '|') && r() < 0.15 ? '\n' + spaces() : spaces();
      return spaces() + p + after;
    });
  return text
    .split('\n')
    .map((l) => {
      const hash = l.indexOf('#');
      const body = hash < 0 ? code(l) : code(l.slice(0, hash)) + l.slice(hash);
      const line = hash < 0 && r() < 0.1 ? `${body}   # note ${Math.floor(r() * 100)}` : body;
      return line.replace(/^ */gm, () => spaces());
    })
    .join('\n');
}

function meaning(text: string): string {
  const res = compile(text, { all: true });
  return JSON.stringify({ n: res.networks, d: res.diagnostics.map((d) => d.code) }, (k, v) => (k === 'span' ? undefined : k === 'layer' && v && typeof v === 'object' ? v.name : v));
}

const comments = (t: string): string[] => parse(t).program.comments.map((c) => c.text.trimEnd());

describe('format: fuzzed spacing and comments', () => {
  for (const f of specs) {
    it(f, () => {
      const text = fs.readFileSync(path.join(root, 'specs', f), 'utf8');
      const r = rng(f.length * 7919);
      let tried = 0;
      for (let i = 0; i < 40; i++) {
        const m = mangle(text, r);
        if (parse(m).diagnostics.length) continue;
        tried++;
        const once = format(m);
        expect(once, m).toBeDefined();
        expect(format(once!)).toBe(once);
        expect(meaning(once!)).toBe(meaning(text));
        expect(comments(once!)).toEqual(comments(m));
      }
      expect(tried).toBeGreaterThan(10);
    });
  }
});
