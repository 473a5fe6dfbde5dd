// Large models go through the streaming path: sizes first, then one weight
// tensor generated and written at a time.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeModel, toOnnxBytes, writeOnnx } from '../../src/emit/onnx/index.js';
import { requirePython, randomInput, runOrt, runPython, tempDir } from './helpers.js';
import { fixture, vgg11At64, vgg19 } from './specs.js';

const hasOnnx = requirePython('onnx', 'large-model onnx checker test');
const big = process.env.ALEXNETC_BIG_TESTS === '1';
if (!big) console.warn('SKIPPED full VGG-19 (575 MB) test: set ALEXNETC_BIG_TESTS=1 to run it');

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('streaming writer', () => {
  it('writes a ~113 MB model identical to the in-memory encoding; onnx and onnxruntime accept it', async () => {
    const net = vgg11At64();
    const dir = tempDir('large');
    const file = path.join(dir, 'vgg.onnx');
    const size = writeOnnx(net, file, { seed: 11 });
    expect(size).toBeGreaterThan(net.totalParams * 4);
    expect(fs.statSync(file).size).toBe(size);
    const onDisk = fs.readFileSync(file);
    expect(sha(onDisk)).toBe(sha(toOnnxBytes(net, { seed: 11 })));
    if (hasOnnx) {
      const s = JSON.parse(runPython('onnx_check.py', [file])) as { outputs: unknown; initializers: unknown[] };
      expect(s.outputs).toEqual([['output', ['N', 1000], 1]]);
      expect(s.initializers).toHaveLength(22);
    }
    const out = await runOrt(file, randomInput(3 * 64 * 64), [1, 3, 64, 64]);
    expect([...out.dims]).toEqual([1, 1000]);
    fs.rmSync(dir, { recursive: true });
  }, 180_000);

  it('computes sizes without generating any weight', () => {
    let calls = 0;
    const net = vgg19();
    const e = encodeModel(net, { weights: { get: () => (calls++, new Float32Array(0)) } });
    expect(calls).toBe(0);
    // 143,667,240 float32 parameters plus a few KB of graph
    expect(e.size - net.totalParams * 4).toBeGreaterThan(0);
    expect(e.size - net.totalParams * 4).toBeLessThan(20_000);
  });

  it('refuses, before generating anything, a model over protobuf\'s 2 GiB limit', () => {
    const net = fixture('large.net', 'Huge');
    expect(() => encodeModel(net)).toThrow(/Huge: the ONNX model would be 2\.1\d GiB, over protobuf's 2 GiB limit/);
  });

  it.skipIf(!big)('writes full VGG-19 (~575 MB) and it passes the checker', () => {
    const net = vgg19();
    const dir = tempDir('vgg19');
    const file = path.join(dir, 'vgg19.onnx');
    const size = writeOnnx(net, file);
    expect(fs.statSync(file).size).toBe(size);
    if (hasOnnx) expect(JSON.parse(runPython('onnx_check.py', [file])).inferred_output).toEqual(['N', 1000]);
    fs.rmSync(dir, { recursive: true });
  }, 600_000);
});
