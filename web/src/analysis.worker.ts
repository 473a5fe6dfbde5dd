// The editor's analysis, off the page's thread: the language server's own
// analysis (src/lsp/analysis.ts) and features (hover, completion, formatting,
// diagnostics) on each version of the text, so typing never waits for it.
// As in the language server, an edit re-parses only the top-level items it
// changed (IncrementalParser) and re-checks only the networks it touched
// (CheckCache); the diagnostics go out (shared memory, shared.ts) before the
// networks' summaries are made.
import { TextDocument } from 'vscode-languageserver-textdocument';
import { CheckCache } from '../../src/check/checker.js';
import { analyze, type Analysis } from '../../src/lsp/analysis.js';
import { IncrementalParser } from '../../src/syntax/incremental.js';
import { completion, diagnostics, formatting, hover } from '../../src/lsp/features.js';
import { LAYERS } from '../../src/layers/registry.js';
import { KEYWORDS } from '../../src/syntax/tokens.js';
import type { AnalysisReply, AnalysisRequest, PageDiagnostic } from './protocol.js';
import { NetworkList } from './network-list.js';
import { SharedDiagnostics } from './shared.js';

const post = (m: AnalysisReply): void => postMessage(m);

let doc: TextDocument | undefined;
/** what the last analysis of this file left (a new file starts afresh) */
let kept: { file: string; parser: IncrementalParser; checks: CheckCache } | undefined;
let shared: SharedDiagnostics | undefined;
let current: Analysis | undefined;

const KINDS: Record<number, string> = { 3: 'function', 6: 'variable', 5: 'property', 14: 'keyword', 12: 'constant', 18: 'type', 10: 'property', 4: 'function', 7: 'class', 13: 'enum', 20: 'enum', 21: 'constant', 22: 'type' };

function defaultNetwork(a: Analysis, file: string): string | undefined {
  const own = (a.program?.decls ?? []).filter((d) => d.kind === 'network').map((d) => d.name.name);
  if (own.length === 1) return own[0];
  const base = file.replace(/\.net$/i, '').toLowerCase();
  return own.find((n) => n.toLowerCase() === base) ?? own[0];
}

const clock = (): number => performance.timeOrigin + performance.now();

/** the networks last posted: a keystroke that changes none of them posts none */
const networkList = new NetworkList();
let postedDefault: string | undefined;

/** where a stage of a network is written, in the text analysed last */
function locate(network: string, path: string): number | undefined {
  return current?.result.stageInfo.find((i) => i.network === network && i.path === path)?.stage.span.start;
}

function onAnalyze(version: number, text: string, file: string): void {
  const received = clock();
  const t0 = performance.now();
  doc = TextDocument.create(`file:///playground/${file}`, 'alexnet', version, text);
  if (kept?.file !== file) kept = { file, parser: new IncrementalParser(), checks: new CheckCache() };
  const parser = kept.parser;
  const a = analyze(text, version, { file, parse: (t) => parser.parse(t), checkCache: kept.checks });
  current = a;
  const diags: PageDiagnostic[] = diagnostics(doc, a).map((d) => ({
    from: doc!.offsetAt(d.range.start),
    to: doc!.offsetAt(d.range.end),
    severity: d.severity === 1 ? 'error' : d.severity === 2 ? 'warning' : 'info',
    code: String(d.code ?? ''),
    message: typeof d.message === 'string' ? d.message : d.message.value,
    line: d.range.start.line + 1,
    column: d.range.start.character + 1,
  }));
  // for the page's next frame, before the message below reaches it
  shared?.write(version, diags);
  post({ type: 'analyzed', version, diagnostics: diags, ms: performance.now() - t0, received, sent: clock() });
  // the panels' networks in a task of their own, after the answer: a keystroke typed meanwhile is analysed first
  setTimeout(() => current === a && postNetworks(a, file), 0);
}

/** the networks of the analysis, to the page, when they changed */
function postNetworks(a: Analysis, file: string): void {
  const nets = networkList.update(a);
  const dflt = defaultNetwork(a, file);
  if (!nets && dflt === postedDefault) return;
  postedDefault = dflt;
  post({ type: 'networks', version: a.version, networks: nets, defaultNetwork: dflt });
}

self.onmessage = (e: MessageEvent<AnalysisRequest>) => {
  const m = e.data;
  try {
    switch (m.type) {
      case 'analyze':
        onAnalyze(m.version, m.text, m.file);
        break;
      case 'locate':
        post({ type: 'locate', id: m.id, from: locate(m.network, m.path) });
        break;
      case 'share':
        shared = new SharedDiagnostics(m.buffer);
        break;
      case 'echo':
        shared?.write(m.version, null);
        post({ type: 'echoed', version: m.version, sent: clock() });
        break;
      case 'hover': {
        const h = doc && current && current.version === m.version ? hover(doc, current, m.offset) : null;
        const value = h && typeof h.contents === 'object' && 'value' in h.contents ? h.contents.value : null;
        post({ type: 'hover', id: m.id, markdown: value, from: h?.range ? doc!.offsetAt(h.range.start) : m.offset, to: h?.range ? doc!.offsetAt(h.range.end) : m.offset });
        break;
      }
      case 'complete': {
        if (!doc || !current || current.version !== m.version) {
          post({ type: 'complete', id: m.id, from: m.offset, items: [] });
          break;
        }
        const text = doc.getText();
        let from = m.offset;
        while (from > 0 && /[A-Za-z0-9_]/.test(text[from - 1]!)) from--;
        const items = completion(doc, current, m.offset, { snippets: false }).map((c, i) => {
          const edit = c.textEdit && 'range' in c.textEdit ? c.textEdit : undefined;
          if (edit) from = Math.min(from, doc!.offsetAt(edit.range.start));
          const info = typeof c.documentation === 'string' ? c.documentation : c.documentation?.value;
          return { label: c.label, detail: c.detail, info, apply: edit?.newText ?? c.insertText ?? c.label, type: KINDS[c.kind ?? 0] ?? 'text', boost: -i / 1000 };
        });
        post({ type: 'complete', id: m.id, from, items });
        break;
      }
      case 'format': {
        const d = TextDocument.create('file:///playground/fmt.net', 'alexnet', 0, m.text);
        const edits = formatting(d);
        post({ type: 'format', id: m.id, text: edits === null ? null : TextDocument.applyEdits(d, edits) });
        break;
      }
    }
  } catch (err) {
    // an internal failure: the page keeps working; the console says what broke
    console.error('alexnetc analysis:', err);
  }
};

post({ type: 'ready', keywords: KEYWORDS.map((k) => String(k.LABEL ?? k.name).replace(/'/g, '')), layers: LAYERS.map((l) => l.name) });
