#!/usr/bin/env node
// The command line. `alexnetc check` runs dist/cli/bundle/check.cjs (one
// CommonJS file) compiled with a V8 code cache; every other command runs
// dist/cli/bundle/main.js (a few ES modules, see scripts/bundle-cli.mjs). Each
// bundle only when it is as new as the last build of dist/ (dist/.tsbuildinfo),
// else dist/cli/main.js itself (a `tsc` since the bundle).
//
// The code cache is V8's bytecode of check.cjs as it stands after a run (with
// the functions that run compiled), so that a start neither parses nor
// compiles them again. Its name holds the bundle's hash (its first line), Node's
// version, the architecture and Node's options; V8 checks it again on use (its
// own version and flags, the source's length), and a refused or missing one is
// made anew after the run. It lives in dist/cli/bundle/.v8-cache/ where that can
// be written, else in the user's cache folder; it is written to a temporary file
// and renamed, so that runs side by side read a whole one, and a cache that
// cannot be read or written costs the speed, never the run.
// ALEXNETC_NO_CODE_CACHE=1 turns it off.
//
// Node's own modules come through require(): an ES import of node:fs builds
// its ES facade, which loads fs's streams (a few milliseconds of every start).
const require = (process.getBuiltinModule?.('node:module') ?? (await import('node:module'))).createRequire(import.meta.url);
const fs = require('node:fs');
const path = require('node:path');

const dist = path.join(path.dirname(require('node:url').fileURLToPath(import.meta.url)), '..', 'dist');
const built = fs.statSync(path.join(dist, '.tsbuildinfo'), { throwIfNoEntry: false })?.mtimeMs;
function fresh(file) {
  const m = fs.statSync(file, { throwIfNoEntry: false })?.mtimeMs;
  return m !== undefined && (built === undefined || m >= built);
}

const argv = process.argv.slice(2);
const checkBundle = path.join(dist, 'cli', 'bundle', 'check.cjs');
let main;
let afterRun;
if (argv[0] === 'check' && fresh(checkBundle)) ({ main, afterRun } = loadWithCodeCache(checkBundle));
else ({ main } = await (fresh(path.join(dist, 'cli', 'bundle', 'main.js')) ? import('../dist/cli/bundle/main.js') : import('../dist/cli/main.js')));

main(argv).then(
  (code) => {
    process.exitCode = code;
    afterRun?.();
  },
  (e) => {
    // main() handles every expected failure; this is the last line of defence against a stack trace
    process.stderr.write(`alexnetc: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 70;
  },
);

/** Run a CommonJS bundle as Node's loader would, from V8's code cache where there is one; afterRun makes one where not. */
function loadWithCodeCache(file) {
  const vm = require('node:vm');
  const Module = require('node:module');
  // ASCII only (scripts/bundle-cli.mjs checks): latin1 reads it without decoding
  const source = fs.readFileSync(file, 'latin1');
  const hash = /^\/\/ alexnetc check bundle (\w+)\n/.exec(source.slice(0, 80))?.[1];
  const off = process.env.ALEXNETC_NO_CODE_CACHE === '1' || hash === undefined;
  const dirs = off ? [] : cacheDirs(path.dirname(file));
  const name = `check-${hash}-${process.version}-${process.arch}-${fnv([...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' '))}.v8cache`;
  let cachedData;
  for (const dir of dirs) {
    try {
      cachedData = fs.readFileSync(path.join(dir, name));
      break;
    } catch {
      // not there: the next place, or none
    }
  }
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
    cachedData,
    importModuleDynamically: vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const module = { exports: {} };
  script.runInThisContext().call(module.exports, module.exports, Module.createRequire(file), module, file, path.dirname(file));
  const stale = !off && (cachedData === undefined || script.cachedDataRejected === true);
  return { main: module.exports.main, afterRun: stale ? () => saveCodeCache(script, dirs, name) : undefined };
}

/** where the code cache may live, first choice first: beside the bundle, then the user's cache folder */
function cacheDirs(bundleDir) {
  const dirs = [path.join(bundleDir, '.v8-cache')];
  const env = process.env;
  let home;
  try {
    home = require('node:os').homedir();
  } catch {
    home = undefined;
  }
  const user = env.XDG_CACHE_HOME ? env.XDG_CACHE_HOME : process.platform === 'win32' ? env.LOCALAPPDATA : home && (process.platform === 'darwin' ? path.join(home, 'Library', 'Caches') : path.join(home, '.cache'));
  if (user && path.isAbsolute(user)) dirs.push(path.join(user, 'alexnetc'));
  return dirs;
}

/** write the cache (temporary file, then rename) in the first place that takes it; old caches of other bundles there go */
function saveCodeCache(script, dirs, name) {
  let data;
  try {
    data = script.createCachedData();
  } catch {
    return;
  }
  for (const dir of dirs) {
    const tmp = path.join(dir, `${name}.${process.pid}.tmp`);
    try {
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(tmp, data);
      fs.renameSync(tmp, path.join(dir, name));
    } catch {
      try {
        fs.rmSync(tmp, { force: true });
      } catch {
        // the folder itself is unusable
      }
      continue;
    }
    try {
      const week = Date.now() - 7 * 24 * 3600 * 1000;
      for (const f of fs.readdirSync(dir)) {
        if (f !== name && /^check-.*\.v8cache$/.test(f) && fs.statSync(path.join(dir, f)).mtimeMs < week) fs.rmSync(path.join(dir, f), { force: true });
      }
    } catch {
      // tidying is a courtesy
    }
    return;
  }
}

/** a short hash of a string (FNV-1a, 32 bits) */
function fnv(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}
