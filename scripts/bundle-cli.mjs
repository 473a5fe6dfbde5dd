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
// `alexnetc check` and `alexnetc lsp` have a bundle of their own besides
// (dist/cli/bundle/check.cjs, lsp.cjs): one CommonJS file of everything
// main.js imports statically, and for lsp.cjs the language server it imports
// lazily (and whatever the server imports lazily), which bin/alexnetc.js compiles
// with a V8 code cache (see bin/alexnetc.js). Another command's lazily imported
// machinery is not in them: such an import there is an internal error, and
// bin/alexnetc.js runs only its own command from each. The first line names the
// command and a hash of the rest, which keys the code cache.
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

/**
 * The commands with a bundle of their own (CommonJS, for a V8 code cache):
 * `<command>.cjs` in outdir, and the built files and folders whose lazy
 * imports of the house's modules are bundled in (the command's machinery:
 * the language server, the diagrams it draws). Another lazy import of the
 * house's is an error there (it is another command's). A lazy import of a
 * package or of Node's own modules is a require() there: Node 20 loses a
 * vm.Script's importModuleDynamically for code that comes from a code cache
 * ("A dynamic import callback was not specified"), and the packages loaded so
 * (elkjs, resvg) are CommonJS.
 */
export const OWN_BUNDLES = {
  check: [],
  lsp: ['dist/cli/commands/lsp.js', 'dist/lsp/', 'dist/inspect/draw/'],
};

/** `@scope/name` or `name` of a bare import */
const packageName = (p) => (p.startsWith('@') ? p.split('/').slice(0, 2).join('/') : p.split('/')[0]);

/** `cjs`: the command of a bundle of its own, where a module's own URL is built from __dirname and a lazy import of the house's code is an error unless its importer is one of the command's */
const plugin = (cjs, table) => ({
  name: 'alexnetc-cli',
  setup(b) {
    // commander needs child_process only to run a command that is a program of its own (none here): loading
    // it is several milliseconds of every start, so commander gets it on first use
    b.onResolve({ filter: /^node:child_process$/ }, (a) => (/[\\/]node_modules[\\/]commander[\\/]/.test(a.importer) ? { path: 'child_process', namespace: 'on-first-use' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'on-first-use' }, () => ({ contents: `module.exports = new Proxy({}, { get: (_, k) => require("node:child_process")[k] });`, loader: 'js' }));
    b.onLoad({ filter: /[\\/]dist[\\/]syntax[\\/]lookahead-table\.js$/ }, () => ({ contents: `export const LOOKAHEAD_TABLE = ${JSON.stringify(table)};`, loader: 'js' }));
    if (cjs) {
      const bundledIn = (importer) => OWN_BUNDLES[cjs].some((p) => (p.endsWith('/') ? importer.startsWith(path.join(root, p)) : importer === path.join(root, p)));
      b.onResolve({ filter: /^\./ }, (a) => (a.kind === 'dynamic-import' && !bundledIn(a.importer) ? { path: a.path, namespace: 'lazy' } : undefined));
      b.onResolve({ filter: /^[^./]/ }, (a) => (a.kind === 'dynamic-import' && !BUNDLED.has(packageName(a.path)) ? { path: a.path, namespace: 'required' } : undefined));
      b.onLoad({ filter: /.*/, namespace: 'required' }, (a) => ({ contents: `module.exports = require(${JSON.stringify(a.path)});`, loader: 'js' }));
      b.onLoad({ filter: /.*/, namespace: 'lazy' }, (a) => ({ contents: `throw new Error(${JSON.stringify(`${a.path} is not in dist/cli/bundle/${cjs}.cjs (only \`${cjs}\` runs from it)`)});`, loader: 'js' }));
    }
    b.onResolve({ filter: /^[^./]/ }, (a) => {
      if (a.path.startsWith('node:')) return { external: true };
      return BUNDLED.has(packageName(a.path)) ? undefined : { external: true };
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

/** a command's own bundle, written with its first line `// alexnetc <command> bundle <hash of the rest>` */
async function bundleOwn(command, table) {
  const file = `${command}.cjs`;
  const r = await build({
    absWorkingDir: root,
    entryPoints: ['dist/cli/main.js'],
    outfile: path.join(outdir, file),
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
    plugins: [plugin(command, table)],
  });
  const text = r.outputFiles[0].text;
  const wide = /[^\x00-\x7f]/.exec(text);
  if (wide) throw new Error(`${file}: not ASCII: ${JSON.stringify(text.slice(Math.max(0, wide.index - 80), wide.index + 20))}`);
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 20);
  mkdirSync(outdir, { recursive: true });
  writeFileSync(path.join(outdir, file), `// alexnetc ${command} bundle ${hash}\n${text}`);
  return `${file} ${(Buffer.byteLength(text) / 1024).toFixed(0)} KiB`;
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
  const [r, ...own] = await Promise.all([build({
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
  }), ...Object.keys(OWN_BUNDLES).map((c) => bundleOwn(c, table))]);
  writeFileSync(path.join(outdir, 'lookahead.json'), JSON.stringify(table));
  if (!quiet) {
    const outs = Object.entries(r.metafile.outputs).filter(([f]) => f.endsWith('.js'));
    const kib = outs.reduce((s, [, o]) => s + o.bytes, 0) / 1024;
    console.log(`dist/cli/bundle: ${outs.length} files, ${kib.toFixed(0)} KiB, and ${own.join(', ')}, in ${Date.now() - t0} ms`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await bundleCli({ quiet: process.argv.includes('--quiet') });
