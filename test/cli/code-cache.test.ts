// `alexnetc check` runs dist/cli/bundle/check.cjs from V8's code cache
// (bin/alexnetc.js): the cache is made after a first run, used as it is by the
// next, made anew where it is spoiled, kept in the user's cache folder where
// the bundle's folder cannot take it, and a run never depends on it. Run on a
// copy of the bundle in a folder of the test's own, so that other tests'
// runs do not touch the cache looked at here.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const root = path.join(import.meta.dirname, '../..');
let dir: string;

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [path.join(dir, 'bin/alexnetc.js'), ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, XDG_CACHE_HOME: path.join(dir, 'user-cache'), ...env }, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const beside = () => path.join(dir, 'dist/cli/bundle/.v8-cache');
const caches = (d: string) => (existsSync(d) ? readdirSync(d).filter((f) => f.endsWith('.v8cache')) : []);

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'alexnetc-code-cache-'));
  mkdirSync(path.join(dir, 'bin'));
  mkdirSync(path.join(dir, 'dist/cli/bundle'), { recursive: true });
  copyFileSync(path.join(root, 'bin/alexnetc.js'), path.join(dir, 'bin/alexnetc.js'));
  copyFileSync(path.join(root, 'dist/cli/bundle/check.cjs'), path.join(dir, 'dist/cli/bundle/check.cjs'));
  copyFileSync(path.join(root, 'package.json'), path.join(dir, 'package.json'));
});

describe('the code cache of `alexnetc check`', () => {
  const expected = () => {
    const r = spawnSync(process.execPath, [path.join(root, 'bin/alexnetc.js'), 'check', 'specs/resnet.net'], { cwd: root, encoding: 'utf8', env: { ...process.env, ALEXNETC_NO_CODE_CACHE: '1' } });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it('is made by a first run, used unchanged by the next, made anew where spoiled', () => {
    const want = expected();
    expect(want.status).toBe(0);
    expect(run(['check', 'specs/resnet.net'])).toEqual(want);
    const [name] = caches(beside());
    const hash = /^\/\/ alexnetc check bundle (\w+)\n/.exec(readFileSync(path.join(dir, 'dist/cli/bundle/check.cjs'), 'latin1'))![1]!;
    expect(name).toMatch(new RegExp(`^check-${hash}-${process.version}-${process.arch}-[0-9a-f]{8}\\.v8cache$`));
    const file = path.join(beside(), name!);
    const first = statSync(file);
    expect(first.size).toBeGreaterThan(10_000);

    // used as it is: not written again
    expect(run(['check', 'specs/resnet.net'])).toEqual(want);
    expect(statSync(file).mtimeMs).toBe(first.mtimeMs);

    // spoiled: V8 refuses it, the run goes on, and a good one replaces it
    writeFileSync(file, Buffer.alloc(first.size, 7));
    expect(run(['check', 'specs/resnet.net'])).toEqual(want);
    expect(readFileSync(file).equals(Buffer.alloc(first.size, 7))).toBe(false);
    expect(caches(beside())).toEqual([name]);
  });

  it('gives the same diagnostics and exit codes from the cache', () => {
    for (const args of [['check', 'test/fixtures/does-not-exist.net'], ['check', 'specs/lenet5.net', '--json'], ['check', '--help'], ['check', 'specs/lenet5.net', '--nope']]) {
      const cached = run(args);
      const plain = spawnSync(process.execPath, ['--input-type=module', '-e', `import { main } from './dist/cli/main.js'; process.exitCode = await main(${JSON.stringify(args)});`], { cwd: root, encoding: 'utf8' });
      expect(cached, args.join(' ')).toEqual({ status: plain.status, stdout: plain.stdout, stderr: plain.stderr });
    }
  });

  it('goes to the user’s cache folder where the bundle’s folder cannot take it, and is not needed at all', () => {
    const other = mkdtempSync(path.join(os.tmpdir(), 'alexnetc-code-cache-'));
    mkdirSync(path.join(other, 'bin'));
    mkdirSync(path.join(other, 'dist/cli/bundle'), { recursive: true });
    copyFileSync(path.join(root, 'bin/alexnetc.js'), path.join(other, 'bin/alexnetc.js'));
    copyFileSync(path.join(root, 'dist/cli/bundle/check.cjs'), path.join(other, 'dist/cli/bundle/check.cjs'));
    copyFileSync(path.join(root, 'package.json'), path.join(other, 'package.json'));
    // a file where the cache folder would be: no folder can be made there (as the root user, permissions would not stop it)
    writeFileSync(path.join(other, 'dist/cli/bundle/.v8-cache'), 'not a folder');
    const env = { XDG_CACHE_HOME: path.join(other, 'user-cache') };
    const r = spawnSync(process.execPath, [path.join(other, 'bin/alexnetc.js'), 'check', 'specs/lenet5.net'], { cwd: root, encoding: 'utf8', env: { ...process.env, ...env } });
    expect(r.status, r.stderr).toBe(0);
    expect(caches(path.join(other, 'user-cache/alexnetc'))).toHaveLength(1);
    // nowhere to write at all: the run is the same
    writeFileSync(path.join(other, 'user-cache-file'), '');
    for (const e of [{ XDG_CACHE_HOME: path.join(other, 'user-cache-file') }, { ALEXNETC_NO_CODE_CACHE: '1' }]) {
      const s = spawnSync(process.execPath, [path.join(other, 'bin/alexnetc.js'), 'check', 'specs/lenet5.net'], { cwd: root, encoding: 'utf8', env: { ...process.env, HOME: path.join(other, 'user-cache-file'), ...e } });
      expect({ status: s.status, stderr: s.stderr }).toEqual({ status: 0, stderr: r.stderr });
    }
  });
});
