// `alexnetc draw` end to end: the real binary, real files, exit codes, the
// refusals every command shares, and the DOT output laid out by Graphviz.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { layers } from '../../src/check/ir.js';
import { compile } from '../../src/compile.js';
import { describeCall } from '../../src/summary.js';

const root = path.join(import.meta.dirname, '../..');
const bin = path.join(root, 'bin/alexnetc.js');
const spec = (f: string): string => path.join(root, 'specs', f);

function run(args: string[], cwd = root) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 64 * 2 ** 20 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.toString('utf8') };
}

const tmp = (): string => mkdtempSync(path.join(os.tmpdir(), 'alexnetc-draw-cli-'));
const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe('alexnetc draw', () => {
  it('writes SVG, PNG or DOT as the -o name says', () => {
    const d = tmp();
    for (const [name, check] of [
      ['lenet.svg', (b: Buffer) => expect(b.toString('utf8')).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="\d+" height="\d+"/)],
      ['lenet.png', (b: Buffer) => expect(b.subarray(0, 8).equals(PNG_MAGIC)).toBe(true)],
      ['lenet.dot', (b: Buffer) => expect(b.toString('utf8')).toContain('digraph "LeNet5" {')],
    ] as const) {
      const r = run(['draw', spec('lenet5.net'), '-o', path.join(d, name)]);
      expect(r.stderr).toMatch(new RegExp(`wrote .*${name.replace('.', '\\.')} \\(LeNet5, 13 boxes`));
      expect(r.code).toBe(0);
      check(readFileSync(path.join(d, name)));
    }
    // nothing else: no temporaries left behind
    expect(readdirSync(d).sort()).toEqual(['lenet.dot', 'lenet.png', 'lenet.svg']);
  });

  it('defaults to NETWORK.svg; --format picks the format and the default name', () => {
    const d = tmp();
    copyFileSync(spec('resnet.net'), path.join(d, 'resnet.net'));
    expect(run(['draw', 'resnet.net', '--network', 'ResNet34'], d).code).toBe(0);
    expect(run(['draw', 'resnet.net', '--network', 'ResNet18', '--format', 'png', '--scale', '1'], d).code).toBe(0);
    expect(readdirSync(d).sort()).toEqual(['ResNet18.png', 'ResNet34.svg', 'resnet.net']);
  });

  it('--expand shows the insides of block calls; --set reaches the drawing', () => {
    const collapsed = run(['draw', spec('resnet.net'), '--network', 'ResNet18', '-o', '-']).stdout.toString('utf8');
    const expanded = run(['draw', spec('resnet.net'), '--network', 'ResNet18', '--expand', '--set', 'classes=10', '-o', '-']).stdout.toString('utf8');
    expect(collapsed).toContain('>down(128)</text>');
    expect(collapsed).not.toContain('data-path="down1/residual1/shortcut/conv1"');
    expect(expanded).toContain('data-path="down1/residual1/shortcut/conv1"');
    expect(expanded).toContain('>conv(128, 1, stride 2, bias false)</text>');
    expect(expanded).toContain('ResNet18(classes = 10)');
    expect(expanded).toContain('>dense(10)</text>');
  });

  it('titles block calls written in an imported file with that file\'s text', () => {
    const d = tmp();
    writeFileSync(path.join(d, 'common.net'), 'block cbr(c) {\n  conv(c, 3, pad 1) | batchnorm | relu\n}\nblock two(a, b) {\n  cbr(a)\n  cbr(b)\n}\n');
    writeFileSync(path.join(d, 'net.net'), 'import "common.net"\n\nnetwork Net {\n  input [3, 32, 32]\n  two(16, 32) | maxpool(2)\n  flatten\n  dense(10)\n}\n');
    const r = run(['draw', 'net.net', '--expand', '-o', 'net.svg'], d);
    expect(r.code, r.stderr).toBe(0);
    const svg = readFileSync(path.join(d, 'net.svg'), 'utf8');
    expect(svg).toContain('two(16, 32)');
    expect(svg).toContain('cbr(a)');
    expect(svg).toContain('cbr(b)');
  });

  it('refuses a format it cannot tell or that contradicts the name (exit 2), writing nothing', () => {
    const d = tmp();
    const bad = run(['draw', spec('lenet5.net'), '-o', path.join(d, 'net.jpg')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('cannot tell the format from the name');
    const contra = run(['draw', spec('lenet5.net'), '--format', 'svg', '-o', path.join(d, 'net.png')]);
    expect(contra.code).toBe(2);
    expect(contra.stderr).toContain('--format svg contradicts the output name');
    const scale = run(['draw', spec('lenet5.net'), '--scale', '0', '-o', path.join(d, 'net.png')]);
    expect(scale.code).toBe(2);
    expect(readdirSync(d)).toEqual([]);
  });

  it('refuses to overwrite its input unless --force', () => {
    const d = tmp();
    const src = path.join(d, 'net.svg');
    writeFileSync(src, readFileSync(spec('lenet5.net')));
    const r = run(['draw', src, '-o', src]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`refusing to overwrite the input ${src}`);
    expect(readFileSync(src)).toEqual(readFileSync(spec('lenet5.net')));
  });

  it('a network with errors: located diagnostics, exit 1, nothing written', () => {
    const d = tmp();
    const src = path.join(d, 'bad.net');
    writeFileSync(src, 'network Bad {\n  input [3, 32, 32]\n  conv(8, 5) | maxpool(2)   : [8, 15, 15]\n}\n');
    const r = run(['draw', src, '-o', path.join(d, 'bad.png')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${src}:3:29: error[E306]`);
    expect(readdirSync(d)).toEqual(['bad.net']);
    const missing = run(['draw', spec('vgg.net'), '--network', 'VGG20', '-o', path.join(d, 'v.svg')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no network `VGG20` in this file');
  });

  it('a network too large to lay out is refused with what to do instead; DOT still works', () => {
    const d = tmp();
    const src = path.join(d, 'long.net');
    writeFileSync(src, 'network Long {\n  input [4, 8, 8]\n  repeat 600 { conv(4, 3, pad 1) | relu }\n}\n');
    const r = run(['draw', src, '-o', path.join(d, 'long.svg')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('alexnetc: Long drawn collapsed has 1,200 boxes, more than the 1,000 a diagram is laid out with; write --format dot');
    expect(run(['draw', src, '-o', path.join(d, 'long.dot')]).code).toBe(0);
    expect(readdirSync(d).sort()).toEqual(['long.dot', 'long.net']);
  });

  it('an unwritable output is the user’s to fix (exit 1), not an internal error', () => {
    const r = run(['draw', spec('lenet5.net'), '-o', path.join(tmp(), 'no', 'such', 'dir', 'x.svg')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^alexnetc: cannot write .*x\.svg/);
  });

  it("docs/inspect.md's picture is what its documented command draws today", () => {
    const out = path.join(tmp(), 'small.png');
    // the command docs/draw-example.net names in its header
    expect(run(['draw', 'docs/draw-example.net', '--expand', '-o', out]).code).toBe(0);
    const [fresh, committed] = [out, path.join(root, 'docs/draw-example.png')].map((f) => PNG.sync.read(readFileSync(f)));
    expect([committed!.width, committed!.height]).toEqual([fresh!.width, fresh!.height]);
    let same = 0;
    for (let i = 0; i < fresh!.data.length; i += 4) if (fresh!.data.readUInt32BE(i) === committed!.data.readUInt32BE(i)) same++;
    // equal but for anti-aliasing a rasteriser update might change
    expect(same / (fresh!.width * fresh!.height)).toBeGreaterThan(0.99);
    expect(readFileSync(path.join(root, 'docs/draw-example.png')).length).toBeLessThan(2 ** 20);
  });

  it('--json reports what was written', () => {
    const out = path.join(tmp(), 'g.svg');
    const r = run(['draw', spec('googlenet.net'), '--expand', '--json', '-o', out]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout.toString('utf8'));
    expect(j.output).toMatchObject({ path: out, format: 'svg', network: 'GoogLeNet', expanded: true, groups: 66 });
    expect(j.output.bytes).toBe(readFileSync(out).length);
  });
});

const hasDot = spawnSync('dot', ['-V']).status === 0;
if (!hasDot) console.warn('SKIPPED laying out the DOT output with Graphviz: `dot` is missing (apt-get install graphviz)');

describe.skipIf(!hasDot)('--format dot, laid out by Graphviz', () => {
  it('Graphviz reads it without a warning and draws every layer, every block call as a cluster', () => {
    const text = readFileSync(spec('googlenet.net'), 'utf8');
    const net = compile(text).network!;
    const dotText = run(['draw', spec('googlenet.net'), '--expand', '--format', 'dot', '-o', '-']).stdout;
    const g = spawnSync('dot', ['-Tsvg'], { input: dotText, maxBuffer: 64 * 2 ** 20 });
    expect(g.stderr.toString('utf8')).toBe('');
    expect(g.status).toBe(0);
    const svg = g.stdout.toString('utf8');
    // Graphviz writes one <g class="cluster"> per subgraph cluster: one per block call (9 inceptions, 57 cbr calls)
    expect(svg.match(/<g id="clust\d+" class="cluster">/g)).toHaveLength(66);
    for (const l of layers(net.body)) expect(svg).toContain(`>${describeCall(l.layer.name, l.layer.args, l.rawArgs)}</text>`);
    expect(svg.match(/>concat<\/text>/g)).toHaveLength(9);
  });
});
