// One command layer: every command's --help (with examples), --version,
// "did you mean" for unknown commands and options, colour switches, and the
// exit codes — walked over the command list itself, so a new command is
// covered the moment it is registered.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/commands/index.js';

const root = path.join(import.meta.dirname, '../..');
const bin = path.join(root, 'bin/alexnetc.js');

function run(args: string[], env: Record<string, string> = { NO_COLOR: '1' }) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', timeout: 20_000, env: { ...process.env, NO_COLOR: '', FORCE_COLOR: '', ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, signal: r.signal };
}

describe('alexnetc --help', () => {
  it('lists every command with its summary and the exit codes', () => {
    const r = run(['--help']);
    expect(r.code).toBe(0);
    for (const c of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^  ${c.name}\\b.*`, 'm'));
    expect(r.stdout).toMatch(/130 +interrupted/);
    expect(r.stdout).toMatch(/70 +internal error/);
  });

  it('without a command prints the help on stderr and exits 2', () => {
    const r = run([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Usage: alexnetc');
  });

  it('--version', () => {
    const r = run(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^alexnetc \d+\.\d+\.\d+/);
  });

  for (const c of COMMANDS) {
    it(`${c.name} --help: usage, every option, examples; exits 0 without doing anything`, () => {
      const r = run([c.name, '--help']);
      expect(r.signal).toBeNull(); // lsp --help must not start the server (it would wait for a client)
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: alexnetc ${c.name}`);
      for (const o of c.options) expect(r.stdout).toContain(o.flags.split(/[ ,]/).find((f) => f.startsWith('--'))!);
      expect(r.stdout).toContain('Examples:');
      expect(c.examples.length).toBeGreaterThan(0);
      for (const [line] of c.examples) expect(r.stdout).toContain(line);
    });
  }
});

describe('bad usage: one line, a suggestion, exit 2', () => {
  it('an unknown command', () => {
    const r = run(['complie', 'x.net']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^alexnetc: unknown command 'complie'/);
    expect(r.stderr).toContain('Did you mean compile?');
  });

  it('an unknown option, on every command', () => {
    for (const c of COMMANDS) {
      if (c.allowUnknownOptions) continue;
      const r = run([c.name, 'specs/lenet5.net', '--jsonn']);
      expect(r.code, c.name).toBe(2);
      expect(r.stderr).toMatch(/^alexnetc: unknown option '--jsonn'/);
    }
    expect(run(['compile', 'specs/lenet5.net', '--outptu', 'x']).stderr).toContain('Did you mean --output?');
  });

  it('a value outside the choices names them', () => {
    const r = run(['compile', 'specs/lenet5.net', '--target', 'caffe']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Allowed choices are onnx, tfjs/);
  });
});

describe('colour', () => {
  const bad = ['check', 'test/fixtures/diagnostics/E306-assertion.net'];
  it('is off when NO_COLOR is set or stderr is not a terminal, on with --color or FORCE_COLOR', () => {
    expect(run(bad).stderr).not.toContain('\x1b[');
    expect(run(bad, {}).stderr).not.toContain('\x1b['); // not a terminal
    expect(run([...bad, '--color']).stderr).toContain('\x1b[1;31merror');
    expect(run(bad, { FORCE_COLOR: '1' }).stderr).toContain('\x1b[');
    expect(run([...bad, '--no-color'], { FORCE_COLOR: '1' }).stderr).not.toContain('\x1b[');
  });
});
