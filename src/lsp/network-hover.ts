// Hover on a `network NAME(…) {` line: the network's totals, the numbers
// `alexnetc summary` prints under its table (summarize() is the one source).
import type { NetworkDecl, Program } from '../syntax/ast.js';
import { summarize, human } from '../summary.js';
import { printExpr } from '../syntax/print.js';
import type { Span } from '../diagnostics/span.js';
import type { Analysis } from './analysis.js';

const shape = (s: readonly number[]): string => `[${s.join(', ')}]`;
const int = (n: number): string => n.toLocaleString('en-US');

/**
 * The network whose header (`network NAME(params) {`, from the keyword to the
 * brace that opens the body) is under the cursor. A half-typed header with no
 * brace yet ends with its line.
 */
export function networkHeaderAt(program: Program | undefined, text: string, offset: number): { decl: NetworkDecl; span: Span } | undefined {
  for (const d of program?.decls ?? []) {
    if (d.kind !== 'network' || offset < d.span.start || offset > d.span.end) continue;
    const after = Math.max(d.name.span.end, ...d.params.map((p) => p.span.end));
    const brace = text.indexOf('{', after);
    const eol = text.indexOf('\n', after);
    const end = brace >= 0 && brace < d.span.end ? brace + 1 : eol >= 0 ? eol : text.length;
    if (offset <= end) return { decl: d, span: { start: d.span.start, end } };
  }
  return undefined;
}

/** the totals of a network, as Markdown */
export function networkTotals(a: Analysis, decl: NetworkDecl): string {
  const sig = `network ${decl.name.name}(${decl.params.map((p) => (p.default ? `${p.name.name} = ${printExpr(p.default)}` : p.name.name)).join(', ')})`;
  const head = `\`\`\`alexnet\n${sig}\n\`\`\``;
  const net = a.result.networks.find((n) => n.name === decl.name.name);
  if (!net) return `${head}\n\n_does not check yet: its totals show once it does_`;
  const s = summarize(net);
  // two trailing spaces: a Markdown line break (a table renders as raw pipes in some editors' hovers)
  return [
    head,
    '',
    `input \`${shape(s.input)}\` → output \`${shape(s.output)}\` (per example)  `,
    `parameters ${int(s.totalParams)} (${human(s.totalParams, 'params')}): trainable ${int(s.trainableParams)}, not trained ${int(s.nonTrainableParams)} (batch-norm running statistics)  `,
    `MACs ${int(s.totalMacs)} (${human(s.totalMacs, 'MAC')} per example)  `,
    `weights ${(s.weightBytes / 2 ** 20).toFixed(2)} MiB as float32`,
  ].join('\n');
}
