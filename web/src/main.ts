// The playground page: the editor on the left with its problems, the panels
// on the right (summary, diagram, export, train). The compiler runs in three
// workers — analysis (every keystroke), export (diagram, ONNX, PyTorch) and
// training (tfjs, loaded only when first asked for) — so the page's own
// thread only draws. On a keystroke the text goes to the analysis worker at
// once, and its answer goes to the editor first (only when the diagnostics
// differ from those it shows); the panels follow in idle time, rebuilt only
// when what they show changed, so typing costs the page's thread no more than
// the editor itself.
import { forEachDiagnostic, setDiagnostics, type Diagnostic as CmDiagnostic } from '@codemirror/lint';
import { EditorSelection, type EditorState, type Text, type Transaction } from '@codemirror/state';
import { EditorView } from '@codemirror/view';
import { createEditor } from './editor.js';
import type { AnalysisReply, AnalysisRequest, ExportReply, ExportRequest, NetworkOut, PageDiagnostic, Source } from './protocol.js';
import { SharedDiagnostics } from './shared.js';
import { decodeFragment, encodeFragment, loadLocal, saveLocal, type Saved } from './share.js';
import { SPECS } from './specs.js';
import { TrainPanel } from './train-panel.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;

/** What tests and the benchmark read (window.alexnetcPlayground). */
interface Probe {
  /**
   * per keystroke: ms from the key's input event (its timeStamp) to the start
   * of the frame that draws the editor with the diagnostics of that text (or
   * of a later one): what the user sees
   */
  shown: number[];
  /** the same for keystrokes answered by an echo (the benchmark's baseline) */
  echoShown: number[];
  /**
   * per keystroke (analysed or echoed): ms from its key event to the start of
   * the first frame after it, which draws the keystroke itself: the floor that
   * the browser's frame clock sets under `shown`
   */
  keyFrame: number[];
  /** analysed keystrokes whose diagnostics were drawn in that very frame */
  sameFrame: number;
  /** per analysed version: ms from posting the text to the worker to its diagnostics in the editor's state */
  latencies: number[];
  /** per analysed version: ms the analysis itself took in its worker */
  analysisMs: number[];
  /**
   * the benchmark's baseline: keystrokes answered by an echo from the analysis
   * worker (no analysis), applied as diagnostics are; their latencies
   */
  echo: boolean;
  echoLatencies: number[];
  /** per analysed version: [keystroke → worker has the text, worker answered → page has the answer] in ms */
  transit: Array<[number, number]>;
  analyzedVersion: number;
  /** the newest version of the text posted to the analysis worker */
  postedVersion: number;
  diagnostics: PageDiagnostic[];
  drawnVersion: number;
  /** the text the URL fragment holds now */
  linkedText?: string;
  ready: boolean;
  view?: EditorView;
  setText(text: string, file?: string): void;
}
const probe: Probe = { shown: [], echoShown: [], keyFrame: [], sameFrame: 0, latencies: [], analysisMs: [], transit: [], echo: false, echoLatencies: [], analyzedVersion: -1, postedVersion: -1, diagnostics: [], drawnVersion: -1, ready: false, setText: () => {} };
(window as unknown as { alexnetcPlayground: Probe }).alexnetcPlayground = probe;

// ---------------------------------------------------------------- workers

const analysis = new Worker(new URL('./analysis.js', import.meta.url), { type: 'module', name: 'alexnetc analysis' });
const exporter = new Worker(new URL('./export.js', import.meta.url), { type: 'module', name: 'alexnetc export' });
// where the page is cross-origin isolated, the diagnostics also come through shared memory (shared.ts)
const shared = typeof SharedArrayBuffer === 'function' && crossOriginIsolated ? new SharedDiagnostics() : undefined;
if (shared) {
  analysis.postMessage({ type: 'share', buffer: shared.buffer } satisfies AnalysisRequest);
  shared.watch(() => void take());
}
let nextId = 1;
const pending = new Map<number, (m: never) => void>();

function ask<R>(w: Worker, m: { id: number } & (AnalysisRequest | ExportRequest)): Promise<R> {
  return new Promise((resolve) => {
    pending.set(m.id, resolve as (m: never) => void);
    w.postMessage(m);
  });
}

// ---------------------------------------------------------------- state

let file = 'playground.net';
let version = 0;
/** the newest version whose diagnostics the editor shows */
let appliedVersion = 0;
/** per version posted and not yet answered in the editor: when, the timeStamp of the key event that made it, whether an echo answers it */
const posted = new Map<number, { at: number; key?: number; echo: boolean; frame?: number }>();
/** when each version was posted, until its worker's answer comes (the probe's transit times) */
const postedAt = new Map<number, number>();
/** the last key event not yet matched to a version */
let keyDown: number | undefined;
let networks: NetworkOut[] = [];
let chosen: string | undefined;
let view: EditorView;

const text = (): string => view.state.doc.toString();
const source = (): Source => ({ text: text(), file, network: chosen });

function analyze(doc: Text = view.state.doc, typed = false): void {
  probe.postedVersion = ++version;
  const at = performance.now();
  const p: { at: number; key?: number; echo: boolean; frame?: number } = { at, key: typed ? keyDown : undefined, echo: probe.echo };
  posted.set(version, p);
  postedAt.set(version, at);
  if (p.key !== undefined) {
    const key = p.key;
    requestAnimationFrame((frame) => {
      p.frame = frame;
      probe.keyFrame.push(performance.now() - key);
    });
  }
  keyDown = undefined;
  if (probe.echo) analysis.postMessage({ type: 'echo', version } satisfies AnalysisRequest);
  else analysis.postMessage({ type: 'analyze', version, text: doc.toString(), file } satisfies AnalysisRequest);
  if (shared) {
    // the analysis runs while the editor updates: taken right after that if done by then, else as soon as the
    // worker has written it (take, watched), else in the frames after the keystroke (peek)
    queueMicrotask(take);
    peekTries = 0;
    if (!peekScheduled) {
      peekScheduled = true;
      requestAnimationFrame(peek);
    }
  }
}

/** the newest version's diagnostics from shared memory into the editor, if the worker has written them */
function take(frame?: number): boolean {
  if (!shared || appliedVersion >= version) return true;
  const d = shared.read(version);
  if (d === undefined) return false;
  toEditor(d === null ? inEditor(view.state) : toCm(d));
  applied(version, frame);
  return true;
}

// In the frames after a keystroke, the diagnostics from shared memory, if the
// worker has them before its message arrives (a few frames at most).
let peekScheduled = false;
let peekTries = 0;
function peek(frame: number): void {
  peekScheduled = false;
  if (!take(frame) && ++peekTries < 8) {
    peekScheduled = true;
    requestAnimationFrame(peek);
  }
}

/**
 * The editor shows the diagnostics of version `upTo` (or found them
 * unchanged): every keystroke up to it is answered. Their latencies: posted →
 * applied now, and key → the frame that draws them (`frame`, the time of this
 * one, when called in an animation frame; else the next). The key's own frame
 * is asked for before the peek (analyze), so in one frame its callback runs first.
 */
function applied(upTo: number, frame?: number): void {
  appliedVersion = upTo;
  const now = performance.now();
  // (their own frame is read when drawn: applied before it, they have none yet)
  const keys: Array<{ key?: number; echo: boolean; frame?: number }> = [];
  for (const [v, p] of posted) {
    if (v > upTo) continue;
    posted.delete(v);
    (p.echo ? probe.echoLatencies : probe.latencies).push(now - p.at);
    if (p.key !== undefined) keys.push(p);
  }
  if (!keys.length) return;
  const record = (t: number, drawn: number): void => {
    for (const k of keys) {
      (k.echo ? probe.echoShown : probe.shown).push(t - k.key!);
      // drawn in the keystroke's own frame
      if (!k.echo && k.frame === drawn) probe.sameFrame++;
    }
  };
  if (frame !== undefined) record(now, frame);
  else requestAnimationFrame((f) => record(performance.now(), f));
}

// a key's timeStamp, read before the editor handles it (capture, on the window)
for (const type of ['keydown', 'beforeinput']) addEventListener(type, (e) => void (keyDown ??= e.timeStamp), { capture: true });
addEventListener('keyup', () => void (keyDown = undefined), { capture: true });

// ---------------------------------------------------------------- problems

const toCm = (diags: PageDiagnostic[]): CmDiagnostic[] =>
  diags.map((d) => ({ from: d.from, to: Math.max(d.to, d.from), severity: d.severity, message: `${d.code} ${d.message}`, source: 'alexnetc' }));

/** the diagnostics the editor shows: its own, mapped through the edits since they came */
function inEditor(state: EditorState): CmDiagnostic[] {
  const shown: CmDiagnostic[] = [];
  forEachDiagnostic(state, (d, from, to) => void shown.push({ ...d, from, to }));
  return shown;
}

/** whether the editor shows exactly these diagnostics already */
function showsAlready(state: EditorState, diags: CmDiagnostic[]): boolean {
  const shown = inEditor(state);
  if (shown.length !== diags.length) return false;
  const key = (d: CmDiagnostic): string => `${d.from} ${d.to} ${d.severity} ${d.message}`;
  const a = shown.map(key).sort();
  const b = diags.map(key).sort();
  return a.every((k, i) => k === b[i]);
}

/** the diagnostics into the editor, unless it shows them already */
function toEditor(cm: CmDiagnostic[]): void {
  if (!showsAlready(view.state, cm)) view.dispatch(setDiagnostics(view.state, cm));
}

let problemsShown = '';
/** the diagnostics the list shows, in its order (a click jumps to where the newest analysis puts them) */
let listed: PageDiagnostic[] = [];

function showProblems(diags: PageDiagnostic[]): void {
  listed = diags;
  // rebuilt only when what it shows changed (a keystroke above a diagnostic moves it, not its line)
  const key = JSON.stringify(diags.map((d) => [d.severity, d.code, d.line, d.column, d.message]));
  if (key === problemsShown) return;
  problemsShown = key;
  const list = $('problem-list');
  list.replaceChildren(
    ...diags.map((d, i) => {
      const li = document.createElement('li');
      li.className = `sev-${d.severity}`;
      li.dataset.line = String(d.line);
      li.dataset.code = d.code;
      const sev = document.createElement('span');
      sev.className = 'sev';
      sev.textContent = d.severity === 'info' ? 'ⓘ ' : d.severity === 'warning' ? '⚠ ' : '✖ ';
      const code = document.createElement('span');
      code.className = 'code';
      code.textContent = d.code;
      const where = document.createElement('span');
      where.className = 'muted';
      where.textContent = `line ${d.line}:${d.column} `;
      li.append(sev, code, where, d.message);
      li.onclick = () => {
        const now = listed[i] ?? d;
        jump(now.from, now.to);
      };
      return li;
    }),
  );
  const errors = diags.filter((d) => d.severity === 'error').length;
  $('problem-count').textContent = diags.length ? `${errors} error${errors === 1 ? '' : 's'}, ${diags.length - errors} other` : 'none';
}

function jump(from: number, to = from): void {
  const len = view.state.doc.length;
  view.dispatch({ selection: EditorSelection.single(Math.min(from, len), Math.min(to, len)), scrollIntoView: true });
  view.focus();
}

// ---------------------------------------------------------------- summary

const int = (n: number): string => n.toLocaleString('en-US');
const shape = (s: number[]): string => `[${s.join(', ')}]`;

let summaryShown = '';

function showSummary(): void {
  if (tab !== 'summary') return; // built when its tab opens
  const host = $('summary');
  // the table is rebuilt only when what it shows changed (a keystroke in a comment changes nothing)
  const key = JSON.stringify([chosen, networks.find((n) => n.name === chosen) ?? networks.length]);
  if (key === summaryShown) return;
  summaryShown = key;
  const net = networks.find((n) => n.name === chosen);
  if (!net) {
    host.textContent = networks.length ? '' : 'No network in the text yet.';
    return;
  }
  if (!net.summary) {
    const p = document.createElement('p');
    p.className = 'muted';
    p.textContent = `${net.name} does not check yet: its table shows once it does (see Problems).`;
    host.replaceChildren(p);
    return;
  }
  const s = net.summary;
  const table = document.createElement('table');
  table.className = 'summary';
  const head = table.createTHead().insertRow();
  for (const h of ['stage', 'layer', 'output', 'params', 'MACs']) {
    const th = document.createElement('th');
    th.textContent = h;
    head.append(th);
  }
  const body = table.createTBody();
  for (const r of s.rows) {
    const tr = body.insertRow();
    tr.className = 'row';
    const cells = [`${'  '.repeat(r.depth)}${r.path}`, r.layer + (r.frozen ? ' (frozen)' : ''), shape(r.outShape), int(r.params), int(r.macs)];
    cells.forEach((c, i) => {
      const td = tr.insertCell();
      td.textContent = c;
      if (i >= 3) td.className = 'n';
    });
    tr.onclick = async () => {
      const at = await ask<AnalysisReply & { type: 'locate' }>(analysis, { type: 'locate', id: nextId++, network: net.name, path: r.path });
      if (at.from !== undefined) jump(at.from);
    };
  }
  const totals = document.createElement('p');
  totals.textContent =
    `${net.name}: input ${shape(s.input)} → output ${shape(s.output)} · parameters ${int(s.totalParams)} (trainable ${int(s.trainableParams)}, not trained ${int(s.nonTrainableParams)}) · ` +
    `MACs ${int(s.totalMacs)} per example · weights ${(s.weightBytes / 2 ** 20).toFixed(2)} MiB as float32`;
  host.replaceChildren(totals, table);
}

// ---------------------------------------------------------------- networks

function showNetworks(defaultNetwork: string | undefined): void {
  const select = $<HTMLSelectElement>('network');
  const names = networks.map((n) => n.name);
  if (!chosen || !names.includes(chosen)) chosen = defaultNetwork ?? names[0];
  if ([...select.options].map((o) => o.value).join('\n') !== names.join('\n')) {
    select.replaceChildren(...names.map((n) => new Option(n, n)));
  }
  select.value = chosen ?? '';
  $('network-label').style.display = names.length > 1 ? '' : 'none';
  train.networkChanged(networks.find((n) => n.name === chosen));
}

// ---------------------------------------------------------------- diagram

let drawTimer: number | undefined;
let drawing = false;
let drawAgain = false;
let diagramPaths: Record<string, [number, number]> = {};
let zoomFit = true;

function scheduleDraw(): void {
  clearTimeout(drawTimer);
  drawTimer = window.setTimeout(draw, 150);
}

async function draw(): Promise<void> {
  if (drawing) {
    drawAgain = true;
    return;
  }
  const net = networks.find((n) => n.name === chosen);
  const host = $('diagram');
  const error = $('diagram-error');
  if (!net?.summary) {
    host.classList.add('stale');
    error.textContent = net ? `${net.name} does not check: the diagram shows once it does` : 'no network to draw';
    error.classList.add('shown');
    return;
  }
  drawing = true;
  const at = version;
  try {
    const r = await ask<ExportReply>(exporter, { type: 'draw', id: nextId++, expand: $<HTMLInputElement>('expand').checked, ...source() });
    if (r.type === 'error') {
      error.textContent = r.message;
      error.classList.add('shown');
      host.classList.add('stale');
      return;
    }
    if (r.type !== 'draw') return;
    // XML, not HTML: the SVG's text is escaped by the drawing code, and nothing in it runs
    const svg = new DOMParser().parseFromString(r.svg, 'image/svg+xml').documentElement;
    host.replaceChildren(document.importNode(svg, true));
    host.classList.remove('stale');
    error.classList.remove('shown');
    diagramPaths = r.paths;
    $('diagram-info').textContent = `${r.network}: ${r.boxes} boxes${r.expanded ? ', expanded' : ''} — click a box to see its line`;
    probe.drawnVersion = at;
  } finally {
    drawing = false;
    if (drawAgain) {
      drawAgain = false;
      scheduleDraw();
    }
  }
}

$('diagram').addEventListener('click', (e) => {
  const box = (e.target as Element).closest('[data-path]');
  const p = box?.getAttribute('data-path');
  const at = p ? diagramPaths[p] : undefined;
  if (at) jump(at[0], at[1]);
});
$('expand').addEventListener('change', scheduleDraw);
$('zoom-fit').onclick = () => {
  zoomFit = true;
  $('diagram').classList.add('fit');
};
$('zoom-1').onclick = () => {
  zoomFit = false;
  $('diagram').classList.remove('fit');
};

// ---------------------------------------------------------------- export

function download(name: string, data: Blob): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(data);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

const seed = (): number => Math.max(0, Math.floor(Number($<HTMLInputElement>('seed').value) || 0));
const exportStatus = (s: string): void => void ($('export-status').textContent = s);

$('dl-onnx').onclick = async () => {
  exportStatus('writing the ONNX file…');
  const r = await ask<ExportReply>(exporter, { type: 'onnx', id: nextId++, seed: seed(), ...source() });
  if (r.type === 'error') return exportStatus(r.message);
  if (r.type !== 'onnx') return;
  download(r.name, r.blob);
  exportStatus(`${r.name}: ${int(r.size)} bytes, written in ${r.ms.toFixed(0)} ms (seed ${seed()})`);
};
$('dl-torch').onclick = async () => {
  const r = await ask<ExportReply>(exporter, { type: 'torch', id: nextId++, ...source() });
  if (r.type === 'error') return exportStatus(r.message);
  if (r.type !== 'torch') return;
  download(r.name, new Blob([r.text], { type: 'text/x-python' }));
  exportStatus(`${r.name}: the PyTorch module (its weights: alexnetc compile --target safetensors)`);
};
$('dl-tfjs').onclick = async () => {
  exportStatus('loading tfjs…');
  const r = await train.exportTfjs({ ...source(), seed: seed() });
  if (r.type === 'error') return exportStatus(r.message);
  if (r.type !== 'tfjs') return;
  download('model.json', new Blob([r.modelJson], { type: 'application/json' }));
  download('weights.bin', new Blob([r.weights]));
  exportStatus(`model.json + weights.bin (${int(r.weights.byteLength)} bytes of weights, ${r.trained ? 'trained in this page' : `seed ${seed()}`}); load with \`import 'alexnetc/tfjs'\``);
};

// ---------------------------------------------------------------- tabs

let tab = 'summary';
for (const b of document.querySelectorAll<HTMLButtonElement>('#tabs button')) {
  b.onclick = () => {
    tab = b.dataset.tab!;
    for (const x of document.querySelectorAll('#tabs button')) x.classList.toggle('active', x === b);
    for (const p of document.querySelectorAll('.panel')) p.classList.toggle('active', p.id === `panel-${tab}`);
    if (tab === 'diagram') scheduleDraw();
    if (tab === 'summary') showSummary();
  };
}

// ---------------------------------------------------------------- saving

// The text into local storage and the URL fragment: at most once a second
// while typing, in idle time, and when the page is hidden or left.
let saveTimer: number | undefined;
let unsaved = false;
async function save(): Promise<void> {
  clearTimeout(saveTimer);
  saveTimer = undefined;
  if (!unsaved) return;
  unsaved = false;
  const s: Saved = { file, text: text() };
  saveLocal(s);
  const fragment = await encodeFragment(s);
  if (s.text === text()) {
    history.replaceState(null, '', fragment);
    probe.linkedText = s.text;
  }
}
function scheduleSave(): void {
  unsaved = true;
  if (saveTimer === undefined) saveTimer = window.setTimeout(() => idle(() => void save()), 1000);
}
addEventListener('pagehide', () => void save());
addEventListener('visibilitychange', () => document.visibilityState === 'hidden' && void save());

$('share').onclick = async () => {
  const s: Saved = { file, text: text() };
  const url = location.href.replace(/#.*$/, '') + (await encodeFragment(s));
  history.replaceState(null, '', url);
  probe.linkedText = s.text;
  try {
    await navigator.clipboard.writeText(url);
    $('state').textContent = 'link copied';
  } catch {
    $('state').textContent = 'the link is in the address bar';
  }
};

// ---------------------------------------------------------------- start

const train = new TrainPanel(() => source());

const names = await new Promise<{ keywords: string[]; layers: string[] }>((resolve) => {
  analysis.onmessage = (e: MessageEvent<AnalysisReply>) => {
    if (e.data.type === 'ready') resolve(e.data);
  };
});

// The panels (problems, networks, summary, diagram) of the newest answer, in idle time.
let panelsDue = false;
let panelDefault: string | undefined;
const idle = (f: () => void): void => void (typeof requestIdleCallback === 'function' ? requestIdleCallback(f, { timeout: 150 }) : setTimeout(f, 0));
let networksChanged = true;
function schedulePanels(): void {
  if (panelsDue) return;
  panelsDue = true;
  idle(() => {
    panelsDue = false;
    showProblems(probe.diagnostics);
    if (!networksChanged) return;
    networksChanged = false;
    showNetworks(panelDefault);
    showSummary();
    if (tab === 'diagram') scheduleDraw();
  });
}

analysis.onmessage = (e: MessageEvent<AnalysisReply>) => {
  const m = e.data;
  if (m.type === 'echoed') {
    // the same path as an analysis's answer that finds the diagnostics unchanged (a keystroke in a comment)
    postedAt.delete(m.version);
    if (m.version <= appliedVersion) return;
    toEditor(inEditor(view.state));
    applied(m.version);
    return;
  }
  if (m.type === 'networks') {
    // they come only when they changed, after the answer: kept even from an older text
    if (m.networks) networks = m.networks;
    panelDefault = m.defaultNetwork;
    networksChanged = true;
    schedulePanels();
    return;
  }
  if (m.type === 'analyzed') {
    const own = postedAt.get(m.version);
    for (const v of postedAt.keys()) if (v <= m.version) postedAt.delete(v);
    if (m.version !== version) return; // a newer text is on its way
    // every keystroke up to this version now shows its diagnostics (the replies to older ones were dropped),
    // unless shared memory brought them already
    if (m.version > appliedVersion) {
      toEditor(toCm(m.diagnostics));
      applied(m.version);
    }
    const now = performance.now();
    probe.analysisMs.push(m.ms);
    if (own !== undefined) probe.transit.push([m.received - (performance.timeOrigin + own), performance.timeOrigin + now - m.sent]);
    probe.analyzedVersion = m.version;
    probe.diagnostics = m.diagnostics;
    schedulePanels();
    return;
  }
  if ('id' in m) {
    const r = pending.get(m.id);
    pending.delete(m.id);
    r?.(m as never);
  }
};
exporter.onmessage = (e: MessageEvent<ExportReply>) => {
  const r = pending.get(e.data.id);
  pending.delete(e.data.id);
  r?.(e.data as never);
};

const initial: Saved = (await decodeFragment(location.hash)) ?? loadLocal() ?? { file: SPECS[0]![0], text: SPECS[0]![1] };
file = initial.file;

view = createEditor($('editor'), initial.text, names, {
  changed(doc: Text, trs: readonly Transaction[]) {
    analyze(doc, trs.some((tr) => tr.isUserEvent('input') || tr.isUserEvent('delete')));
    scheduleSave();
  },
  hover: async (offset) => {
    const r = await ask<AnalysisReply & { type: 'hover' }>(analysis, { type: 'hover', id: nextId++, version, offset });
    return r;
  },
  complete: async (offset) => ask<AnalysisReply & { type: 'complete' }>(analysis, { type: 'complete', id: nextId++, version, offset }),
  format: () => void format(),
});
probe.view = view;

async function format(): Promise<void> {
  const r = await ask<AnalysisReply & { type: 'format' }>(analysis, { type: 'format', id: nextId++, text: text() });
  if (r.text === null) {
    $('state').textContent = 'fmt: the text has syntax errors (see Problems)';
    return;
  }
  if (r.text !== text()) view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: r.text } });
  $('state').textContent = 'formatted';
}
$('format').onclick = () => void format();

function setText(t: string, f = file): void {
  file = f;
  chosen = undefined;
  networksChanged = true;
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: t } });
}
probe.setText = setText;

const specSelect = $<HTMLSelectElement>('spec');
specSelect.append(new Option('—', ''), ...SPECS.map(([f]) => new Option(f, f)));
specSelect.value = SPECS.some(([f, t]) => f === file && t === initial.text) ? file : '';
specSelect.onchange = () => {
  const s = SPECS.find(([f]) => f === specSelect.value);
  if (s) setText(s[1], s[0]);
};
$<HTMLSelectElement>('network').onchange = () => {
  chosen = $<HTMLSelectElement>('network').value;
  train.networkChanged(networks.find((n) => n.name === chosen));
  summaryShown = '';
  showSummary();
  if (tab === 'diagram') scheduleDraw();
};

analyze();
scheduleSave();
probe.ready = true;
