// Regenerates grammar/alexnet.ebnf from the parser.
import { writeFileSync } from 'node:fs';
import { grammarEbnf } from '../dist/syntax/ebnf.js';

writeFileSync(new URL('../grammar/alexnet.ebnf', import.meta.url), grammarEbnf());
console.log('wrote grammar/alexnet.ebnf');
