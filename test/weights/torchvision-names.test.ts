// torchvision's checkpoint names: a network laid out as torchvision's
// VisionTransformer reads a torchvision state_dict (saved as safetensors,
// under torchvision's keys) through `compile --weights` and `train --init`.
// The small ViT of test/import/export_vit.py, its state_dict → the spec's
// ONNX graph in onnxruntime and the generated PyTorch module (--target
// torch, loaded with what `--target safetensors` converts, or with
// torchvision's file itself) compute what torchvision computes. A network of another layout has no torchvision names.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compile.js';
import { matchWeights } from '../../src/weights/match.js';
import { openTensors } from '../../src/weights/index.js';
import { torchvisionNames } from '../../src/weights/torchvision.js';
import { PYTHON, requirePython, tempDir } from '../onnx/helpers.js';
import { alexnetc, ROOT } from '../import/helpers.js';

const hasTorch = requirePython('torch, torchvision, numpy', 'torchvision ViT checkpoint names');
const SCRIPT = path.join(ROOT, 'test/import/vit_state.py');

// torchvision's VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=4, hidden_dim=64, mlp_dim=128, num_classes=10)
const SOURCE = `
block encoder(dim, heads, mlp) {
  residual { layernorm(eps 1e-6) | attention(heads) }
  residual { layernorm(eps 1e-6) | dense(mlp) | gelu | dense(dim) }
}

network ViTSmall(classes = 10) {
  input [3, 32, 32]
  conv(64, 8, stride 8) | tokens   : [16, 64]
  classtoken | posembed            : [17, 64]
  repeat 2 { encoder(64, 4, 128) }
  layernorm(eps 1e-6) | token(0)   : [64]
  dense(classes)                   : [classes]
}
`;

function network(source: string, name?: string) {
  const r = compile(source, { network: name });
  if (!r.network) throw new Error(r.diagnostics.map((d) => d.message).join('; '));
  return r.network;
}

describe('torchvision checkpoint names', () => {
  it('specs/vit.net mirrors torchvision: every weight has its torchvision key; other layouts have none', () => {
    const vit = fs.readFileSync(path.join(ROOT, 'specs/vit.net'), 'utf8');
    const names = torchvisionNames(network(vit, 'ViT_B_16'))!;
    expect(names).toBeDefined();
    expect(names.size).toBe(4 + 12 * 12 + 2 + 2);
    expect(names.get('conv1.weight')).toBe('conv_proj.weight');
    expect(names.get('classtoken1.class_token')).toBe('class_token');
    expect(names.get('posembed1.pos_embedding')).toBe('encoder.pos_embedding');
    expect(names.get('encoder1/residual1/layernorm1.weight')).toBe('encoder.layers.encoder_layer_0.ln_1.weight');
    expect(names.get('encoder1/residual1/attention1.out_proj.weight')).toBe('encoder.layers.encoder_layer_0.self_attention.out_proj.weight');
    expect(names.get('encoder12/residual1/attention1.in_proj_weight')).toBe('encoder.layers.encoder_layer_11.self_attention.in_proj_weight');
    expect(names.get('encoder12/residual2/layernorm1.bias')).toBe('encoder.layers.encoder_layer_11.ln_2.bias');
    expect(names.get('encoder12/residual2/dense1.weight')).toBe('encoder.layers.encoder_layer_11.mlp.0.weight');
    expect(names.get('encoder12/residual2/dense2.bias')).toBe('encoder.layers.encoder_layer_11.mlp.3.bias');
    expect(names.get('layernorm1.weight')).toBe('encoder.ln.weight');
    expect(names.get('dense1.weight')).toBe('heads.head.weight');
    // a CNN, and a ViT whose head averages the tokens through an extra dense layer, are not torchvision's layout
    expect(torchvisionNames(network(fs.readFileSync(path.join(ROOT, 'specs/lenet5.net'), 'utf8')))).toBeUndefined();
    expect(torchvisionNames(network(SOURCE.replace('dense(classes) ', 'dense(32) | dense(16) | dense(classes) ')))).toBeUndefined();
  });

  it.skipIf(!hasTorch)("torchvision's state_dict loads through --weights and --init; ONNX and the PyTorch module compute what torchvision does", async () => {
    const dir = tempDir('vit-state');
    try {
      const saved = JSON.parse(execFileSync(PYTHON, [SCRIPT, 'save', dir], { encoding: 'utf8', timeout: 300_000, stdio: ['ignore', 'pipe', 'pipe'] }).trim().split('\n').pop()!) as { keys: string[] };
      expect(saved.keys).toContain('encoder.layers.encoder_layer_1.self_attention.in_proj_weight');
      const tv = path.join(dir, 'torchvision.safetensors');
      const net = path.join(dir, 'vit.net');
      fs.writeFileSync(net, SOURCE);

      // train --init: every weight found under torchvision's key, with its shape, nothing left over
      const report = matchWeights(await openTensors(tv, network(SOURCE), '--init'), network(SOURCE));
      expect(report.entries.filter((e) => e.status !== 'loaded')).toEqual([]);
      expect(report.extra).toEqual([]);
      expect(report.entries).toHaveLength(saved.keys.length);

      // compile --weights → ONNX, in onnxruntime, against torchvision's own output
      const onnx = path.join(dir, 'vit.onnx');
      expect(alexnetc(['compile', net, '--weights', tv, '-o', onnx]).code).toBe(0);
      const input = new Float32Array(Uint8Array.from(fs.readFileSync(path.join(dir, 'input.bin'))).buffer);
      const want = new Float32Array(Uint8Array.from(fs.readFileSync(path.join(dir, 'output.bin'))).buffer);
      const session = await ort.InferenceSession.create(onnx);
      const got = (await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', input, [2, 3, 32, 32]) }))[session.outputNames[0]!]!.data as Float32Array;
      await session.release();
      expect(got.length).toBe(want.length);
      const maxAbs = Math.max(...want.map(Math.abs));
      const diff = Math.max(...got.map((y, i) => Math.abs(y - want[i]!)));
      console.log(`ViT small, torchvision's state_dict: ONNX max |Δ| = ${diff.toExponential(2)} (max |y| ${maxAbs.toFixed(3)})`);
      expect(maxAbs).toBeGreaterThan(1e-2);
      expect(diff).toBeLessThanOrEqual(1e-4 * maxAbs);

      // the PyTorch module: its weights from torchvision's through --weights (written under alexnetc's names)
      const py = path.join(dir, 'vit.py');
      const st = path.join(dir, 'alexnetc.safetensors');
      expect(alexnetc(['compile', net, '--target', 'torch', '-o', py]).code).toBe(0);
      expect(alexnetc(['compile', net, '--weights', tv, '--target', 'safetensors', '-o', st]).code).toBe(0);
      const run = JSON.parse(execFileSync(PYTHON, [SCRIPT, 'run', dir, py, 'ViTSmall', st], { encoding: 'utf8', timeout: 300_000, stdio: ['ignore', 'pipe', 'pipe'] }).trim().split('\n').pop()!) as { max_abs_diff: number; max_abs: number };
      console.log(`ViT small, torchvision's state_dict: PyTorch module max |Δ| = ${run.max_abs_diff.toExponential(2)}`);
      expect(run.max_abs).toBeGreaterThan(1e-2);
      expect(run.max_abs_diff).toBeLessThanOrEqual(1e-4 * run.max_abs);
      // … and the module's own load_safetensors reads torchvision's file as it is (its `torchvision` table)
      expect(fs.readFileSync(py, 'utf8')).toContain('"encoder1/residual1/attention1.in_proj_weight":\n            "encoder.layers.encoder_layer_0.self_attention.in_proj_weight",');
      const direct = JSON.parse(execFileSync(PYTHON, [SCRIPT, 'run', dir, py, 'ViTSmall', tv], { encoding: 'utf8', timeout: 300_000, stdio: ['ignore', 'pipe', 'pipe'] }).trim().split('\n').pop()!) as { max_abs_diff: number; max_abs: number };
      expect(direct.max_abs_diff).toBeLessThanOrEqual(1e-4 * direct.max_abs);
      // a network of another layout has no such table
      const lenet = path.join(dir, 'lenet.py');
      expect(alexnetc(['compile', path.join(ROOT, 'specs/lenet5.net'), '--target', 'torch', '-o', lenet]).code).toBe(0);
      expect(fs.readFileSync(lenet, 'utf8')).not.toContain('torchvision = {');

      // a torchvision checkpoint of another size is refused, naming the layer and both shapes
      const other = SOURCE.replace('repeat 2 { encoder(64, 4, 128) }', 'repeat 2 { encoder(64, 4, 256) }');
      const otherNet = path.join(dir, 'other.net');
      fs.writeFileSync(otherNet, other);
      const bad = alexnetc(['compile', otherNet, '--weights', tv, '-o', path.join(dir, 'other.onnx')]);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain('layer encoder1/residual2/dense1');
      expect(bad.stderr).toContain('[256, 64]');
      expect(bad.stderr).toContain('[128, 64]');
      expect(fs.existsSync(path.join(dir, 'other.onnx'))).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
