// Every conformance case (cases.ts) as files: its ONNX graph passes the
// official onnx.checker with full_check=True (strict shape inference, so
// the shapes alexnetc declares are cross-checked), and its weights written
// as safetensors read back value for value under alexnetc's names. (Each
// back end's numbers are compared with onnxruntime in test/tfjs and
// test/torch, the latter loading the same safetensors files.)
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { layers } from '../../src/check/ir.js';
import { compile } from '../../src/compile.js';
import { writeOnnx } from '../../src/emit/onnx/index.js';
import { networkTensors, safetensorsWeights, writeSafetensors } from '../../src/weights/safetensors.js';
import { requirePython, runPython, tempDir } from '../onnx/helpers.js';
import { distinctWeights } from '../torch/weights.js';
import { CASES } from './cases.js';

const hasOnnx = requirePython('onnx', 'onnx.checker on every conformance case');
const dir = tempDir('layer-files');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function checked(input: string, body: string) {
  const r = compile(`network T { input ${input}\n ${body} }`);
  if (!r.network) throw new Error(`${body}: ${r.diagnostics.map((d) => d.message).join('; ')}`);
  return r.network;
}

const fileOf = (i: number): string => `case${String(i).padStart(3, '0')}.onnx`;

describe('every conformance case as files', () => {
  it.skipIf(!hasOnnx)('onnx.checker full_check passes on every case', () => {
    CASES.forEach(([, input, body], i) => writeOnnx(checked(input, body), path.join(dir, fileOf(i)), { weights: distinctWeights(2) }));
    const lines = runPython('../fuzz/onnx_check_many.py', [dir])
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { file: string; ok: boolean; error?: string });
    expect(lines.length).toBe(CASES.length);
    const failed = lines.filter((l) => !l.ok).map((l) => `${CASES[Number(l.file.slice(4, 7))]![0]}: ${l.error}`);
    expect(failed).toEqual([]);
  }, 300_000);

  it('safetensors round trip on every case', async () => {
    for (const [name, input, body] of CASES) {
      const net = checked(input, body);
      const source = distinctWeights(5);
      const file = path.join(dir, 'w.safetensors');
      await writeSafetensors(file, networkTensors(net, source));
      const back = safetensorsWeights(file, net);
      for (const n of layers(net.body)) {
        for (const w of n.weights) expect(back.get(n.path, w), `${name}: ${n.path}.${w.name}`).toEqual(source.get(n.path, w));
      }
    }
  }, 120_000);
});
