// The command line, end to end: the real binary, real files, exit codes.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.join(import.meta.dirname, '../..');
const bin = path.join(root, 'bin/alexnetc.js');

function run(args: string[], cwd = root) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function tmp(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'alexnetc-cli-'));
}

describe('alexnetc compile', () => {
  it('writes an ONNX file for a shipped spec', () => {
    const out = path.join(tmp(), 'lenet.onnx');
    const r = run(['compile', 'specs/lenet5.net', '-o', out]);
    expect(r.stderr).toContain('wrote');
    expect(r.code).toBe(0);
    const bytes = readFileSync(out);
    expect(bytes.length).toBeGreaterThan(61_706 * 4);
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const d = tmp();
    for (const [name, seed] of [['a', '1'], ['b', '1'], ['c', '2']]) {
      expect(run(['compile', 'specs/lenet5.net', '--seed', seed!, '-o', path.join(d, `${name}.onnx`)]).code).toBe(0);
    }
    const [a, b, c] = ['a', 'b', 'c'].map((n) => readFileSync(path.join(d, `${n}.onnx`)));
    expect(a!.equals(b!)).toBe(true);
    expect(a!.equals(c!)).toBe(false);
  });

  it('reports errors with file:line:col, a code frame and a caret, exits 1 and writes nothing', () => {
    const d = tmp();
    const src = path.join(d, 'bad.net');
    writeFileSync(src, 'network Bad {\n  input [3, 224, 224]\n  conv(96, 11, stride 4) | relu   : [96, 55, 55]\n}\n');
    const out = path.join(d, 'bad.onnx');
    const r = run(['compile', src, '-o', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${src}:3:35: error[E306]: shape assertion failed: expected [96, 55, 55], but this stage produces [96, 54, 54]`);
    expect(r.stderr).toContain('3 |   conv(96, 11, stride 4) | relu   : [96, 55, 55]');
    expect(r.stderr).toContain('  |                                   ^^^^^^^^^^^^^^');
    expect(r.stderr).toContain('help: update the assertion to [96, 54, 54]');
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(d)).toEqual(['bad.net']);
  });

  it('--json prints machine-readable diagnostics', () => {
    const d = tmp();
    const src = path.join(d, 'bad.net');
    writeFileSync(src, 'network N {\n  input [3, 8, 8]\n  conv(4, 3, strid 2)\n}\n');
    const r = run(['check', src, '--json']);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.diagnostics).toHaveLength(1);
    expect(j.diagnostics[0]).toMatchObject({
      code: 'E103',
      severity: 'error',
      range: { line: 3, column: 14, endLine: 3, endColumn: 19 },
      fixes: [{ title: 'replace with `stride`', edits: [{ newText: 'stride' }] }],
    });
  });

  it('--network and --set pick and configure a network', () => {
    const out = path.join(tmp(), 'v.onnx');
    expect(run(['compile', 'specs/vgg.net', '-o', out]).stderr).toContain('choose one with --network NAME');
    // in a file with several networks, the one named like the file is the default
    expect(run(['compile', 'specs/alexnet.net', '-o', out]).stderr).toMatch(/wrote .* \(AlexNet, /);
    const r = run(['summary', 'specs/alexnet.net', '--network', 'AlexNetTorchvision', '--set', 'classes=10']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('→ output [10]');
    expect(r.stdout).toContain('Total params:         57,044,810');
  });

  it('never prints a stack trace for bad usage', () => {
    for (const args of [
      ['compile', 'no/such/file.net'],
      ['compile', 'specs'],
      ['compile', 'specs/lenet5.net', '--target', 'caffe'],
      ['compile', 'specs/lenet5.net', '--bogus'],
      ['compile', 'specs/lenet5.net', '--set', 'novalue'],
      ['frobnicate'],
    ]) {
      const r = run(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^alexnetc: /);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('refuses to write into a missing directory without leaving a temporary file', () => {
    const d = tmp();
    const r = run(['compile', 'specs/lenet5.net', '-o', path.join(d, 'missing', 'x.onnx')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot write/);
    expect(readdirSync(d)).toEqual([]);
  });

  it('survives binary garbage', () => {
    const d = tmp();
    const src = path.join(d, 'garbage.net');
    const bytes = Buffer.alloc(4096);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919 + 13) % 256;
    writeFileSync(src, bytes);
    const r = run(['check', src]);
    expect(r.code).toBe(1);
    // one error for a file that is not text, not one per byte
    expect(r.stderr).toContain('error[E003]');
    expect(r.stderr).not.toContain('internal error');
  });
});

describe('multi-file specs from the command line', () => {
  it('check, summary and compile follow `import`; a library of blocks has nothing to compile; a missing import is located', () => {
    const d = tmp();
    writeFileSync(path.join(d, 'common.net'), 'block cbr(c) {\n  conv(c, 3, pad 1) | batchnorm | relu\n}\n');
    writeFileSync(path.join(d, 'net.net'), 'import "common.net"\n\nnetwork Net {\n  input [3, 32, 32]\n  cbr(16)\n  cbr(32) | maxpool(2)\n  flatten\n  dense(10)\n}\n');
    const check = run(['check', path.join(d, 'net.net')]);
    expect(check.code, check.stderr).toBe(0);
    expect(check.stderr).toContain('Net: ok, output [10], 87,114 parameters');
    expect(run(['summary', path.join(d, 'net.net')]).stdout).toMatch(/^cbr2\/conv1 +conv\(32, 3, pad 1\)/m);
    expect(run(['compile', path.join(d, 'net.net'), '-o', path.join(d, 'net.onnx')]).code).toBe(0);
    const lib = run(['summary', path.join(d, 'common.net')]);
    expect(lib.code).toBe(1);
    expect(lib.stderr).toContain('error[E105]');
    writeFileSync(path.join(d, 'bad.net'), 'import "missing.net"\nnetwork N {\n  input [4]\n  relu\n}\n');
    const bad = run(['check', path.join(d, 'bad.net')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('bad.net:1:8: error[E117]');
    // an error inside the imported file is shown in that file, with its own code frame
    writeFileSync(path.join(d, 'common.net'), 'block cbr(c) {\n  conv(c, 3, pad 1, strid 2) | relu\n}\n');
    const inner = run(['check', path.join(d, 'net.net')]);
    expect(inner.code).toBe(1);
    expect(inner.stderr).toContain(`${path.join(d, 'common.net')}:2:21: error[E103]`);
    expect(inner.stderr).toContain('2 |   conv(c, 3, pad 1, strid 2) | relu');
  });
});

describe('many errors', () => {
  it('shows the first 20 errors and counts the rest; --json has them all', () => {
    const d = tmp();
    const src = path.join(d, 'many.net');
    const body = Array.from({ length: 60 }, (_, i) => `  conv(4, 3, strid${i} 1)`).join('\n');
    writeFileSync(src, `network N {\n  input [3, 64, 64]\n${body}\n}\n`);
    const r = run(['check', src]);
    expect(r.code).toBe(1);
    expect(r.stderr.match(/error\[E103\]/g)).toHaveLength(20);
    expect(r.stderr).toContain('… and 40 more errors (--json lists them all)');
    expect(r.stderr).toContain('60 errors');
    expect(JSON.parse(run(['check', src, '--json']).stdout).diagnostics).toHaveLength(60);
  });
});

describe('alexnetc summary', () => {
  it('prints the torchvision AlexNet totals', () => {
    const r = run(['summary', 'specs/alexnet.net', '--network', 'AlexNetTorchvision']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Total params:         61,100,840');
    expect(r.stdout).toContain('Total MACs:           714,188,480');
  });

  it('shows block paths', () => {
    const r = run(['summary', 'specs/vgg.net', '--network', 'VGG16']);
    expect(r.stdout).toMatch(/^stage2\/conv1 +conv\(128, 3, pad 1\) +\[128, 112, 112\] +73,856 +924,844,032$/m);
  });

  it('--json gives the rows', () => {
    const r = run(['summary', 'specs/lenet5.net', '--json']);
    const j = JSON.parse(r.stdout);
    expect(j.totalParams).toBe(61_706);
    expect(j.rows[0]).toMatchObject({ path: 'conv1', outShape: [6, 28, 28], params: 156 });
  });
});
