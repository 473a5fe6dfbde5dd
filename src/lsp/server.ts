// `alexnetc lsp`: the language server, over stdio. Every document is checked
// by the same `compile` the CLI runs; the features in features.ts read that
// one analysis per document version. No handler may take the server down:
// each one is wrapped, and a failure is logged and answered with "nothing".
import { TextDocument } from 'vscode-languageserver-textdocument';
import {
  createConnection,
  DidChangeWatchedFilesNotification,
  ErrorCodes,
  LSPErrorCodes,
  ProposedFeatures,
  ResponseError,
  TextDocuments,
  TextDocumentSyncKind,
  type Connection,
  type InitializeResult,
} from 'vscode-languageserver/node';
import { analyze, declAt, type Analysis } from './analysis.js';
import { sortDiagnostics } from '../compile.js';
import type { Diagnostic } from '../diagnostics/index.js';
import type { Span } from '../diagnostics/span.js';
import type { Program } from '../syntax/ast.js';
import { DiagramError, parseDiagramArgs, SHOW_DIAGRAM, showDiagram } from './diagram.js';
import { pathOf, SourceCache } from './files.js';
import { commonPrefix, commonSuffix, IncrementalParser } from '../syntax/incremental.js';
import { CheckCache } from '../check/checker.js';
import * as F from './features.js';
import { FramedWriter } from './writer.js';

export const SERVER_NAME = 'alexnetc';
/** a document whose check takes longer than this is debounced */
const SLOW_MS = 40;
const DEBOUNCE_MAX_MS = 100;
/**
 * a document whose last check took at least this long gets an edited
 * region's diagnostics first, as soon as the network that reports them is
 * checked, before the check goes on with the file's other networks
 * (ALEXNETC_LSP_PREVIEW_MS sets it; the tests use 0)
 */
const PREVIEW_MS = Number(process.env.ALEXNETC_LSP_PREVIEW_MS ?? 8);

/** an edit's region: the declaration it lies in (now and in the last check), and the network whose check reports on it */
interface Region {
  reporter: string;
  span: Span;
  was: Span;
  /** where the edit ends in the last check's text, and how much longer the text is now */
  oldEnd: number;
  delta: number;
  before: Analysis;
  program: Program;
}

export interface ServerOptions {
  /** defaults to stdin/stdout */
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
}

export function startServer(opts: ServerOptions = {}): Connection {
  // the input stays a stream (its end or close ends the server); the output is written a message at a time (writer.ts)
  const writer = new FramedWriter(opts.output ?? process.stdout) as unknown as NodeJS.WritableStream;
  const connection = createConnection(ProposedFeatures.all, opts.input ?? process.stdin, writer);
  // stdout carries the protocol: anything printed by accident must not corrupt it
  console.log = (...a: unknown[]) => connection.console.log(a.map(String).join(' '));
  console.info = console.log;
  console.debug = console.log;
  console.warn = (...a: unknown[]) => connection.console.warn(a.map(String).join(' '));
  console.error = (...a: unknown[]) => connection.console.error(a.map(String).join(' '));
  process.on('uncaughtException', (e) => connection.console.error(`alexnetc lsp: uncaught ${e?.stack ?? e}`));
  process.on('unhandledRejection', (e) => connection.console.error(`alexnetc lsp: unhandled rejection ${String(e)}`));

  const documents = new TextDocuments(TextDocument);
  const cache = new Map<string, Analysis>();
  /** the scheduled check of each document: an immediate, or a short timeout for slow documents */
  const pending = new Map<string, { cancel: () => void }>();
  /** milliseconds the last check of each document took */
  const cost = new Map<string, number>();
  /** each open document's top-level items, parsed: an edit re-parses only the items it changed */
  const parsers = new Map<string, IncrementalParser>();
  /** each open document's last check: networks (or their first stages) an edit did not touch keep their result */
  const checks = new Map<string, CheckCache>();

  /** imported files: an open document's text wins over the disk's; unchanged files are neither read nor parsed again */
  const sources = new SourceCache(documents);

  /** the analysis of a document's current version (computed at most once per version, and again when a file it imports changes) */
  const analysisOf = (doc: TextDocument): Analysis => {
    const hit = cache.get(doc.uri);
    if (hit && hit.version === doc.version) return hit;
    const t0 = performance.now();
    let parser = parsers.get(doc.uri);
    if (!parser) parsers.set(doc.uri, (parser = new IncrementalParser()));
    let checkCache = checks.get(doc.uri);
    if (!checkCache) checks.set(doc.uri, (checkCache = new CheckCache()));
    const a = analyze(doc.getText(), doc.version, { file: pathOf(doc.uri), readFile: sources.readFile, parseFile: sources.parseFile, parse: (t) => parser.parse(t), checkCache });
    cost.set(doc.uri, performance.now() - t0);
    cache.set(doc.uri, a);
    return a;
  };

  const guard =
    <P extends { textDocument: { uri: string } }, R>(what: string, empty: R, f: (doc: TextDocument, p: P) => R) =>
    (p: P): R => {
      try {
        const doc = documents.get(p.textDocument.uri);
        return doc ? f(doc, p) : empty;
      } catch (e) {
        connection.console.error(`alexnetc lsp: ${what} failed: ${(e as Error)?.stack ?? e}`);
        return empty;
      }
    };

  /**
   * Where a document's last check took PREVIEW_MS or more, an edit within one
   * declaration of a file with several networks: the network whose check
   * reports on the edited region (the edited network itself, or an edited
   * block's first caller: a block's problems are reported at its first call).
   */
  const editedRegion = (doc: TextDocument): Region | undefined => {
    const before = cache.get(doc.uri);
    const parser = parsers.get(doc.uri);
    const checkCache = checks.get(doc.uri);
    if (!before || !parser || !checkCache || (cost.get(doc.uri) ?? 0) < PREVIEW_MS) return undefined;
    // a file of one network: its check is the whole check
    if ((before.program?.decls.filter((x) => x.kind === 'network').length ?? 0) < 2) return undefined;
    const text = doc.getText();
    const old = before.text;
    // parsed here, once: the check that follows takes the same parse (the parser's last text is this one)
    const parsed = parser.parse(text);
    // where the text changed since the last check: as the parser found it, where its last text was that check's
    let P: number;
    let E: number;
    const c = parser.changed;
    if (c && c.was === old) [P, E] = [c.start, c.end];
    else {
      const max = Math.min(old.length, text.length);
      P = commonPrefix(old, text, max);
      E = text.length - commonSuffix(old, text, max - P);
    }
    const d = declAt(parsed.program, P);
    if (parsed.diagnostics.length || !d || d.span.end < E) return undefined;
    // something must remain after it for the check to do: another network
    if (parsed.program.decls.filter((x) => x.kind === 'network').length < 2) return undefined;
    const was = before.program?.decls.find((x) => x.kind === d.kind && x.name.name === d.name.name && x.span.start === d.span.start);
    const reporter = d.kind === 'block' ? checkCache.callers(d.name.name)[0] : checkCache.entries.has(d.name.name) ? d.name.name : undefined;
    if (!was || reporter === undefined) return undefined;
    const delta = text.length - old.length;
    return { reporter, span: { start: d.span.start, end: d.span.end }, was: { start: was.span.start, end: was.span.end }, oldEnd: E - delta, delta, before, program: parsed.program };
  };

  /** the edited region's diagnostics as the check has found them so far, with the last published ones elsewhere (moved by the edit) */
  const partial = (doc: TextDocument, r: Region, sofar: readonly Diagnostic[]): ReturnType<typeof F.diagnostics> => {
    const inside = (x: Diagnostic, s: Span): boolean => x.file === undefined && x.span.start >= s.start && x.span.end <= s.end;
    const move = (sp: Span): Span => (sp.start >= r.oldEnd ? { start: sp.start + r.delta, end: sp.end + r.delta } : sp);
    const kept = r.before.result.diagnostics
      .filter((x) => !inside(x, r.was))
      .map((x): Diagnostic => {
        if (x.file !== undefined) return x;
        const notes = x.notes.map((n) => (n.span && n.file === undefined ? { ...n, span: move(n.span) } : n));
        return { ...x, span: move(x.span), notes, fixes: x.fixes.map((f) => ({ ...f, edits: f.edits.map((e) => ({ ...e, span: move(e.span) })) })) };
      });
    const all = [...kept, ...sofar.filter((x) => inside(x, r.span))];
    sortDiagnostics(all, r.before.result.files);
    const a: Analysis = { version: doc.version, text: doc.getText(), file: r.before.file, result: { ...r.before.result, diagnostics: all }, program: r.program, info: new Map(), occurrences: [], deps: r.before.deps, indexes: new Map() };
    return F.diagnostics(doc, a);
  };

  const publish = (uri: string, version: number): void => {
    pending.delete(uri);
    try {
      const doc = documents.get(uri);
      // a newer version arrived (or the document closed): its own run publishes
      if (!doc || doc.version !== version) return;
      let region: Region | undefined;
      try {
        region = editedRegion(doc);
      } catch (e) {
        connection.console.error(`alexnetc lsp: finding ${uri}'s edited region failed: ${(e as Error)?.stack ?? e}`);
      }
      const checkCache = checks.get(uri);
      if (region && checkCache) {
        const r = region;
        // the edited region's diagnostics, published (without a version) as soon as the check has checked
        // the network that reports them, where networks remain; the pipe's write is synchronous
        checkCache.onNetwork = (name, sofar, remaining) => {
          if (name !== r.reporter || remaining === 0) return;
          try {
            void connection.sendDiagnostics({ uri, diagnostics: partial(doc, r, sofar) });
          } catch (e) {
            connection.console.error(`alexnetc lsp: publishing ${uri}'s edited region first failed: ${(e as Error)?.stack ?? e}`);
          }
        };
      }
      let a: Analysis;
      try {
        a = analysisOf(doc);
      } finally {
        if (checkCache) checkCache.onNetwork = undefined;
      }
      if (documents.get(uri)?.version !== version) return;
      void connection.sendDiagnostics({ uri, version, diagnostics: F.diagnostics(doc, a) });
    } catch (e) {
      connection.console.error(`alexnetc lsp: checking ${uri} failed: ${(e as Error)?.stack ?? e}`);
    }
  };

  /** re-check the open documents that import `path` (an edited, closed or changed-on-disk file) */
  const recheckDependents = (path: string | undefined): void => {
    if (path === undefined) return;
    for (const doc of documents.all()) {
      if (pathOf(doc.uri) === path || !cache.get(doc.uri)?.deps.has(path)) continue;
      cache.delete(doc.uri);
      schedule(doc.uri, doc.version);
    }
  };

  const schedule = (uri: string, version: number): void => {
    pending.get(uri)?.cancel();
    // A document that checks within a keystroke's budget is checked on the next tick (a burst
    // of edits already queued is checked once, at its last version). A slow one (thousands of
    // lines) waits a little, so that edits typed meanwhile are not each checked in turn.
    const last = cost.get(uri) ?? 0;
    if (last < SLOW_MS) {
      const h = setImmediate(() => publish(uri, version));
      pending.set(uri, { cancel: () => clearImmediate(h) });
    } else {
      const h = setTimeout(() => publish(uri, version), Math.min(DEBOUNCE_MAX_MS, last / 4));
      pending.set(uri, { cancel: () => clearTimeout(h) });
    }
  };

  documents.onDidChangeContent((ev) => {
    schedule(ev.document.uri, ev.document.version);
    recheckDependents(pathOf(ev.document.uri));
  });

  documents.onDidClose((ev) => {
    pending.get(ev.document.uri)?.cancel();
    pending.delete(ev.document.uri);
    cache.delete(ev.document.uri);
    cost.delete(ev.document.uri);
    parsers.delete(ev.document.uri);
    checks.delete(ev.document.uri);
    void connection.sendDiagnostics({ uri: ev.document.uri, diagnostics: [] });
    // its importers now read it from disk
    recheckDependents(pathOf(ev.document.uri));
  });

  // files changed on disk (saved elsewhere, created, deleted): their open importers are checked again
  connection.onDidChangeWatchedFiles((p) => {
    for (const ch of p.changes) {
      const path = pathOf(ch.uri);
      if (path !== undefined) sources.forget(path);
      recheckDependents(path);
    }
  });

  let snippets = false;
  let watch = false;
  connection.onInitialize((params): InitializeResult => {
    snippets = params.capabilities.textDocument?.completion?.completionItem?.snippetSupport === true;
    watch = params.capabilities.workspace?.didChangeWatchedFiles?.dynamicRegistration === true;
    return {
      capabilities: {
        textDocumentSync: TextDocumentSyncKind.Incremental,
        hoverProvider: true,
        completionProvider: { triggerCharacters: ['(', ',', '|', '{'] },
        signatureHelpProvider: { triggerCharacters: ['(', ','], retriggerCharacters: [' '] },
        definitionProvider: true,
        referencesProvider: true,
        renameProvider: { prepareProvider: true },
        documentSymbolProvider: true,
        codeActionProvider: { codeActionKinds: ['quickfix'] },
        documentFormattingProvider: true,
        inlayHintProvider: true,
        executeCommandProvider: { commands: [SHOW_DIAGRAM] },
      },
      serverInfo: { name: SERVER_NAME },
    };
  });

  connection.onInitialized(() => {
    if (watch) void connection.client.register(DidChangeWatchedFilesNotification.type, { watchers: [{ globPattern: '**/*.net' }] });
  });

  connection.onHover(guard('hover', null, (doc, p) => F.hover(doc, analysisOf(doc), doc.offsetAt(p.position))));
  connection.onCompletion(guard('completion', [], (doc, p) => F.completion(doc, analysisOf(doc), doc.offsetAt(p.position), { snippets })));
  connection.onSignatureHelp(guard('signature help', null, (doc, p) => F.signatureHelp(doc, analysisOf(doc), doc.offsetAt(p.position))));
  connection.onDefinition(guard('definition', [], (doc, p) => F.definition(doc, analysisOf(doc), doc.offsetAt(p.position))));
  connection.onReferences(guard('references', [], (doc, p) => F.references(doc, analysisOf(doc), doc.offsetAt(p.position), p.context.includeDeclaration)));
  connection.onPrepareRename(guard('prepare rename', null, (doc, p) => F.prepareRename(doc, analysisOf(doc), doc.offsetAt(p.position))));
  connection.onRenameRequest(
    guard('rename', null, (doc, p) => {
      const r = F.rename(doc, analysisOf(doc), doc.offsetAt(p.position), p.newName);
      if (typeof r === 'string') return new ResponseError(-32803, r) as never; // RequestFailed: the editor shows the reason
      return r;
    }),
  );
  connection.onDocumentSymbol(guard('document symbols', [], (doc) => F.documentSymbols(doc, analysisOf(doc))));
  connection.onCodeAction(guard('code actions', [], (doc, p) => F.codeActions(doc, analysisOf(doc), p.range)));
  connection.onDocumentFormatting(guard('formatting', null, (doc) => F.formatting(doc)));
  connection.languages.inlayHint.on(guard('inlay hints', [], (doc, p) => F.inlayHints(doc, analysisOf(doc), p.range)));

  // the diagram of the network under the cursor (diagram.ts); failures are error responses the editor shows
  connection.onExecuteCommand(async (p) => {
    if (p.command !== SHOW_DIAGRAM) return new ResponseError(ErrorCodes.InvalidParams, `unknown command ${p.command}: this server offers ${SHOW_DIAGRAM}`);
    try {
      const args = parseDiagramArgs(p.arguments);
      const doc = documents.get(args.uri);
      if (!doc) throw new DiagramError(`${args.uri} is not open in the editor: open it first`, 'failed');
      return await showDiagram(doc, analysisOf(doc), args);
    } catch (e) {
      if (e instanceof DiagramError) return new ResponseError(e.code === 'invalid-params' ? ErrorCodes.InvalidParams : LSPErrorCodes.RequestFailed, e.message);
      connection.console.error(`alexnetc lsp: ${SHOW_DIAGRAM} failed: ${(e as Error)?.stack ?? e}`);
      return new ResponseError(ErrorCodes.InternalError, `drawing the diagram failed: ${(e as Error)?.message ?? e} — this is a bug in alexnetc, please report it with the file`);
    }
  });

  documents.listen(connection);
  connection.listen();
  return connection;
}
