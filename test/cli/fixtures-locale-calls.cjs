// Preloaded (--require) by test/cli/start.test.ts: counts the calls that set up ICU's locale
// machinery (toLocaleString, localeCompare, Intl's formatters) and prints the count at exit.
let calls = [];
for (const [owner, name] of [[Number.prototype, 'toLocaleString'], [String.prototype, 'localeCompare'], [Date.prototype, 'toLocaleString'], [Array.prototype, 'toLocaleString']]) {
  const real = owner[name];
  owner[name] = function (...args) {
    calls.push(name);
    return real.apply(this, args);
  };
}
for (const name of ['NumberFormat', 'Collator', 'DateTimeFormat', 'PluralRules', 'Segmenter']) {
  const Real = Intl[name];
  Intl[name] = function (...args) {
    calls.push(`Intl.${name}`);
    return new Real(...args);
  };
}
process.on('exit', () => require('node:fs').writeSync(2, `\nLOCALE ${JSON.stringify(calls)}\n`));
