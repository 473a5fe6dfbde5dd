// The editor features, as plain functions from an analysis (and a cursor) to
// LSP values. server.ts wires them to the protocol; they know nothing of it.
import type { TextDocument } from 'vscode-languageserver-textdocument';
import {
  CodeActionKind,
  CompletionItemKind,
  DiagnosticSeverity,
  DiagnosticTag,
  InlayHintKind,
  InsertTextFormat,
  MarkupKind,
  SymbolKind,
  type CodeAction,
  type CompletionItem,
  type Diagnostic as LspDiagnostic,
  type DocumentSymbol,
  type Hover,
  type InlayHint,
  type Location,
  type Range,
  type SignatureHelp,
  type TextEdit,
  type WorkspaceEdit,
} from 'vscode-languageserver';
import type { StageInfo } from '../check/checker.js';
import { stagePathOf, under } from '../check/freeze.js';
import { findSetting, settingDocWithDefault, TRAIN_SETTINGS, type TrainSettingSpec } from '../check/train-settings.js';
import { fmtValue } from '../check/values.js';
import type { Diagnostic } from '../diagnostics/index.js';
import type { Span } from '../diagnostics/span.js';
import { format } from '../fmt/format.js';
import { printExpr as expr } from '../syntax/print.js';
import { findLayer, LAYERS } from '../layers/registry.js';
import { describeCall } from '../summary.js';
import type { AnyLayer, ArgSpec } from '../layers/types.js';
import type { BlockDecl, Decl, Stage } from '../syntax/ast.js';
import { KEYWORDS } from '../syntax/tokens.js';
import { blocksInScope, contains, declAt, indexOf, occurrenceAt, resolveName, stageAt, type Analysis } from './analysis.js';
import { uriOf } from './files.js';
import { cursorContext, tokensOf, wordStart } from './context.js';
import { networkHeaderAt, networkTotals } from './network-hover.js';

export function range(doc: TextDocument, s: Span): Range {
  return { start: doc.positionAt(s.start), end: doc.positionAt(s.end) };
}

const shape = (s: readonly number[]): string => `[${s.join(', ')}]`;
const count = (n: number): string => n.toLocaleString('en-US');

// ---- diagnostics ------------------------------------------------------------

/** a range in an imported file, from its text */
function rangeIn(a: Analysis, file: string, s: Span): Range {
  const ix = indexOf(a, file);
  if (!ix) return { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
  const p = (o: number) => {
    const lc = ix.position(o);
    return { line: lc.line - 1, character: lc.column - 1 };
  };
  return { start: p(s.start), end: p(s.end) };
}

/** a location in this document or in an imported file */
function location(doc: TextDocument, a: Analysis | undefined, file: string | undefined, s: Span): Location {
  return file === undefined || !a ? { uri: doc.uri, range: range(doc, s) } : { uri: uriOf(file), range: rangeIn(a, file, s) };
}

export function toLspDiagnostic(doc: TextDocument, d: Diagnostic, a?: Analysis): LspDiagnostic {
  const related = d.notes.filter((n) => n.span);
  const loose = d.notes.filter((n) => !n.span);
  return {
    range: range(doc, d.span),
    severity: d.severity === 'error' ? DiagnosticSeverity.Error : d.severity === 'warning' ? DiagnosticSeverity.Warning : DiagnosticSeverity.Information,
    code: d.code,
    source: 'alexnetc',
    message: d.message + loose.map((n) => `\nnote: ${n.message}`).join(''),
    relatedInformation: related.length ? related.map((n) => ({ location: location(doc, a, n.file, n.span!), message: n.message })) : undefined,
    tags: d.code === 'W501' || d.code === 'W502' ? [DiagnosticTag.Unnecessary] : undefined,
  };
}

/**
 * A problem in an imported file, shown in this document: at the first place
 * in this document that leads to it (the call, or the import), with the real
 * place as related information.
 */
function foreign(doc: TextDocument, d: Diagnostic, a: Analysis): LspDiagnostic {
  const file = d.file!;
  const local = d.notes.find((n) => n.span && n.file === undefined);
  const at = local?.span ?? a.result.files.find((f) => f.file === file)?.via ?? { start: 0, end: 0 };
  const lc = indexOf(a, file)?.position(d.span.start);
  const where = lc ? `${file}:${lc.line}:${lc.column}` : file;
  const lsp = toLspDiagnostic(doc, d, a);
  return {
    ...lsp,
    range: range(doc, at),
    message: `${where}: ${lsp.message}`,
    relatedInformation: [{ location: location(doc, a, file, d.span), message: d.message }, ...(lsp.relatedInformation ?? [])],
  };
}

export function diagnostics(doc: TextDocument, a: Analysis): LspDiagnostic[] {
  // a fresh, empty buffer is not an error worth a squiggle
  const empty = !!a.program && a.program.decls.length === 0 && a.program.imports.length === 0;
  return a.result.diagnostics.filter((d) => !(empty && d.code === 'E105')).map((d) => (d.file === undefined ? toLspDiagnostic(doc, d, a) : foreign(doc, d, a)));
}

// ---- inlay hints ------------------------------------------------------------

/** the distinct output shapes of a stage's instantiations, in order */
function distinctShapes(infos: readonly StageInfo[]): number[][] {
  const seen = new Map<string, number[]>();
  for (const i of infos) seen.set(shape(i.outShape), i.outShape);
  return [...seen.values()];
}

export function inlayHints(doc: TextDocument, a: Analysis, r: Range): InlayHint[] {
  const from = doc.offsetAt(r.start);
  const to = doc.offsetAt(r.end);
  const out: InlayHint[] = [];
  for (const [stage, infos] of a.info) {
    const at = stage.span.end;
    if (at < from || at > to) continue;
    const shapes = distinctShapes(infos);
    const shown = shapes.length > 3 ? [...shapes.slice(0, 3).map(shape), `+${shapes.length - 3} more`] : shapes.map(shape);
    const hint: InlayHint = { position: doc.positionAt(at), label: `→ ${shown.join(' · ')}`, kind: InlayHintKind.Type, paddingLeft: true };
    if (shapes.length > 1 || infos.length > 1) {
      hint.tooltip = { kind: MarkupKind.Markdown, value: instantiations(infos) };
    }
    out.push(hint);
  }
  return out.sort((x, y) => x.position.line - y.position.line || x.position.character - y.position.character);
}

/** one row per distinct (input, output, params, MACs), with where it occurs */
function instantiations(infos: readonly StageInfo[]): string {
  const rows = new Map<string, { i: StageInfo; where: string[] }>();
  for (const i of infos) {
    const key = `${shape(i.inShape)} ${shape(i.outShape)} ${i.params} ${i.macs}`;
    const row = rows.get(key);
    const where = `${i.network} \`${i.path}\``;
    if (row) row.where.push(where);
    else rows.set(key, { i, where: [where] });
  }
  const MAX_ROWS = 12;
  const lines = [...rows.values()].slice(0, MAX_ROWS).map(({ i, where }) => {
    const w = where.length > 2 ? `${where.slice(0, 2).join(', ')} +${where.length - 2}` : where.join(', ');
    return `| \`${shape(i.inShape)}\` | \`${shape(i.outShape)}\` | ${count(i.params)} | ${count(i.macs)} | ${w} |`;
  });
  const more = rows.size > MAX_ROWS ? `\n\n…and ${rows.size - MAX_ROWS} more distinct instantiations` : '';
  return `| input | output | params | MACs | where |\n|---|---|---:|---:|---|\n${lines.join('\n')}${more}`;
}

// ---- hover ------------------------------------------------------------------

export function signature(layer: AnyLayer): string {
  return `${layer.name}(${layer.args.map(argLabel).join(', ')})`;
}

function argLabel(a: ArgSpec): string {
  return a.default === undefined ? a.name : a.default === null ? `${a.name} auto` : `${a.name} ${fmtValue(a.default)}`;
}

function argDoc(a: ArgSpec): string {
  const dflt = a.default === undefined ? 'required' : a.default === null ? 'default: computed by the layer' : `default \`${fmtValue(a.default)}\``;
  const types = { int: 'whole number', number: 'number', bool: 'true / false', int2: 'n or [h, w]', pad: 'p, [ph, pw], [t, l, b, r] or same', word: (a.words ?? []).join(' or ') }[a.type];
  return `\`${a.name}\` (${types}; ${dflt}) — ${a.doc}`;
}

function blockSignature(b: BlockDecl | Decl): string {
  return `${b.kind} ${b.name.name}(${b.params.map((p) => (p.default ? `${p.name.name} = ${expr(p.default)}` : p.name.name)).join(', ')})`;
}

function stageFacts(infos: readonly StageInfo[] | undefined): string {
  if (!infos?.length) return '_no shapes: this stage was not reached by a successful check_';
  const shapes = distinctShapes(infos);
  const ins = new Set(infos.map((i) => shape(i.inShape)));
  if (shapes.length === 1 && ins.size === 1) {
    const i = infos[0]!;
    const times = infos.length > 1 ? ` (each of ${infos.length} instantiations)` : '';
    return `input \`${shape(i.inShape)}\` → output \`${shape(i.outShape)}\`  \nparameters ${count(i.params)} · MACs ${count(i.macs)}${times}`;
  }
  return instantiations(infos);
}

export function hover(doc: TextDocument, a: Analysis, offset: number): Hover | null {
  const program = a.program;
  if (!program) return null;
  const setting = settingAt(declAt(program, offset), offset);
  if (setting) return { contents: { kind: MarkupKind.Markdown, value: settingDoc(setting.spec) }, range: range(doc, setting.span) };
  const frozen = freezeEntryAt(a, declAt(program, offset), offset);
  if (frozen) return { contents: { kind: MarkupKind.Markdown, value: frozen.value }, range: range(doc, frozen.span) };
  const occ = occurrenceAt(a, offset);
  // a `network NAME(…) {` line: the network's totals (its parameters keep their own hover)
  const header = networkHeaderAt(program, a.text, offset);
  if (header && !occ?.key.startsWith('param:')) return { contents: { kind: MarkupKind.Markdown, value: networkTotals(a, header.decl) }, range: range(doc, header.span) };
  const hit = stageAt(program, offset);
  // a named argument's name inside a layer call: its own documentation
  if (hit?.stage.kind === 'call') {
    const s = hit.stage;
    const layer = findLayer(s.callee.name);
    const named = s.args.find((x) => x.name && contains(x.name.span, offset));
    if (layer && named) {
      const spec = layer.args.find((x) => x.name === named.name!.name);
      if (spec) return { contents: { kind: MarkupKind.Markdown, value: `${argDoc(spec)}\n\n\`\`\`alexnet\n${signature(layer)}\n\`\`\`` }, range: range(doc, named.name!.span) };
    }
  }
  if (occ && !(hit && occ.key.startsWith('block:') && !occ.isDecl)) {
    const value = symbolHover(a, occ.key);
    if (value) return { contents: { kind: MarkupKind.Markdown, value }, range: range(doc, occ.span) };
  }
  if (!hit) return null;
  const s = hit.stage;
  const infos = a.info.get(s);
  let head: string;
  let tail = '';
  if (s.kind === 'call') {
    const layer = findLayer(s.callee.name);
    const block = resolveName(a, s.callee.name);
    if (layer) {
      head = `\`\`\`alexnet\n${signature(layer)}\n\`\`\`\n${layer.summary}`;
      tail = `\n\n---\n\n${layer.doc}\n\n${layer.args.map((x) => `- ${argDoc(x)}`).join('\n')}`;
    } else if (block?.decl.kind === 'block') head = `\`\`\`alexnet\n${blockSignature(block.decl)}\n\`\`\`${block.file ? `\nfrom \`${block.file}\`` : ''}`;
    else return null;
  } else head = `\`${s.kind}\``;
  return { contents: { kind: MarkupKind.Markdown, value: `${head}\n\n${stageFacts(infos)}${tail}` }, range: range(doc, s.kind === 'call' ? s.callee.span : s.keyword) };
}

function symbolHover(a: Analysis, key: string): string | undefined {
  const program = a.program!;
  const bar = key.indexOf('|');
  if (bar >= 0) {
    // declared in an imported file
    const file = key.slice(0, bar);
    const [kind, name, param] = key.slice(bar + 1).split(':');
    if (kind === 'file') return `\`${file}\`: ${(a.result.files.find((f) => f.file === file)?.program.decls ?? []).map((d) => `${d.kind} \`${d.name.name}\``).join(', ') || 'declares nothing'}`;
    const r = resolveName(a, name ?? '');
    if (!r || r.decl.kind !== 'block') return undefined;
    if (kind === 'param') {
      const p = r.decl.params.find((x) => x.name.name === param);
      return p ? `\`\`\`alexnet\n(parameter of ${r.decl.name.name}) ${p.default ? `${p.name.name} = ${expr(p.default)}` : p.name.name}\n\`\`\`` : undefined;
    }
    const uses = [...a.info.entries()].filter(([st]) => st.kind === 'call' && st.callee.name === r.decl.name.name).flatMap(([, i]) => i);
    return `\`\`\`alexnet\n${blockSignature(r.decl)}\n\`\`\`\nfrom \`${file}\`${uses.length ? `\n\n${stageFacts(uses)}` : ''}`;
  }
  const [kind, ...rest] = key.split(':');
  if (kind === 'block' || kind === 'network') {
    const d = program.decls.find((x) => x.kind === kind && x.name.name === rest.join(':'));
    if (!d) return undefined;
    let facts = '';
    if (d.kind === 'network') {
      const n = a.result.networks.find((x) => x.name === d.name.name);
      facts = n ? `\n\ninput \`${shape(n.input)}\` → output \`${shape(n.output)}\`  \nparameters ${count(n.totalParams)} · MACs ${count(n.totalMacs)}` : '\n\n_does not check yet_';
    } else {
      const uses = [...a.info.entries()].filter(([st]) => st.kind === 'call' && st.callee.name === d.name.name).flatMap(([, i]) => i);
      if (uses.length) facts = `\n\n${stageFacts(uses)}`;
    }
    return `\`\`\`alexnet\n${blockSignature(d)}\n\`\`\`${facts}`;
  }
  if (kind === 'param') {
    const d = program.decls[Number(rest[0])];
    const p = d?.params.find((x) => x.name.name === rest[1]);
    if (!d || !p) return undefined;
    let value = '';
    if (d.kind === 'network') {
      const n = a.result.networks.find((x) => x.name === d.name.name);
      const v = n?.params[p.name.name];
      if (v !== undefined) value = ` — value \`${fmtValue(v)}\``;
    }
    return `\`\`\`alexnet\n(parameter of ${d.name.name}) ${p.default ? `${p.name.name} = ${expr(p.default)}` : p.name.name}\n\`\`\`${value}`;
  }
  return undefined;
}

function settingDoc(x: TrainSettingSpec): string {
  const flag = x.flag ? `  \ncommand line: \`--${x.flag}\`` : '';
  return `\`\`\`alexnet\n${x.form}\n\`\`\`\n${settingDocWithDefault(x)}${flag}`;
}

/** a training setting's key under the cursor */
function settingAt(decl: Decl | undefined, offset: number): { spec: TrainSettingSpec; span: Span } | undefined {
  if (decl?.kind !== 'network') return undefined;
  for (const s of decl.train?.settings ?? []) {
    const spec = findSetting(s.key.name);
    if (spec && contains(s.key.span, offset)) return { spec, span: s.key.span };
  }
  return undefined;
}

/**
 * The layers with weights of a network declaration, in order, from what the
 * checker learnt about its stages — there also while the freeze list being
 * typed is still wrong (and the network does not check).
 */
function weightedLayers(a: Analysis, decl: Decl | undefined): StageInfo[] {
  if (decl?.kind !== 'network') return [];
  const seen = new Set<string>();
  const out: StageInfo[] = [];
  for (const i of a.result.stageInfo) {
    if (i.network !== decl.name.name || !i.layer || i.params === 0 || seen.has(i.path)) continue;
    seen.add(i.path);
    out.push(i);
  }
  return out;
}

/** a `freeze` entry under the cursor: what it freezes */
function freezeEntryAt(a: Analysis, decl: Decl | undefined, offset: number): { value: string; span: Span } | undefined {
  if (decl?.kind !== 'network') return undefined;
  const s = decl.train?.settings.find((x) => x.key.name === 'freeze' && contains(x.value.span, offset));
  if (!s) return undefined;
  const item = (s.value.kind === 'list' ? s.value.items : [s.value]).find((e) => contains(e.span, offset));
  const entry = item && stagePathOf(item);
  if (!item || entry === undefined) return undefined;
  const all = weightedLayers(a, decl);
  const found = all.filter((l) => under(l.path, entry));
  if (!found.length) return { value: `\`${entry}\`: no weights to freeze here`, span: item.span };
  const params = found.reduce((n, l) => n + l.params, 0);
  const total = all.reduce((n, l) => n + l.params, 0);
  // batch norm is the layer with running statistics, which a freeze keeps in inference mode
  const stats = found.some((l) => l.layer!.name === 'batchnorm');
  const shown = found.slice(0, 12);
  const lines = shown.map((l) => `- \`${l.path}\` ${describeCall(l.layer!.name, l.layer!.args, l.rawArgs ?? {})} — ${count(l.params)}`);
  if (found.length > shown.length) lines.push(`- … ${found.length - shown.length} more`);
  return { value: `frozen: **${count(params)}** of ${count(total)} parameters${stats ? ' (batch norms in inference mode)' : ''}\n\n${lines.join('\n')}`, span: item.span };
}

/** stage paths that hold weights, to complete in a freeze list: replacing the whole path typed so far (`stage1/co|`) */
function freezeCompletions(doc: TextDocument, a: Analysis, decl: Decl | undefined, offset: number): CompletionItem[] {
  const all = weightedLayers(a, decl);
  const text = doc.getText();
  let start = offset;
  while (start > 0 && /[A-Za-z0-9_/]/.test(text[start - 1]!)) start--;
  const edit = { start: doc.positionAt(start), end: doc.positionAt(offset) };
  const paths: string[] = [];
  for (const l of all) {
    const parts = l.path.split('/');
    for (let i = 1; i <= parts.length; i++) {
      const p = parts.slice(0, i).join('/');
      if (!paths.includes(p)) paths.push(p);
    }
  }
  return paths.map((p, i) => {
    const found = all.filter((l) => under(l.path, p));
    const params = found.reduce((n, l) => n + l.params, 0);
    const one = found.length === 1 && found[0]!.path === p ? describeCall(found[0]!.layer!.name, found[0]!.layer!.args, found[0]!.rawArgs ?? {}) : `${found.length} layers`;
    return { label: p, kind: CompletionItemKind.Reference, detail: `${one}, ${count(params)} parameters`, textEdit: { range: edit, newText: p }, filterText: p, sortText: String(i).padStart(6, '0') };
  });
}

// ---- completion and signature help -------------------------------------------

const STAGE_KEYWORDS = ['repeat', 'residual', 'concat', 'add', 'split', 'gate', 'if'];

export function completion(doc: TextDocument, a: Analysis, offset: number, opts: { snippets?: boolean } = {}): CompletionItem[] {
  const text = doc.getText();
  const ctx = cursorContext(text, offset);
  const program = a.program;
  const decl = declAt(program, offset);
  const params = (): CompletionItem[] =>
    (decl?.params ?? []).map((p) => ({ label: p.name.name, kind: CompletionItemKind.Variable, detail: `parameter of ${decl!.name.name}${p.default ? ` = ${expr(p.default)}` : ''}` }));
  const kw = (words: string[]): CompletionItem[] => words.map((w) => ({ label: w, kind: CompletionItemKind.Keyword }));
  const scoped = blocksInScope(a);
  const blocks = scoped.map((r) => r.decl);
  switch (ctx.kind) {
    case 'top':
      return kw(['network', 'block', 'import']);
    case 'train': {
      const spec = ctx.key !== undefined ? findSetting(ctx.key) : undefined;
      const words = (spec?.words ?? []).map((w) => ({ label: w, kind: CompletionItemKind.EnumMember, detail: spec!.form }));
      if (spec?.name === 'freeze') return [...freezeCompletions(doc, a, decl, offset), ...words];
      if (spec) return words;
      return TRAIN_SETTINGS.map((x) => ({
        label: x.name,
        kind: CompletionItemKind.Property,
        detail: x.form,
        documentation: { kind: MarkupKind.Markdown, value: settingDoc(x) },
        insertText: `${x.name} `,
      }));
    }
    case 'trainArgs': {
      const spec = findSetting(ctx.key);
      return (spec?.args ?? []).filter((x) => !ctx.named.includes(x)).map((x) => ({ label: x, kind: CompletionItemKind.Field, detail: spec!.form, insertText: `${x} ` }));
    }
    case 'trainList':
      return ctx.key === 'freeze' ? freezeCompletions(doc, a, decl, offset) : [...params(), ...kw(['true', 'false', 'same'])];
    case 'params':
      return [];
    case 'value':
      return [...params(), ...kw(['true', 'false', 'same'])];
    case 'body': {
      if (ctx.afterRepeat) return params();
      if (ctx.opener === 'concat' || ctx.opener === 'add' || ctx.opener === 'split') return kw(['branch']);
      const items: CompletionItem[] = [
        ...LAYERS.map((l) => ({
          label: l.name,
          kind: CompletionItemKind.Function,
          detail: signature(l),
          documentation: { kind: MarkupKind.Markdown, value: `${l.summary}\n\n${l.doc}` },
          ...(opts.snippets ? layerSnippet(l) : {}),
        })),
        ...scoped.map((r) => ({ label: r.decl.name.name, kind: CompletionItemKind.Module, detail: blockSignature(r.decl) + (r.file ? ` — ${r.file}` : '') })),
        ...kw(STAGE_KEYWORDS),
      ];
      if (decl?.kind === 'network') items.push(...kw(['input', 'train']));
      // `shortcut` right after a residual's closing brace
      const prev = tokensOf(text.slice(0, wordStart(text, offset))).slice(-1)[0];
      if (prev?.image === '}') items.push(...kw(['shortcut']));
      return items;
    }
    case 'call': {
      const layer = findLayer(ctx.callee);
      const block = blocks.find((b) => b.name.name === ctx.callee);
      if (ctx.currentName) {
        const spec = layer?.args.find((x) => x.name === ctx.currentName);
        const extra = spec?.type === 'bool' ? ['true', 'false'] : spec?.type === 'pad' ? ['same'] : [];
        return [...params(), ...kw(extra)];
      }
      const named: CompletionItem[] = [];
      if (layer) {
        layer.args.forEach((x, i) => {
          if (ctx.named.includes(x.name) || i < ctx.positionalBefore) return;
          named.push({
            label: x.name,
            kind: CompletionItemKind.Field,
            detail: x.default === undefined ? 'required' : x.default === null ? 'default: automatic' : `default ${fmtValue(x.default)}`,
            documentation: argDoc(x),
            insertText: `${x.name} `,
            sortText: `0${i}`,
          });
        });
      } else if (block) {
        block.params.forEach((p, i) => {
          if (ctx.named.includes(p.name.name) || i < ctx.positionalBefore) return;
          named.push({ label: p.name.name, kind: CompletionItemKind.Field, detail: p.default ? `default ${expr(p.default)}` : 'required', insertText: `${p.name.name} `, sortText: `0${i}` });
        });
      }
      return [...named, ...params(), ...kw(['true', 'false'])];
    }
  }
}

/** `conv(${1:filters}, ${2:k})`: the required arguments as tab stops */
function layerSnippet(l: AnyLayer): Partial<CompletionItem> {
  const req = l.args.filter((x) => x.default === undefined);
  if (!req.length) return {};
  return { insertText: `${l.name}(${req.map((x, i) => `\${${i + 1}:${x.name}}`).join(', ')})`, insertTextFormat: InsertTextFormat.Snippet };
}

export function signatureHelp(doc: TextDocument, a: Analysis, offset: number): SignatureHelp | null {
  const ctx = cursorContext(doc.getText(), offset);
  if (ctx.kind !== 'call') return null;
  const layer = findLayer(ctx.callee);
  const r = resolveName(a, ctx.callee);
  const block = r?.decl.kind === 'block' ? r.decl : undefined;
  let labels: string[];
  let docs: string[];
  let head: string;
  let summary: string | undefined;
  if (layer) {
    labels = layer.args.map(argLabel);
    docs = layer.args.map(argDoc);
    head = layer.name;
    summary = layer.summary;
  } else if (block) {
    labels = block.params.map((p) => (p.default ? `${p.name.name} = ${expr(p.default)}` : p.name.name));
    docs = block.params.map(() => '');
    head = `block ${block.name.name}`;
  } else return null;
  const names = layer ? layer.args.map((x) => x.name) : block!.params.map((p) => p.name.name);
  let label = `${head}(`;
  const parameters = labels.map((l, i) => {
    const start = label.length;
    label += l + (i < labels.length - 1 ? ', ' : '');
    return { label: [start, start + l.length] as [number, number], documentation: docs[i] || undefined };
  });
  label += ')';
  const active = ctx.currentName !== undefined && names.includes(ctx.currentName) ? names.indexOf(ctx.currentName) : Math.min(ctx.positionalBefore, Math.max(0, names.length - 1));
  return { signatures: [{ label, documentation: summary, parameters, activeParameter: active }], activeSignature: 0, activeParameter: active };
}

// ---- navigation -------------------------------------------------------------

export function definition(doc: TextDocument, a: Analysis, offset: number): Location[] {
  const occ = occurrenceAt(a, offset);
  if (!occ) return [];
  if (occ.target) return [location(doc, a, occ.target.file, occ.target.span)];
  return a.occurrences.filter((o) => o.key === occ.key && o.isDecl).map((o) => ({ uri: doc.uri, range: range(doc, o.span) }));
}

export function references(doc: TextDocument, a: Analysis, offset: number, includeDeclaration: boolean): Location[] {
  const occ = occurrenceAt(a, offset);
  if (!occ) return [];
  const here = a.occurrences.filter((o) => o.key === occ.key && (includeDeclaration || !o.isDecl)).map((o) => ({ uri: doc.uri, range: range(doc, o.span) }));
  return occ.target && includeDeclaration ? [location(doc, a, occ.target.file, occ.target.span), ...here] : here;
}

export function prepareRename(doc: TextDocument, a: Analysis, offset: number): Range | null {
  const occ = occurrenceAt(a, offset);
  return occ && !occ.target ? range(doc, occ.span) : null;
}

const RESERVED = new Set(KEYWORDS.map((k) => (k.LABEL ?? k.name).replace(/'/g, '')));

/** the rename, or a message saying why not */
export function rename(doc: TextDocument, a: Analysis, offset: number, newName: string): WorkspaceEdit | string {
  const occ = occurrenceAt(a, offset);
  if (!occ) return 'nothing to rename here: put the cursor on a block, network or parameter name';
  if (occ.target) return `declared in ${occ.target.file}: rename it there`;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(newName)) return `\`${newName}\` is not a valid name`;
  if (RESERVED.has(newName)) return `\`${newName}\` is a keyword`;
  if (occ.key.startsWith('block:') && findLayer(newName)) return `\`${newName}\` is a built-in layer`;
  const edits: TextEdit[] = a.occurrences.filter((o) => o.key === occ.key).map((o) => ({ range: range(doc, o.span), newText: newName }));
  return { changes: { [doc.uri]: edits } };
}

export function documentSymbols(doc: TextDocument, a: Analysis): DocumentSymbol[] {
  return (a.program?.decls ?? []).map((d) => {
    let detail = d.kind === 'block' ? 'block' : 'network';
    if (d.kind === 'network') {
      const n = a.result.networks.find((x) => x.name === d.name.name);
      if (n) detail = `${shape(n.input)} → ${shape(n.output)}, ${count(n.totalParams)} params`;
    }
    return {
      name: d.name.name,
      detail,
      kind: d.kind === 'network' ? SymbolKind.Class : SymbolKind.Function,
      range: range(doc, d.span),
      selectionRange: range(doc, d.name.span),
      children: d.params.map((p) => ({
        name: p.name.name,
        detail: p.default ? `= ${expr(p.default)}` : '',
        kind: SymbolKind.Variable,
        range: range(doc, p.span),
        selectionRange: range(doc, p.name.span),
      })),
    };
  });
}

// ---- code actions and formatting ------------------------------------------------

export function codeActions(doc: TextDocument, a: Analysis, r: Range): CodeAction[] {
  const from = doc.offsetAt(r.start);
  const to = doc.offsetAt(r.end);
  const out: CodeAction[] = [];
  for (const d of a.result.diagnostics) {
    // fixes edit the diagnostic's own file; one in an imported file is fixed there
    if (d.file !== undefined || !d.fixes.length || d.span.end < from || d.span.start > to) continue;
    const lsp = toLspDiagnostic(doc, d, a);
    for (const f of d.fixes) {
      out.push({
        title: f.title,
        kind: CodeActionKind.QuickFix,
        diagnostics: [lsp],
        isPreferred: d.fixes.length === 1,
        edit: { changes: { [doc.uri]: f.edits.map((e) => ({ range: range(doc, e.span), newText: e.newText })) } },
      });
    }
  }
  return out;
}

/** the formatter's result as one minimal edit (common prefix and suffix kept, so the cursor stays put) */
export function formatting(doc: TextDocument): TextEdit[] | null {
  const text = doc.getText();
  const out = format(text);
  if (out === undefined) return null;
  if (out === text) return [];
  let p = 0;
  while (p < text.length && p < out.length && text[p] === out[p]) p++;
  let s = 0;
  while (s < text.length - p && s < out.length - p && text[text.length - 1 - s] === out[out.length - 1 - s]) s++;
  return [{ range: range(doc, { start: p, end: text.length - s }), newText: out.slice(p, out.length - s) }];
}

export type { Stage };
