// `alexnetc.showDiagram` and the network hover, driven over stdio as an editor
// drives them. The SVG is read back by an XML parser nobody here wrote
// (Python's ElementTree), and what it must show is derived from the checked
// IR, not from the drawing code.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Network, Node } from '../../src/check/ir.js';
import { compile } from '../../src/compile.js';
import { readFromDisk } from '../../src/read-file.js';
import { describeCall, summarize } from '../../src/summary.js';
import { at, LspClient, pos, type Message } from './client.js';

const PYTHON = '/usr/bin/python3';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alexnetc-lsp-diagram-'));
const FILE = path.join(dir, 'small.net');
const URI = pathToFileURL(FILE).href;

// a library whose block calls another with arguments: its titles must be read from this file's text
const LIB = `# blocks shared by small.net; this comment shifts every offset against small.net
block cbr(c, k = 3) {
  conv(c, k, pad same) | batchnorm | relu
}

block pair(c) {
  cbr(c, k 1) | cbr(c)
}
`;

// two networks; the file is named like the second, its default
const SRC = `import "lib.net"

block stem(c) {
  cbr(c, k 3) | maxpool(2)
}

block only_small(c) {
  conv(c, 1) | relu
}

block unused(c) {
  conv(c, 1)
}

network Big(classes = 100) {
  input [3, 32, 32]
  stem(16) | stem(32)
  residual { cbr(32) | cbr(32) }
  flatten | dense(classes) | softmax
}

network Small(classes = 10) {
  input [1, 28, 28]
  stem(8)
  concat {
    branch { conv(4, 1) }
    branch { pair(4) }
  }
  only_small(8)   : [8, 14, 14]
  flatten | dense(classes) | softmax
}
`;

let c: LspClient;
let version = 1;

async function setText(text: string): Promise<any[]> {
  version++;
  const wait = c.diagnosticsFor(URI, version);
  c.notify('textDocument/didChange', { textDocument: { uri: URI, version }, contentChanges: [{ text }] });
  return (await wait).params.diagnostics;
}

const show = (args: unknown[]): Promise<Message> => c.requestRaw('workspace/executeCommand', { command: 'alexnetc.showDiagram', arguments: args }, 60_000);

interface Seen {
  root: string;
  stages: { path: string; kind: 'node' | 'group'; texts: string[] }[];
}

/** the SVG parsed as XML by Python's ElementTree: every element with a data-path and its texts */
function parseSvg(svg: string): Seen {
  const script = `
import json, sys, xml.etree.ElementTree as ET
root = ET.fromstring(sys.stdin.read())
NS = '{http://www.w3.org/2000/svg}'
out = []
for g in root.iter(NS + 'g'):
    if 'data-path' in g.attrib:
        out.append({'path': g.attrib['data-path'], 'kind': 'group' if 'group' in g.attrib.get('class', '').split() else 'node',
                    'texts': [''.join(t.itertext()) for t in g.findall(NS + 'text')]})
print(json.dumps({'root': root.tag, 'stages': out}))
`;
  const r = spawnSync(PYTHON, ['-c', script], { input: svg, encoding: 'utf8', timeout: 30_000 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Seen;
}

/** stage path → the title its box must show: the IR's layers (as summary writes them) and merges, and the block calls given */
function expected(net: Network, calls: Record<string, string>, expand: boolean): Map<string, string> {
  const inCall = (p: string): boolean => Object.keys(calls).some((b) => p.startsWith(`${b}/`));
  const out = new Map<string, string>();
  const walk = (nodes: readonly Node[]): void => {
    for (const n of nodes) {
      if (expand || !inCall(n.path)) out.set(n.path, n.kind === 'layer' ? describeCall(n.layer.name, n.layer.args, n.rawArgs) : n.kind === 'residual' ? 'add' : n.kind);
      if (n.kind === 'residual') {
        walk(n.body);
        if (n.shortcut) walk(n.shortcut);
      } else if (n.kind !== 'layer') for (const b of n.branches) walk(b);
    }
  };
  walk(net.body);
  for (const [p, title] of Object.entries(calls)) if (expand || !inCall(p)) out.set(p, title);
  return out;
}

function checked(name: string): Network {
  const r = compile(SRC, { all: true, file: FILE, readFile: readFromDisk });
  const net = r.networks.find((n) => n.name === name);
  expect(net, JSON.stringify(r.diagnostics)).toBeDefined();
  return net!;
}

beforeAll(async () => {
  fs.writeFileSync(path.join(dir, 'lib.net'), LIB);
  fs.writeFileSync(FILE, SRC);
  c = new LspClient();
  const init = await c.initialize();
  expect(init.capabilities.executeCommandProvider.commands).toEqual(['alexnetc.showDiagram']);
  const first = c.diagnosticsFor(URI, 1);
  c.notify('textDocument/didOpen', { textDocument: { uri: URI, languageId: 'alexnet', version: 1, text: SRC } });
  // only the unused block's warning
  expect((await first).params.diagnostics.map((d: any) => d.code)).toEqual(['W502']);
}, 30_000);

afterAll(async () => {
  await c?.shutdown();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('alexnetc.showDiagram', () => {
  it('draws the network under the cursor: every stage and block call, with its title, in an SVG that parses', async () => {
    const r = await show([{ uri: URI, position: at(SRC, 'concat {', 2) }]);
    expect(r.error).toBeUndefined();
    const res = r.result;
    expect(res.network).toBe('Small');
    expect(res.expanded).toBe(false);
    expect(res.range).toEqual({ start: at(SRC, 'network Small'), end: pos(SRC, SRC.lastIndexOf('}') + 1) });
    const seen = parseSvg(res.svg);
    expect(seen.root).toBe('{http://www.w3.org/2000/svg}svg');
    const want = expected(checked('Small'), { stem1: 'stem(8)', 'concat1/branch2/pair1': 'pair(4)', only_small1: 'only_small(8)' }, false);
    const boxes = seen.stages.filter((s) => s.path !== '');
    expect(new Set(boxes.map((s) => s.path))).toEqual(new Set(want.keys()));
    for (const s of boxes) expect(s.texts[0], s.path).toBe(want.get(s.path));
    expect(res.boxes).toBe(want.size);
    // the header names the network with its parameters
    expect(res.svg).toContain('Small(classes = 10)');
  });

  it('expanded: block calls become groups titled as written, also inside a block of an imported file', async () => {
    const r = await show([{ uri: URI, position: at(SRC, 'input [1, 28, 28]'), expand: true }]);
    expect(r.error).toBeUndefined();
    expect(r.result.expanded).toBe(true);
    const seen = parseSvg(r.result.svg);
    const calls = {
      stem1: 'stem(8)',
      'stem1/cbr1': 'cbr(c, k 3)',
      'concat1/branch2/pair1': 'pair(4)',
      // written in lib.net, whose text is not this document's
      'concat1/branch2/pair1/cbr1': 'cbr(c, k 1)',
      'concat1/branch2/pair1/cbr2': 'cbr(c)',
      only_small1: 'only_small(8)',
    };
    const want = expected(checked('Small'), calls, true);
    const groups = seen.stages.filter((s) => s.kind === 'group');
    expect(Object.fromEntries(groups.map((g) => [g.path, g.texts[0]]))).toEqual(calls);
    const nodes = seen.stages.filter((s) => s.kind === 'node' && s.path !== '');
    expect(new Set(nodes.map((s) => s.path))).toEqual(new Set([...want.keys()].filter((p) => !(p in calls))));
    for (const s of nodes) expect(s.texts[0], s.path).toBe(want.get(s.path));
  });

  it('picks the network for a position in a block, at the top of the file, or by name', async () => {
    const net = async (args: unknown[]): Promise<string> => {
      const r = await show(args);
      expect(r.error, JSON.stringify(args)).toBeUndefined();
      return r.result.network;
    };
    // a block both networks use: the first in source order
    expect(await net([{ uri: URI, position: at(SRC, 'maxpool(2)') }])).toBe('Big');
    // a block only the second uses
    expect(await net([{ uri: URI, position: at(SRC, 'relu\n}', 0, 0) }])).toBe('Small');
    // the import line: the file's default network (named like the file), though Big comes first
    expect(await net([{ uri: URI, position: { line: 0, character: 3 } }])).toBe('Small');
    // a blank line after a network belongs to it
    expect(await net([{ uri: URI, position: at(SRC, '}\n\nnetwork Small', 2) }])).toBe('Big');
    // by name, whatever the position; and the argument forms editors send
    expect(await net([{ uri: URI, position: { line: 0, character: 0 }, network: 'Big' }])).toBe('Big');
    expect(await net([{ textDocument: { uri: URI }, position: at(SRC, 'stem(16)') }])).toBe('Big');
    expect(await net([URI, at(SRC, 'only_small(8)'), { expand: true }])).toBe('Small');
  });

  it('answers with clear error responses, and the server stays up', async () => {
    // a block no network uses
    let r = await show([{ uri: URI, position: at(SRC, 'conv(c, 1)\n}') }]);
    expect(r.error?.code).toBe(-32803);
    expect(r.error?.message).toContain('block `unused` is not used by any network of this file that checks');
    r = await show([{ uri: URI, network: 'Medium' }]);
    expect(r.error?.message).toBe('no network `Medium` in this file (it has Big, Small)');
    r = await show([{ uri: 'file:///nowhere/else.net', position: { line: 0, character: 0 } }]);
    expect(r.error?.code).toBe(-32803);
    expect(r.error?.message).toContain('is not open');
    for (const bad of [[], [42], [{ position: { line: 0, character: 0 } }], [{ uri: URI, position: { line: -1, character: 0 } }], [{ uri: URI, expand: 'yes' }]]) {
      r = await show(bad);
      expect(r.error?.code, JSON.stringify(bad)).toBe(-32602);
      expect(r.error?.message).toContain('alexnetc.showDiagram takes');
    }
    r = await c.requestRaw('workspace/executeCommand', { command: 'alexnetc.nothing', arguments: [] });
    expect(r.error?.code).toBe(-32602);

    // a shape error in Small: Small is refused with the error's line; Big, which checks, still draws
    const broken = SRC.replace(': [8, 14, 14]', ': [8, 15, 14]');
    expect((await setText(broken)).map((d) => d.code)).toContain('E306');
    r = await show([{ uri: URI, position: at(broken, 'only_small(8)') }]);
    expect(r.error?.code).toBe(-32803);
    expect(r.error?.message).toMatch(new RegExp(`^network \`Small\` does not check \\(line ${at(broken, ': [8, 15').line + 1}: .*\\[8, 15, 14\\].*\\): fix it to see the diagram$`));
    r = await show([{ uri: URI, position: at(broken, 'stem(16)') }]);
    expect(r.result?.network).toBe('Big');

    // a syntax error anywhere: nothing is drawn from text the parser only guessed at
    const garbled = SRC.replace('block unused(c) {', 'block unused(c {');
    expect((await setText(garbled)).map((d) => d.code)).toContain('E002');
    r = await show([{ uri: URI, position: at(garbled, 'stem(16)') }]);
    expect(r.error?.code).toBe(-32803);
    expect(r.error?.message).toMatch(new RegExp(`^the file has syntax errors \\(line ${at(garbled, 'unused(c {').line + 1}: .*\\): fix them to see the diagram$`));

    // a broken imported block: the network that uses it says where
    fs.writeFileSync(path.join(dir, 'lib.net'), LIB.replace('pad same', 'pad same, strid 2'));
    await setText(SRC + '\n');
    r = await show([{ uri: URI, position: at(SRC, 'stem(16)') }]);
    expect(r.error?.message).toMatch(/^network `Big` does not check \(.*lib\.net:3: .*strid.*\): fix it to see the diagram$/);
    fs.writeFileSync(path.join(dir, 'lib.net'), LIB);
    await setText(SRC);
    r = await show([{ uri: URI, position: at(SRC, 'stem(16)') }]);
    expect(r.result?.network).toBe('Big');
    expect(c.exited).toBeNull();
  });

  it('draws the edited text, not the file on disk', async () => {
    const edited = SRC.replace('conv(4, 1) }', 'conv(4, 1) | relu }');
    await setText(edited);
    const r = await show([{ uri: URI, position: at(edited, 'network Small', 3) }]);
    const paths = parseSvg(r.result.svg).stages.map((s) => s.path);
    expect(paths).toContain('concat1/branch1/relu1');
    await setText(SRC);
  });
});

describe('hover on a network line', () => {
  it('shows the totals alexnetc summary prints', async () => {
    const s = summarize(checked('Big'));
    // batch norm: some parameters are not trained
    expect(s.nonTrainableParams).toBeGreaterThan(0);
    const int = (n: number): string => n.toLocaleString('en-US');
    for (const p of [at(SRC, 'network Big', 2), at(SRC, 'Big(', 1), at(SRC, '(classes = 100) {', 16)]) {
      const h = await c.request('textDocument/hover', { textDocument: { uri: URI }, position: p });
      const v: string = h.contents.value;
      expect(v).toContain('network Big(classes = 100)');
      expect(v).toContain('input `[3, 32, 32]` → output `[100]`');
      expect(v).toContain(`parameters ${int(s.totalParams)} (`);
      expect(v).toContain(`trainable ${int(s.trainableParams)}, not trained ${int(s.nonTrainableParams)}`);
      expect(v).toContain(`MACs ${int(s.totalMacs)} (`);
      expect(v).toContain(`weights ${(s.weightBytes / 2 ** 20).toFixed(2)} MiB as float32`);
      expect(h.range).toEqual({ start: at(SRC, 'network Big'), end: at(SRC, '(classes = 100) {', 17) });
    }
    // the same figures as the command line's summary
    const cli = spawnSync(process.execPath, [path.join(__dirname, '../../bin/alexnetc.js'), 'summary', FILE, '--network', 'Big'], { encoding: 'utf8' });
    expect(cli.status, cli.stderr).toBe(0);
    expect(cli.stdout).toContain(`Total params:         ${int(s.totalParams)}`);
    expect(cli.stdout).toContain(`Non-trainable params: ${int(s.nonTrainableParams)}`);
    expect(cli.stdout).toContain(`Weights size:         ${(s.weightBytes / 2 ** 20).toFixed(2)} MiB`);
    // a parameter on that line keeps its own hover; the body does not show the totals
    const param = await c.request('textDocument/hover', { textDocument: { uri: URI }, position: at(SRC, 'classes = 100', 1) });
    expect(param.contents.value).toContain('(parameter of Big) classes = 100');
    const body = await c.request('textDocument/hover', { textDocument: { uri: URI }, position: at(SRC, 'input [3, 32, 32]', 1) });
    expect(body?.contents.value ?? '').not.toContain('MACs');
  });

  it('says so for a network that does not check', async () => {
    const broken = SRC.replace(': [8, 14, 14]', ': [8, 15, 14]');
    await setText(broken);
    const h = await c.request('textDocument/hover', { textDocument: { uri: URI }, position: at(broken, 'network Small', 1) });
    expect(h.contents.value).toContain('does not check yet');
    await setText(SRC);
  });
});
