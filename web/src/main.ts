// The playground page: the editor on the left with its problems, the panels
// on the right (summary, diagram, export, train). The compiler runs in three
// workers — analysis (every keystroke), export (diagram, ONNX, PyTorch) and
// training (tfjs, loaded only when first asked for) — so the page's own
// thread only draws.
import { setDiagnostics, type Diagnostic as CmDiagnostic } from '@codemirror/lint';
import { EditorSelection } from '@codemirror/state';
import { EditorView } from '@codemirror/view';
import { createEditor } from './editor.js';
import type { AnalysisReply, AnalysisRequest, ExportReply, ExportRequest, NetworkOut, PageDiagnostic, Source } from './protocol.js';
import { decodeFragment, encodeFragment, loadLocal, saveLocal, type Saved } from './share.js';
import { SPECS } from './specs.js';
import { TrainPanel } from './train-panel.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;

/** What tests and the benchmark read (window.alexnetcPlayground). */
interface Probe {
  /** per analysed version: ms from the keystroke to its diagnostics in the editor */
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
  diagnostics: PageDiagnostic[];
  drawnVersion: number;
  /** the text the URL fragment holds now */
  linkedText?: string;
  ready: boolean;
  view?: EditorView;
  setText(text: string, file?: string): void;
}
const probe: Probe = { latencies: [], analysisMs: [], transit: [], echo: false, echoLatencies: [], analyzedVersion: -1, diagnostics: [], drawnVersion: -1, ready: false, setText: () => {} };
(window as unknown as { alexnetcPlayground: Probe }).alexnetcPlayground = probe;

// ---------------------------------------------------------------- workers

const analysis = new Worker(new URL('./analysis.js', import.meta.url), { type: 'module', name: 'alexnetc analysis' });
const exporter = new Worker(new URL('./export.js', import.meta.url), { type: 'module', name: 'alexnetc export' });
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
const sentAt = new Map<number, number>();
let networks: NetworkOut[] = [];
let chosen: string | undefined;
let view: EditorView;

const text = (): string => view.state.doc.toString();
const source = (): Source => ({ text: text(), file, network: chosen });

function analyze(): void {
  version++;
  sentAt.set(version, performance.now());
  if (probe.echo) return void analysis.postMessage({ type: 'echo', version } satisfies AnalysisRequest);
  analysis.postMessage({ type: 'analyze', version, text: text(), file } satisfies AnalysisRequest);
}

// ---------------------------------------------------------------- problems

const toCm = (diags: PageDiagnostic[]): CmDiagnostic[] =>
  diags.map((d) => ({ from: d.from, to: Math.max(d.to, d.from), severity: d.severity, message: `${d.code} ${d.message}`, source: 'alexnetc' }));

function showProblems(diags: PageDiagnostic[]): void {
  const list = $('problem-list');
  list.replaceChildren(
    ...diags.map((d) => {
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
      li.onclick = () => jump(d.from, d.to);
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
    if (r.from !== undefined) tr.onclick = () => jump(r.from!);
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
  };
}

// ---------------------------------------------------------------- saving

let saveTimer: number | undefined;
function scheduleSave(): void {
  clearTimeout(saveTimer);
  saveTimer = window.setTimeout(async () => {
    const s: Saved = { file, text: text() };
    saveLocal(s);
    history.replaceState(null, '', await encodeFragment(s));
    probe.linkedText = s.text;
  }, 200);
}

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

analysis.onmessage = (e: MessageEvent<AnalysisReply>) => {
  const m = e.data;
  if (m.type === 'echoed') {
    // the same work as for an analysis, on the diagnostics already shown
    view.dispatch(setDiagnostics(view.state, toCm(probe.diagnostics)));
    const t0 = sentAt.get(m.version);
    sentAt.delete(m.version);
    if (t0 !== undefined) probe.echoLatencies.push(performance.now() - t0);
    return;
  }
  if (m.type === 'analyzed') {
    if (m.version !== version) return; // a newer text is on its way
    view.dispatch(setDiagnostics(view.state, toCm(m.diagnostics)));
    // every keystroke up to this version now shows its diagnostics (the replies to older ones were dropped)
    const now = performance.now();
    const own = sentAt.get(m.version);
    for (const [v, t0] of sentAt) {
      if (v > m.version) continue;
      probe.latencies.push(now - t0);
      sentAt.delete(v);
    }
    probe.analysisMs.push(m.ms);
    if (own !== undefined) probe.transit.push([m.received - (performance.timeOrigin + own), performance.timeOrigin + now - m.sent]);
    probe.analyzedVersion = m.version;
    probe.diagnostics = m.diagnostics;
    networks = m.networks;
    showProblems(m.diagnostics);
    showNetworks(m.defaultNetwork);
    showSummary();
    if (tab === 'diagram') scheduleDraw();
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
  changed() {
    analyze();
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
  showSummary();
  if (tab === 'diagram') scheduleDraw();
};

analyze();
scheduleSave();
probe.ready = true;
