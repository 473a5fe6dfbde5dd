// `alexnetc playground`: the playground page (built into dist/web by
// `npm run build:web`, shipped in the package) served on localhost. The
// headers make the page cross-origin isolated (COOP + COEP), which is what
// lets its WebAssembly kernels share memory with their threads; a host
// without them gets a page whose kernels run on one thread. Only the page's
// own files are served, read-only, to this machine's loopback address.
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { handleInterrupt } from '../../util/signals.js';
import { defineCommand, UsageError, wholeNumber } from '../frame.js';

/** the package's dist/web (from dist/cli/commands, or from src/cli/commands under a test runner) */
export function pageDir(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'dist', 'web');
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.ttf': 'font/ttf',
  '.gz': 'application/gzip',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
};

/** The headers of every answer: cross-origin isolation, and nothing cached (a rebuilt page shows at once). */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-cache',
};

/** The file a URL path names under `root`, or undefined (outside it, hidden, missing). */
export function resolvePagePath(root: string, urlPath: string): string | undefined {
  let p: string;
  try {
    p = decodeURIComponent(urlPath.split('?')[0]!.split('#')[0]!);
  } catch {
    return undefined;
  }
  if (p.includes('\0')) return undefined;
  if (p.endsWith('/')) p += 'index.html';
  const file = path.resolve(root, '.' + path.posix.normalize('/' + p));
  if (file !== root && !file.startsWith(root + path.sep)) return undefined;
  if (path.relative(root, file).split(path.sep).some((s) => s.startsWith('.'))) return undefined;
  try {
    const real = realpathSync(file);
    if (!real.startsWith(realpathSync(root) + path.sep) || !statSync(real).isFile()) return undefined;
    return real;
  } catch {
    return undefined;
  }
}

function serve(root: string) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    for (const [k, v] of Object.entries(PAGE_HEADERS)) res.setHeader(k, v);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    const file = resolvePagePath(root, req.url ?? '/');
    if (!file) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    const body = readFileSync(file);
    res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'Content-Length': body.length });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}

/** the system's way to open a URL in the default browser */
async function openBrowser(url: string): Promise<string | undefined> {
  const { spawn } = await import('node:child_process');
  const [cmd, args] = process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '', url]] : ['xdg-open', [url]];
  return new Promise((resolve) => {
    const p = spawn(cmd, args as string[], { stdio: 'ignore', detached: true });
    p.on('error', (e) => resolve(`${cmd}: ${e.message}`));
    p.on('spawn', () => {
      p.unref();
      resolve(undefined);
    });
  });
}

export default defineCommand({
  name: 'playground',
  summary: 'serve the playground page (edit, check, draw, train and export in a browser) on localhost',
  args: '',
  description:
    'Serves the playground page from the installed package on 127.0.0.1: an editor with the language server\'s diagnostics, hovers and completion, ' +
    'the summary table, the diagram, ONNX / TensorFlow.js / PyTorch downloads, and training on a Fashion-MNIST subset, all computed in the page. ' +
    'The answers carry Cross-Origin-Opener-Policy and Cross-Origin-Embedder-Policy so the page\'s kernels run on threads. Runs until Ctrl-C.',
  options: [
    { flags: '--port <n>', help: 'the port to listen on (0: any free port)', default: '8642' },
    { flags: '--open', help: 'open the page in the default browser' },
  ],
  examples: [
    ['alexnetc playground', 'serve http://127.0.0.1:8642/'],
    ['alexnetc playground --port 0 --open', 'any free port, and open the browser'],
  ],
  async run(_args, o) {
    const port = wholeNumber(o.port, '--port');
    if (port > 65535) throw new UsageError(`--port must be at most 65535, got ${port}`);
    const root = pageDir();
    if (!existsSync(path.join(root, 'index.html'))) {
      throw new UsageError(`the playground page is not built (${root} has no index.html): run \`npm run build:web\` in the alexnetc checkout`, 1);
    }
    const { createServer } = await import('node:http');
    const server = createServer(serve(root));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) =>
        reject(new UsageError(e.code === 'EADDRINUSE' ? `port ${port} is in use: choose another with --port (0: any free port)` : `cannot listen on 127.0.0.1:${port} (${e.code ?? e.message})`, 1)),
      );
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}/`;
    process.stdout.write(`alexnetc playground: ${url} (Ctrl-C to stop)\n`);
    if (o.open === true) {
      const why = await openBrowser(url);
      if (why) process.stderr.write(`could not open a browser (${why}); open ${url} yourself\n`);
    }
    return new Promise<number>((resolve) => {
      handleInterrupt(() => {
        server.close();
        server.closeAllConnections();
        resolve(0);
      });
    });
  },
});
