// Starts the built language server on stdio, as `alexnetc lsp` does
// (used by the tests and the benchmark until/unless bin/alexnetc.js is used).
import { startServer } from '../../dist/lsp/server.js';
startServer();
