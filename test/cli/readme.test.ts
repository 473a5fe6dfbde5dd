// The documented commands stay true: every command line the README and
// docs/*.md show uses only commands and flags that exist, the synopsis (in the
// README and in docs/cli.md) lists every command, and the quick commands
// (compile, check, summary, fmt, draw, import) run as written in a scratch
// copy of the repository's specs, exiting 0.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/commands/index.js';

const root = path.join(import.meta.dirname, '../..');
const bin = path.join(root, 'bin/alexnetc.js');
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
const docs = readdirSync(path.join(root, 'docs'))
  .filter((f) => f.endsWith('.md'))
  .map((f) => readFileSync(path.join(root, 'docs', f), 'utf8'));
const cliDoc = readFileSync(path.join(root, 'docs/cli.md'), 'utf8');

/** The contents of the shell code blocks (fences with no language, sh, bash or console) of the README and docs/*.md. */
function shellBlocks(): string[] {
  const blocks: string[] = [];
  let current: string[] | undefined;
  let shell = false;
  for (const line of [readme, ...docs].join('\n').split('\n')) {
    const fence = /^```(\w*)\s*$/.exec(line);
    if (fence && current === undefined) {
      current = [];
      shell = ['', 'sh', 'bash', 'console'].includes(fence[1]!);
    } else if (fence) {
      if (shell) blocks.push(current!.join('\n'));
      current = undefined;
    } else current?.push(line);
  }
  return blocks;
}

/** Every command line in them: `alexnetc …`, `npx alexnetc …`, `$ npx alexnetc …`, `… && npx alexnetc …` (synopsis continuation lines joined). */
function commandLines(): string[] {
  const lines: string[] = [];
  for (const block of shellBlocks()) {
    let current: string | undefined;
    for (const raw of block.replace(/\\\n\s*/g, ' ').split('\n')) {
      const line = raw.replace(/^\$ /, '');
      const m = /^(?:npx )?alexnetc (.*)$/.exec(line) ?? /&& (?:npx )?alexnetc (.*)$/.exec(line);
      if (current && !m && /^\s{6,}\[?--/.test(raw)) {
        current += ' ' + raw.trim(); // a synopsis continuation line
        continue;
      }
      if (current) lines.push(current);
      current = m?.[1];
    }
    if (current) lines.push(current);
  }
  return [...new Set(lines.map((l) => l.replace(/\s+#.*$/, '').trim()))]; // the README repeats docs/cli.md's synopsis
}

const help = new Map<string, string>();
function helpOf(cmd: string): string {
  if (!help.has(cmd)) help.set(cmd, spawnSync(process.execPath, [bin, cmd, '--help'], { encoding: 'utf8' }).stdout);
  return help.get(cmd)!;
}

describe('documented commands', () => {
  const lines = commandLines();

  it('finds the documented commands', () => {
    expect(lines.length).toBeGreaterThan(10);
  });

  it('the synopsis lists every command (README and docs/cli.md)', () => {
    for (const text of [readme, cliDoc]) {
      const synopsis = text.slice(text.indexOf('## Command line'));
      for (const c of COMMANDS) expect(synopsis, c.name).toMatch(new RegExp(`^alexnetc ${c.name}\\b`, 'm'));
    }
  });

  it('uses only commands and flags that exist', () => {
    const names = new Set(COMMANDS.map((c) => c.name));
    for (const line of lines) {
      const [cmd] = line.split(/\s+/);
      if (cmd!.startsWith('-')) continue; // alexnetc --version | --help
      expect(names.has(cmd!), line).toBe(true);
      const h = helpOf(cmd!);
      for (const f of line.match(/(?<![\w-])--[a-z][a-z0-9-]*/g) ?? []) {
        if (f === '--help') continue;
        expect(h.includes(f), `${line}: ${f} is not an option of ${cmd}`).toBe(true);
      }
    }
  });

  it('the quick ones run as written', () => {
    const quick = ['compile', 'check', 'summary', 'fmt', 'draw', 'import'];
    const dir = mkdtempSync(path.join(os.tmpdir(), 'alexnetc-readme-'));
    cpSync(path.join(root, 'specs'), path.join(dir, 'specs'), { recursive: true });
    let ran = 0;
    for (const line of lines) {
      const args = line.split(/\s+/);
      if (!quick.includes(args[0]!) || /[[\]|<>…]|FILE|DIR|OUT|RUN_DIR/.test(line)) continue; // synopsis forms, placeholders
      if (args.includes('--weights')) continue; // needs a trained run (tested in test/train-cli)
      const r = spawnSync(process.execPath, [bin, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
      expect(r.status, `${line}\n${r.stderr}`).toBe(0);
      ran++;
    }
    expect(ran).toBeGreaterThanOrEqual(3);
  });

  it('the summary shown is what summary prints', () => {
    const shown = /```\n\$ npx alexnetc (summary [^\n]+)\n([\s\S]*?)```/.exec(cliDoc)!;
    const r = spawnSync(process.execPath, [bin, ...shown[1]!.split(/\s+/)], { cwd: root, encoding: 'utf8' });
    for (const l of shown[2]!.split('\n').filter((x) => x && x !== '…')) expect(r.stdout).toContain(l);
  });
});
