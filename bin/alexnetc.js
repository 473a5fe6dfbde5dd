#!/usr/bin/env node
// The command line. `alexnetc check` and `alexnetc lsp` run a CommonJS bundle
// of their own (dist/cli/bundle/check.cjs, lsp.cjs) compiled with a V8 code
// cache; every other command runs dist/cli/bundle/main.js (a few ES modules,
// see scripts/bundle-cli.mjs). Each bundle only when it is as new as the last
// build of dist/ (dist/.tsbuildinfo), else dist/cli/main.js itself (a `tsc`
// since the bundle).
//
// This file is CommonJS (bin/package.json): Node starts an ES module entry
// through its ES module loader, which loads and compiles a dozen modules of
// its own (the resolver, fs/promises, readline, …) on every start.
//
// The code cache is V8's bytecode of the bundle as it stands after a run (with
// the functions that ran compiled), so that a start neither parses nor
// compiles them again. Its name holds the bundle's hash (its first line), Node's
// version, the architecture and Node's options; V8 checks it again on use (its
// own version and flags, the source's length), and a refused or missing one is
// made anew after the run (`check`: when it is done; `lsp`: when the server
// exits). It lives in dist/cli/bundle/.v8-cache/ where that can be written,
// else in the user's cache folder; it is written to a temporary file and
// renamed, so that runs side by side read a whole one, and a cache that cannot
// be read or written costs the speed, never the run.
// ALEXNETC_NO_CODE_CACHE=1 turns it off.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const dist = path.join(__dirname, '..', 'dist');
const built = fs.statSync(path.join(dist, '.tsbuildinfo'), { throwIfNoEntry: false })?.mtimeMs;
function fresh(file) {
  const m = fs.statSync(file, { throwIfNoEntry: false })?.mtimeMs;
  return m !== undefined && (built === undefined || m >= built);
}

const argv = process.argv.slice(2);
const own = argv[0] === 'check' || argv[0] === 'lsp' ? path.join(dist, 'cli', 'bundle', `${argv[0]}.cjs`) : undefined;
if (own !== undefined && fresh(own)) {
  const { main, saveCache } = loadWithCodeCache(own);
  if (saveCache && argv[0] === 'lsp') process.on('exit', saveCache);
  run(main, argv[0] === 'lsp' ? undefined : saveCache);
} else {
  import(fresh(path.join(dist, 'cli', 'bundle', 'main.js')) ? '../dist/cli/bundle/main.js' : '../dist/cli/main.js').then((m) => run(m.main), internalError);
}

function run(main, afterRun) {
  main(argv).then((code) => {
    process.exitCode = code;
    afterRun?.();
  }, internalError);
}

// main() handles every expected failure; this is the last line of defence against a stack trace
function internalError(e) {
  process.stderr.write(`alexnetc: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 70;
}

/** Run a CommonJS bundle as Node's loader would, from V8's code cache where there is one; saveCache makes one where not. */
function loadWithCodeCache(file) {
  const vm = require('node:vm');
  const Module = require('node:module');
  // ASCII only (scripts/bundle-cli.mjs checks): latin1 reads it without decoding
  const source = fs.readFileSync(file, 'latin1');
  const [, kind, hash] = /^\/\/ alexnetc (\w+) bundle (\w+)\n/.exec(source.slice(0, 80)) ?? [];
  const off = process.env.ALEXNETC_NO_CODE_CACHE === '1' || hash === undefined;
  const name = `${kind}-${hash}-${process.version}-${process.arch}-${fnv([...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' '))}.v8cache`;
  const dirs = off ? [] : cacheDirs(path.dirname(file));
  let cachedData;
  for (const dir of dirs) {
    try {
      cachedData = fs.readFileSync(path.join(dir(), name));
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
  return { main: module.exports.main, saveCache: stale ? () => saveCodeCache(script, dirs, name, kind) : undefined };
}

/** where the code cache may live, first choice first: beside the bundle, then the user's cache folder (each looked up only when asked) */
function cacheDirs(bundleDir) {
  const user = () => {
    const env = process.env;
    let home;
    try {
      home = env.HOME || require('node:os').homedir();
    } catch {
      home = undefined;
    }
    const dir = env.XDG_CACHE_HOME ? env.XDG_CACHE_HOME : process.platform === 'win32' ? env.LOCALAPPDATA : home && (process.platform === 'darwin' ? path.join(home, 'Library', 'Caches') : path.join(home, '.cache'));
    return dir && path.isAbsolute(dir) ? path.join(dir, 'alexnetc') : undefined;
  };
  return [() => path.join(bundleDir, '.v8-cache'), user];
}

/** write the cache (temporary file, then rename) in the first place that takes it; old caches of other bundles of this kind there go */
function saveCodeCache(script, dirs, name, kind) {
  let data;
  try {
    data = script.createCachedData();
  } catch {
    return;
  }
  for (const where of dirs) {
    const dir = where();
    if (dir === undefined) continue;
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
        if (f !== name && f.startsWith(`${kind}-`) && f.endsWith('.v8cache') && fs.statSync(path.join(dir, f)).mtimeMs < week) fs.rmSync(path.join(dir, f), { force: true });
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
