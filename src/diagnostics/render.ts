// Renders diagnostics the way rustc and esbuild do: file:line:col, the
// message, a code frame with a caret under the exact range, then notes and
// suggested fixes. Line and column are computed here, at render time.
import type { Diagnostic } from './index.js';
import { LineIndex, type Span } from './span.js';

export interface RenderOptions {
  color?: boolean;
}

const C = {
  red: (s: string) => `\x1b[1;31m${s}\x1b[0m`,
  yellow: (s: string) => `\x1b[1;33m${s}\x1b[0m`,
  blue: (s: string) => `\x1b[1;34m${s}\x1b[0m`,
  bold: (s: string) => `\x1b[1m${s}\x1b[0m`,
};
const plain = { red: (s: string) => s, yellow: (s: string) => s, blue: (s: string) => s, bold: (s: string) => s };

export function renderDiagnostic(d: Diagnostic, file: string, text: string, opts: RenderOptions = {}, index = new LineIndex(text)): string {
  const c = opts.color ? C : plain;
  const pos = index.position(d.span.start);
  const sev = d.severity === 'error' ? c.red(`error[${d.code}]`) : d.severity === 'warning' ? c.yellow(`warning[${d.code}]`) : c.blue(`info[${d.code}]`);
  const out = [`${c.bold(`${file}:${pos.line}:${pos.column}`)}: ${sev}: ${c.bold(d.message)}`];
  out.push(...frame(d.span, index, c, d.severity === 'error' ? c.red : c.yellow));
  for (const n of d.notes) {
    if (n.span) {
      const p = index.position(n.span.start);
      out.push(`  ${c.blue('note')}: ${n.message} (${file}:${p.line}:${p.column})`);
      out.push(...frame(n.span, index, c, c.blue));
    } else out.push(`  ${c.blue('note')}: ${n.message}`);
  }
  for (const f of d.fixes) out.push(`  ${c.blue('help')}: ${f.title}`);
  return out.join('\n');
}

function frame(span: Span, index: LineIndex, c: typeof plain, mark: (s: string) => string): string[] {
  if (index.text.length === 0) return [];
  const start = index.position(span.start);
  const end = index.position(Math.max(span.start, span.end - 1));
  const line = index.lineText(start.line);
  const gutter = String(start.line).length;
  const pad = ' '.repeat(gutter);
  // tabs are shown as one space so the caret lines up
  const shown = line.replace(/\t/g, ' ');
  const width = end.line === start.line ? Math.max(1, end.column - start.column + 1) : Math.max(1, line.length - start.column + 1);
  const caret = ' '.repeat(Math.max(0, start.column - 1)) + mark('^'.repeat(span.end > span.start ? width : 1));
  return [`  ${pad} ${c.blue('|')}`, `  ${c.blue(String(start.line))} ${c.blue('|')} ${truncate(shown)}`, `  ${pad} ${c.blue('|')} ${caret}`];
}

function truncate(s: string): string {
  return s.length > 200 ? s.slice(0, 200) + '…' : s;
}

/** The machine-readable form behind `--json`: positions resolved, 1-based lines and columns. */
export function diagnosticToJson(d: Diagnostic, file: string, index: LineIndex) {
  const loc = (s: Span) => {
    const a = index.position(s.start);
    const b = index.position(s.end);
    return { start: s.start, end: s.end, line: a.line, column: a.column, endLine: b.line, endColumn: b.column };
  };
  return {
    file,
    code: d.code,
    severity: d.severity,
    message: d.message,
    range: loc(d.span),
    notes: d.notes.map((n) => ({ message: n.message, range: n.span ? loc(n.span) : undefined })),
    fixes: d.fixes.map((f) => ({ title: f.title, edits: f.edits.map((e) => ({ range: loc(e.span), newText: e.newText })) })),
  };
}
