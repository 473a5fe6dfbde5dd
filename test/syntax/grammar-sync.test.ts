// The TextMate grammar stays in sync with the parser and the layer catalogue:
// every keyword and every layer appears in its patterns, and the patterns
// tokenise a spec the way the lexer does for the words that matter.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LAYERS } from '../../src/layers/registry.js';
import { KEYWORDS } from '../../src/syntax/tokens.js';
import { withLayers } from '../../src/syntax/textmate.js';

const root = path.resolve(__dirname, '../..');
const grammar = JSON.parse(fs.readFileSync(path.join(root, 'grammar/alexnet.tmLanguage.json'), 'utf8'));

/** every `match` regex in the grammar, with the scope it gives */
function rules(node: any, out: { re: RegExp; name: string }[] = []): { re: RegExp; name: string }[] {
  if (Array.isArray(node)) node.forEach((n) => rules(n, out));
  else if (node && typeof node === 'object') {
    if (typeof node.match === 'string') {
      // Oniguruma syntax used here is a subset of JS regex syntax
      out.push({ re: new RegExp(node.match), name: node.name ?? JSON.stringify(node.captures ?? {}) });
    }
    for (const v of Object.values(node)) if (typeof v === 'object') rules(v, out);
  }
  return out;
}

const all = rules(grammar.repository);
const keywordWords = KEYWORDS.map((k) => String(k.LABEL ?? k.name).replace(/'/g, ''));

function scopeOf(word: string): string | undefined {
  return all.find((r) => {
    const m = r.re.exec(word);
    return m !== null && m.index === 0 && m[0] === word;
  })?.name;
}

describe('TextMate grammar', () => {
  it('is source.alexnet for .net files', () => {
    expect(grammar.scopeName).toBe('source.alexnet');
    expect(grammar.fileTypes).toContain('net');
  });

  it('knows every keyword of the lexer', () => {
    expect(keywordWords.length).toBeGreaterThanOrEqual(12);
    for (const w of keywordWords) {
      const scope = scopeOf(w);
      expect(scope, w).toBeDefined();
      expect(scope, w).toMatch(/^(keyword|storage|constant)\./);
    }
  });

  it('knows every layer in the catalogue', () => {
    for (const l of LAYERS) expect(scopeOf(l.name), l.name).toBe('support.function.layer.alexnet');
  });

  it('has its layer list generated from the registry (`npm run grammar` when this fails)', () => {
    const text = fs.readFileSync(path.join(root, 'grammar/alexnet.tmLanguage.json'), 'utf8');
    expect(text).toBe(withLayers(text, LAYERS.map((l) => l.name)));
    // and the generator really rewrites a stale list
    const stale = withLayers(text, ['conv']);
    expect(stale).not.toBe(text);
    expect(withLayers(stale, LAYERS.map((l) => l.name))).toBe(text);
  });

  it('colours import paths as strings', () => {
    expect(scopeOf('"lib/common.net"')).toBe('string.quoted.double.alexnet');
  });

  it('colours numbers and comments', () => {
    for (const n of ['12', '0.5', '1e-4', '5e-4', '.5']) expect(scopeOf(n), n).toBe('constant.numeric.alexnet');
    expect(all.some((r) => r.name.startsWith('comment.line') && r.re.test('# a comment'))).toBe(true);
  });
});
