// Importing torchvision's Vision Transformer as torch.onnx.export writes it
// (opset 17, the exporter's defaults, random weights): attention as
// MatMul/Slice/Reshape/Transpose/Softmax chains, GELU as Div/Erf/Add/Mul, the
// class token as Expand and Concat, the position embeddings as an Add. The
// import must give the spec's constructs with the encoder layer found once
// and repeated, count torchvision's parameters, and compute what the file
// computes in onnxruntime; at opset 12 too, where layer norm is written as
// its formula. A graph that looks like attention but scales the queries
// otherwise is refused, naming the node.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { NEEDS_BIG, skipping } from '../skip.js';
import { PYTHON, requirePython, tempDir } from '../onnx/helpers.js';
import { alexnetc, compareModels, importChecked, listing } from './helpers.js';

const hasTorch = requirePython('onnx, torch, torchvision', 'torchvision ViT import tests');
const EXPORT = path.join(import.meta.dirname, 'export_vit.py');

function exportVit(config: string, file: string, ...extra: string[]): { params: number; output_shape: number[]; image: number; changed?: string } {
  const out = execFileSync(PYTHON, [EXPORT, config, file, ...extra], { encoding: 'utf8', timeout: 600_000, stdio: ['ignore', 'pipe', 'pipe'] });
  return Object.assign({}, ...out.trim().split('\n').map((l) => JSON.parse(l)));
}

/** config, encoder layers, in the default suite, opset (17: the default; 12: layer norm as ReduceMean/Sub/Pow/Sqrt/Div chains, Softmax before opset 13) */
const cases: [string, number, boolean, number][] = [
  ['small', 2, true, 17],
  ['small', 2, true, 12],
  ['vit_b_32', 12, false, 17],
  ['vit_b_16', 12, false, 17],
];

describe('import torchvision VisionTransformer exported by torch.onnx.export (opset 17, defaults)', () => {
  for (const [config, layers, small, opset] of cases) {
    it.skipIf(!hasTorch || skipping(`torchvision ViT import ${config}`, !small && NEEDS_BIG))(`${config} (opset ${opset}): the encoder layer found once and repeated, exact in onnxruntime`, async () => {
      const dir = tempDir(`import-vit-${config}`);
      try {
        const onnx = path.join(dir, `${config}.onnx`);
        const ref = exportVit(config, onnx, '--opset', String(opset));
        const net = path.join(dir, `${config}.net`);
        const report = importChecked(onnx, net, ref.output_shape);
        expect(report.params).toBe(ref.params);

        // reads like specs/vit.net: the sequence layers, and one encoder block called `layers` times
        const source = fs.readFileSync(net, 'utf8');
        const body = source.slice(source.indexOf('network '));
        expect(body).toMatch(/conv\(\d+, \d+, stride \d+\) \| tokens \| classtoken \| posembed/);
        expect(body).toContain(`repeat ${layers} { encoder_layer }`);
        expect(body).toMatch(/layernorm\(eps 1e-6\) \| token\n/);
        expect(source.match(/^block encoder_layer\(\) \{$/gm)).toHaveLength(1);
        expect(source).toMatch(/residual \{\n\s+layernorm\(eps 1e-6\)\n\s+attention\(\d+\)\n\s+\}/);
        expect(source).toMatch(/dense\(\d+\) \| gelu\n/);
        expect(body.split('\n').length).toBeLessThan(12);

        const again = path.join(dir, 'again.onnx');
        const c = alexnetc(['compile', net, '--weights', report.weights, '-o', again]);
        expect(c.stderr).toContain('wrote');
        expect(c.code).toBe(0);
        const cmp = await compareModels(onnx, again, [2, 3, ref.image, ref.image]);
        console.log(`ViT ${config} (opset ${opset}): ${report.params.toLocaleString('en-US')} parameters, ${report.blocks} blocks, max |Δ| = ${(cmp.rel * cmp.maxAbs).toExponential(2)}, max |Δ| / max |y| = ${cmp.rel.toExponential(2)}`);
        expect(cmp.length).toBe(2 * ref.output_shape[1]!);
        expect(cmp.maxAbs).toBeGreaterThan(1e-3);
        expect(cmp.rel).toBeLessThanOrEqual(1e-4);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }, 900_000);
  }

  it.skipIf(!hasTorch)("nn.GELU() and nn.GELU(approximate='tanh') as PyTorch writes them (Div/Erf/Add/Mul; Mul/Mul/Mul/Add/Mul/Tanh/Add/Mul/Mul) → gelu, gelu(approximate tanh)", async () => {
    const dir = tempDir('import-gelu');
    try {
      const onnx = path.join(dir, 'gelus.onnx');
      execFileSync(PYTHON, ['-c', [
        'import sys, torch',
        'torch.manual_seed(0)',
        "m = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.GELU(approximate='tanh'), torch.nn.Linear(8, 5), torch.nn.GELU(), torch.nn.Linear(5, 3)).eval()",
        "torch.onnx.export(m, torch.randn(1, 6), sys.argv[1], opset_version=17, input_names=['input'], dynamic_axes={'input': {0: 'N'}})",
      ].join('\n'), onnx], { timeout: 300_000, stdio: ['ignore', 'pipe', 'pipe'] });
      const net = path.join(dir, 'gelus.net');
      const imp = alexnetc(['import', onnx, '-o', net]);
      expect(imp.code).toBe(0);
      const body = fs.readFileSync(net, 'utf8');
      expect(body).toContain('dense(8) | gelu(approximate tanh)\n');
      expect(body).toContain('dense(5) | gelu\n');
      const again = path.join(dir, 'again.onnx');
      expect(alexnetc(['compile', net, '--weights', path.join(dir, 'gelus.weights.onnx'), '-o', again]).code).toBe(0);
      const cmp = await compareModels(onnx, again, [4, 6]);
      expect(cmp.maxAbs).toBeGreaterThan(1e-3);
      expect(cmp.rel).toBeLessThanOrEqual(1e-5);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);

  it.skipIf(!hasTorch)('attention with another scale of the queries is refused, naming the node, and nothing is written', () => {
    const dir = tempDir('import-vit-bad');
    try {
      const onnx = path.join(dir, 'bad.onnx');
      const ref = exportVit('small', onnx, '--bad-scale');
      expect(ref.changed).toMatch(/self_attention/);
      const before = listing(dir);
      const r = alexnetc(['import', onnx, '-o', path.join(dir, 'bad.net')]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`node '${ref.changed}' (Div,`);
      expect(r.stderr).toContain('scales the queries by 1 / 2.5');
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(listing(dir)).toEqual(before);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
