// A .net file with some `train { }` settings (and parameter defaults)
// changed, the rest of the file as it was: each trial's file, and the best
// settings written back with --write. Settings the search did not touch keep
// their source text; a file in the canonical layout stays in it.
import { format } from '../fmt/format.js';
import type { NetworkDecl } from '../syntax/ast.js';
import { parse } from '../syntax/parse.js';

function decl(text: string, network: string): NetworkDecl {
  const d = parse(text).program.decls.find((x): x is NetworkDecl => x.kind === 'network' && x.name.name === network);
  if (!d) throw new Error(`internal: no network ${network} in the source`);
  return d;
}

function lineIndent(text: string, at: number): string {
  const start = text.lastIndexOf('\n', at - 1) + 1;
  return /^[ \t]*/.exec(text.slice(start))![0];
}

/**
 * `text` with the network's train section holding `settings` (name → value
 * as written in .net syntax) on top of what it had, and `params` as the new
 * defaults of the network's parameters.
 */
export function withSettings(text: string, network: string, settings: Record<string, string>, params: Record<string, string> = {}): string {
  const d = decl(text, network);
  const edits: Array<{ start: number; end: number; text: string }> = [];
  const lines = (indent: string): string[] => {
    const out: string[] = [];
    const done = new Set<string>();
    for (const s of d.train?.settings ?? []) {
      const key = s.key.name;
      if (key in settings) {
        if (!done.has(key)) out.push(`${indent}${key} ${settings[key]}`);
        done.add(key);
      } else out.push(indent + text.slice(s.span.start, s.span.end));
    }
    for (const [k, v] of Object.entries(settings)) if (!done.has(k)) out.push(`${indent}${k} ${v}`);
    return out;
  };
  if (Object.keys(settings).length) {
    if (d.train) {
      const indent = lineIndent(text, d.train.span.start);
      edits.push({ start: d.train.span.start, end: d.train.span.end, text: ['train {', ...lines(indent + '  '), `${indent}}`].join('\n') });
    } else {
      // before the network's closing brace, one level in
      const close = text.lastIndexOf('}', d.span.end - 1);
      const indent = lineIndent(text, close) + '  ';
      const at = text.lastIndexOf('\n', close - 1) + 1;
      edits.push({ start: at, end: at, text: ['', `${indent}train {`, ...lines(indent + '  '), `${indent}}`, ''].join('\n') });
    }
  }
  for (const p of d.params) {
    const v = params[p.name.name];
    if (v === undefined) continue;
    if (p.default) edits.push({ start: p.default.span.start, end: p.default.span.end, text: v });
    else edits.push({ start: p.name.span.end, end: p.name.span.end, text: ` = ${v}` });
  }
  let out = text;
  for (const e of edits.sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return format(text) === text ? (format(out) ?? out) : out;
}

/** The network's train section as it reads after `settings`, alone: what --write would put in, ready to paste. */
export function trainSection(text: string, network: string, settings: Record<string, string>): string {
  const full = withSettings(text, network, settings);
  const d = decl(full, network);
  if (!d.train) return 'train {}';
  const indent = lineIndent(full, d.train.span.start);
  return full
    .slice(d.train.span.start, d.train.span.end)
    .split('\n')
    .map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l))
    .join('\n');
}
