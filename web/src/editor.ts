// The editor: CodeMirror 6 with the language's highlighting (keywords and
// layer names as the analysis worker reports them), diagnostics pushed by the
// page as each analysis arrives, hover and completion answered by the worker.
import { autocompletion, type CompletionContext, type CompletionResult } from '@codemirror/autocomplete';
import { indentWithTab } from '@codemirror/commands';
import { HighlightStyle, StreamLanguage, syntaxHighlighting } from '@codemirror/language';
import { lintGutter } from '@codemirror/lint';
import { EditorState, type Extension, type Text, type Transaction } from '@codemirror/state';
import { EditorView, hoverTooltip, keymap, type Tooltip } from '@codemirror/view';
import { tags as t } from '@lezer/highlight';
import { basicSetup } from 'codemirror';
import { renderMarkdown } from './markdown.js';

export interface EditorHooks {
  /**
   * the text changed (every keystroke): called with the new text before the
   * editor updates its view, so the analysis starts while the editor draws
   */
  changed(doc: Text, transactions: readonly Transaction[]): void;
  hover(offset: number): Promise<{ markdown: string | null; from: number; to: number }>;
  complete(offset: number): Promise<{ from: number; items: { label: string; detail?: string; info?: string; apply: string; type: string; boost: number }[] }>;
  format(): void;
}

function language(keywords: Set<string>, layers: Set<string>) {
  return StreamLanguage.define<{ train: boolean }>({
    name: 'alexnet',
    startState: () => ({ train: false }),
    token(stream) {
      if (stream.eatSpace()) return null;
      if (stream.match('#')) {
        stream.skipToEnd();
        return 'comment';
      }
      if (stream.match(/^"(?:[^"\\]|\\.)*"?/)) return 'string';
      if (stream.match(/^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/)) return 'number';
      const word = stream.match(/^[A-Za-z_][A-Za-z0-9_]*/) as RegExpMatchArray | null;
      if (word) {
        const w = word[0];
        if (keywords.has(w)) return 'keyword';
        if (layers.has(w)) return 'typeName';
        return /^[A-Z]/.test(w) ? 'className' : 'variableName';
      }
      if (stream.match('|') || stream.match(':') || stream.match('=') || stream.match(/^[-+*/]/)) return 'operator';
      stream.next();
      return 'punctuation';
    },
    languageData: { commentTokens: { line: '#' } },
  });
}

const style = HighlightStyle.define([
  { tag: t.comment, color: '#6a737d', fontStyle: 'italic' },
  { tag: t.keyword, color: '#8a3ab9', fontWeight: 'bold' },
  { tag: t.typeName, color: '#1f6feb' },
  { tag: t.className, color: '#b35900', fontWeight: 'bold' },
  { tag: t.number, color: '#0a7f50' },
  { tag: t.string, color: '#a1260d' },
  { tag: t.operator, color: '#d0431b' },
]);

export function createEditor(parent: HTMLElement, doc: string, names: { keywords: string[]; layers: string[] }, hooks: EditorHooks): EditorView {
  const lang = language(new Set(names.keywords), new Set(names.layers));
  const hover = hoverTooltip(async (_view, pos): Promise<Tooltip | null> => {
    const h = await hooks.hover(pos);
    if (!h.markdown) return null;
    return { pos: h.from, end: h.to, above: true, create: () => ({ dom: renderMarkdown(h.markdown!) }) };
  }, { hoverTime: 250 });
  const complete = async (ctx: CompletionContext): Promise<CompletionResult | null> => {
    // nothing to complete in a comment
    if (ctx.state.doc.lineAt(ctx.pos).text.slice(0, ctx.pos - ctx.state.doc.lineAt(ctx.pos).from).includes('#')) return null;
    const word = ctx.matchBefore(/[A-Za-z0-9_/]*/);
    // typing a name, or just past `(` or `, `: not on every space or new line
    if (!ctx.explicit && (!word || word.from === word.to) && !/(\(|, ?)$/.test(ctx.state.sliceDoc(Math.max(0, ctx.pos - 2), ctx.pos))) return null;
    const r = await hooks.complete(ctx.pos);
    if (!r.items.length) return null;
    return {
      from: r.from,
      options: r.items.map((i) => ({ label: i.label, detail: i.detail, info: i.info, apply: i.apply, type: i.type, boost: i.boost })),
      validFor: /^[A-Za-z0-9_]*$/,
    };
  };
  const extensions: Extension[] = [
    basicSetup,
    // long lines wrap: typing at the end of one never scrolls the editor sideways (a scroll, then a measure, per keystroke)
    EditorView.lineWrapping,
    lang,
    syntaxHighlighting(style),
    lintGutter(),
    hover,
    autocompletion({ override: [complete], activateOnTyping: true }),
    keymap.of([indentWithTab, { key: 'Shift-Alt-f', run: () => (hooks.format(), true) }]),
  ];
  return new EditorView({
    parent,
    state: EditorState.create({ doc, extensions }),
    dispatchTransactions(trs, view) {
      if (trs.some((tr) => tr.docChanged)) hooks.changed(trs[trs.length - 1]!.state.doc, trs);
      view.update(trs);
    },
  });
}
