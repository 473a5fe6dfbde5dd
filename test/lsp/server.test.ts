// The language server driven over the real protocol, as an editor drives it:
// spawn, initialize, didOpen, incremental didChange edits, then the features.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipping } from '../skip.js';
import { at, LspClient, ROOT } from './client.js';

const URI = 'file:///work/model.net';

const SRC = `block stage(channels, convs) {
  repeat convs { conv(channels, 3, pad 1) | relu }
  maxpool(2)
}

network Small(classes = 10) {
  input [3, 32, 32]
  stage(16, 1) | stage(32, 2)   : [32, 8, 8]
  flatten
  dense(classes) | softmax
}
`;

let c: LspClient;
let version = 1;

/** an incremental edit: replace [from, to) positions with text, then wait for that version's diagnostics */
async function edit(range: { start: { line: number; character: number }; end: { line: number; character: number } }, text: string): Promise<any[]> {
  version++;
  const wait = c.diagnosticsFor(URI, version);
  c.notify('textDocument/didChange', { textDocument: { uri: URI, version }, contentChanges: [{ range, text }] });
  return (await wait).params.diagnostics;
}

async function setText(text: string): Promise<any[]> {
  version++;
  const wait = c.diagnosticsFor(URI, version);
  c.notify('textDocument/didChange', { textDocument: { uri: URI, version }, contentChanges: [{ text }] });
  return (await wait).params.diagnostics;
}

const doc = { textDocument: { uri: URI } };

beforeAll(async () => {
  c = new LspClient();
  const init = await c.initialize();
  expect(init.capabilities.textDocumentSync).toBe(2); // incremental
  const first = c.diagnosticsFor(URI, 1);
  c.notify('textDocument/didOpen', { textDocument: { uri: URI, languageId: 'alexnet', version: 1, text: SRC } });
  expect((await first).params.diagnostics).toEqual([]);
}, 20_000);

afterAll(async () => {
  await c?.shutdown();
});

describe('language server over stdio', () => {
  it('publishes diagnostics after incremental edits, with codes, ranges and versions', async () => {
    // break the assertion: [32, 8, 8] → [32, 9, 8]
    const p = at(SRC, '[32, 8, 8]', 5);
    let ds = await edit({ start: p, end: { line: p.line, character: p.character + 1 } }, '9');
    expect(ds.map((d) => d.code)).toEqual(['E306']);
    expect(ds[0].message).toContain('[32, 8, 8]');
    expect(ds[0].source).toBe('alexnetc');
    // and back
    ds = await edit({ start: p, end: { line: p.line, character: p.character + 1 } }, '8');
    expect(ds).toEqual([]);
  });

  it('reports a misspelt layer with a quick fix, and a dense on an image with `insert flatten`', async () => {
    const p = at(SRC, 'softmax');
    let ds = await edit({ start: p, end: { line: p.line, character: p.character + 7 } }, 'softmx');
    expect(ds.map((d) => d.code)).toEqual(['E101']);
    let actions = await c.request('textDocument/codeAction', { ...doc, range: ds[0].range, context: { diagnostics: ds } });
    expect(actions[0].title).toContain('softmax');
    expect(actions[0].kind).toBe('quickfix');
    const e = actions[0].edit.changes[URI][0];
    expect(e.newText).toBe('softmax');
    ds = await edit(e.range, e.newText);
    expect(ds).toEqual([]);

    // delete `flatten` (line 8): dense now sees an image
    const f = at(SRC, '  flatten\n');
    ds = await edit({ start: f, end: { line: f.line + 1, character: 0 } }, '');
    expect(ds.map((d) => d.code)).toEqual(['E303']);
    actions = await c.request('textDocument/codeAction', { ...doc, range: ds[0].range, context: { diagnostics: ds } });
    expect(actions.map((a: any) => a.title)).toContain('insert `flatten` before it');
    const fix = actions.find((a: any) => a.title.includes('flatten')).edit.changes[URI][0];
    ds = await edit(fix.range, fix.newText);
    expect(ds).toEqual([]);
    ds = await setText(SRC);
    expect(ds).toEqual([]);
  });

  it('points related information at the other branch of a mismatch', async () => {
    const text = SRC.replace('  flatten\n', '  concat {\n    branch { conv(4, 3, pad 1) }\n    branch { maxpool(2) }\n  }\n  flatten\n');
    const ds = await setText(text);
    expect(ds.map((d) => d.code)).toEqual(['E305']);
    expect(ds[0].relatedInformation?.[0].message).toContain('branch 1 produces');
    expect(ds[0].relatedInformation[0].location.range.start.line).toBe(at(text, 'branch { conv').line);
    expect(await setText(SRC)).toEqual([]);
  });

  it('offers to update a failing assertion to the inferred shape', async () => {
    const ds = await setText(SRC.replace('[32, 8, 8]', '[32, 16, 16]'));
    const actions = await c.request('textDocument/codeAction', { ...doc, range: ds[0].range, context: { diagnostics: ds } });
    expect(actions[0].title).toBe('update the assertion to [32, 8, 8]');
    expect(actions[0].edit.changes[URI][0].newText).toBe(': [32, 8, 8]');
    expect(await setText(SRC)).toEqual([]);
  });

  it('shows output shapes as inlay hints, per instantiation inside blocks', async () => {
    const hints = await c.request('textDocument/inlayHint', { ...doc, range: { start: { line: 0, character: 0 }, end: { line: 20, character: 0 } } });
    const labels = hints.map((h: any) => `${h.position.line}:${h.label}`);
    // the conv inside the block runs at 32×32 with 16 filters and at 16×16 with 32 filters
    expect(labels).toContain(`1:→ [16, 32, 32] · [32, 16, 16]`);
    expect(labels).toContain(`7:→ [16, 16, 16]`);
    expect(labels).toContain(`7:→ [32, 8, 8]`);
    expect(labels).toContain(`8:→ [2048]`);
    expect(labels).toContain(`9:→ [10]`);
    const conv = hints.find((h: any) => h.position.line === 1 && String(h.label).includes('·'));
    expect(conv.tooltip.value).toContain('stage2/conv');
  });

  it('hovers a layer call with shapes, parameters, MACs and the layer documentation', async () => {
    const h = await c.request('textDocument/hover', { ...doc, position: at(SRC, 'dense', 2) });
    const v: string = h.contents.value;
    expect(v).toContain('dense(units, bias true)');
    expect(v).toContain('input `[2048]` → output `[10]`');
    expect(v).toContain('parameters 20,490');
    expect(v).toContain('MACs 20,480');
    const conv = await c.request('textDocument/hover', { ...doc, position: at(SRC, 'conv(', 1) });
    expect(conv.contents.value).toContain('conv(filters, k, stride 1, pad 0, dilation 1, groups 1, bias true)');
    expect(conv.contents.value).toContain('⌊(H + pt + pb − d(k−1) − 1)/s⌋ + 1');
    expect(conv.contents.value).toContain('Small');
    const arg = await c.request('textDocument/hover', { ...doc, position: at(SRC, 'pad 1', 1) });
    expect(arg.contents.value).toContain('`pad`');
    const param = await c.request('textDocument/hover', { ...doc, position: at(SRC, 'classes) |', 2) });
    expect(param.contents.value).toContain('classes = 10');
    const net = await c.request('textDocument/hover', { ...doc, position: at(SRC, 'Small', 1) });
    expect(net.contents.value).toContain('[3, 32, 32]');
  });

  it('completes layers, blocks, named arguments with defaults and parameters', async () => {
    const line = at(SRC, '  flatten').line;
    // a new line in the network body
    await edit({ start: { line, character: 0 }, end: { line, character: 0 } }, '  \n');
    let items = await c.request('textDocument/completion', { ...doc, position: { line, character: 2 } });
    const labels = items.map((i: any) => i.label);
    expect(labels).toEqual(expect.arrayContaining(['conv', 'maxpool', 'dense', 'stage', 'repeat', 'residual', 'concat']));
    const conv = items.find((i: any) => i.label === 'conv');
    expect(conv.detail).toBe('conv(filters, k, stride 1, pad 0, dilation 1, groups 1, bias true)');
    expect(conv.insertText).toBe('conv(${1:filters}, ${2:k})'); // the client announced snippet support

    // half-typed call
    await edit({ start: { line, character: 2 }, end: { line, character: 2 } }, 'conv(8, 3, ');
    items = await c.request('textDocument/completion', { ...doc, position: { line, character: 13 } });
    const named = items.filter((i: any) => i.kind === 5).map((i: any) => `${i.label} ${i.detail}`);
    expect(named).toEqual(['stride default 1', 'pad default 0', 'dilation default 1', 'groups default 1', 'bias default true']);
    expect(items.map((i: any) => i.label)).toContain('classes');
    const sig = await c.request('textDocument/signatureHelp', { ...doc, position: { line, character: 13 } });
    expect(sig.signatures[0].label).toBe('conv(filters, k, stride 1, pad 0, dilation 1, groups 1, bias true)');
    expect(sig.activeParameter).toBe(2);
    await edit({ start: { line, character: 13 }, end: { line, character: 13 } }, 'groups ');
    const sig2 = await c.request('textDocument/signatureHelp', { ...doc, position: { line, character: 20 } });
    expect(sig2.activeParameter).toBe(5);
    expect(await setText(SRC)).toEqual([]);
  });

  it('goes to definitions, finds references and renames blocks and parameters', async () => {
    const def = await c.request('textDocument/definition', { ...doc, position: at(SRC, 'stage(32', 1) });
    expect(def).toEqual([{ uri: URI, range: { start: at(SRC, 'stage'), end: at(SRC, 'stage', 5) } }]);
    const refs = await c.request('textDocument/references', { ...doc, position: at(SRC, 'channels', 1), context: { includeDeclaration: true } });
    expect(refs.length).toBe(2);
    const prep = await c.request('textDocument/prepareRename', { ...doc, position: at(SRC, 'convs', 1) });
    expect(prep.start).toEqual(at(SRC, 'convs'));
    const ren = await c.request('textDocument/rename', { ...doc, position: at(SRC, 'stage', 1), newName: 'vgg_stage' });
    expect(ren.changes[URI].length).toBe(3);
    const bad = await c.requestRaw('textDocument/rename', { ...doc, position: at(SRC, 'stage', 1), newName: 'repeat' });
    expect(bad.error?.message).toContain('keyword');
    const pr = await c.request('textDocument/rename', { ...doc, position: at(SRC, 'classes', 1), newName: 'n_classes' });
    expect(pr.changes[URI].length).toBe(2);
  });

  it('lists networks and blocks as document symbols', async () => {
    const syms = await c.request('textDocument/documentSymbol', doc);
    expect(syms.map((s: any) => `${s.kind}:${s.name}`)).toEqual(['12:stage', '5:Small']);
    expect(syms[1].detail).toContain('[3, 32, 32] → [10]');
    expect(syms[0].children.map((s: any) => s.name)).toEqual(['channels', 'convs']);
  });

  it('formats the document through the formatter, and refuses broken code', async () => {
    await setText('network   N { input [4]\n dense( 2 ,bias false)|relu }\n');
    const edits = await c.request('textDocument/formatting', { ...doc, options: { tabSize: 2, insertSpaces: true } });
    expect(edits.length).toBe(1);
    await setText('network N {\n  input [4]\n  dense(2, bias false) | relu\n}\n');
    expect(await c.request('textDocument/formatting', { ...doc, options: { tabSize: 2, insertSpaces: true } })).toEqual([]);
    await setText('network N {\n  input [4]\n  dense(2\n}\n');
    expect(await c.request('textDocument/formatting', { ...doc, options: { tabSize: 2, insertSpaces: true } })).toBeNull();
    expect(await setText(SRC)).toEqual([]);
  });

  it('publishes only the newest version after a burst of edits', async () => {
    const before = c.notifications.length;
    const base = version;
    for (let i = 0; i < 20; i++) {
      version++;
      c.notify('textDocument/didChange', { textDocument: { uri: URI, version }, contentChanges: [{ text: i % 2 === 0 ? SRC : SRC.replace('softmax', 'softmaxx') }] });
    }
    const last = await c.diagnosticsFor(URI, version);
    expect(last.params.diagnostics.map((d: any) => d.code)).toEqual(['E101']);
    // whatever was published in between came in version order, and nothing older follows the newest
    const seen = c.notifications.slice(before).filter((m) => m.method === 'textDocument/publishDiagnostics').map((m) => m.params.version);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
    expect(seen.every((v) => v > base)).toBe(true);
    expect(await setText(SRC)).toEqual([]);
  });
});

describe('robustness: whatever the buffer holds, the server answers and stays up', () => {
  const everything = async (text: string): Promise<void> => {
    const ds = await setText(text);
    expect(Array.isArray(ds)).toBe(true);
    const lines = text.split('\n');
    const probes = [0, Math.floor(lines.length / 2), lines.length - 1].map((line) => ({ line, character: Math.min(5, lines[line]!.length) }));
    for (const position of probes) {
      await c.request('textDocument/hover', { ...doc, position });
      await c.request('textDocument/completion', { ...doc, position });
      await c.request('textDocument/signatureHelp', { ...doc, position });
      await c.request('textDocument/definition', { ...doc, position });
      await c.request('textDocument/references', { ...doc, position, context: { includeDeclaration: true } });
      await c.request('textDocument/prepareRename', { ...doc, position });
    }
    await c.request('textDocument/inlayHint', { ...doc, range: { start: { line: 0, character: 0 }, end: { line: lines.length, character: 0 } } });
    await c.request('textDocument/documentSymbol', doc);
    await c.request('textDocument/codeAction', { ...doc, range: { start: { line: 0, character: 0 }, end: { line: lines.length, character: 0 } }, context: { diagnostics: [] } });
    await c.request('textDocument/formatting', { ...doc, options: { tabSize: 2, insertSpaces: true } });
  };

  it('half-typed calls and unbalanced braces', async () => {
    await everything('network N(classes = 10) {\n  input [3, 32, 32]\n  conv(16, 3, str\n  dense(\n');
    await everything('block b(c { conv(c, ) | }\n}}}\nnetwork { input [ ] : [\n');
    await everything('network N {\n  input [3, 8, 8]\n  residual { conv(3, 3, pad 1) } shortcut {\n  concat { branch { relu\n');
  });

  it('huge numbers', async () => {
    await everything('network N(c = 1e300) {\n  input [3, 1e300, 1e300]\n  conv(1e300, 1e300, stride 1e-300) | repeat 1e300 { relu } | dense(c * c)\n}\n');
    await everything('network N {\n  input [99999999999999999999, 3, 3]\n  repeat 1e9 { relu }\n  flatten | dense(123456789012345678901234567890)\n}\n');
  });

  it('binary garbage', async () => {
    let g = '';
    let seed = 42;
    for (let i = 0; i < 4000; i++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      g += String.fromCharCode(seed % 0xd7ff);
    }
    await everything(g);
    await everything('\u0000\u0001network\u0000 N {\uffff input [3] \ud800 }');
  });

  it('a 10,000-line file', async () => {
    const lines = ['block unit(c) {', '  conv(c, 3, pad 1) | batchnorm | relu', '}', '', 'network Big(classes = 10) {', '  input [8, 16, 16]'];
    // (an assertion on every tenth line keeps the file under the 100,000-token limit)
    while (lines.length < 9_997) lines.push(lines.length % 10 ? '  unit(8) | relu' : '  unit(8) | relu   : [8, 16, 16]');
    lines.push('  flatten | dense(classes)', '}');
    const text = lines.join('\n') + '\n';
    const t0 = Date.now();
    await everything(text);
    expect(Date.now() - t0).toBeLessThan(30_000);
    const hints = await c.request('textDocument/inlayHint', { ...doc, range: { start: { line: 5000, character: 0 }, end: { line: 5010, character: 0 } } });
    expect(hints.length).toBeGreaterThan(0);
    // typing fast in a big file: the edits are not each checked in turn, and the last one wins
    const before = c.notifications.length;
    for (let i = 0; i < 10; i++) {
      version++;
      const range = { start: { line: 100, character: 2 }, end: { line: 100, character: 2 } };
      c.notify('textDocument/didChange', { textDocument: { uri: URI, version }, contentChanges: [{ range, text: i === 9 ? 'bogus | ' : ' ' }] });
    }
    const last = await c.diagnosticsFor(URI, version, 30_000);
    expect(last.params.diagnostics.map((d: any) => d.code)).toEqual(['E101']);
    const published = c.notifications.slice(before).filter((m) => m.method === 'textDocument/publishDiagnostics');
    expect(published.length).toBeLessThan(10);
  }, 60_000);

  it('is still up and correct afterwards', async () => {
    expect(await setText(SRC)).toEqual([]);
    const h = await c.request('textDocument/hover', { ...doc, position: at(SRC, 'dense', 2) });
    expect(h.contents.value).toContain('output `[10]`');
    expect(c.exited).toBeNull();
  });
});

describe('`alexnetc lsp` from the command line', () => {
  const bin = path.join(ROOT, 'bin/alexnetc.js');
  it.skipIf(skipping('the server started through bin/alexnetc.js', !fs.existsSync(bin) && `${bin} is missing`))('starts the server via bin/alexnetc.js lsp', async () => {
    const cli = new LspClient(process.execPath, [bin, 'lsp']);
    try {
      const init = await cli.initialize();
      expect(init.serverInfo.name).toBe('alexnetc');
      const d = cli.diagnosticsFor('file:///x.net', 1);
      cli.notify('textDocument/didOpen', { textDocument: { uri: 'file:///x.net', languageId: 'alexnet', version: 1, text: 'network N {\n  input [4]\n  relux\n}\n' } });
      expect((await d).params.diagnostics[0].code).toBe('E101');
    } finally {
      await cli.shutdown();
    }
  });
});
