// `alexnetc check` runs dist/cli/bundle/check.cjs from V8's code cache
// (bin/alexnetc.js): the cache is made after a first run, used as it is by the
// next, made anew where it is spoiled, kept in the user's cache folder where
// the bundle's folder cannot take it, and a run never depends on it; `alexnetc
// lsp` likewise from lsp.cjs, its cache made when the server exits. Run on a
// copy of the bundles in a folder of the test's own, so that other tests'
// runs do not touch the cache looked at here.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const root = path.join(import.meta.dirname, '../..');
let dir: string;

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [path.join(dir, 'bin/alexnetc.js'), ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, XDG_CACHE_HOME: path.join(dir, 'user-cache'), ...env }, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const beside = () => path.join(dir, 'dist/cli/bundle/.v8-cache');
const caches = (d: string) => (existsSync(d) ? readdirSync(d).filter((f) => f.endsWith('.v8cache')) : []);

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'alexnetc-code-cache-'));
  mkdirSync(path.join(dir, 'bin'));
  mkdirSync(path.join(dir, 'dist/cli/bundle'), { recursive: true });
  copyFileSync(path.join(root, 'bin/alexnetc.js'), path.join(dir, 'bin/alexnetc.js'));
  copyFileSync(path.join(root, 'bin/package.json'), path.join(dir, 'bin/package.json'));
  copyFileSync(path.join(root, 'dist/cli/bundle/check.cjs'), path.join(dir, 'dist/cli/bundle/check.cjs'));
  copyFileSync(path.join(root, 'dist/cli/bundle/lsp.cjs'), path.join(dir, 'dist/cli/bundle/lsp.cjs'));
  copyFileSync(path.join(root, 'package.json'), path.join(dir, 'package.json'));
  // the packages the bundles leave outside (elkjs, which the server's diagrams load lazily)
  symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
});

describe('the code cache of `alexnetc check`', () => {
  const expected = () => {
    const r = spawnSync(process.execPath, [path.join(root, 'bin/alexnetc.js'), 'check', 'specs/resnet.net'], { cwd: root, encoding: 'utf8', env: { ...process.env, ALEXNETC_NO_CODE_CACHE: '1' } });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it('is made by a first run, used unchanged by the next, made anew where spoiled', () => {
    const want = expected();
    expect(want.status).toBe(0);
    expect(run(['check', 'specs/resnet.net'])).toEqual(want);
    const [name] = caches(beside());
    const hash = /^\/\/ alexnetc check bundle (\w+)\n/.exec(readFileSync(path.join(dir, 'dist/cli/bundle/check.cjs'), 'latin1'))![1]!;
    expect(name).toMatch(new RegExp(`^check-${hash}-${process.version}-${process.arch}-[0-9a-f]{8}\\.v8cache$`));
    const file = path.join(beside(), name!);
    const first = statSync(file);
    expect(first.size).toBeGreaterThan(10_000);

    // used as it is: not written again
    expect(run(['check', 'specs/resnet.net'])).toEqual(want);
    expect(statSync(file).mtimeMs).toBe(first.mtimeMs);

    // spoiled: V8 refuses it, the run goes on, and a good one replaces it
    writeFileSync(file, Buffer.alloc(first.size, 7));
    expect(run(['check', 'specs/resnet.net'])).toEqual(want);
    expect(readFileSync(file).equals(Buffer.alloc(first.size, 7))).toBe(false);
    expect(caches(beside())).toEqual([name]);
  });

  it('gives the same diagnostics and exit codes from the cache', () => {
    for (const args of [['check', 'test/fixtures/does-not-exist.net'], ['check', 'specs/lenet5.net', '--json'], ['check', '--help'], ['check', 'specs/lenet5.net', '--nope']]) {
      const cached = run(args);
      const plain = spawnSync(process.execPath, ['--input-type=module', '-e', `import { main } from './dist/cli/main.js'; process.exitCode = await main(${JSON.stringify(args)});`], { cwd: root, encoding: 'utf8' });
      expect(cached, args.join(' ')).toEqual({ status: plain.status, stdout: plain.stdout, stderr: plain.stderr });
    }
  });

  it('goes to the user’s cache folder where the bundle’s folder cannot take it, and is not needed at all', () => {
    const other = mkdtempSync(path.join(os.tmpdir(), 'alexnetc-code-cache-'));
    mkdirSync(path.join(other, 'bin'));
    mkdirSync(path.join(other, 'dist/cli/bundle'), { recursive: true });
    copyFileSync(path.join(root, 'bin/alexnetc.js'), path.join(other, 'bin/alexnetc.js'));
    copyFileSync(path.join(root, 'bin/package.json'), path.join(other, 'bin/package.json'));
    copyFileSync(path.join(root, 'dist/cli/bundle/check.cjs'), path.join(other, 'dist/cli/bundle/check.cjs'));
    copyFileSync(path.join(root, 'package.json'), path.join(other, 'package.json'));
    // a file where the cache folder would be: no folder can be made there (as the root user, permissions would not stop it)
    writeFileSync(path.join(other, 'dist/cli/bundle/.v8-cache'), 'not a folder');
    const env = { XDG_CACHE_HOME: path.join(other, 'user-cache') };
    const r = spawnSync(process.execPath, [path.join(other, 'bin/alexnetc.js'), 'check', 'specs/lenet5.net'], { cwd: root, encoding: 'utf8', env: { ...process.env, ...env } });
    expect(r.status, r.stderr).toBe(0);
    expect(caches(path.join(other, 'user-cache/alexnetc'))).toHaveLength(1);
    // nowhere to write at all: the run is the same
    writeFileSync(path.join(other, 'user-cache-file'), '');
    for (const e of [{ XDG_CACHE_HOME: path.join(other, 'user-cache-file') }, { ALEXNETC_NO_CODE_CACHE: '1' }]) {
      const s = spawnSync(process.execPath, [path.join(other, 'bin/alexnetc.js'), 'check', 'specs/lenet5.net'], { cwd: root, encoding: 'utf8', env: { ...process.env, HOME: path.join(other, 'user-cache-file'), ...e } });
      expect({ status: s.status, stderr: s.stderr }).toEqual({ status: 0, stderr: r.stderr });
    }
  });
});

/**
 * `alexnetc lsp` from `bin`: initialize, open lenet5.net, wait for its
 * diagnostics, ask for its diagram (the server's lazy imports: the drawing
 * code, elkjs), shut down and exit; what it answered, and how it ended.
 */
async function lspSession(bin: string, env: Record<string, string> = {}): Promise<{ diagnostics: unknown; diagram: unknown; code: number | null }> {
  const text = readFileSync(path.join(root, 'specs/lenet5.net'), 'utf8');
  const p = spawn(process.execPath, [bin, 'lsp', '--stdio'], { cwd: root, stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, XDG_CACHE_HOME: path.join(dir, 'user-cache'), ...env } });
  const send = (m: object) => {
    const b = Buffer.from(JSON.stringify({ jsonrpc: '2.0', ...m }));
    p.stdin.write(Buffer.concat([Buffer.from(`Content-Length: ${b.length}\r\n\r\n`, 'ascii'), b]));
  };
  const exited = new Promise<number | null>((resolve) => p.on('exit', resolve));
  const messages: Array<{ id?: number; method?: string; params?: unknown; result?: unknown; error?: unknown }> = [];
  let buf = Buffer.alloc(0);
  const waiting: Array<[(m: (typeof messages)[number]) => boolean, (m: (typeof messages)[number]) => void]> = [];
  p.stdout.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      const sep = buf.indexOf('\r\n\r\n');
      if (sep < 0) return;
      const len = Number(/Content-Length: *(\d+)/i.exec(buf.subarray(0, sep).toString('ascii'))![1]);
      if (buf.length < sep + 4 + len) return;
      const m = JSON.parse(buf.subarray(sep + 4, sep + 4 + len).toString('utf8')) as (typeof messages)[number];
      buf = buf.subarray(sep + 4 + len);
      messages.push(m);
      for (const [test, done] of waiting) if (test(m)) done(m);
    }
  });
  const next = (test: (m: (typeof messages)[number]) => boolean) =>
    new Promise<(typeof messages)[number]>((resolve, reject) => {
      waiting.push([test, resolve]);
      void exited.then((c) => reject(new Error(`alexnetc lsp exited (${c}) while a message was awaited`)));
    });
  send({ id: 1, method: 'initialize', params: { processId: null, rootUri: null, capabilities: {} } });
  send({ method: 'initialized', params: {} });
  send({ method: 'textDocument/didOpen', params: { textDocument: { uri: 'file:///x/lenet5.net', languageId: 'alexnet', version: 1, text } } });
  const diagnostics = (await next((m) => m.method === 'textDocument/publishDiagnostics')).params;
  send({ id: 3, method: 'workspace/executeCommand', params: { command: 'alexnetc.showDiagram', arguments: [{ uri: 'file:///x/lenet5.net' }] } });
  const answer = await next((m) => m.id === 3);
  const r = answer.result as { network?: string; svg?: string } | undefined;
  const diagram = r ? { network: r.network, svg: r.svg?.slice(0, 40) } : answer.error;
  send({ id: 2, method: 'shutdown' });
  send({ method: 'exit' });
  return { diagnostics, diagram, code: await exited };
}

describe('the code cache of `alexnetc lsp`', () => {
  it('is made when a first server exits, used unchanged by the next; the server publishes and draws what it does without it', async () => {
    const want = await lspSession(path.join(root, 'bin/alexnetc.js'), { ALEXNETC_NO_CODE_CACHE: '1' });
    expect(want.code).toBe(0);
    expect(want.diagram).toEqual({ network: 'LeNet5', svg: expect.stringMatching(/^<svg xmlns=/) });
    expect(caches(beside()).filter((f) => f.startsWith('lsp-'))).toEqual([]);
    expect(await lspSession(path.join(dir, 'bin/alexnetc.js'))).toEqual(want);
    const [name] = caches(beside()).filter((f) => f.startsWith('lsp-'));
    const hash = /^\/\/ alexnetc lsp bundle (\w+)\n/.exec(readFileSync(path.join(dir, 'dist/cli/bundle/lsp.cjs'), 'latin1'))![1]!;
    expect(name).toMatch(new RegExp(`^lsp-${hash}-${process.version}-${process.arch}-[0-9a-f]{8}\\.v8cache$`));
    const first = statSync(path.join(beside(), name!));
    expect(first.size).toBeGreaterThan(10_000);
    expect(await lspSession(path.join(dir, 'bin/alexnetc.js'))).toEqual(want);
    expect(statSync(path.join(beside(), name!)).mtimeMs).toBe(first.mtimeMs);
  });
});

