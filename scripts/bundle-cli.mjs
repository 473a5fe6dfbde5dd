// The command line as a few files (dist/cli/bundle/): Node loads a module per
// file, and the compiler's path with Chevrotain and its lodash-es is some four
// hundred files, most of `alexnetc check`'s start. esbuild bundles dist/cli/main.js
// and everything it imports, the commands' lazily imported machinery as separate
// chunks (loaded when a command runs, as before); packages with native parts or
// of their own size (tfjs, onnxruntime, resvg, elkjs, protobufjs, …) stay
// outside, imported from node_modules. bin/alexnetc.js runs the bundle when it
// is at least as new as the last `tsc` (dist/.tsbuildinfo), else dist/ itself.
//
// `import.meta.url` in a bundled module still means the module's own place in
// dist/ (so the paths it builds from it, to package.json, the fonts, the
// PyTorch worker, stay right): each use is rewritten to that file's URL
// relative to the chunk's folder.
//
// `alexnetc check` has a bundle of its own besides (dist/cli/bundle/check.cjs):
// one CommonJS file of everything main.js imports statically, which
// bin/alexnetc.js compiles with a V8 code cache (see bin/alexnetc.js). A
// command that imports its machinery lazily is not in it: such an import there
// is an internal error, and bin/alexnetc.js runs only `check` from it. Its first
// line names a hash of the rest, which keys the code cache.
//
// Both have the AST parser's table (src/syntax/lookahead.ts) in place of
// dist/syntax/lookahead-table.js's `undefined`: the grammar the built parser
// records and its lookahead paths, computed here by Chevrotain, so that the
// bundled parser neither records nor computes them at start; written beside
// them as lookahead.json (test/syntax/lookahead.test.ts compares it with the
// sources').
//   node scripts/bundle-cli.mjs [--quiet]
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const outdir = path.join(root, 'dist', 'cli', 'bundle');
/** the packages bundled in: pure JavaScript of many small modules, on the path of every command */
const BUNDLED = new Set(['chevrotain', '@chevrotain/cst-dts-gen', '@chevrotain/gast', '@chevrotain/regexp-to-ast', '@chevrotain/utils', 'lodash-es', 'commander', 'vscode-languageserver', 'vscode-languageserver-textdocument', 'vscode-languageserver-protocol', 'vscode-languageserver-types', 'vscode-jsonrpc']);

/** the bundle of `alexnetc check` (CommonJS, for a V8 code cache), in outdir */
export const CHECK_BUNDLE = 'check.cjs';

/** `cjs`: the check bundle, where a module's own URL is built from __dirname and a lazy import of the house's code is an error */
const plugin = (cjs, table) => ({
  name: 'alexnetc-cli',
  setup(b) {
    // commander needs child_process only to run a command that is a program of its own (none here): loading
    // it is several milliseconds of every start, so commander gets it on first use
    b.onResolve({ filter: /^node:child_process$/ }, (a) => (/[\\/]node_modules[\\/]commander[\\/]/.test(a.importer) ? { path: 'child_process', namespace: 'on-first-use' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'on-first-use' }, () => ({ contents: `module.exports = new Proxy({}, { get: (_, k) => require("node:child_process")[k] });`, loader: 'js' }));
    b.onLoad({ filter: /[\\/]dist[\\/]syntax[\\/]lookahead-table\.js$/ }, () => ({ contents: `export const LOOKAHEAD_TABLE = ${JSON.stringify(table)};`, loader: 'js' }));
    if (cjs) {
      b.onResolve({ filter: /^\./ }, (a) => (a.kind === 'dynamic-import' ? { path: a.path, namespace: 'lazy' } : undefined));
      b.onLoad({ filter: /.*/, namespace: 'lazy' }, (a) => ({ contents: `throw new Error(${JSON.stringify(`${a.path} is not in dist/cli/bundle/${CHECK_BUNDLE} (only \`check\` runs from it)`)});`, loader: 'js' }));
    }
    b.onResolve({ filter: /^[^./]/ }, (a) => {
      if (a.path.startsWith('node:')) return { external: true };
      const name = a.path.startsWith('@') ? a.path.split('/').slice(0, 2).join('/') : a.path.split('/')[0];
      return BUNDLED.has(name) ? undefined : { external: true };
    });
    b.onLoad({ filter: /[\\/]dist[\\/].*\.js$/ }, (a) => {
      const text = readFileSync(a.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      const rel = path.relative(outdir, a.path).split(path.sep).join('/');
      const url = cjs ? `require("node:url").pathToFileURL(require("node:path").join(__dirname, ${JSON.stringify(rel)})).href` : `new URL(${JSON.stringify(rel)}, import.meta.url).href`;
      return { contents: text.replaceAll('import.meta.url', url), loader: 'js' };
    });
  },
});

/** the check bundle, written with its first line `// alexnetc check bundle <hash of the rest>` */
async function bundleCheck(table) {
  const r = await build({
    absWorkingDir: root,
    entryPoints: ['dist/cli/main.js'],
    outfile: path.join(outdir, CHECK_BUNDLE),
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    mainFields: ['module', 'main'],
    // ASCII only (strings escaped, comments gone), so that it is read as latin1: no UTF-8 decoding, a one-byte string
    charset: 'ascii',
    minifyWhitespace: true,
    logLevel: 'warning',
    write: false,
    plugins: [plugin(true, table)],
  });
  const text = r.outputFiles[0].text;
  if (!/^[\x00-\x7f]*$/.test(text)) throw new Error(`${CHECK_BUNDLE}: not ASCII`);
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 20);
  mkdirSync(outdir, { recursive: true });
  writeFileSync(path.join(outdir, CHECK_BUNDLE), `// alexnetc check bundle ${hash}\n${text}`);
  return Buffer.byteLength(text);
}

/** the AST parser's table: the grammar the built parser records, and its lookahead paths */
async function lookahead() {
  const { AstParser, VOCABULARY } = await import(pathToFileURL(path.join(root, 'dist/syntax/ast-parser.js')).href);
  const { lookaheadTable } = await import(pathToFileURL(path.join(root, 'dist/syntax/lookahead.js')).href);
  const parser = new AstParser(false, null);
  return lookaheadTable(Object.values(parser.getGAstProductions()), parser.maxLookahead, VOCABULARY);
}

export async function bundleCli({ quiet = false } = {}) {
  const t0 = Date.now();
  rmSync(outdir, { recursive: true, force: true });
  const table = await lookahead();
  const [r, checkBytes] = await Promise.all([build({
    absWorkingDir: root,
    entryPoints: { main: 'dist/cli/main.js' },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    mainFields: ['module', 'main'],
    // CommonJS packages (vscode-languageserver) call require() on Node's own modules
    banner: { js: "import { createRequire as __alexnetcRequire } from 'node:module'; const require = __alexnetcRequire(import.meta.url);" },
    sourcemap: 'linked',
    logLevel: 'warning',
    logOverride: { 'unsupported-dynamic-import': 'silent' },
    metafile: true,
    plugins: [plugin(false, table)],
  }), bundleCheck(table)]);
  writeFileSync(path.join(outdir, 'lookahead.json'), JSON.stringify(table));
  if (!quiet) {
    const outs = Object.entries(r.metafile.outputs).filter(([f]) => f.endsWith('.js'));
    const kib = outs.reduce((s, [, o]) => s + o.bytes, 0) / 1024;
    console.log(`dist/cli/bundle: ${outs.length} files, ${kib.toFixed(0)} KiB, and ${CHECK_BUNDLE} ${(checkBytes / 1024).toFixed(0)} KiB, in ${Date.now() - t0} ms`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await bundleCli({ quiet: process.argv.includes('--quiet') });
