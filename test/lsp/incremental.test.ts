// What the language server keeps between checks (imported files, their
// parses, each network's checked result) must never change what it reports:
// after random edit sequences on every shipped spec, a generated 5,000-line
// file and a file importing another (changed on disk in between, with no
// watcher to say so), the diagnostics it publishes, its inlay hints (every
// stage's shapes) and a hover equal those of a check from scratch; in
// process, the kept check's diagnostics, stage facts and IR equal a full
// check's after each of a longer run of edits.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../../src/lsp/analysis.js';
import { diagnostics, hover, inlayHints } from '../../src/lsp/features.js';
import { SourceCache } from '../../src/lsp/files.js';
import { CheckCache } from '../../src/check/checker.js';
import type { Node } from '../../src/check/ir.js';
import { commonPrefix, commonSuffix, IncrementalParser } from '../../src/syntax/incremental.js';
import { parse } from '../../src/syntax/parse.js';
import { declAt } from '../../src/lsp/analysis.js';
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

/**
 * a long network that calls its blocks only near its end (`late`), and a
 * short one that calls them first thing: an edit in a block re-checks the
 * long one from its first call
 */
function lateCalls(lineCount: number): string {
  const out = ['block unit(c) {', '  conv(c, 3, pad 1, bias false) | batchnorm | relu', '}', '', 'block pair(c) {', '  unit(c) | unit(c)', '}', '', 'network Late(classes = 10) {', '  input [16, 32, 32]'];
  while (out.length < lineCount - 8) out.push(`  conv(16, 3, pad 1) | relu   # line ${out.length + 1}`);
  out.push('  unit(16) | maxpool(2)', '  pair(16)', '  unit(16)', '  globalavgpool | flatten', '  dense(classes)', '}', '', 'network Early {\n  input [16, 8, 8]\n  pair(16) | flatten | dense(2)\n}');
  return out.join('\n') + '\n';
}

/** what a check from scratch reports for the text (files read afresh from disk) */
function fresh(uri: string, text: string, version: number): unknown {
  const file = path.normalize(new URL(uri).pathname);
  const a = analyze(text, version, { file, readFile: (p) => fs.readFileSync(p, 'utf8') });
  return diagnostics(TextDocument.create(uri, 'alexnet', version, text), a);
}

/**
 * the server's inlay hints (every stage's shapes) and a hover at a random
 * place against those of a check from scratch (files read afresh from disk)
 */
async function sameFacts(uri: string, text: string, version: number, r: () => number, what: string, near: number): Promise<void> {
  const file = path.normalize(new URL(uri).pathname);
  const doc = TextDocument.create(uri, 'alexnet', version, text);
  const a = analyze(text, version, { file, readFile: (p) => fs.readFileSync(p, 'utf8') });
  // the whole document, or in a long one the 200 lines around the edit
  const line = doc.positionAt(near).line;
  const whole = doc.lineCount > 400 ? { start: { line: Math.max(0, line - 100), character: 0 }, end: { line: line + 100, character: 0 } } : { start: { line: 0, character: 0 }, end: doc.positionAt(text.length) };
  const plain = (x: unknown): unknown => JSON.parse(JSON.stringify(x ?? null));
  expect(await client.request('textDocument/inlayHint', { textDocument: { uri }, range: whole }), `${what}: inlay hints`).toEqual(plain(inlayHints(doc, a, whole)));
  const at = Math.floor(r() * (text.length + 1));
  expect(await client.request('textDocument/hover', { textDocument: { uri }, position: doc.positionAt(at) }), `${what}: hover at ${at}`).toEqual(plain(hover(doc, a, at)));
}

let dir: string;
let client: LspClient;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alexnetc-incremental-'));
  // every edit inside a block that several networks call publishes the block's diagnostics first (no
  // version), then the version's own: the comparisons below read the versioned ones
  process.env.ALEXNETC_LSP_PREVIEW_MS = '0';
  client = new LspClient();
  delete process.env.ALEXNETC_LSP_PREVIEW_MS;
  await client.initialize();
});
afterAll(async () => {
  await client.shutdown();
  fs.rmSync(dir, { recursive: true, force: true });
});

type LspDiag = { range: { start: { line: number; character: number }; end: { line: number; character: number } } };

/**
 * the diagnostics the server published first (without a version) for an edit from `was` to `now`: inside
 * the edited declaration, those of the edited network equal the whole check's there, and those of an
 * edited block are among them (its first caller's; a later caller may find more); returns how many came
 */
function compareFirsts(uri: string, was: string, now: string, version: number, firsts: { params: { diagnostics: LspDiag[] } }[], final: LspDiag[], what: string): number {
  if (!firsts.length) return 0;
  const max = Math.min(was.length, now.length);
  const P = commonPrefix(was, now, max);
  const d = declAt(parse(now).program, P)!;
  const doc = TextDocument.create(uri, 'alexnet', version, now);
  const [a, b] = [doc.positionAt(d.span.start), doc.positionAt(d.span.end)];
  const before = (p: { line: number; character: number }, q: { line: number; character: number }): boolean => p.line < q.line || (p.line === q.line && p.character <= q.character);
  const within = (x: LspDiag): boolean => before(a, x.range.start) && before(x.range.end, b);
  for (const f of firsts) {
    const mine = f.params.diagnostics.filter(within);
    if (d.kind === 'network') expect(mine, `${what}: the edited network's diagnostics first`).toEqual(final.filter(within));
    else for (const x of mine) expect(final, `${what}: the edited block's diagnostics first`).toContainEqual(x);
  }
  return firsts.length;
}

/**
 * open `text` as `name`, apply `edits` random edits one by one, comparing each published result with a
 * fresh check (the edited region's, published first, too); returns how many edits had their region's first
 */
async function editAndCompare(name: string, text: string, edits: number, seed: number, between?: (i: number) => void, edit = randomEdit): Promise<number> {
  const uri = pathToFileURL(path.join(dir, name)).href;
  let version = 1;
  let current = text;
  const opened = client.diagnosticsFor(uri, version, 60_000);
  client.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'alexnet', version, text } });
  expect((await opened).params.diagnostics, `${name} on opening`).toEqual(fresh(uri, current, version));
  const r = rng(seed);
  let firsts = 0;
  for (let i = 0; i < edits; i++) {
    between?.(i);
    const e = edit(current, r);
    const range = { start: pos(current, e.start), end: pos(current, e.end) };
    const was = current;
    current = current.slice(0, e.start) + e.insert + current.slice(e.end);
    version++;
    const from = client.notifications.length;
    const published = client.diagnosticsFor(uri, version, 60_000);
    client.notify('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [{ range, text: e.insert }] });
    const final = (await published).params.diagnostics;
    const what = `${name} after edit ${i + 1} (${JSON.stringify(e)})`;
    expect(final, what).toEqual(fresh(uri, current, version));
    const early = client.notifications.slice(from).filter((m) => m.method === 'textDocument/publishDiagnostics' && m.params.uri === uri && m.params.version === undefined);
    firsts += compareFirsts(uri, was, current, version, early, final, what) ? 1 : 0;
    await sameFacts(uri, current, version, r, `${name} after edit ${i + 1}`, e.start);
  }
  client.notify('textDocument/didClose', { textDocument: { uri } });
  return firsts;
}

describe('incremental re-checks equal a full check', () => {
  const specs = fs.readdirSync(path.join(ROOT, 'specs')).filter((f) => f.endsWith('.net')).sort();
  it.each(specs)('%s, after 25 random edits, and after 25 that keep it well formed', async (f) => {
    const text = fs.readFileSync(path.join(ROOT, 'specs', f), 'utf8');
    const firsts = (await editAndCompare(f, text, 25, f.length * 7919)) + (await editAndCompare(f, text, 25, f.length * 104729, undefined, gentleEdit));
    // a file of several networks gets the edited region's diagnostics first (the server's threshold is 0 here)
    if ((text.match(/^network /gm) ?? []).length > 1) expect(firsts, f).toBeGreaterThan(0);
    else expect(firsts, f).toBe(0);
  });

  it('a long network calling its blocks only near its end, after edits in its blocks and random ones', async () => {
    // digits and spaces of the blocks only
    const inBlocks = (text: string, r: () => number): { start: number; end: number; insert: string } => {
      const head = text.indexOf('network');
      const e = gentleEdit(text.slice(0, head), r);
      return e.end >= head ? { ...e, end: e.start } : e;
    };
    await editAndCompare('late.net', lateCalls(300), 8, 601, undefined, inBlocks);
    await editAndCompare('late.net', lateCalls(300), 4, 602);
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

  /**
   * Opens `text` and makes each edit [from, to, the region's lines, whether a first publish
   * comes, whether the region holds a mistake after it]: the publishes in order (the region's,
   * without a version, then the whole check's), the whole check's equal to a fresh one, and
   * the region's diagnostics in the first publish equal to the whole check's there.
   */
  async function regionsFirst(name: string, text: string, edits: [string, string, [number, number], boolean, boolean][]): Promise<void> {
    const uri = pathToFileURL(path.join(dir, name)).href;
    const opened = client.diagnosticsFor(uri, 1, 60_000);
    client.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'alexnet', version: 1, text } });
    expect((await opened).params.diagnostics).toEqual([]);
    let current = text;
    let version = 1;
    for (const [from, to, [lo, hi], first, mistake] of edits) {
      const at = current.indexOf(from);
      const range = { start: pos(current, at), end: pos(current, at + from.length) };
      current = current.slice(0, at) + to + current.slice(at + from.length);
      version++;
      const since = client.notifications.length;
      const whole = client.diagnosticsFor(uri, version, 60_000);
      client.notify('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [{ range, text: to }] });
      const w = await whole;
      expect(w.params.diagnostics, `after ${to}`).toEqual(fresh(uri, current, version));
      const mine = client.notifications.slice(since).filter((m) => m.method === 'textDocument/publishDiagnostics' && m.params.uri === uri);
      // in order: the region's (no version), then the whole check's
      expect(mine.map((m) => m.params.version ?? 'first'), `after ${to}`).toEqual(first ? ['first', version] : [version]);
      const inRegion = (d: { range: { start: { line: number } } }): boolean => d.range.start.line >= lo && d.range.start.line <= hi;
      if (first) expect(mine[0]!.params.diagnostics.filter(inRegion), `after ${to}`).toEqual(w.params.diagnostics.filter(inRegion));
      expect(w.params.diagnostics.filter(inRegion).length > 0, `after ${to}`).toBe(mistake);
    }
    client.notify('textDocument/didClose', { textDocument: { uri } });
  }

  it("an edit in a block that two networks call: the block's diagnostics first (as soon as its first caller is checked), then the whole check's", async () => {
    const text = 'block unit(c) {\n  conv(c, 3, pad 1) | relu\n}\n\nnetwork A {\n  input [3, 16, 16]\n  unit(8) | flatten | dense(2)\n}\n\nnetwork B {\n  input [3, 16, 16]\n  unit(4) | unit(8) | flatten | dense(2)\n}\n';
    // the block's own: the kernel's mistake in its line, and nothing elsewhere the last check did not report
    await regionsFirst('preview.net', text, [
      ['conv(c, 3', 'conv(c, 0', [0, 2], true, true],
      ['conv(c, 0', 'conv(c, 3', [0, 2], true, false],
    ]);
  });

  it("an edit in a network of a file with several, or in a block one network calls: the region's diagnostics first, then the whole check's", async () => {
    // `B` is checked last: an edit in it leaves nothing after it, and gets the whole check's only
    const text = 'block unit(c) {\n  conv(c, 3, pad 1) | relu\n}\n\nnetwork A {\n  input [3, 16, 16]\n  unit(8) | flatten | dense(2)\n}\n\nnetwork B {\n  input [3, 16, 16]\n  relu | flatten | dense(2)\n}\n';
    await regionsFirst('regions.net', text, [
      ['flatten | dense(2)', 'flatten | dense(0)', [4, 7], true, true],
      ['flatten | dense(0)', 'flatten | dense(2)', [4, 7], true, false],
      ['conv(c, 3', 'conv(c, 0', [0, 2], true, true],
      ['conv(c, 0', 'conv(c, 3', [0, 2], true, false],
      ['relu | flatten | dense(2)', 'relu | flatten | dense(0)', [9, 12], false, true],
    ]);
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

/** what a check found, as plain data: diagnostics, every stage fact and every network's IR (paths, shapes, spans, sizes) */
function facts(a: ReturnType<typeof analyze>): unknown {
  const node = (n: Node): unknown => {
    const base = [n.kind, n.path, n.inShape.join(), n.outShape.join(), n.span.start, n.span.end];
    switch (n.kind) {
      case 'layer':
        return [...base, n.layer.name, JSON.stringify(n.args), n.params, n.macs];
      case 'residual':
        return [...base, n.body.map(node), n.shortcut?.map(node) ?? null];
      case 'gate':
        return [...base, n.body.map(node)];
      default:
        return [...base, n.branches.map((b) => b.map(node))];
    }
  };
  return {
    diagnostics: a.result.diagnostics,
    stages: a.result.stageInfo.map((i) => [i.stage.span.start, i.stage.span.end, i.network, i.path, i.inShape.join(), i.outShape.join(), i.params, i.macs, i.layer?.name, JSON.stringify(i.rawArgs)]),
    networks: a.result.networks.map((n) => [n.name, n.input.join(), n.output.join(), n.totalParams, n.totalMacs, JSON.stringify(n.train), JSON.stringify(n.params), n.body.map(node)]),
    network: a.result.network?.name,
  };
}

/** a document's incremental parser and kept check, as the server holds them, and a check of a text through both */
function keptCheck(): { cache: CheckCache; check: (t: string) => ReturnType<typeof analyze> } {
  const parser = new IncrementalParser();
  const cache = new CheckCache();
  return { cache, check: (t) => analyze(t, 1, { parse: (x) => parser.parse(x), checkCache: cache }) };
}

/** apply `edits` edits, checking each version with the document's parser and kept check, and comparing with a check from scratch */
function keptEqualsFresh(name: string, text: string, edits: number, seed: number, edit: typeof randomEdit): CheckCache {
  const parser = new IncrementalParser();
  const cache = new CheckCache();
  const file = path.join(ROOT, 'specs', name);
  const both = (t: string, v: number): void => {
    const kept = analyze(t, v, { file, parse: (x) => parser.parse(x), checkCache: cache });
    expect(facts(kept), `${name}, version ${v}`).toEqual(facts(analyze(t, v, { file })));
  };
  let current = text;
  both(current, 1);
  const r = rng(seed);
  for (let i = 0; i < edits; i++) {
    const e = edit(current, r);
    current = current.slice(0, e.start) + e.insert + current.slice(e.end);
    both(current, i + 2);
  }
  return cache;
}

describe("the checker's kept results equal a full check (in process: diagnostics, stage facts, IR)", () => {
  const specs = fs.readdirSync(path.join(ROOT, 'specs')).filter((f) => f.endsWith('.net')).sort();
  it.each(specs)('%s, after 25 random edits and 25 that keep it well formed', (f) => {
    const text = fs.readFileSync(path.join(ROOT, 'specs', f), 'utf8');
    keptEqualsFresh(f, text, 25, f.length * 31, randomEdit);
    keptEqualsFresh(f, text, 25, f.length * 37, gentleEdit);
  });

  it('the generated 5,000-line file, after edits anywhere in it that keep it well formed, and random ones', () => {
    keptEqualsFresh('generated.net', generated(5000), 3, 77, gentleEdit);
    keptEqualsFresh('generated.net', generated(5000), 1, 78, randomEdit);
  });

  it('a long network calling its blocks only near its end, after edits in its blocks that keep it well formed, and random ones', () => {
    const inBlocks = (text: string, r: () => number): { start: number; end: number; insert: string } => {
      const head = text.indexOf('network');
      const e = gentleEdit(text.slice(0, head), r);
      return e.end >= head ? { ...e, end: e.start } : e;
    };
    keptEqualsFresh('late.net', lateCalls(300), 25, 603, inBlocks);
    keptEqualsFresh('late.net', lateCalls(300), 15, 604, gentleEdit);
    keptEqualsFresh('late.net', lateCalls(300), 15, 605, randomEdit);
  });

  it("re-checks a network that calls an edited block from the checkpoint before its first call of it, where the block's calls give something else", () => {
    for (const fromFirstCall of [true, false]) {
      const { cache, check } = keptCheck();
      cache.fromFirstCall = fromFirstCall;
      let text = lateCalls(600);
      check(text);
      const stages = cache.checked;
      // a kernel of 5 in `unit` (called by `pair` too): other shapes and parameters from the first call on
      text = text.replace('conv(c, 3', 'conv(c, 5');
      expect(facts(check(text))).toEqual(facts(analyze(text, 1)));
      // `Late` from the checkpoint before its first call (its last 9 stages and at most 16 before them), `Early` whole (3)
      if (fromFirstCall) expect(cache.checked).toBeLessThanOrEqual(9 + 16 + 3);
      else expect(cache.checked).toBe(stages);
      expect(cache.checked + cache.reused).toBe(stages);
      // and a mistake in the block, then its fix: reported and withdrawn as a full check does
      text = text.replace('conv(c, 5', 'conv(c, 0');
      expect(facts(check(text))).toEqual(facts(analyze(text, 1)));
      text = text.replace('conv(c, 0', 'conv(c, 3');
      expect(facts(check(text))).toEqual(facts(analyze(text, 1)));
      if (fromFirstCall) expect(cache.checked).toBeLessThanOrEqual(9 + 16 + 3);
    }
  });

  it("re-checks a long network's edited part only, after an edit near its start that leaves the state after that part as it was", () => {
    for (const stopEarly of [true, false]) {
      const { cache, check } = keptCheck();
      cache.stopEarly = stopEarly;
      let text = generated(1000);
      check(text);
      const stages = cache.checked;
      // a space in the 10th line: its part (about 100 lines) is parsed again, and checked from its checkpoint on
      const at = text.indexOf('# line 10') - 1;
      text = text.slice(0, at) + ' ' + text.slice(at);
      expect(facts(check(text))).toEqual(facts(analyze(text, 1)));
      if (stopEarly) expect(cache.checked).toBeLessThan(300);
      else expect(cache.checked).toBe(stages);
      // a mistake there (the assertion after it fails; the shapes meet again after it): reported, so the rest is checked
      text = text.replace('unit(16) | relu   : [16, 32, 32]   # line 12', 'unit(8) | relu   : [16, 32, 32]   # line 12');
      const wrong = check(text);
      expect(facts(wrong)).toEqual(facts(analyze(text, 1)));
      expect(wrong.result.diagnostics.length).toBeGreaterThan(0);
      expect(cache.checked).toBeGreaterThan(stages - 300);
      // and back: the last check reported on the way, so the rest is checked again too
      text = text.replace('unit(8) | relu', 'unit(16) | relu');
      expect(facts(check(text))).toEqual(facts(analyze(text, 1)));
      expect(cache.checked).toBeGreaterThan(stages - 300);
      // a space again: the part only
      text = text.replace('# line 11', ' # line 11');
      expect(facts(check(text))).toEqual(facts(analyze(text, 1)));
      if (stopEarly) expect(cache.checked).toBeLessThan(300);
      // then an edit near the end: the kept rest's checkpoints (moved) are right
      text = text.replace('dense(classes)', 'dense(classes )');
      expect(facts(check(text))).toEqual(facts(analyze(text, 1)));
      expect(cache.checked).toBeLessThan(300);
    }
  });

  it('re-checks only the end of a long network after an edit near its end, and no network an edit did not touch', () => {
    const { cache, check } = keptCheck();
    const text = generated(1000);
    check(text);
    // two stages on each of the network's lines, and its last three
    const stages = cache.checked;
    expect([stages, cache.reused]).toEqual([2 * (1000 - 9) + 3, 0]);
    const at = text.lastIndexOf('dense(classes)');
    const edited = text.slice(0, at) + 'dense(classes )' + text.slice(at + 'dense(classes)'.length);
    expect(facts(check(edited))).toEqual(facts(analyze(edited, 1)));
    // the last part of the network (about 100 lines) is checked again, the rest kept
    expect(cache.checked).toBeLessThan(300);
    expect(cache.checked + cache.reused).toBe(stages);
    // a second network, edited: the first is kept whole
    const two = `${text}\nnetwork Other {\n  input [4]\n  dense(3)\n}\n`;
    check(two);
    const changed = two.replace('dense(3)', 'dense(5)');
    expect(facts(check(changed))).toEqual(facts(analyze(changed, 1)));
    expect(cache.checked).toBe(1);
  });

  it("re-checks no stage of a network after an edit in a block that leaves what the block's calls give as it was, and works the stage facts out when asked", () => {
    const { cache, check } = keptCheck();
    const same = (t: string) => expect(facts(check(t)), t.slice(0, 80)).toEqual(facts(analyze(t, 1)));
    let text = generated(1000);
    check(text);
    const stages = cache.checked;
    // a space typed in the block, then `pad 1` written `pad same`: the same shapes, parameters and MACs
    text = text.replace('bias false)', 'bias false )');
    const a = check(text);
    expect([cache.checked, cache.stale]).toEqual([0, true]);
    expect(facts(a)).toEqual(facts(analyze(text, 1)));
    // the facts, worked out when asked, are kept: an edit near the network's end checks only its end
    expect(cache.stale).toBe(false);
    text = text.replace('dense(classes)', 'dense(classes )');
    same(text);
    expect(cache.checked).toBeLessThan(300);
    text = text.replace('pad 1', 'pad same');
    expect(check(text).result.diagnostics).toEqual(analyze(text, 1).result.diagnostics);
    expect([cache.checked, cache.stale]).toEqual([0, true]);
    // not asked for: the next edit near the end finds no facts to keep, and checks the network whole
    text = text.replace('dense(classes )', 'dense(classes)');
    same(text);
    expect([cache.checked, cache.stale]).toEqual([stages, false]);
    // a kernel of 5: other parameters, the network is checked again
    text = text.replace('conv(c, 3', 'conv(c, 5');
    same(text);
    expect([cache.checked, cache.stale]).toEqual([stages, false]);
    // a mistake in the block: reported as a full check reports it
    text = text.replace('conv(c, 5', 'conv(c, 0');
    same(text);
  });
});

describe('block bodies kept from the last check', () => {
  const text = 'block inner(c) {\n  conv(c, 3, pad 1) | relu\n}\n\nblock outer(c) {\n  inner(c) | inner(c)\n}\n\nnetwork N {\n  input [3, 16, 16]\n  outer(8) | outer(8)\n  flatten | dense(2)\n}\n';

  it('are replayed where every name they read means the same, and checked again where one does not', () => {
    const { cache, check } = keptCheck();
    const same = (t: string) => expect(facts(check(t)), t).toEqual(facts(analyze(t, 1)));
    let t = text;
    same(t);
    // `inner(8)` on [8, 16, 16] three times (once in the first `outer`, twice in the second): two replays
    expect(cache.replayed).toBe(2);
    // an edit in the network's last line: both calls of `outer` replayed whole from the last check
    t = t.replace('dense(2)', 'dense(3)');
    same(t);
    expect(cache.replayed).toBe(2);
    // `inner` edited (other shapes): `outer`'s kept body read the old `inner`, so it is checked again; and the
    // network, whose last check replayed `outer`, knows that it read `inner` (it is checked again too)
    t = t.replace('pad 1', 'pad 0');
    same(t);
    expect(cache.checked).toBeGreaterThan(0);
    t = t.replace('dense(3)', 'dense(4)');
    same(t);
    expect(cache.replayed).toBe(2);
    // a block declared with the name of one `outer` calls: its kept body no longer holds
    t = t.replace('block outer(c) {\n  inner(c) | inner(c)', 'block outer(c) {\n  inner2(c) | inner(c)').replace('network N', 'block inner2(c) {\n  relu\n}\n\nnetwork N');
    same(t);
    t = t.replace('block inner2(c) {\n  relu', 'block inner2(c) {\n  conv(c, 5) | relu');
    same(t);
    t = t.replace('dense(4)', 'dense(5)');
    same(t);
  });

  it('of a block with a mistake are not kept, nor replayed', () => {
    const { cache, check } = keptCheck();
    const same = (t: string) => expect(facts(check(t)), t).toEqual(facts(analyze(t, 1)));
    let t = text.replace('conv(c, 3, pad 1)', 'conv(c, 3, pad 1, nosuch 2)');
    same(t);
    t = t.replace('dense(2)', 'dense(3)');
    same(t);
    expect(cache.replayed).toBe(0);
    expect(check(t).result.diagnostics.length).toBeGreaterThan(0);
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
