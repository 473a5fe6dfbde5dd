// Shared test plumbing: temp dirs, the Python tools (onnx, torch), onnxruntime-node.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';

export const PYTHON = '/usr/bin/python3';
export const PY_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../python');

function pythonHas(modules: string): boolean {
  const r = spawnSync(PYTHON, ['-c', `import ${modules}`], { stdio: 'ignore', timeout: 60_000 });
  return r.status === 0;
}

/** Whether `import <modules>` works; warns visibly when it does not, so skips are never silent. */
export function requirePython(modules: string, what: string): boolean {
  const ok = pythonHas(modules);
  if (!ok) console.warn(`SKIPPED ${what}: \`${PYTHON} -c 'import ${modules}'\` failed`);
  return ok;
}

/** Run a script from test/python; returns stdout, throws with stderr on failure. */
export function runPython(script: string, args: string[], timeoutMs = 240_000): string {
  try {
    return execFileSync(PYTHON, [path.join(PY_DIR, script), ...args], {
      encoding: 'utf8',
      timeout: timeoutMs,
      maxBuffer: 64 << 20,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${script} failed: ${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
  }
}

export function tempDir(tag: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `alexnetc-${tag}-`));
}

/** Deterministic pseudo-random input in [-1, 1). */
export function randomInput(count: number, seed = 1): Float32Array {
  const out = new Float32Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 2 - 1;
  }
  return out;
}

/** Run a model file or bytes in onnxruntime-node on one input. */
export async function runOrt(model: string | Uint8Array, input: Float32Array, dims: number[]): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const session = typeof model === 'string' ? await ort.InferenceSession.create(model) : await ort.InferenceSession.create(model);
  try {
    const result = await session.run({ input: new ort.Tensor('float32', input, dims) });
    const out = result.output!;
    return { data: out.data as Float32Array, dims: out.dims };
  } finally {
    await session.release();
  }
}

export function writeFloats(file: string, data: Float32Array): void {
  fs.writeFileSync(file, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}
