// LANGUAGE.md §7: every shipped spec's file passes the official onnx.checker
// with full_check=True and runs in onnxruntime.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeOnnx } from '../../src/emit/onnx/index.js';
import { sizeOf } from '../../src/util/rng.js';
import { randomInput, requirePython, runOrt, runPython, tempDir } from './helpers.js';
import { shippedNetworks, spec } from './specs.js';

const hasOnnx = requirePython('onnx', 'shipped-spec onnx checker sweep');
const big = process.env.ALEXNETC_BIG_TESTS === '1';
/** the VGGs (~0.5 GB each) take ~15 s apiece; they run with ALEXNETC_BIG_TESTS=1 */
const BIG_PARAMS = 100_000_000;

describe('shipped specs', () => {
  const all = shippedNetworks();

  it('are all found', () => {
    expect(all.length).toBeGreaterThanOrEqual(14);
  });

  for (const [file, name] of all) {
    const net = spec(file, name);
    const large = net.totalParams > BIG_PARAMS;
    if (large && !big) console.warn(`SKIPPED ${file} ${name} (${(net.totalParams / 1e6).toFixed(0)}M parameters): set ALEXNETC_BIG_TESTS=1`);
    it.skipIf(large && !big)(`${file} ${name}: onnx full_check and onnxruntime`, async () => {
      const dir = tempDir('spec');
      try {
        const out = path.join(dir, `${name}.onnx`);
        writeOnnx(net, out);
        if (hasOnnx) {
          const s = JSON.parse(runPython('onnx_check.py', ['--no-sums', out])) as { inferred_output: unknown; metadata: Record<string, string> };
          expect(s.inferred_output).toEqual(['N', ...net.output]);
          for (const [k, v] of Object.entries(net.params)) expect(s.metadata[`param.${k}`]).toBe(JSON.stringify(v));
        }
        const dims = [1, ...net.input];
        const r = await runOrt(out, randomInput(sizeOf(dims)), dims);
        expect([...r.dims]).toEqual([1, ...net.output]);
        expect(r.data.every(Number.isFinite)).toBe(true);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }, 300_000);
  }
});
