// Importing models nobody here wrote: torchvision's AlexNet, VGG-11-BN,
// ResNet-18 and GoogLeNet (random init, eval mode) exported by
// torch.onnx.export at opset 17 — with batch norm kept, and with the
// exporter's defaults (batch norm folded into the convolutions, constant
// folding). import → check → parameter totals → compile with the imported
// weights → onnxruntime gives the same outputs as the exported file.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NEEDS_BIG, skipping } from '../skip.js';
import { PYTHON, requirePython, tempDir } from '../onnx/helpers.js';
import { execFileSync } from 'node:child_process';
import { alexnetc, compareModels, importChecked } from './helpers.js';

const hasTorch = requirePython('onnx, torch, torchvision', 'torchvision import tests');
const big = process.env.ALEXNETC_BIG_TESTS === '1';

function exportModel(name: string, file: string, mode: 'plain' | 'default'): { params: number; onnx_params: number; output_shape: number[] } {
  const out = execFileSync(PYTHON, [path.join(import.meta.dirname, 'export_torchvision.py'), name, file, mode], {
    encoding: 'utf8',
    timeout: 300_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return JSON.parse(out.trim().split('\n').pop()!);
}

const cases: [string, 'plain' | 'default', boolean][] = [
  ['resnet18', 'plain', true],
  ['resnet18', 'default', true],
  ['googlenet', 'plain', true],
  ['googlenet', 'default', true],
  ['alexnet', 'plain', big],
  ['vgg11_bn', 'plain', big],
  ['vgg11_bn', 'default', big],
];

describe('import torchvision models exported by torch.onnx.export', () => {
  for (const [name, mode, enabled] of cases) {
    // without torch, requirePython has said so once for the file
    it.skipIf(!hasTorch || skipping(`torchvision import ${name} (${mode})`, !enabled && NEEDS_BIG))(`${name} (${mode === 'plain' ? 'batch norm kept, no constant folding' : "exporter defaults: BN folded, constants folded"})`, async () => {
      const dir = tempDir(`import-${name}`);
      try {
        const onnx = path.join(dir, `${name}.onnx`);
        const ref = exportModel(name, onnx, mode);
        const net = path.join(dir, `${name}.net`);
        // the source checks, and counts the parameters torchvision counts (or, BN folded, the file's)
        const report = importChecked(onnx, net, ref.output_shape);
        expect(report.params).toBe(mode === 'plain' ? ref.params : ref.onnx_params);

        const again = path.join(dir, 'again.onnx');
        const c = alexnetc(['compile', net, '--weights', report.weights, '-o', again]);
        expect(c.stderr).toContain('wrote');
        expect(c.code).toBe(0);
        const cmp = await compareModels(onnx, again, [2, 3, 224, 224]);
        console.log(`${name} (${mode}): ${report.params.toLocaleString('en-US')} parameters, ${report.blocks} blocks, max |Δ| / max |y| = ${cmp.rel.toExponential(2)}`);
        expect(cmp.length).toBe(2000);
        expect(cmp.maxAbs).toBeGreaterThan(1e-3);
        expect(cmp.rel).toBeLessThanOrEqual(1e-4);

        const source = fs.readFileSync(net, 'utf8');
        if (name === 'resnet18') {
          // reads like specs/resnet.net: two blocks (identity and projection shortcut), a short body
          expect(report.blocks).toBe(2);
          const body = source.slice(source.indexOf('network '));
          expect(body.split('\n').length).toBeLessThan(20);
          expect(body).toContain('repeat 2 {');
        }
        if (name === 'googlenet') expect(source).toMatch(/block inception\(c1, c2, c3, c4, c5, c6\)/);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }, 600_000);
  }
});
