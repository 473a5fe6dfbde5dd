// The language server follows imports: diagnostics that lead into imported
// files, go to definition across files, and re-checking the importers when
// an imported file changes (open documents win over the disk).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { at, LspClient } from './client.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alexnetc-lsp-imports-'));
const LIB = 'block unit(c) {\n  conv(c, 3, pad 1) | relu\n}\n\nblock head(classes) {\n  flatten | dense(classes)\n}\n';
const MAIN = 'import "lib/units.net"\n\nnetwork N {\n  input [3, 8, 8]\n  unit(4)\n  head(classes 10)\n}\n';
const libPath = path.join(dir, 'lib', 'units.net');
const mainPath = path.join(dir, 'main.net');
const libUri = pathToFileURL(libPath).href;
const mainUri = pathToFileURL(mainPath).href;

let c: LspClient;
let mainVersion = 1;

async function open(uri: string, text: string, version = 1): Promise<any[]> {
  const wait = c.diagnosticsFor(uri, version);
  c.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'alexnet', version, text } });
  return (await wait).params.diagnostics;
}

/** the next diagnostics published for main.net (after an imported file changed) */
function nextMain(): Promise<any[]> {
  return c.diagnosticsFor(mainUri, undefined, 10_000).then((m) => m.params.diagnostics);
}

beforeAll(async () => {
  fs.mkdirSync(path.dirname(libPath), { recursive: true });
  fs.writeFileSync(libPath, LIB);
  fs.writeFileSync(mainPath, MAIN);
  c = new LspClient();
  await c.initialize();
  expect(await open(mainUri, MAIN, mainVersion)).toEqual([]);
}, 20_000);

afterAll(async () => {
  await c?.shutdown();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('imports in the language server', () => {
  it('goes to an imported block, its parameter and the imported file', async () => {
    const d = await c.request('textDocument/definition', { textDocument: { uri: mainUri }, position: at(MAIN, 'unit(4)', 1) });
    expect(d).toEqual([{ uri: libUri, range: { start: { line: 0, character: 6 }, end: { line: 0, character: 10 } } }]);
    const p = await c.request('textDocument/definition', { textDocument: { uri: mainUri }, position: at(MAIN, 'classes 10', 2) });
    expect(p[0].uri).toBe(libUri);
    expect(p[0].range.start).toEqual({ line: 4, character: 11 });
    const f = await c.request('textDocument/definition', { textDocument: { uri: mainUri }, position: at(MAIN, 'lib/units', 2) });
    expect(f[0].uri).toBe(libUri);
  });

  it('hovers, completes and helps with imported blocks', async () => {
    const h = await c.request('textDocument/hover', { textDocument: { uri: mainUri }, position: at(MAIN, 'unit(4)', 1) });
    expect(h.contents.value).toContain('block unit(c)');
    expect(h.contents.value).toContain('lib/units.net');
    const items = await c.request('textDocument/completion', { textDocument: { uri: mainUri }, position: at(MAIN, '  unit(4)', 2) });
    expect(items.map((i: any) => i.label)).toContain('head');
    const sig = await c.request('textDocument/signatureHelp', { textDocument: { uri: mainUri }, position: at(MAIN, 'unit(4)', 5) });
    expect(sig.signatures[0].label).toBe('block unit(c)');
    // renaming what another file declares is refused, with the reason
    const r = await c.requestRaw('textDocument/rename', { textDocument: { uri: mainUri }, position: at(MAIN, 'unit(4)', 1), newName: 'u' });
    expect(r.error?.message).toMatch(/declared in .*units\.net: rename it there/);
  });

  it('an open imported document wins over the disk, and its importers are checked again', async () => {
    // open the library and break the block main.net uses
    const wait = nextMain();
    expect(await open(libUri, LIB)).toEqual([]);
    await wait.catch(() => []);
    const broken = LIB.replace('conv(c, 3, pad 1)', 'conv(c, 99)');
    const mainAgain = nextMain();
    c.notify('textDocument/didChange', { textDocument: { uri: libUri, version: 2 }, contentChanges: [{ text: broken }] });
    const ds = await mainAgain;
    expect(ds.map((d: any) => d.code)).toEqual(['E301']);
    // shown at the call in main.net, naming the place in the library, which is related information
    expect(ds[0].range.start).toEqual(at(MAIN, 'unit(4)'));
    expect(ds[0].message).toMatch(/units\.net:2:11: conv kernel 99×99/);
    expect(ds[0].relatedInformation[0].location.uri).toBe(libUri);
    // the disk still has the good library; closing the document goes back to it
    const clean = nextMain();
    c.notify('textDocument/didClose', { textDocument: { uri: libUri } });
    expect(await clean).toEqual([]);
  });

  it('re-checks importers when a file changes on disk', async () => {
    fs.writeFileSync(libPath, LIB.replace('block head', 'block header'));
    const ds = nextMain();
    c.notify('workspace/didChangeWatchedFiles', { changes: [{ uri: libUri, type: 2 }] });
    const got = await ds;
    expect(got.map((d: any) => d.code)).toEqual(['E101']);
    fs.writeFileSync(libPath, LIB);
    const back = nextMain();
    c.notify('workspace/didChangeWatchedFiles', { changes: [{ uri: libUri, type: 2 }] });
    expect(await back).toEqual([]);
  });

  it('a missing import is one error at the import string', async () => {
    mainVersion++;
    const text = MAIN.replace('lib/units.net', 'lib/nope.net');
    const wait = c.diagnosticsFor(mainUri, mainVersion);
    c.notify('textDocument/didChange', { textDocument: { uri: mainUri, version: mainVersion }, contentChanges: [{ text }] });
    const ds = (await wait).params.diagnostics;
    expect(ds.map((d: any) => d.code)).toEqual(['E117']);
    expect(ds[0].range.start).toEqual(at(text, '"lib/nope.net"'));
    // creating the file fixes it
    fs.writeFileSync(path.join(dir, 'lib', 'nope.net'), LIB);
    const fixed = nextMain();
    c.notify('workspace/didChangeWatchedFiles', { changes: [{ uri: pathToFileURL(path.join(dir, 'lib', 'nope.net')).href, type: 1 }] });
    expect(await fixed).toEqual([]);
  });

  it('an empty buffer shows no "declares nothing" error', async () => {
    const uri = pathToFileURL(path.join(dir, 'new.net')).href;
    expect(await open(uri, '')).toEqual([]);
  });
});
