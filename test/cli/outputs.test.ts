// Nothing the user did not ask to replace is destroyed (issue: "No lost
// files"): outputs that are inputs, foreign non-empty directories, and the
// temporaries an interrupted write leaves — through the real binary.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.join(import.meta.dirname, '../..');
const bin = path.join(root, 'bin/alexnetc.js');
const LENET = readFileSync(path.join(root, 'specs/lenet5.net'), 'utf8');

function run(args: string[], cwd = root) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const tmp = (): string => mkdtempSync(path.join(os.tmpdir(), 'alexnetc-out-'));

/** A directory with a spec in it, and a snapshot function of everything in it. */
function workspace() {
  const d = tmp();
  const src = path.join(d, 'net.net');
  writeFileSync(src, LENET);
  return { d, src };
}

describe('outputs that are inputs', () => {
  it('compile -o SOURCE is refused, exit 2, the source intact', () => {
    const { d, src } = workspace();
    const r = run(['compile', src, '-o', src]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`-o ${src} is a .net source name`);
    expect(readFileSync(src, 'utf8')).toBe(LENET);
    expect(readdirSync(d)).toEqual(['net.net']);
  });

  it('also through another spelling of the same path', () => {
    const { d } = workspace();
    const src = path.join(d, 'net');
    writeFileSync(src, LENET);
    const r = run(['compile', 'net', '-o', `../${path.basename(d)}/net`], d);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('refusing to overwrite the input');
    expect(readFileSync(src, 'utf8')).toBe(LENET);
  });

  it('--target tfjs -o SOURCE never replaces the source with a directory, even with --force', () => {
    const { src } = workspace();
    for (const extra of [[], ['--force']]) {
      const r = run(['compile', src, '--target', 'tfjs', '-o', src, ...extra]);
      expect(r.code).toBe(2);
      expect(statSync(src).isFile()).toBe(true);
      expect(readFileSync(src, 'utf8')).toBe(LENET);
    }
  });

  it('an input without a .net name: refused, exit 2, unless --force', () => {
    const { d } = workspace();
    const src = path.join(d, 'net');
    writeFileSync(src, LENET);
    const refused = run(['compile', src, '-o', src]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`refusing to overwrite the input ${src}`);
    expect(readFileSync(src, 'utf8')).toBe(LENET);
  });

  it('--force does overwrite the input when asked to (where its name does not say it is source)', () => {
    const { d } = workspace();
    const src = path.join(d, 'net');
    writeFileSync(src, LENET);
    const r = run(['compile', src, '-o', src, '--force']);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(src).subarray(0, 2).equals(Buffer.from(LENET).subarray(0, 2))).toBe(false);
  });
});

describe('directories', () => {
  it('--target tfjs into a non-empty foreign directory is refused and touches nothing', () => {
    const { d, src } = workspace();
    const out = path.join(d, 'important');
    mkdirSync(out);
    writeFileSync(path.join(out, 'notes.txt'), 'my notes');
    const r = run(['compile', src, '--target', 'tfjs', '-o', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/refusing to write into .*important: it holds files alexnetc did not write \(notes\.txt\)/);
    expect(readdirSync(out)).toEqual(['notes.txt']);
    expect(readdirSync(d).sort()).toEqual(['important', 'net.net']);
  });

  it('with --force it adds the model files and keeps everything else', () => {
    const { d, src } = workspace();
    const out = path.join(d, 'important');
    mkdirSync(out);
    writeFileSync(path.join(out, 'notes.txt'), 'my notes');
    const r = run(['compile', src, '--target', 'tfjs', '-o', out, '--force']);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['model.json', 'notes.txt', 'weights.bin']);
    expect(readFileSync(path.join(out, 'notes.txt'), 'utf8')).toBe('my notes');
  });

  it('replacing a previous model directory replaces only its own files', () => {
    const { d, src } = workspace();
    const out = path.join(d, 'model');
    expect(run(['compile', src, '--target', 'tfjs', '-o', out]).code).toBe(0);
    writeFileSync(path.join(out, 'README.md'), 'about this model');
    const before = readFileSync(path.join(out, 'weights.bin'));
    const r = run(['compile', src, '--target', 'tfjs', '-o', out, '--seed', '7']);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['README.md', 'model.json', 'weights.bin']);
    expect(readFileSync(path.join(out, 'weights.bin')).equals(before)).toBe(false); // really rewritten
    const meta = JSON.parse(readFileSync(path.join(out, 'model.json'), 'utf8')).userDefinedMetadata.alexnetc;
    expect(meta).toMatchObject({ network: 'LeNet5', layout: 'NHWC', inputShape: [1, 32, 32] });
    expect(readdirSync(d).sort()).toEqual(['model', 'net.net']); // no temporaries beside it
  });

  it('an ONNX output onto a directory is refused', () => {
    const { d, src } = workspace();
    mkdirSync(path.join(d, 'x.onnx'));
    const r = run(['compile', src, '-o', path.join(d, 'x.onnx')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is a directory');
  });

  it('train --out into a non-empty directory is refused', () => {
    const { d, src } = workspace();
    writeFileSync(path.join(d, 'keep.txt'), 'x');
    const r = run(['train', src, '--data', d, '--out', d]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('refusing to write the run into');
    expect(readdirSync(d).sort()).toEqual(['keep.txt', 'net.net']);
  });
});

/** Start a command, wait until its temporary appears in `dir`, send `signal`; resolve with the exit code. */
function interruptMidWrite(args: string[], dir: string, signal: NodeJS.Signals): Promise<{ code: number | null; stderr: string; sawTemp: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: root, env: { ...process.env, NO_COLOR: '1' } });
    let stderr = '';
    let sawTemp = false;
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const poll = setInterval(() => {
      if (readdirSync(dir).some((f) => f.endsWith('.tmp'))) {
        sawTemp = true;
        clearInterval(poll);
        child.kill(signal);
      }
    }, 5);
    child.on('exit', (code) => {
      clearInterval(poll);
      resolve({ code, stderr, sawTemp });
    });
  });
}

// a network whose ONNX file is ~130 MB: long enough to be caught mid-write
const BIG = 'network Big {\n  input [4096]\n  dense(4096) | dense(4096)\n}\n';

describe('an interrupted write leaves no temporary', () => {
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    it(`compile to ONNX, ${signal} → exit ${code}, nothing left`, async () => {
      const d = tmp();
      writeFileSync(path.join(d, 'big.net'), BIG);
      const r = await interruptMidWrite(['compile', path.join(d, 'big.net'), '-o', path.join(d, 'big.onnx')], d, signal);
      expect(r.sawTemp).toBe(true);
      expect(r.code, r.stderr).toBe(code);
      expect(readdirSync(d)).toEqual(['big.net']);
    });
  }

  it('compile --target tfjs, SIGINT → exit 130, no temporary directory left', async () => {
    const d = tmp();
    writeFileSync(path.join(d, 'big.net'), BIG);
    const r = await interruptMidWrite(['compile', path.join(d, 'big.net'), '--target', 'tfjs', '-o', path.join(d, 'model')], d, 'SIGINT');
    expect(r.sawTemp).toBe(true);
    expect(r.code, r.stderr).toBe(130);
    expect(readdirSync(d).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(existsSync(path.join(d, 'model', 'model.json'))).toBe(false);
  });
});
