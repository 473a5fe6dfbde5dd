// Cold start of `alexnetc check` and `alexnetc lsp` for the README's install
// figures: median wall time of N fresh processes of `BIN check SPEC`, and of N
// fresh language servers from spawn to the diagnostics of one opened file.
// Usage: node scripts/cold-start.mjs BIN SPEC [N]   (BIN: a bin/alexnetc.js)
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [bin, spec, n = '15'] = process.argv.slice(2);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const check = [];
for (let i = 0; i < Number(n); i++) {
  const t = performance.now();
  const r = spawnSync(process.execPath, [bin, 'check', spec], { encoding: 'utf8' });
  check.push(performance.now() - t);
  if (r.status !== 0) throw new Error(r.stderr);
}

function frame(msg) {
  const body = JSON.stringify(msg);
  return `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

function lspOnce() {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const child = spawn(process.execPath, [bin, 'lsp'], { stdio: ['pipe', 'pipe', 'inherit'] });
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('textDocument/publishDiagnostics')) {
        const ms = performance.now() - t;
        child.kill();
        resolve(ms);
      }
    });
    child.on('error', reject);
    const uri = pathToFileURL(spec).href;
    child.stdin.write(frame({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { processId: process.pid, rootUri: null, capabilities: {} } }));
    child.stdin.write(frame({ jsonrpc: '2.0', method: 'initialized', params: {} }));
    child.stdin.write(frame({ jsonrpc: '2.0', method: 'textDocument/didOpen', params: { textDocument: { uri, languageId: 'alexnet', version: 1, text: readFileSync(spec, 'utf8') } } }));
  });
}

const lsp = [];
for (let i = 0; i < Number(n); i++) lsp.push(await lspOnce());
console.log(JSON.stringify({ checkMs: Math.round(median(check)), lspFirstDiagnosticsMs: Math.round(median(lsp)), runs: Number(n) }));
