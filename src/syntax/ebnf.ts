// The grammar as people read it: EBNF generated from the parser's own
// productions, so the reference in grammar/ cannot drift from the parser
// (a test regenerates it and compares).
import type { ISerializedGast } from 'chevrotain';
import { cstParser } from './parser.js';
import { ALL_TOKENS } from './tokens.js';

type G = ISerializedGast & { definition?: G[]; name?: string; label?: string; terminalLabel?: string; pattern?: string; nonTerminalName?: string; separator?: G };

function terminal(g: G): string {
  const tok = ALL_TOKENS.find((t) => t.name === g.name);
  if (tok?.LABEL?.startsWith("'")) return tok.LABEL.replace(/'/g, '"');
  if (tok?.name === 'Identifier') return 'IDENT';
  if (tok?.name === 'Number') return 'NUMBER';
  return g.name ?? '?';
}

/**
 * Alternatives the parser accepts only to report them well (`k=3`, labelled
 * `equals`, is read as `k 3` with an error and a fix): not the language.
 */
function reportedOnly(g: G): boolean {
  return (g.definition ?? []).some((d) => (d.type === 'Terminal' && (d as G).terminalLabel === 'equals') || reportedOnly(d as G));
}

function seq(defs: G[] | undefined): string {
  return (defs ?? []).map(expr).join(' ');
}

function expr(g: G): string {
  switch (g.type) {
    case 'Terminal':
      return terminal(g);
    case 'NonTerminal':
      return g.name!;
    case 'Alternative':
      return seq(g.definition);
    case 'Option':
      return `[ ${seq(g.definition)} ]`;
    case 'Repetition':
      return `{ ${seq(g.definition)} }`;
    case 'RepetitionMandatory':
      return `${seq(g.definition)} { ${seq(g.definition)} }`;
    case 'RepetitionWithSeparator':
    case 'RepetitionMandatoryWithSeparator': {
      const body = seq(g.definition);
      const sep = g.separator ? terminal(g.separator) : '","';
      const list = `${body} { ${sep} ${body} }`;
      return g.type === 'RepetitionWithSeparator' ? `[ ${list} ]` : list;
    }
    case 'Alternation':
      return `( ${(g.definition ?? []).filter((a) => !reportedOnly(a)).map(expr).join(' | ')} )`;
    default:
      return '';
  }
}

export function grammarEbnf(): string {
  const rules = cstParser().getSerializedGastProductions() as G[];
  const lines = [
    '(* The .net architecture language: grammar generated from src/syntax/parser.ts.',
    '   Regenerate with `npm run grammar`; test/grammar checks it is current.',
    '   Lexical: IDENT = [A-Za-z_][A-Za-z0-9_]* ; NUMBER = digits [. digits] [e [+-] digits] ;',
    '   "#" starts a comment to the end of the line; whitespace and line breaks separate tokens.',
    '   Two chains in one body must be on separate lines (or joined by "|"). *)',
    '',
  ];
  for (const r of rules) {
    const body = seq(r.definition).replace(/^\( (.*) \)$/, '$1');
    lines.push(`${r.name} = ${body} ;`);
  }
  return lines.join('\n') + '\n';
}

