// Regenerates what of grammar/ is generated: the EBNF from the parser, and the
// TextMate grammar's layer list from the layer registry.
import { readFileSync, writeFileSync } from 'node:fs';
import { grammarEbnf } from '../dist/syntax/ebnf.js';
import { withLayers } from '../dist/syntax/textmate.js';
import { LAYERS } from '../dist/layers/registry.js';

writeFileSync(new URL('../grammar/alexnet.ebnf', import.meta.url), grammarEbnf());
console.log('wrote grammar/alexnet.ebnf');
const tm = new URL('../grammar/alexnet.tmLanguage.json', import.meta.url);
writeFileSync(tm, withLayers(readFileSync(tm, 'utf8'), LAYERS.map((l) => l.name)));
console.log('wrote grammar/alexnet.tmLanguage.json (layer names)');
