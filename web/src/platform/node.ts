// What `node:*` modules are in the page (the bundler resolves every one to
// this file): names that exist, so the compiler's modules load, and that throw
// when called — the page never takes the file-system, process or zlib paths
// of the modules it shares with the command line.
function missing(name: string): never {
  throw new Error(`${name} is not available in the browser (alexnetc playground)`);
}
const fn = (name: string) => (..._: unknown[]): never => missing(name);

export const readFileSync = fn('fs.readFileSync');
export const writeFileSync = fn('fs.writeFileSync');
export const existsSync = (): boolean => false;
export const statSync = fn('fs.statSync');
export const readdirSync = fn('fs.readdirSync');
export const mkdirSync = fn('fs.mkdirSync');
export const openSync = fn('fs.openSync');
export const writeSync = fn('fs.writeSync');
export const closeSync = fn('fs.closeSync');
export const fsyncSync = fn('fs.fsyncSync');
export const renameSync = fn('fs.renameSync');
export const rmSync = fn('fs.rmSync');
export const unlinkSync = fn('fs.unlinkSync');
export const readSync = fn('fs.readSync');
export const fstatSync = fn('fs.fstatSync');
export const lstatSync = fn('fs.lstatSync');
export const readlinkSync = fn('fs.readlinkSync');
export const mkdtempSync = fn('fs.mkdtempSync');
export const createServer = fn('net.createServer');
export const tmpdir = fn('os.tmpdir');
export const isAbsolute = (p: string): boolean => p.startsWith('/');
export const relative = fn('path.relative');
export const gunzipSync = fn('zlib.gunzipSync');
export const randomBytes = fn('crypto.randomBytes');
export const spawn = fn('child_process.spawn');
export const spawnSync = fn('child_process.spawnSync');
export const createRequire = (_from: string | URL) => (id: string): never => missing(`require('${id}')`);
export const availableParallelism = (): number => 1;
export const fileURLToPath = (u: string | URL): string => decodeURIComponent(new URL(String(u)).pathname);
export const pathToFileURL = (p: string): URL => new URL(`file://${encodeURI(p)}`);
export const join = (...parts: string[]): string => parts.filter(Boolean).join('/').replace(/\/+/g, '/');
export const basename = (p: string): string => p.replace(/\/+$/, '').replace(/^.*\//, '');
export const dirname = (p: string): string => p.replace(/\/[^/]*$/, '') || '.';
export const extname = (p: string): string => /\.[^./]*$/.exec(basename(p))?.[0] ?? '';
export const resolve = (...parts: string[]): string => join(...parts);
export const sep = '/';
export class Worker {
  constructor() {
    missing('worker_threads.Worker');
  }
}
const namespace = {
  readSync, fstatSync, lstatSync, readlinkSync, mkdtempSync, createServer, tmpdir, isAbsolute, relative,
  readFileSync, writeFileSync, existsSync, statSync, readdirSync, mkdirSync, openSync, writeSync, closeSync, fsyncSync, renameSync, rmSync, unlinkSync,
  gunzipSync, randomBytes, createRequire, spawn, spawnSync, availableParallelism, fileURLToPath, pathToFileURL, join, basename, dirname, extname, resolve, sep, Worker,
};
export default namespace;
