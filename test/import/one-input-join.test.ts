// A Concat (or Sum) of one input is an identity — DenseNet exports have
// them — and imports as nothing (issue 22, item 13); a join of the network's
// value with a constant is refused with a message that does not contradict
// the catalogue it lists.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PYTHON, requirePython, tempDir } from '../onnx/helpers.js';
import { alexnetc, compareModels } from './helpers.js';

const hasOnnx = requirePython('onnx, numpy', 'one-input Concat import cases');
const dir = tempDir('import-one-input');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Conv → JOIN(…) → Relu, written with onnx.helper; `extra` adds a constant input to the join. */
function model(file: string, op: 'Concat' | 'Sum', extra: boolean): void {
  const script = `
import numpy as np, onnx, sys
from onnx import helper as h, TensorProto as T, numpy_helper as nh
rng = np.random.default_rng(3)
w = nh.from_array(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), 'w')
b = nh.from_array(np.zeros(4, np.float32), 'b')
inits = [w, b]
ins = ['c']
if ${extra ? 'True' : 'False'}:
    inits.append(nh.from_array(np.ones((1, 4, 6, 6), np.float32), 'k'))
    ins.append('k')
attrs = {'axis': 1} if '${op}' == 'Concat' else {}
nodes = [h.make_node('Conv', ['x', 'w', 'b'], ['c'], kernel_shape=[3, 3]),
         h.make_node('${op}', ins, ['j'], **attrs),
         h.make_node('Relu', ['j'], ['y'])]
g = h.make_graph(nodes, 'g', [h.make_tensor_value_info('x', T.FLOAT, [1, 3, 8, 8])],
                 [h.make_tensor_value_info('y', T.FLOAT, [1, ${extra && op === 'Concat' ? 8 : 4}, 6, 6])], inits)
m = h.make_model(g, opset_imports=[h.make_opsetid('', 17)])
onnx.checker.check_model(m, full_check=True)
onnx.save(m, sys.argv[1])
`;
  execFileSync(PYTHON, ['-c', script, file], { stdio: ['ignore', 'pipe', 'pipe'] });
}

describe.skipIf(!hasOnnx)('one-input joins', () => {
  for (const op of ['Concat', 'Sum'] as const) {
    it(`a one-input ${op} imports as nothing, and the import computes what the original does`, async () => {
      const f = path.join(dir, `one-${op}.onnx`);
      model(f, op, false);
      const net = path.join(dir, `one-${op}.net`);
      const w = path.join(dir, `one-${op}.weights.onnx`);
      const r = alexnetc(['import', f, '-o', net, '--weights-out', w]);
      expect(r.code, r.stderr).toBe(0);
      const source = fs.readFileSync(net, 'utf8');
      expect(source).toMatch(/conv\(4, 3\)/);
      expect(source).not.toMatch(/concat|add/);
      const again = path.join(dir, `again-${op}.onnx`);
      expect(alexnetc(['compile', net, '--weights', w, '-o', again]).code).toBe(0);
      const cmp = await compareModels(f, again, [1, 3, 8, 8]);
      expect(cmp.rel).toBeLessThan(1e-5);
    });
  }

  it('a Concat of the network with a constant is refused, and the message does not call Concat foreign', () => {
    const f = path.join(dir, 'const-concat.onnx');
    model(f, 'Concat', true);
    const r = alexnetc(['import', f, '-o', path.join(dir, 'c.net')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Concat joins the network');
    expect(r.stderr).toContain('constant');
    expect(r.stderr).not.toContain('outside alexnetc');
  });
});
