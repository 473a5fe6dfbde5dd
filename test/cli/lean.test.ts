// `alexnetc check` and the language server load nothing of the targets'
// heavy machinery: no tfjs, no onnxruntime, no protobuf reader, no layout or
// PNG renderer — what they load stays the compiler (checked in a fresh process).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.join(import.meta.dirname, '../..');
const HEAVY = /node_modules\/(@tensorflow|onnxruntime-node|onnxruntime-common|protobufjs|elkjs|@resvg|pngjs|jpeg-js)\//;

/**
 * Run `code` (an ES module body) in a fresh node and return every CommonJS
 * module it loaded (the heavy packages are all CommonJS: an ES import of one
 * goes through the CommonJS loader and lands in its cache).
 */
function loadedBy(code: string): string[] {
  const report = `import { createRequire } from 'node:module'; const cache = createRequire(import.meta.url).cache; process.on('exit', () => process.stderr.write('\\nLOADED ' + JSON.stringify(Object.keys(cache)) + '\\n'));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', report + code], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  const line = r.stderr.split('\n').find((l) => l.startsWith('LOADED '));
  expect(line, r.stderr).toBeDefined();
  return JSON.parse(line!.slice('LOADED '.length)) as string[];
}

describe('lean start-up', () => {
  it('alexnetc check loads no tfjs, onnxruntime, protobuf, layout or PNG code', () => {
    const files = loadedBy(`import { main } from './dist/cli/main.js'; process.exitCode = await main(['check', 'specs/resnet.net']);`);
    expect(files.some((f) => f.includes('/node_modules/commander/'))).toBe(true); // the cache does see what is loaded
    expect(files.filter((f) => HEAVY.test(f))).toEqual([]);
  });

  it('the language server, after checking a document, has loaded none of them either', () => {
    const files = loadedBy(`
      import { PassThrough } from 'node:stream';
      import { readFileSync } from 'node:fs';
      import { startServer } from './dist/lsp/server.js';
      const input = new PassThrough(), output = new PassThrough();
      startServer({ input, output });
      const send = (m) => { const b = JSON.stringify(m); input.write('Content-Length: ' + Buffer.byteLength(b) + '\\r\\n\\r\\n' + b); };
      send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { processId: null, rootUri: null, capabilities: {} } });
      send({ jsonrpc: '2.0', method: 'initialized', params: {} });
      send({ jsonrpc: '2.0', method: 'textDocument/didOpen', params: { textDocument: { uri: 'file:///x/resnet.net', languageId: 'alexnet', version: 1, text: readFileSync('specs/resnet.net', 'utf8') } } });
      let seen = '';
      output.on('data', (d) => { seen += d; if (seen.includes('publishDiagnostics')) process.exit(0); });
    `);
    expect(files.some((f) => f.includes('/node_modules/vscode-languageserver/'))).toBe(true);
    expect(files.filter((f) => HEAVY.test(f))).toEqual([]);
  });
});

describe('the bundled command line (dist/cli/bundle, what bin/alexnetc.js runs)', () => {
  it('check from the bundle loads none of the heavy packages either', () => {
    const files = loadedBy(`import { main } from './dist/cli/bundle/main.js'; process.exitCode = await main(['check', 'specs/resnet.net']);`);
    expect(files.filter((f) => HEAVY.test(f))).toEqual([]);
  });

  it('check from its own bundle (check.cjs, run from the code cache) loads none of them', () => {
    const files = loadedBy(`const { main } = createRequire(import.meta.url)('./dist/cli/bundle/check.cjs'); process.exitCode = await main(['check', 'specs/resnet.net']);`);
    expect(files.some((f) => f.endsWith('/dist/cli/bundle/check.cjs'))).toBe(true);
    expect(files.filter((f) => HEAVY.test(f))).toEqual([]);
  });

  it('check from its own bundle does not load node:child_process (commander gets it on first use)', () => {
    const r = spawnSync(process.execPath, ['bin/alexnetc.js', 'check', 'specs/lenet5.net'], { cwd: root, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: `--require ${JSON.stringify(path.join(root, 'test/cli/fixtures-loaded-builtins.cjs'))}` } });
    expect(r.status, r.stderr).toBe(0);
    const loaded = JSON.parse(/BUILTINS (.*)/.exec(r.stdout)![1]!) as string[];
    expect(loaded).toContain('NativeModule fs');
    expect(loaded.filter((m) => m.includes('child_process'))).toEqual([]);
  });

  it('prints what dist/cli/main.js prints, for commands that read the package, the fonts and the parser', () => {
    const run = (entry: string, args: string[]) => {
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', `import { main } from '${entry}'; process.exitCode = await main(${JSON.stringify(args)});`], { cwd: root, encoding: 'utf8', timeout: 60_000 });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    for (const args of [['--version'], ['check', 'specs/resnet.net'], ['summary', 'specs/lenet5.net', '--json'], ['check', 'test/fixtures/does-not-exist.net'], ['fmt', 'specs/vgg.net']]) {
      const bundled = run('./dist/cli/bundle/main.js', args);
      expect(bundled, args.join(' ')).toEqual(run('./dist/cli/main.js', args));
    }
  });
});
