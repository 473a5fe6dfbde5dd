// The language server loads the layout code (elkjs) when a diagram is first
// asked for, and not before: test/cli/lean.test.ts checks that checking
// loads none of it; this is the other half, in a fresh process, showing that
// the same look at the module cache does see ELK once it is loaded.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.join(import.meta.dirname, '../..');

describe('the diagram code is loaded on demand', () => {
  it('no elkjs after checking a document; elkjs (and no resvg) after alexnetc.showDiagram', () => {
    const code = `
      import { createRequire } from 'node:module';
      import { PassThrough } from 'node:stream';
      import { readFileSync } from 'node:fs';
      import { startServer } from './dist/lsp/server.js';
      const cache = createRequire(import.meta.url).cache;
      const loaded = (re) => Object.keys(cache).some((f) => re.test(f));
      const input = new PassThrough(), output = new PassThrough();
      startServer({ input, output });
      const send = (m) => { const b = JSON.stringify(m); input.write('Content-Length: ' + Buffer.byteLength(b) + '\\r\\n\\r\\n' + b); };
      const report = {};
      send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { processId: null, rootUri: null, capabilities: {} } });
      send({ jsonrpc: '2.0', method: 'initialized', params: {} });
      send({ jsonrpc: '2.0', method: 'textDocument/didOpen', params: { textDocument: { uri: 'file:///x/lenet5.net', languageId: 'alexnet', version: 1, text: readFileSync('specs/lenet5.net', 'utf8') } } });
      let seen = '';
      output.on('data', (d) => {
        seen += d;
        if (!('checked' in report) && seen.includes('publishDiagnostics')) {
          report.checked = loaded(/node_modules\\/elkjs\\//);
          send({ jsonrpc: '2.0', id: 2, method: 'workspace/executeCommand', params: { command: 'alexnetc.showDiagram', arguments: [{ uri: 'file:///x/lenet5.net' }] } });
        }
        if (seen.includes('"id":2')) {
          report.drawn = loaded(/node_modules\\/elkjs\\//);
          report.resvg = loaded(/node_modules\\/@resvg\\//);
          report.svg = /"svg":"<svg /.test(seen);
          process.stderr.write('REPORT ' + JSON.stringify(report) + '\\n');
          process.exit(0);
        }
      });
      setTimeout(() => { process.stderr.write('REPORT ' + JSON.stringify(report) + '\\n'); process.exit(1); }, 60000);
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: root, encoding: 'utf8', timeout: 90_000 });
    const line = r.stderr.split('\n').find((l) => l.startsWith('REPORT '));
    expect(line, r.stderr).toBeDefined();
    expect(JSON.parse(line!.slice('REPORT '.length))).toEqual({ checked: false, drawn: true, resvg: false, svg: true });
  });
});
