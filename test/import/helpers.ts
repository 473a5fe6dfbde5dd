// Plumbing for the importer's tests: the real binary, temp dirs, and
// onnxruntime on two files with the same input.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { expect } from 'vitest';
import { layers } from '../../src/check/ir.js';
import { compile } from '../../src/compile.js';
import { randomInput } from '../onnx/helpers.js';

export const ROOT = path.join(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin/alexnetc.js');

export function alexnetc(args: string[], cwd = ROOT): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 64 << 20 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** What `alexnetc import --json` reports. */
export interface ImportReport { weights: string; params: number; output_shape: number[]; blocks: number }

/** `alexnetc import ONNX -o NET --json`: it succeeds quietly, its output has the exporter's shape (batch left out), and the source it wrote checks. */
export function importChecked(onnx: string, net: string, outputShape: number[]): ImportReport {
  const imp = alexnetc(['import', onnx, '-o', net, '--json']);
  expect(imp.stderr).toBe('');
  expect(imp.code).toBe(0);
  const report = JSON.parse(imp.stdout) as ImportReport;
  expect(report.output_shape).toEqual(outputShape.slice(1));
  expect(alexnetc(['check', net]).code).toBe(0);
  return report;
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

/**
 * What a network computes, stage by stage, without stage paths and dropout
 * (which ONNX inference graphs leave out): each layer's kind, its normalised
 * arguments (`maxpool(2)` and `maxpool(2, 2)` are one layer), shapes and weights.
 */
export function computedLayers(file: string, network?: string): { layers: unknown[]; params: number; macs: number; output: number[] } {
  const r = compile(fs.readFileSync(file, 'utf8'), { file, network });
  if (!r.network) throw new Error(`${file}: ${r.diagnostics.map((d) => d.message).join('; ')}`);
  const net = r.network;
  const rows = [...layers(net.body)]
    .filter((n) => n.layer.name !== 'dropout')
    .map((n) => [n.layer.name, JSON.stringify(n.args), n.inShape.join('×'), n.outShape.join('×'), n.weights.map((w) => `${w.name}[${w.shape.join(',')}]`).join(' '), n.params, n.macs]);
  return { layers: rows, params: net.totalParams, macs: net.totalMacs, output: net.output };
}
