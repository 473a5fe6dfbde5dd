// The VS Code side of the alexnet language support: a thin LSP client that
// launches `alexnetc lsp` over stdio. Everything else (diagnostics, shapes,
// hovers, completion, rename, quick fixes, formatting, the diagrams) lives in
// the server; diagram-panel.js shows the server's diagram in a webview.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const vscode = require('vscode');
const { LanguageClient } = require('vscode-languageclient/node');
const { DiagramPanel } = require('./diagram-panel.js');

/** @type {LanguageClient | undefined} */
let client;

/** the alexnetc executable: the setting, else the workspace's own install, else the PATH */
function serverCommand() {
  const cfg = vscode.workspace.getConfiguration('alexnet');
  const configured = cfg.get('server.path');
  const extra = cfg.get('server.extraArgs') || [];
  if (configured) return { command: configured, args: [...extra, 'lsp'] };
  for (const folder of vscode.workspace.workspaceFolders || []) {
    const local = path.join(folder.uri.fsPath, 'node_modules', '.bin', process.platform === 'win32' ? 'alexnetc.cmd' : 'alexnetc');
    if (fs.existsSync(local)) return { command: local, args: [...extra, 'lsp'] };
    // working inside the alexnetc repository itself
    const bin = path.join(folder.uri.fsPath, 'bin', 'alexnetc.js');
    if (fs.existsSync(bin)) return { command: 'node', args: [bin, ...extra, 'lsp'] };
  }
  return { command: 'alexnetc', args: [...extra, 'lsp'] };
}

async function activate(context) {
  const { command, args } = serverCommand();
  // no `transport`: the client talks over the child's stdin/stdout without adding `--stdio`
  const serverOptions = { run: { command, args }, debug: { command, args } };
  const clientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'alexnet' },
      { scheme: 'untitled', language: 'alexnet' },
    ],
    outputChannelName: 'alexnet',
  };
  client = new LanguageClient('alexnet', 'alexnet language server', serverOptions, clientOptions);
  // the client registers the server's own `alexnetc.showDiagram` as a VS Code command that only
  // returns the SVG; `alexnet.showDiagram` is the one for people: it opens the webview
  const diagram = new DiagramPanel(vscode, () => (client && client.isRunning() ? client : undefined));
  context.subscriptions.push(
    vscode.commands.registerCommand('alexnet.restartServer', async () => {
      if (client) await client.restart();
    }),
    vscode.commands.registerCommand('alexnet.showDiagram', () => diagram.show()),
    { dispose: () => diagram.dispose() },
  );
  try {
    await client.start();
  } catch (e) {
    vscode.window.showErrorMessage(`alexnet: could not start \`${command} ${args.join(' ')}\`: ${e && e.message ? e.message : e}. Install alexnetc from a clone (npm install && npm link in the clone; it is not on the npm registry yet) or set alexnet.server.path.`);
  }
}

async function deactivate() {
  if (client) await client.stop();
}

module.exports = { activate, deactivate };
