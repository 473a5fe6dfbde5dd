// `alexnetc lsp`: the language server on stdio.
import { defineCommand } from '../frame.js';

export default defineCommand({
  name: 'lsp',
  summary: 'run the language server (LSP 3.17) on stdio',
  args: '',
  description: 'Speaks the Language Server Protocol over stdin/stdout for .net files: diagnostics, shapes, hovers, completion, navigation, formatting. Editors start it; see editors/vscode/README.md.',
  options: [{ flags: '--stdio', help: 'talk over stdin/stdout (the default; accepted because clients pass it)' }],
  examples: [['alexnetc lsp', 'what an editor runs']],
  allowUnknownOptions: true,
  async run() {
    const { startServer } = await import('../../lsp/server.js');
    startServer();
    // the server runs until the client disconnects; the connection ends the process
    return new Promise<number>(() => {});
  },
});
