// How to install alexnetc, as the docs and the VS Code extension tell it
// (issue 22, item 14): the package is not on the npm registry, so no
// instruction may send a user to `npm install alexnetc` / `npm i -g alexnetc`
// without saying so; installing from a clone (`npm pack`, `npm link`) must
// work: the packed package holds the command line and the library.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.join(import.meta.dirname, '../..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

const sources = [
  'README.md',
  ...readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`),
  'editors/vscode/README.md',
  'editors/vscode/extension.js',
];

/** a paragraph (or a line of code) that tells someone to install alexnetc from the registry */
const REGISTRY_INSTALL = /npm (i|install)( -g| --global)? alexnetc(?![-\w])/;

describe('installing alexnetc', () => {
  it('no instruction sends a user to the npm registry without saying it is not there yet', () => {
    const bad: string[] = [];
    for (const f of sources) {
      const paragraphs = readFileSync(path.join(root, f), 'utf8').split(/\n\s*\n/);
      for (const p of paragraphs) {
        if (REGISTRY_INSTALL.test(p) && !/not on the npm registry|once it is published|not published/i.test(p)) bad.push(`${f}: ${p.trim().slice(0, 120)}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('the README says how to install from a clone: npm pack and npm link', () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    expect(readme).toMatch(/npm pack/);
    expect(readme).toMatch(/npm install\s+\/path\/to\/alexnetc-[\d.]+\.tgz/);
    expect(readme).toMatch(/npm link/);
    const version = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version;
    expect(readme).toContain(`alexnetc-${version}.tgz`);
  });

  it('the packed package (npm pack) holds the command, the built library and what they load', () => {
    const out = execFileSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const files = new Set((JSON.parse(out) as [{ files: { path: string }[] }])[0].files.map((f) => f.path));
    for (const f of ['bin/alexnetc.js', 'dist/cli/main.js', 'dist/index.js', 'dist/index.d.ts', 'package.json', 'README.md', 'specs/lenet5.net']) expect(files.has(f), f).toBe(true);
    for (const f of files) expect(f.startsWith('node_modules/') || f.startsWith('test/'), f).toBe(false);
  });
});
