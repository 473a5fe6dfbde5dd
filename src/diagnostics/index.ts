import { CODES, type Code, type Severity } from './codes.js';
import type { Span } from './span.js';

export { CODES, type Code, type Severity } from './codes.js';
export { type Span, LineIndex } from './span.js';

/** An edit in the diagnostic's own file. */
export interface TextEdit {
  span: Span;
  newText: string;
}

/** A fix an editor can apply (code action) and the CLI can mention. */
export interface Fix {
  title: string;
  edits: TextEdit[];
}

export interface Note {
  message: string;
  span?: Span;
  /** the file the span is in, when it is an imported one (absent: the file compiled) */
  file?: string;
}

export interface Diagnostic {
  code: Code;
  severity: Severity;
  message: string;
  span: Span;
  /**
   * the file the span is in, when it is an imported one (absent: the file
   * compiled); its text is in the compile result's `files`
   */
  file?: string;
  /**
   * about the command line or the file as a whole (no `--network` chosen, an
   * unknown one): rendered without a position or code frame; the span is the
   * file's start, where an editor shows it
   */
  unlocated?: true;
  notes: Note[];
  fixes: Fix[];
}

/** Collects diagnostics; checks report through it and never throw. */
export class DiagnosticSink {
  readonly items: Diagnostic[] = [];
  report(code: Code, span: Span, message: string, extra: { notes?: Note[]; fixes?: Fix[] } = {}): Diagnostic {
    const d: Diagnostic = {
      code,
      severity: CODES[code].severity,
      message,
      span,
      notes: extra.notes ?? [],
      fixes: extra.fixes ?? [],
    };
    this.items.push(d);
    return d;
  }
  get hasErrors(): boolean {
    return this.items.some((d) => d.severity === 'error');
  }
}

export function hasErrors(ds: readonly Diagnostic[]): boolean {
  return ds.some((d) => d.severity === 'error');
}

export function formatShape(s: readonly number[]): string {
  return `[${s.join(', ')}]`;
}
