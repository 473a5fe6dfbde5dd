// What the language server keeps between checks (imported files, their
// parses) must never change what it reports: after random edit sequences on
// every shipped spec, a generated 5,000-line file and a file importing
// another (changed on disk in between, with no watcher to say so), the
// diagnostics it publishes equal those of a check from scratch.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../../src/lsp/analysis.js';
import { diagnostics } from '../../src/lsp/features.js';
import { SourceCache } from '../../src/lsp/files.js';
import { LspClient, pos, ROOT } from './client.js';
import { rng } from '../mulberry32.js';

const SNIPPETS = [' ', '\n', '(', ')', '{', '}', '[', ']', ',', '|', ':', '#', '3', '0', 'relu', 'conv(8, 3)', 'x', 'pad 1', 'block', 'network N {', 'residual {', '  dense(10)\n'];

/** a random edit: delete a few characters, insert a snippet, or replace a few with one */
function randomEdit(text: string, r: () => number): { start: number; end: number; insert: string } {
  const start = Math.floor(r() * (text.length + 1));
  const kind = r();
  const del = kind < 0.66 ? Math.min(text.length - start, Math.floor(r() * 4)) : 0;
  const insert = kind < 0.33 ? '' : SNIPPETS[Math.floor(r() * SNIPPETS.length)]!;
  return { start, end: start + del, insert };
}

/**
 * an edit that keeps the text well formed: a digit replaced by another (a
 * size, a count, a stride changes: shapes and errors follow), or a space
 * typed or deleted
 */
function gentleEdit(text: string, r: () => number): { start: number; end: number; insert: string } {
  const digits: number[] = [];
  for (let i = 0; i < text.length; i++) if (text[i]! >= '0' && text[i]! <= '9') digits.push(i);
  if (digits.length && r() < 0.7) {
    const at = digits[Math.floor(r() * digits.length)]!;
    return { start: at, end: at + 1, insert: String(1 + Math.floor(r() * 9)) };
  }
  const spaces: number[] = [];
  for (let i = 0; i < text.length; i++) if (text[i] === ' ') spaces.push(i);
  const at = spaces[Math.floor(r() * spaces.length)] ?? 0;
  return r() < 0.5 ? { start: at, end: at, insert: ' ' } : { start: at, end: Math.min(text.length, at + 1), insert: '' };
}

function generated(lineCount: number): string {
  const out = ['block unit(c) {', '  conv(c, 3, pad 1, bias false) | batchnorm | relu', '}', '', 'network Generated(classes = 10) {', '  input [16, 32, 32]'];
  while (out.length < lineCount - 3) out.push(`  unit(16) | relu   : [16, 32, 32]   # line ${out.length + 1}`);
  out.push('  globalavgpool | flatten', '  dense(classes)', '}');
  return out.join('\n') + '\n';
}

/** what a check from scratch reports for the text (files read afresh from disk) */
function fresh(uri: string, text: string, version: number): unknown {
  const file = path.normalize(new URL(uri).pathname);
  const a = analyze(text, version, { file, readFile: (p) => fs.readFileSync(p, 'utf8') });
  return diagnostics(TextDocument.create(uri, 'alexnet', version, text), a);
}

let dir: string;
let client: LspClient;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alexnetc-incremental-'));
  client = new LspClient();
  await client.initialize();
});
afterAll(async () => {
  await client.shutdown();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** open `text` as `name`, apply `edits` random edits one by one, comparing each published result with a fresh check */
async function editAndCompare(name: string, text: string, edits: number, seed: number, between?: (i: number) => void, edit = randomEdit): Promise<void> {
  const uri = pathToFileURL(path.join(dir, name)).href;
  let version = 1;
  let current = text;
  const opened = client.diagnosticsFor(uri, version, 60_000);
  client.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'alexnet', version, text } });
  expect((await opened).params.diagnostics, `${name} on opening`).toEqual(fresh(uri, current, version));
  const r = rng(seed);
  for (let i = 0; i < edits; i++) {
    between?.(i);
    const e = edit(current, r);
    const range = { start: pos(current, e.start), end: pos(current, e.end) };
    current = current.slice(0, e.start) + e.insert + current.slice(e.end);
    version++;
    const published = client.diagnosticsFor(uri, version, 60_000);
    client.notify('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [{ range, text: e.insert }] });
    expect((await published).params.diagnostics, `${name} after edit ${i + 1} (${JSON.stringify(e)})`).toEqual(fresh(uri, current, version));
  }
  client.notify('textDocument/didClose', { textDocument: { uri } });
}

describe('incremental re-checks equal a full check', () => {
  const specs = fs.readdirSync(path.join(ROOT, 'specs')).filter((f) => f.endsWith('.net')).sort();
  it.each(specs)('%s, after 25 random edits, and after 25 that keep it well formed', async (f) => {
    const text = fs.readFileSync(path.join(ROOT, 'specs', f), 'utf8');
    await editAndCompare(f, text, 25, f.length * 7919);
    await editAndCompare(f, text, 25, f.length * 104729, undefined, gentleEdit);
  });

  it('a generated 5,000-line file, after a random edit and one that keeps it well formed', async () => {
    await editAndCompare('generated.net', generated(5000), 1, 5000);
    await editAndCompare('generated.net', generated(5000), 1, 5001, undefined, gentleEdit);
  });

  it('the generated file, edited inside its block (the network is parsed once and moved, not parsed again)', async () => {
    // digits and spaces of the block's line only: the network after it keeps its text and moves
    const inBlock = (text: string, r: () => number): { start: number; end: number; insert: string } => {
      const e = gentleEdit(text.slice(0, text.indexOf('}')), r);
      return e.end >= text.indexOf('}') ? { ...e, end: e.start } : e;
    };
    await editAndCompare('generated-block.net', generated(5000), 4, 5003, undefined, inBlock);
  });

  it('a file importing another, which changes on disk between edits without a watcher telling the server', async () => {
    const lib = path.join(dir, 'lib.net');
    // each version reports differently: fine, an unknown layer in the file, a call with an argument too many, a shape error
    const blocks = [
      'block stem(c) {\n  conv(c, 3, pad 1) | relu\n}\n',
      'block stem(c) {\n  conv(c, 3) | nosuchlayer\n}\n',
      'block stem {\n  relu\n}\n',
      'block stem(c) {\n  conv(c, 3) | maxpool(40)\n}\n',
    ];
    fs.writeFileSync(lib, blocks[0]!);
    const main = 'import "lib.net"\n\nnetwork Main {\n  input [3, 32, 32]\n  stem(8) | maxpool(2)\n  stem(16)\n  flatten | dense(10)\n}\n';
    await editAndCompare(
      'main.net',
      main,
      24,
      42,
      (i) => {
        // a different size each time: the server notices by the file's stat
        if (i % 3 === 2) fs.writeFileSync(lib, blocks[((i - 2) / 3 + 1) % blocks.length]! + '#'.repeat(i));
      },
      gentleEdit,
    );
  });
});

describe('SourceCache', () => {
  it('reads and parses an unchanged imported file once, and again once it changes on disk', () => {
    const lib = path.join(dir, 'cached.net');
    fs.writeFileSync(lib, 'block b {\n  relu\n}\n');
    const cache = new SourceCache({ all: () => [] });
    const main = 'import "cached.net"\nnetwork N {\n  input [4]\n  b | dense(2)\n}\n';
    const check = () => analyze(main, 1, { file: path.join(dir, 'main.net'), readFile: cache.readFile, parseFile: cache.parseFile });
    for (let i = 0; i < 5; i++) expect(check().result.diagnostics).toEqual([]);
    expect([cache.reads, cache.parses]).toEqual([1, 1]);
    fs.writeFileSync(lib, 'block b {\n  relu | dense(3)\n}\n');
    const after = check();
    expect([cache.reads, cache.parses]).toEqual([2, 2]);
    expect(after.result.network?.output).toEqual([2]);
  });

  it('an open document wins over the disk, and is never read from it', () => {
    const lib = path.join(dir, 'open.net');
    fs.writeFileSync(lib, 'block b {\n  relu\n}\n');
    const cache = new SourceCache({ all: () => [{ uri: pathToFileURL(lib).href, getText: () => 'block b {\n  nosuchlayer\n}\n' }] });
    const a = analyze('import "open.net"\nnetwork N {\n  input [4]\n  b\n}\n', 1, { file: path.join(dir, 'main.net'), readFile: cache.readFile, parseFile: cache.parseFile });
    expect(a.result.diagnostics.map((d) => d.code)).toContain('E101');
    expect(cache.reads).toBe(0);
  });
});
