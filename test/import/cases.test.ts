// Small PyTorch models (test/import/export_cases.py) that exercise what the
// importer recognises — x.view(N, -1) without constant folding, a zero Pad
// before a Conv, grouped/dilated/asymmetric convolutions, pools in ceil mode,
// concat, residuals, a sum of three branches, MatMul + Add — and models it
// must refuse, through the real binary: exit 1, a message naming the node or
// the problem, nothing written.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PYTHON, requirePython, tempDir } from '../onnx/helpers.js';
import { alexnetc, compareModels, listing } from './helpers.js';

const hasTorch = requirePython('onnx, torch', 'PyTorch import cases');

let dir = '';
let params: Record<string, { params: number }> = {};

beforeAll(() => {
  if (!hasTorch) return;
  dir = tempDir('import-cases');
  const out = execFileSync(PYTHON, [path.join(import.meta.dirname, 'export_cases.py'), dir], { encoding: 'utf8', timeout: 300_000, stdio: ['ignore', 'pipe', 'pipe'] });
  params = JSON.parse(out.trim().split('\n').pop()!);
}, 300_000);

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const good: [string, string, RegExp][] = [
  ['view_nofold', 'x.view(x.size(0), -1) without constant folding (Shape → Gather → Concat → Reshape), BN eps/momentum, leaky relu, softmax', /batchnorm\(eps 0\.001, momentum 0\.01\) \| leakyrelu\(0\.2\) \| flatten/],
  ['misc', 'grouped, dilated, rectangular convs, pools in ceil mode, concat, MatMul + Add', /conv\(12, \[3, 5\], stride \[1, 2\], pad \[1, 2\], dilation \[2, 1\]\)[\s\S]*concat \{[\s\S]*avgpool\(3, 2, pad 1, ceil true\)/],
  ['res', 'residuals with identity shortcuts (one block, repeated) and a sum of three branches', /block residual_block\(\) \{\n  residual \{[\s\S]*repeat 2 \{ residual_block \}[\s\S]*add \{[\s\S]*branch \{ identity \}/],
  ['padconv', 'an explicit F.pad folded into the conv after it', /conv\(4, 3, stride 2, pad \[0, 0, 1, 1\]\)/],
  ['countpad', 'avg_pool2d(count_include_pad=True), exported as Pad + AveragePool', /avgpool\(3, 1, pad 1, countpad true\)/],
  ['hardswish', 'F.hardswish (HardSwish)', /conv\(4, 3\) \| hardswish/],
];

describe('import small PyTorch exports', () => {
  for (const [name, what, shape] of good) {
    it.skipIf(!hasTorch)(`${name}: ${what}`, async () => {
      const onnx = path.join(dir, `${name}.onnx`);
      const net = path.join(dir, `${name}.net`);
      const r = alexnetc(['import', onnx, '-o', net, '--json']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const report = JSON.parse(r.stdout) as { weights: string; params: number };
      expect(report.params).toBe(params[name]!.params);
      expect(fs.readFileSync(net, 'utf8')).toMatch(shape);
      const again = path.join(dir, `${name}-again.onnx`);
      expect(alexnetc(['compile', net, '--weights', report.weights, '-o', again]).code).toBe(0);
      const cmp = await compareModels(onnx, again, [2, 3, 16, 16]);
      expect(cmp.maxAbs).toBeGreaterThan(1e-3);
      expect(cmp.rel).toBeLessThanOrEqual(1e-4);
    });
  }

  const bad: [string, RegExp][] = [
    ['two_inputs', /the model has 2 inputs \(in0, in1\); an alexnetc network has exactly one/],
    ['dynamic_hw', /dynamic height \('H'\)/],
    ['opset9', /opset 9 is not supported \(alexnetc imports ai\.onnx opsets 11–18/],
    ['nan_weights', /node '\/fc\/Gemm' \(Gemm.*its weight 'fc\.weight' is not finite: holds NaN at index 770/],
    ['mul_branches', /node '\/Mul' \(Mul, #3 of 3 in the graph\): multiplies two computed branches; alexnetc's gate multiplies a value by a function of itself/],
    ['uneven_split', /node '\/Slice' \(Slice, .*\): takes channels 0…0 of 4; alexnetc's split divides them into 2 equal parts in order/],
    ['half_shuffle', /node '\/Reshape' \(Reshape, .*\): reshapes \[4, 16, 16\] to \[2, 2, 16, 16\] per example, but no Transpose \[0, 2, 1, 3, 4\] follows/],
  ];
  for (const [name, message] of bad) {
    it.skipIf(!hasTorch)(`refuses ${name}: exit 1, the reason, nothing written`, () => {
      const out = tempDir(`import-bad-${name}`);
      try {
        const r = alexnetc(['import', path.join(dir, `${name}.onnx`), '-o', path.join(out, 'x.net')]);
        expect(r.stderr).toMatch(message);
        expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
        expect(r.code).toBe(1);
        expect(listing(out)).toEqual([]);
      } finally {
        fs.rmSync(out, { recursive: true, force: true });
      }
    });
  }
});
