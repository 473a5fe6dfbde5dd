// The round trip: every shipped network compiled to ONNX by alexnetc and
// imported again is the same network — the same layers with the same
// (normalised) arguments, shapes, weights, parameters and MACs, stage for
// stage (dropout aside: ONNX inference graphs leave it out) — and, with the imported weights, computes
// what the first file computes.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NEEDS_BIG, skipping } from '../skip.js';
import { tempDir } from '../onnx/helpers.js';
import { alexnetc, compareModels, computedLayers, ROOT } from './helpers.js';

const big = process.env.ALEXNETC_BIG_TESTS === '1';
const dir = tempDir('import-roundtrip');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const specs: [string, string, boolean][] = [
  ['lenet5.net', 'LeNet5', true],
  ['alexnet.net', 'AlexNet', true],
  ['alexnet.net', 'AlexNetTorchvision', true],
  ['resnet.net', 'ResNet18', true],
  ['resnet.net', 'ResNet34', true],
  ['googlenet.net', 'GoogLeNet', true],
  ['vit.net', 'ViT_Tiny28', true],
  ['vit.net', 'ViT_B_32', big],
  ['vit.net', 'ViT_B_16', big],
  ...['VGG11', 'VGG13', 'VGG16', 'VGG19', 'VGG11_BN', 'VGG13_BN', 'VGG16_BN', 'VGG19_BN'].map((n): [string, string, boolean] => ['vgg.net', n, big]),
];

/** the networks small enough to run in onnxruntime here, and their inputs */
const RUN: Record<string, number[]> = { LeNet5: [2, 1, 32, 32], ViT_Tiny28: [2, 1, 28, 28], ResNet18: [1, 3, 224, 224], GoogLeNet: [1, 3, 224, 224] };

describe('shipped specs: compile → import → the same network', () => {
  for (const [file, network, enabled] of specs) {
    it.skipIf(skipping(`import round trip ${network}`, !enabled && NEEDS_BIG))(`${network} (${file})`, async () => {
      const spec = path.join(ROOT, 'specs', file);
      const onnx = path.join(dir, `${network}.onnx`);
      expect(alexnetc(['compile', spec, '--network', network, '--seed', '3', '-o', onnx]).code).toBe(0);
      const net = path.join(dir, `${network}.net`);
      const weights = path.join(dir, `${network}.w.onnx`);
      const r = alexnetc(['import', onnx, '-o', net, '--weights-out', weights]);
      expect(r.stderr).toContain(`wrote ${net}`);
      expect(r.code).toBe(0);

      const want = computedLayers(spec, network);
      const got = computedLayers(net);
      expect(got.layers).toEqual(want.layers);
      expect(got.params).toBe(want.params);
      expect(got.macs).toBe(want.macs);
      // the name survives: alexnetc writes the network's name as the graph's
      expect(fs.readFileSync(net, 'utf8')).toContain(`network ${network}(`);

      const dims = RUN[network];
      if (dims) {
        const again = path.join(dir, `${network}-again.onnx`);
        expect(alexnetc(['compile', net, '--weights', weights, '-o', again]).code).toBe(0);
        const cmp = await compareModels(onnx, again, dims);
        expect(cmp.maxAbs).toBeGreaterThan(1e-6);
        expect(cmp.rel).toBeLessThanOrEqual(1e-4);
      }
      for (const f of fs.readdirSync(dir)) if (f.startsWith(network)) fs.rmSync(path.join(dir, f));
    }, 300_000);
  }

  it('ResNet18 comes back with its blocks, reading like specs/resnet.net', () => {
    const onnx = path.join(dir, 'r.onnx');
    expect(alexnetc(['compile', path.join(ROOT, 'specs/resnet.net'), '--network', 'ResNet18', '-o', onnx]).code).toBe(0);
    const net = path.join(dir, 'r.net');
    expect(alexnetc(['import', onnx, '-o', net]).code).toBe(0);
    const text = fs.readFileSync(net, 'utf8');
    expect(text).toMatch(/block basic\(c\) \{\n  residual \{\n    conv\(c, 3, pad 1, bias false\) \| batchnorm \| relu\n/);
    expect(text).toMatch(/block down\(c\) \{[\s\S]*\} shortcut \{\n    conv\(c, 1, stride 2, bias false\) \| batchnorm\n/);
    expect(text).toContain('repeat 2 { basic(64) }');
    expect(text).toContain('dense(classes)');
    // and the stage paths are the spec's own: basic1/residual1/conv1, down1/…
    const spec = alexnetc(['summary', path.join(ROOT, 'specs/resnet.net'), '--network', 'ResNet18', '--json']);
    const back = alexnetc(['summary', net, '--json']);
    const paths = (s: string): string[] => (JSON.parse(s) as { rows: { path: string }[] }).rows.map((x) => x.path).filter((p) => !p.startsWith('stem') && !p.startsWith('head'));
    expect(paths(back.stdout).filter((p) => /^(basic|down)/.test(p))).toEqual(paths(spec.stdout).filter((p) => /^(basic|down)/.test(p)));
  });
});
