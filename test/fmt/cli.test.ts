// `alexnetc fmt FILE [--write | --check]` through fmtCommand, the function the CLI calls.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { fmtCommand } from '../../src/fmt/cli.js';

function sink(): { stream: Writable; text: () => string } {
  let s = '';
  const stream = new Writable({
    write(chunk, _enc, cb) {
      s += chunk.toString();
      cb();
    },
  });
  return { stream, text: () => s };
}

function tmp(name: string, text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alexnetc-fmt-'));
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
}

const MESSY = 'network N {\n input [4]\n relu|relu\n}\n';
const CLEAN = 'network N {\n  input [4]\n  relu | relu\n}\n';

describe('fmtCommand', () => {
  it('prints the formatted file', async () => {
    const out = sink();
    expect(await fmtCommand([tmp('a.net', MESSY)], { stdout: out.stream })).toBe(0);
    expect(out.text()).toBe(CLEAN);
  });

  it('--check exits 1 on an unformatted file and 0 on a formatted one', async () => {
    const err = sink();
    expect(await fmtCommand(['--check', tmp('a.net', MESSY)], { stderr: err.stream })).toBe(1);
    expect(err.text()).toContain('not formatted');
    expect(await fmtCommand(['--check', tmp('b.net', CLEAN)], { stderr: sink().stream })).toBe(0);
  });

  it('--write rewrites the file in place', async () => {
    const f = tmp('a.net', MESSY);
    expect(await fmtCommand([f, '--write'])).toBe(0);
    expect(fs.readFileSync(f, 'utf8')).toBe(CLEAN);
    expect(fs.readdirSync(path.dirname(f))).toEqual(['a.net']);
  });

  it('leaves files with syntax errors alone and exits 2', async () => {
    const f = tmp('a.net', 'network N {\n  input [4]\n  relu(\n}\n');
    const err = sink();
    expect(await fmtCommand([f, '--write'], { stderr: err.stream })).toBe(2);
    expect(err.text()).toMatch(/a\.net:\d+:\d+: error\[E002\]/);
    expect(fs.readFileSync(f, 'utf8')).toBe('network N {\n  input [4]\n  relu(\n}\n');
  });

  it('rejects bad usage', async () => {
    expect(await fmtCommand([], { stderr: sink().stream })).toBe(2);
    expect(await fmtCommand(['--frobnicate', 'x.net'], { stderr: sink().stream })).toBe(2);
    expect(await fmtCommand(['--check', '--write', 'x.net'], { stderr: sink().stream })).toBe(2);
    expect(await fmtCommand(['/nonexistent/x.net'], { stderr: sink().stream })).toBe(2);
  });
});
