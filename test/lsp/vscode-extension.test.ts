// The VS Code extension's logic, run in Node: extension.js is activated against
// a fake `vscode` module (there is no VS Code here) whose language client
// speaks to the real server over stdio, started as the extension would start
// it. What this cannot show: VS Code itself (its webview host, the real
// vscode-languageclient, the command palette); the page the webview shows is
// opened in a real browser in vscode-webview.test.ts.
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { at, LspClient, ROOT } from './client.js';

const require = createRequire(import.meta.url);
const EXT = path.join(ROOT, 'editors/vscode');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alexnetc-vscode-'));
const FILE = path.join(dir, 'nets.net');
const URI = pathToFileURL(FILE).href;

const SRC = `block cbr(c) {
  conv(c, 3, pad 1) | batchnorm | relu
}

network Big(classes = 100) {
  input [3, 32, 32]
  cbr(16) | maxpool(2) | cbr(32)
  flatten | dense(classes)
}

network Small(classes = 10) {
  input [1, 28, 28]
  cbr(8) | maxpool(2)   : [8, 14, 14]
  flatten | dense(classes)
}
`;

class Emitter<T> {
  listeners = new Set<(e: T) => void>();
  event = (f: (e: T) => void) => {
    this.listeners.add(f);
    return { dispose: () => this.listeners.delete(f) };
  };
  fire(e: T): void {
    for (const f of [...this.listeners]) f(e);
  }
}

interface Posted {
  type: string;
  [k: string]: any;
}

class FakePanel {
  title: string;
  messages: Posted[] = [];
  disposed = false;
  revealed = 0;
  private receive?: (m: unknown) => void;
  private onDispose = new Emitter<void>();
  readonly webview = {
    html: '',
    cspSource: 'https://fake.vscode-cdn.net',
    postMessage: (m: Posted) => {
      this.messages.push(m);
      return Promise.resolve(true);
    },
    onDidReceiveMessage: (f: (m: unknown) => void) => {
      this.receive = f;
      return { dispose: () => (this.receive = undefined) };
    },
  };
  constructor(
    readonly viewType: string,
    title: string,
    readonly showOptions: any,
    readonly options: any,
  ) {
    this.title = title;
  }
  reveal(): void {
    this.revealed++;
  }
  onDidDispose = this.onDispose.event;
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.onDispose.fire();
  }
  /** a message from the page to the extension */
  fromPage(m: unknown): void {
    this.receive?.(m);
  }
}

// ---- the fake `vscode` ------------------------------------------------------------

const doc = { uri: { toString: () => URI, fsPath: FILE }, languageId: 'alexnet', version: 1, getText: () => text };
let text = SRC;
const editor = { document: doc, selection: { active: at(SRC, 'dense(classes)') } };
const saved = new Emitter<typeof doc>();
const selection = new Emitter<{ textEditor: typeof editor }>();
const active = new Emitter<typeof editor | undefined>();
const commands = new Map<string, (...a: unknown[]) => unknown>();
const errors: string[] = [];
const panels: FakePanel[] = [];

const vscode = {
  ViewColumn: { Active: -1, Beside: -2 },
  window: {
    activeTextEditor: editor as typeof editor | undefined,
    showErrorMessage: (m: string) => void errors.push(m),
    createWebviewPanel: (viewType: string, title: string, showOptions: unknown, options: unknown) => {
      const p = new FakePanel(viewType, title, showOptions, options);
      panels.push(p);
      return p;
    },
    onDidChangeTextEditorSelection: selection.event,
    onDidChangeActiveTextEditor: active.event,
  },
  workspace: {
    getConfiguration: () => ({ get: () => undefined }),
    // inside the alexnetc repository: the extension starts `node bin/alexnetc.js lsp`
    workspaceFolders: [{ uri: { fsPath: ROOT } }],
    onDidSaveTextDocument: saved.event,
  },
  commands: {
    registerCommand: (id: string, f: (...a: unknown[]) => unknown) => {
      if (commands.has(id)) throw new Error(`command ${id} already exists`);
      commands.set(id, f);
      return { dispose: () => commands.delete(id) };
    },
  },
};

// ---- the fake vscode-languageclient: the real server, started with the extension's command --------

let lsp: LspClient | undefined;
let started: { command: string; args: string[] } | undefined;

class LanguageClient {
  constructor(
    readonly id: string,
    readonly name: string,
    readonly serverOptions: { run: { command: string; args: string[] } },
    readonly clientOptions: unknown,
  ) {}
  async start(): Promise<void> {
    const { command, args } = this.serverOptions.run;
    started = { command, args };
    lsp = new LspClient(command === 'node' ? process.execPath : command, args);
    await lsp.initialize();
    // the real client opens the documents of the visible editors
    const first = lsp.diagnosticsFor(URI, 1);
    lsp.notify('textDocument/didOpen', { textDocument: { uri: URI, languageId: 'alexnet', version: 1, text } });
    await first;
  }
  isRunning(): boolean {
    return lsp !== undefined && lsp.exited === null;
  }
  async sendRequest(method: string, params: unknown): Promise<any> {
    const m = await lsp!.requestRaw(method, params, 60_000);
    if (m.error) throw Object.assign(new Error(m.error.message), { code: m.error.code });
    return m.result;
  }
  async stop(): Promise<void> {
    await lsp?.shutdown();
  }
  async restart(): Promise<void> {}
}

/** an edit the real client would send, then a save */
async function editAndSave(next: string): Promise<void> {
  text = next;
  doc.version++;
  const checked = lsp!.diagnosticsFor(URI, doc.version);
  lsp!.notify('textDocument/didChange', { textDocument: { uri: URI, version: doc.version }, contentChanges: [{ text }] });
  await checked;
  saved.fire(doc);
}

function moveCursor(to: { line: number; character: number }): void {
  editor.selection = { active: to };
  selection.fire({ textEditor: editor });
}

/** the next message posted to the page after `count` */
async function nextMessage(panel: FakePanel, count: number, ms = 20_000): Promise<Posted> {
  const t0 = Date.now();
  while (panel.messages.length <= count) {
    if (Date.now() - t0 > ms) throw new Error(`no message to the page in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return panel.messages[count]!;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let ext: { activate(c: unknown): Promise<void>; deactivate(): Promise<void> };
const context = { subscriptions: [] as { dispose(): unknown }[] };

beforeAll(async () => {
  fs.writeFileSync(FILE, SRC);
  const Module = require('node:module');
  const load = Module._load;
  Module._load = function (request: string, ...rest: unknown[]) {
    if (request === 'vscode') return vscode;
    if (request === 'vscode-languageclient/node') return { LanguageClient };
    return load.call(this, request, ...rest);
  };
  try {
    ext = require(path.join(EXT, 'extension.js'));
  } finally {
    Module._load = load;
  }
  await ext.activate(context);
}, 30_000);

afterAll(async () => {
  for (const d of context.subscriptions) d.dispose();
  await ext?.deactivate();
  await lsp?.shutdown();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('the VS Code extension (against a fake vscode, with the real server)', () => {
  it('starts the repository`s own server and registers the commands its package.json contributes', () => {
    expect(started).toEqual({ command: 'node', args: [path.join(ROOT, 'bin/alexnetc.js'), 'lsp'] });
    const pkg = JSON.parse(fs.readFileSync(path.join(EXT, 'package.json'), 'utf8'));
    const contributed = pkg.contributes.commands.map((c: { command: string }) => c.command).sort();
    expect([...commands.keys()].sort()).toEqual(contributed);
    expect(pkg.contributes.commands.find((c: { command: string }) => c.command === 'alexnet.showDiagram').title).toBe('alexnet: Show Diagram');
    // not the server's own command id, which vscode-languageclient registers itself
    expect(contributed).not.toContain('alexnetc.showDiagram');
  });

  it('"Show Diagram" opens a webview beside the editor with a strict CSP and the network under the cursor', async () => {
    await commands.get('alexnet.showDiagram')!();
    expect(panels).toHaveLength(1);
    const p = panels[0]!;
    expect(p.showOptions).toEqual({ viewColumn: -2, preserveFocus: true });
    expect(p.options.enableScripts).toBe(true);
    expect(p.options.localResourceRoots).toEqual([]);
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(p.webview.html)![1]!;
    expect(csp).toContain("default-src 'none'");
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)![1]!;
    expect(nonce.length).toBeGreaterThanOrEqual(16);
    expect(p.webview.html).toContain(`<script nonce="${nonce}">`);
    const m = await nextMessage(p, 0);
    expect(m).toMatchObject({ type: 'show', network: 'Big', expanded: false });
    expect(m.svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(m.svg).toContain('data-path="cbr2"');
    expect(p.title).toBe('Diagram: Big');
    // again: the same panel, brought to the front
    await commands.get('alexnet.showDiagram')!();
    expect(panels).toHaveLength(1);
    expect(p.revealed).toBe(1);
  });

  it('follows the cursor into another network, not into a block', async () => {
    const p = panels[0]!;
    let n = p.messages.length;
    moveCursor(at(SRC, 'input [1, 28, 28]'));
    let m = await nextMessage(p, n);
    expect(m).toMatchObject({ type: 'show', network: 'Small' });
    n = p.messages.length;
    // a block used by both: the diagram stays on Small
    moveCursor(at(SRC, 'batchnorm'));
    await sleep(800);
    expect(p.messages.length).toBe(n);
    // within Small: nothing to do either
    moveCursor(at(SRC, 'flatten', 0, 1));
    await sleep(800);
    expect(p.messages.length).toBe(n);
    moveCursor(at(SRC, 'cbr(16)'));
    m = await nextMessage(p, n);
    expect(m.network).toBe('Big');
    n = p.messages.length;
    moveCursor(at(SRC, 'network Small', 3));
    expect((await nextMessage(p, n)).network).toBe('Small');
  });

  it('draws again on save: an error is shown (the page keeps the last diagram), a fix brings it back', async () => {
    const p = panels[0]!;
    let n = p.messages.length;
    await editAndSave(SRC.replace(': [8, 14, 14]', ': [8, 15, 14]'));
    let m = await nextMessage(p, n);
    expect(m.type).toBe('error');
    expect(m.message).toContain('network `Small` does not check');
    n = p.messages.length;
    await editAndSave(SRC.replace('cbr(8) | maxpool(2)', 'cbr(8) | relu | maxpool(2)'));
    m = await nextMessage(p, n);
    expect(m).toMatchObject({ type: 'show', network: 'Small' });
    expect(m.svg).toContain('data-path="relu1"');
    // renamed: the name shown is gone, the cursor (in it) decides
    n = p.messages.length;
    const renamed = SRC.replace('network Small', 'network Tiny');
    editor.selection = { active: at(renamed, 'network Tiny', 2) };
    await editAndSave(renamed);
    m = await nextMessage(p, n);
    expect(m).toMatchObject({ type: 'show', network: 'Tiny' });
    expect(p.title).toBe('Diagram: Tiny');
  });

  it('the page asks for the expanded view; a reloaded page gets the last diagram again', async () => {
    const p = panels[0]!;
    let n = p.messages.length;
    p.fromPage({ type: 'expand', value: true });
    const m = await nextMessage(p, n);
    expect(m).toMatchObject({ type: 'show', network: 'Tiny', expanded: true });
    // an expanded block call is a group around its layers
    expect(m.svg).toContain('data-path="cbr1/conv1"');
    n = p.messages.length;
    p.fromPage({ type: 'ready' });
    expect(await nextMessage(p, n)).toEqual(m);
    // junk from the page is ignored
    p.fromPage(null);
    p.fromPage({ type: 'expand', value: 'yes' });
    await sleep(300);
    expect(p.messages.length).toBe(n + 1);
  });

  it('refuses without a .net editor; closing the panel stops listening', async () => {
    vscode.window.activeTextEditor = undefined;
    await commands.get('alexnet.showDiagram')!();
    expect(errors.at(-1)).toContain('open a .net file');
    vscode.window.activeTextEditor = editor;
    expect(saved.listeners.size + selection.listeners.size + active.listeners.size).toBe(3);
    panels[0]!.dispose();
    expect(saved.listeners.size + selection.listeners.size + active.listeners.size).toBe(0);
    // a new command opens a new panel
    await commands.get('alexnet.showDiagram')!();
    expect(panels).toHaveLength(2);
    expect((await nextMessage(panels[1]!, 0)).type).toBe('show');
  });
});
