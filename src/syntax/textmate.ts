// The TextMate grammar (grammar/alexnet.tmLanguage.json) is written by hand
// except its list of layer names, which comes from the layer registry: `npm
// run grammar` rewrites that one pattern in place (keeping the file's
// layout), and a test fails when the file is stale. Adding a layer is then
// its file, its registry line and its tests.

/** the pattern that scopes layer names */
const LAYER_PATTERN = /("match": ")[^"]*(",\s*"name": "support\.function\.layer\.alexnet")/;

/** the JSON-escaped regex for the names, in registry order (word boundaries make the order irrelevant) */
export function layerPattern(names: readonly string[]): string {
  return `\\\\b(${names.join('|')})\\\\b`;
}

/** the grammar's text with its layer list set to `names` */
export function withLayers(grammar: string, names: readonly string[]): string {
  if (!LAYER_PATTERN.test(grammar)) throw new Error('the TextMate grammar has no support.function.layer.alexnet pattern to fill in');
  return grammar.replace(LAYER_PATTERN, (_m, open: string, close: string) => `${open}${layerPattern(names)}${close}`);
}
