// The reference documents what the compiler does: every diagnostic code and
// every layer of the catalogue appear in docs/language.md (the table of codes
// generated from src/diagnostics/codes.ts), and the EBNF in grammar/ is what
// the parser generates today.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CODES, diagnosticsTable } from '../../src/diagnostics/codes.js';
import { layerTable } from '../../src/layers/reference.js';
import { LAYERS } from '../../src/layers/registry.js';
import { grammarEbnf } from '../../src/syntax/ebnf.js';
import { withMarkedTable } from '../../src/util/marked-table.js';

const root = path.join(import.meta.dirname, '../..');
const language = readFileSync(path.join(root, 'docs/language.md'), 'utf8');

describe('reference', () => {
  it('lists every diagnostic code in docs/language.md', () => {
    expect(Object.keys(CODES).filter((c) => !language.includes(`| ${c} |`))).toEqual([]);
  });

  it("docs/language.md's diagnostics table is generated from the codes (npm run grammar)", () => {
    // the table is generated: edit a code's doc in src/diagnostics/codes.ts, then npm run grammar
    expect(withMarkedTable(language, 'diagnostics', diagnosticsTable()), 'docs/language.md: the diagnostics table differs from src/diagnostics/codes.ts (edit the codes, then npm run grammar)').toBe(language);
  });

  it('documents every layer in docs/language.md', () => {
    expect(LAYERS.map((l) => l.name).filter((n) => !language.includes(`\`${n}\``))).toEqual([]);
  });

  it("docs/language.md's layer table is generated from the registry (npm run grammar)", () => {
    // signatures come from each layer's arguments and defaults, the rest from documented(…) in its file
    expect(withMarkedTable(language, 'layer', layerTable(LAYERS)), 'docs/language.md: the layer table differs from the registry (edit the layer\'s file, then npm run grammar)').toBe(language);
  });

  it('grammar/alexnet.ebnf is generated from the current parser', () => {
    expect(readFileSync(path.join(root, 'grammar/alexnet.ebnf'), 'utf8')).toBe(grammarEbnf());
  });
});

describe('shipped specs', () => {
  it('are in the formatter\'s canonical layout', async () => {
    const { format } = await import('../../src/fmt/format.js');
    const { readdirSync } = await import('node:fs');
    for (const f of readdirSync(path.join(root, 'specs')).filter((x) => x.endsWith('.net'))) {
      const text = readFileSync(path.join(root, 'specs', f), 'utf8');
      expect(format(text), f).toBe(text);
    }
  });
});
