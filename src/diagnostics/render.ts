// Renders diagnostics the way rustc and esbuild do: file:line:col, the
// message, a code frame with a caret under the exact range, then notes and
// suggested fixes. Line and column are computed here, at render time.
import type { Diagnostic } from './index.js';
import { LineIndex, type Span } from './span.js';

export interface RenderOptions {
  color?: boolean;
  /**
   * the texts of imported files, by path (`compile()`'s `files`), so that a
   * diagnostic or note in one of them gets its code frame too
   */
  sources?: ReadonlyMap<string, string> | readonly { file: string; text: string }[];
}

/** Line indexes of imported files, made once per text. */
const indexes = new WeakMap<object, Map<string, LineIndex>>();

function indexOf(opts: RenderOptions, file: string): LineIndex | undefined {
  const src = opts.sources;
  if (!src) return undefined;
  let cache = indexes.get(src);
  if (!cache) indexes.set(src, (cache = new Map()));
  const hit = cache.get(file);
  if (hit) return hit;
  const text = src instanceof Map ? src.get(file) : (src as readonly { file: string; text: string }[]).find((f) => f.file === file)?.text;
  if (text === undefined) return undefined;
  const index = new LineIndex(text);
  cache.set(file, index);
  return index;
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
  /** where a span lives: the compiled file, or an imported one (whose text may be unknown) */
  const place = (f: string | undefined): { name: string; index: LineIndex | undefined } =>
    f === undefined ? { name: file, index } : { name: f, index: indexOf(opts, f) };
  const at = (name: string, idx: LineIndex | undefined, s: Span): string => {
    if (!idx) return name;
    const p = idx.position(s.start);
    return `${name}:${p.line}:${p.column}`;
  };
  const main = place(d.file);
  const sev = d.severity === 'error' ? c.red(`error[${d.code}]`) : d.severity === 'warning' ? c.yellow(`warning[${d.code}]`) : c.blue(`info[${d.code}]`);
  // a diagnostic about the command line (no source position) has no frame
  const located = d.unlocated !== true;
  const head = located ? at(main.name, main.index, d.span) : main.name;
  const out = [`${c.bold(escapeControls(head))}: ${sev}: ${c.bold(escapeControls(d.message))}`];
  if (main.index && located) out.push(...frame(d.span, main.index, c, d.severity === 'error' ? c.red : c.yellow));
  for (const n of d.notes) {
    if (n.span) {
      const where = place(n.file);
      out.push(`  ${c.blue('note')}: ${escapeControls(n.message)} (${escapeControls(at(where.name, where.index, n.span))})`);
      if (where.index) out.push(...frame(n.span, where.index, c, c.blue));
    } else out.push(`  ${c.blue('note')}: ${escapeControls(n.message)}`);
  }
  for (const f of d.fixes) out.push(`  ${c.blue('help')}: ${escapeControls(f.title)}`);
  return out.join('\n');
}

// Characters that would act on a terminal instead of showing: C0 controls
// (but tab), DEL, C1 controls, and the bidirectional overrides that reorder
// what is shown (CVE-2021-42574, "Trojan Source").
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * A message with its control characters escaped (`\x1b`, `\u202e`), so that
 * quoted source text cannot colour, move or rewrite the user's terminal.
 */
export function escapeControls(s: string): string {
  return s.replace(CONTROL, (ch) => {
    const n = ch.charCodeAt(0);
    return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
  });
}

/**
 * A source line as shown in a frame: one visible character per character, so
 * the caret below still lines up — a control character becomes its Unicode
 * control picture (␛ for ESC, ␀ for NUL, ␍ for CR, ␡ for DEL), a C1 control or
 * a bidirectional override becomes �, a tab one space.
 */
function visibleLine(s: string): string {
  return s.replace(/\t/g, ' ').replace(CONTROL, (ch) => {
    const n = ch.charCodeAt(0);
    if (n < 0x20) return String.fromCharCode(0x2400 + n);
    if (n === 0x7f) return '\u2421';
    return '\ufffd';
  });
}

function frame(span: Span, index: LineIndex, c: typeof plain, mark: (s: string) => string): string[] {
  if (index.text.length === 0) return [];
  const start = index.position(span.start);
  const end = index.position(Math.max(span.start, span.end - 1));
  const line = index.lineText(start.line);
  const gutter = String(start.line).length;
  const pad = ' '.repeat(gutter);
  const shown = visibleLine(line);
  let width = span.end > span.start ? (end.line === start.line ? Math.max(1, end.column - start.column + 1) : Math.max(1, line.length - start.column + 1)) : 1;
  // a long line (minified, generated, a binary file read as text) is cut to a window around the caret
  let from = 0;
  if (shown.length > MAX_FRAME) from = Math.max(0, Math.min(start.column - 1 - CONTEXT, shown.length - MAX_FRAME));
  const to = Math.min(shown.length, from + MAX_FRAME);
  const text = (from > 0 ? '…' : '') + shown.slice(from, to) + (to < shown.length ? '…' : '');
  const col = start.column - 1 - from + (from > 0 ? 1 : 0);
  width = Math.max(1, Math.min(width, to - (start.column - 1)));
  const caret = ' '.repeat(Math.max(0, col)) + mark('^'.repeat(width));
  return [`  ${pad} ${c.blue('|')}`, `  ${c.blue(String(start.line))} ${c.blue('|')} ${text}`, `  ${pad} ${c.blue('|')} ${caret}`];
}

/** the widest source text a frame shows, and how much of it comes before the caret when a line is cut */
const MAX_FRAME = 120;
const CONTEXT = 40;

/**
 * The machine-readable form behind `--json`: positions resolved, 1-based
 * lines and columns. A diagnostic or note in an imported file names that
 * file (its positions need `sources`).
 */
export function diagnosticToJson(d: Diagnostic, file: string, index: LineIndex, sources?: RenderOptions['sources']) {
  const idx = (f: string | undefined): LineIndex | undefined => (f === undefined ? index : indexOf({ sources }, f));
  const loc = (s: Span, f?: string) => {
    const ix = idx(f);
    if (!ix) return { start: s.start, end: s.end };
    const a = ix.position(s.start);
    const b = ix.position(s.end);
    return { start: s.start, end: s.end, line: a.line, column: a.column, endLine: b.line, endColumn: b.column };
  };
  return {
    file: d.file ?? file,
    code: d.code,
    severity: d.severity,
    message: d.message,
    range: loc(d.span, d.file),
    ...(d.unlocated ? { unlocated: true } : {}),
    notes: d.notes.map((n) => ({ message: n.message, file: n.file ?? (n.span ? file : undefined), range: n.span ? loc(n.span, n.file) : undefined })),
    fixes: d.fixes.map((f) => ({ title: f.title, edits: f.edits.map((e) => ({ range: loc(e.span, d.file), newText: e.newText })) })),
  };
}
