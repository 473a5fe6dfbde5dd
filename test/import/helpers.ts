// Plumbing for the importer's tests: the real binary, temp dirs, and
// onnxruntime on two files with the same input.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { randomInput } from '../onnx/helpers.js';

export const ROOT = path.join(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin/alexnetc.js');

export function alexnetc(args: string[], cwd = ROOT): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 64 << 20 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Run both models on the same seeded input; the largest difference relative to the largest output. */
export async function compareModels(a: string, b: string, dims: number[]): Promise<{ rel: number; maxAbs: number; length: number }> {
  const input = randomInput(dims.reduce((x, y) => x * y, 1), 11);
  const run = async (file: string): Promise<Float32Array> => {
    const s = await ort.InferenceSession.create(file);
    try {
      const r = await s.run({ [s.inputNames[0]!]: new ort.Tensor('float32', input, dims) });
      return r[s.outputNames[0]!]!.data as Float32Array;
    } finally {
      await s.release();
    }
  };
  const ya = await run(a);
  const yb = await run(b);
  if (ya.length !== yb.length) throw new Error(`outputs of ${ya.length} and ${yb.length} values`);
  let diff = 0;
  let maxAbs = 0;
  for (let i = 0; i < ya.length; i++) {
    diff = Math.max(diff, Math.abs(ya[i]! - yb[i]!));
    maxAbs = Math.max(maxAbs, Math.abs(ya[i]!));
  }
  return { rel: diff / maxAbs, maxAbs, length: ya.length };
}

/** Files in a directory (to see that a refused import wrote nothing). */
export function listing(dir: string): string[] {
  return fs.readdirSync(dir).sort();
}

/** `alexnetc summary --json` rows without stage paths and dropout (which ONNX graphs leave out): what the network computes. */
export function computedRows(file: string, network?: string): { rows: unknown[]; params: number; macs: number } {
  const r = alexnetc(['summary', file, '--json', ...(network ? ['--network', network] : [])]);
  if (r.code !== 0) throw new Error(`summary ${file}: ${r.stderr}`);
  const s = JSON.parse(r.stdout) as { rows: { path: string; layer: string; depth: number; outShape: number[]; params: number; macs: number }[]; totalParams: number; totalMacs: number };
  const rows = s.rows.filter((x) => !x.layer.startsWith('dropout')).map((x) => [x.layer, x.depth, x.outShape.join('×'), x.params, x.macs]);
  return { rows, params: s.totalParams, macs: s.totalMacs };
}
