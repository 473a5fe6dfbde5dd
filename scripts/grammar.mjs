// Regenerates what of grammar/ and docs/ is generated: the EBNF from the
// parser, the TextMate grammar's layer list from the layer registry, and the
// training settings table of docs/training.md from the table of settings, and
// the layer and diagnostics tables of docs/language.md from the layer
// registry and the catalogue of codes.
import { readFileSync, writeFileSync } from 'node:fs';
import { grammarEbnf } from '../dist/syntax/ebnf.js';
import { withLayers } from '../dist/syntax/textmate.js';
import { LAYERS } from '../dist/layers/registry.js';
import { settingsTable } from '../dist/check/train-settings.js';
import { diagnosticsTable } from '../dist/diagnostics/codes.js';
import { layerTable } from '../dist/layers/reference.js';
import { withMarkedTable } from '../dist/util/marked-table.js';

writeFileSync(new URL('../grammar/alexnet.ebnf', import.meta.url), grammarEbnf());
console.log('wrote grammar/alexnet.ebnf');
const tm = new URL('../grammar/alexnet.tmLanguage.json', import.meta.url);
writeFileSync(tm, withLayers(readFileSync(tm, 'utf8'), LAYERS.map((l) => l.name)));
console.log('wrote grammar/alexnet.tmLanguage.json (layer names)');
const training = new URL('../docs/training.md', import.meta.url);
writeFileSync(training, withMarkedTable(readFileSync(training, 'utf8'), 'settings', settingsTable()));
console.log('wrote docs/training.md (the settings table)');
const language = new URL('../docs/language.md', import.meta.url);
writeFileSync(language, withMarkedTable(withMarkedTable(readFileSync(language, 'utf8'), 'diagnostics', diagnosticsTable()), 'layer', layerTable(LAYERS)));
console.log('wrote docs/language.md (the layer table and the diagnostics table)');
