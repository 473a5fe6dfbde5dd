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
//   node scripts/bundle-cli.mjs [--quiet]
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const outdir = path.join(root, 'dist', 'cli', 'bundle');
/** the packages bundled in: pure JavaScript of many small modules, on the path of every command */
const BUNDLED = new Set(['chevrotain', '@chevrotain/cst-dts-gen', '@chevrotain/gast', '@chevrotain/regexp-to-ast', '@chevrotain/utils', 'lodash-es', 'commander', 'vscode-languageserver', 'vscode-languageserver-textdocument', 'vscode-languageserver-protocol', 'vscode-languageserver-types', 'vscode-jsonrpc']);

const plugin = {
  name: 'alexnetc-cli',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (a) => {
      if (a.path.startsWith('node:')) return { external: true };
      const name = a.path.startsWith('@') ? a.path.split('/').slice(0, 2).join('/') : a.path.split('/')[0];
      return BUNDLED.has(name) ? undefined : { external: true };
    });
    b.onLoad({ filter: /[\\/]dist[\\/].*\.js$/ }, (a) => {
      const text = readFileSync(a.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      const rel = path.relative(outdir, a.path).split(path.sep).join('/');
      return { contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(rel)}, import.meta.url).href`), loader: 'js' };
    });
  },
};

export async function bundleCli({ quiet = false } = {}) {
  const t0 = Date.now();
  rmSync(outdir, { recursive: true, force: true });
  const r = await build({
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
    plugins: [plugin],
  });
  if (!quiet) {
    const outs = Object.entries(r.metafile.outputs).filter(([f]) => f.endsWith('.js'));
    const kib = outs.reduce((s, [, o]) => s + o.bytes, 0) / 1024;
    console.log(`dist/cli/bundle: ${outs.length} files, ${kib.toFixed(0)} KiB, in ${Date.now() - t0} ms`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await bundleCli({ quiet: process.argv.includes('--quiet') });
