// "alexnet: Show Diagram": asks the language server for the diagram of the
// network under the cursor (`alexnetc.showDiagram`) and shows it in a webview
// beside the editor. It follows the file: a save draws it again (the server
// answers from its analysis of the open text, imports included), and moving
// the cursor into another network's declaration switches to that network; a
// cursor in a block keeps the diagram shown.
'use strict';
const crypto = require('node:crypto');
const { diagramHtml, networkAtCursor } = require('./diagram-html.js');

const SERVER_COMMAND = 'alexnetc.showDiagram';
/** a cursor that stops for this long is looked at (a held arrow key asks nothing) */
const CURSOR_DEBOUNCE_MS = 250;

const isAlexnet = (doc) => !!doc && doc.languageId === 'alexnet';
const lspPosition = (p) => ({ line: p.line, character: p.character });

class DiagramPanel {
  /**
   * @param vscode the `vscode` module
   * @param getClient () => the running LanguageClient, or undefined
   */
  constructor(vscode, getClient) {
    this.vscode = vscode;
    this.getClient = getClient;
    this.panel = undefined;
    /** what is shown: the document, the network, the declaration's range, expanded or not */
    this.uri = undefined;
    this.network = undefined;
    this.expand = false;
    /** the last message posted, sent again when the page (re)loads */
    this.last = undefined;
    this.timer = undefined;
    /** requests answered out of order are dropped: only the newest one is shown */
    this.generation = 0;
    this.disposables = [];
  }

  /** the command: open (or reveal) the panel on the active editor's cursor */
  async show() {
    const vscode = this.vscode;
    const editor = vscode.window.activeTextEditor;
    if (!editor || !isAlexnet(editor.document)) {
      vscode.window.showErrorMessage('alexnet: open a .net file and put the cursor in a network to see its diagram');
      return;
    }
    if (!this.getClient()) {
      vscode.window.showErrorMessage('alexnet: the language server is not running (see the "alexnet" output channel)');
      return;
    }
    this.open();
    this.uri = editor.document.uri.toString();
    await this.draw({ position: lspPosition(editor.selection.active) });
  }

  open() {
    const vscode = this.vscode;
    if (this.panel) {
      this.panel.reveal(vscode.ViewColumn.Beside, true);
      return;
    }
    // scripts for the page's own buttons; nothing to load from disk or the network
    this.panel = vscode.window.createWebviewPanel('alexnet.diagram', 'Diagram', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, { enableScripts: true, enableFindWidget: true, localResourceRoots: [] });
    this.panel.webview.html = diagramHtml({ nonce: crypto.randomBytes(18).toString('base64') });
    this.disposables.push(
      this.panel.webview.onDidReceiveMessage((m) => this.onMessage(m)),
      vscode.workspace.onDidSaveTextDocument((doc) => this.onSave(doc)),
      vscode.window.onDidChangeTextEditorSelection((e) => this.onCursor(e.textEditor)),
      vscode.window.onDidChangeActiveTextEditor((editor) => editor && this.onCursor(editor)),
    );
    this.panel.onDidDispose(() => {
      // closed by the user
      this.panel = undefined;
      this.dispose();
    });
  }

  dispose() {
    clearTimeout(this.timer);
    for (const d of this.disposables.splice(0)) d.dispose();
    const panel = this.panel;
    this.panel = undefined;
    this.uri = this.network = this.last = undefined;
    this.expand = false;
    if (panel) panel.dispose();
  }

  post(message) {
    this.last = message;
    if (this.panel) void this.panel.webview.postMessage(message);
  }

  onMessage(m) {
    if (!m || typeof m !== 'object') return;
    if (m.type === 'ready' && this.last) void this.panel.webview.postMessage(this.last);
    if (m.type === 'expand' && typeof m.value === 'boolean' && this.uri) {
      this.expand = m.value;
      void this.draw({ network: this.network });
    }
  }

  /** a save of the shown file, or of any .net file (it may be one the shown file imports) */
  onSave(doc) {
    if (!this.panel || !this.uri || !isAlexnet(doc)) return;
    void this.draw({ network: this.network });
  }

  /** the cursor stopped: in another network's declaration (or in another .net file) the diagram follows */
  onCursor(editor) {
    if (!this.panel || !editor || !isAlexnet(editor.document)) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.follow(editor), CURSOR_DEBOUNCE_MS);
  }

  async follow(editor) {
    const client = this.getClient();
    if (!this.panel || !client) return;
    const uri = editor.document.uri.toString();
    const position = lspPosition(editor.selection.active);
    if (uri !== this.uri) {
      this.uri = uri;
      this.network = undefined;
      await this.draw({ position });
      return;
    }
    let symbols;
    try {
      symbols = await client.sendRequest('textDocument/documentSymbol', { textDocument: { uri } });
    } catch {
      return;
    }
    const name = networkAtCursor(symbols, position);
    if (name && name !== this.network) await this.draw({ network: name });
  }

  /** ask the server; show the diagram, or the reason there is none (the last diagram stays, dimmed) */
  async draw({ position, network }) {
    const client = this.getClient();
    if (!client || !this.uri) return;
    const generation = ++this.generation;
    const args = { uri: this.uri, expand: this.expand };
    // asked for by name, it is the one shown from now on, drawn or not: a save after a fix draws it
    if (network) args.network = this.network = network;
    else if (position) args.position = position;
    let r;
    try {
      r = await client.sendRequest('workspace/executeCommand', { command: SERVER_COMMAND, arguments: [args] });
    } catch (e) {
      if (generation !== this.generation) return;
      // the network shown was renamed or removed: fall back to the cursor
      const editor = this.vscode.window.activeTextEditor;
      if (network && editor && editor.document.uri.toString() === this.uri && /^no network /.test(String(e && e.message))) {
        this.network = undefined;
        await this.draw({ position: lspPosition(editor.selection.active) });
        return;
      }
      this.post({ type: 'error', message: String((e && e.message) || e) });
      return;
    }
    if (generation !== this.generation || !r || typeof r.svg !== 'string') return;
    this.network = r.network;
    this.expand = r.expanded;
    if (this.panel) this.panel.title = `Diagram: ${r.network}`;
    this.post({ type: 'show', svg: r.svg, network: r.network, expanded: r.expanded, boxes: r.boxes });
  }
}

module.exports = { DiagramPanel, SERVER_COMMAND };
