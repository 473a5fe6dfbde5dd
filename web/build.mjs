// `npm run build:web`: the playground page as static files in dist/web, for
// `alexnetc playground` to serve or for any web host (which must send the
// COOP/COEP headers of docs/playground.md for the kernels to use threads).
//
// esbuild bundles the page and its three workers from the TypeScript sources
// (ES modules, shared code split into chunks; tfjs sits only in the training
// worker's chunk, loaded when training starts). The compiler's modules are
// bundled as they are, with three seams for the browser:
//   - `node:*` modules resolve to platform/node.ts, whose functions throw
//     (the page never reaches the file system code paths it drags in), and
//     the image codecs (pngjs, jpeg-js, resvg) to platform/codecs.ts;
//   - a free `process` is platform/process.ts (no environment, no-op handlers);
//   - the kernels' threads-node.ts is replaced by threads-web.ts (Web Workers);
//   - `vscode-languageserver`, of which the editor features use only the
//     protocol's constants, resolves to vscode-languageserver-types.
import { build } from 'esbuild';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSubset } from './data.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(here);
const out = path.join(root, 'dist', 'web');
const quiet = process.argv.includes('--quiet');

const seams = {
  name: 'alexnetc-browser-seams',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, () => ({ path: path.join(here, 'src', 'platform', 'node.ts') }));
    // image codecs and the PNG renderer: file formats of the command line (the page draws SVG and canvases)
    b.onResolve({ filter: /^(pngjs|jpeg-js|@resvg\/resvg-js)$/ }, () => ({ path: path.join(here, 'src', 'platform', 'codecs.ts') }));
    b.onResolve({ filter: /\/threads-node\.js$/ }, (a) => ({ path: path.join(path.dirname(a.importer), 'threads-web.ts') }));
    // the shipped specifications, whatever specs/ holds
    b.onResolve({ filter: /^alexnetc:specs$/ }, () => ({ path: 'specs', namespace: 'alexnetc-specs' }));
    b.onLoad({ filter: /.*/, namespace: 'alexnetc-specs' }, () => {
      const dir = path.join(root, 'specs');
      const files = readdirSync(dir).filter((f) => f.endsWith('.net')).sort();
      const list = files.map((f) => [f, readFileSync(path.join(dir, f), 'utf8')]);
      return { contents: `export default ${JSON.stringify(list)};`, loader: 'js', watchFiles: files.map((f) => path.join(dir, f)) };
    });
    b.onResolve({ filter: /^vscode-languageserver$/ }, () => b.resolve('vscode-languageserver-types', { kind: 'import-statement', resolveDir: root }));
  },
};

export async function buildWeb() {
  const t0 = Date.now();
  // everything but the data subset, which is remade only when its source changed
  mkdirSync(out, { recursive: true });
  for (const f of readdirSync(out)) if (f !== 'data') rmSync(path.join(out, f), { recursive: true, force: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: { main: 'web/src/main.ts', analysis: 'web/src/analysis.worker.ts', export: 'web/src/export.worker.ts', train: 'web/src/train.worker.ts' },
    outdir: out,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome110', 'firefox115', 'safari16'],
    minify: !process.env.ALEXNETC_WEB_DEBUG,
    sourcemap: false,
    legalComments: 'linked',
    chunkNames: 'chunks/[name]-[hash]',
    define: { 'process.env.NODE_ENV': '"production"' },
    inject: [path.join(here, 'src', 'platform', 'process.ts')],
    plugins: [seams],
    metafile: true,
    logLevel: 'warning',
    // a name the page's node: stand-in lacks would be undefined at run time: fail the build instead
    logOverride: { 'import-is-undefined': 'error' },
  });
  for (const f of ['index.html', 'style.css']) cpSync(path.join(here, 'src', f), path.join(out, f));
  mkdirSync(path.join(out, 'fonts'));
  for (const f of ['DejaVuSans.subset.ttf', 'DejaVuSans-Bold.subset.ttf', 'LICENSE']) cpSync(path.join(root, 'src', 'fonts', f), path.join(out, 'fonts', f));
  const data = writeSubset(path.join(out, 'data', 'fashion-mnist'));
  writeFileSync(path.join(out, 'build.json'), JSON.stringify({ dataset: data.written ? 'fashion-mnist' : null, why: data.why ?? null }) + '\n');
  if (!quiet) {
    const files = [];
    const walk = (d) => {
      for (const f of readdirSync(d)) {
        const p = path.join(d, f);
        if (statSync(p).isDirectory()) walk(p);
        else files.push([path.relative(out, p), statSync(p).size]);
      }
    };
    walk(out);
    const kb = (n) => `${(n / 1024).toFixed(0)} KiB`;
    console.log(`dist/web: ${files.length} files, ${kb(files.reduce((a, [, s]) => a + s, 0))} in ${((Date.now() - t0) / 1000).toFixed(1)} s${data.written ? '' : `; no training data: ${data.why}`}`);
  }
  return result;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  buildWeb().catch((e) => {
    console.error(`build:web failed: ${e.message}`);
    process.exit(1);
  });
}
