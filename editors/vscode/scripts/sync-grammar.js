// Copies the repository's TextMate grammar (grammar/alexnet.tmLanguage.json,
// the single source of truth, kept in sync with the parser by a test) into
// this extension, which may only ship files inside its own folder.
const fs = require('node:fs');
const path = require('node:path');

const from = path.resolve(__dirname, '../../../grammar/alexnet.tmLanguage.json');
const to = path.resolve(__dirname, '../syntaxes/alexnet.tmLanguage.json');
fs.mkdirSync(path.dirname(to), { recursive: true });
fs.copyFileSync(from, to);
console.log(`copied ${path.relative(process.cwd(), from)} → ${path.relative(process.cwd(), to)}`);
