// Importing today's CNNs (issue 19) from torchvision's own exports:
// MobileNetV2/V3, EfficientNet (B0; V2-S at 224² only), RegNetY, ShuffleNetV2,
// DenseNet and ConvNeXt (and Inception-v3 at 299² only),
// exported by torch.onnx.export at opset 17 both with the exporter's defaults
// (eval mode: batch norm folded into the convolutions) and with
// TrainingMode.PRESERVE (batch norm kept). The default suite runs each
// family's torchvision class built small (`tiny_*`: every kind of block, a
// few channels, 32² input); ALEXNETC_BIG_TESTS runs the ImageNet-sized
// networks at 224². Each must import to source that checks, reads like the
// shipped spec (SE as `gate { … }`, ShuffleNet's `split` and `shuffle`,
// DenseNet's `concat { branch { } … }`, ConvNeXt's `tokens | layernorm | …
// | image`), counts torchvision's parameters (batch norm kept) or the file's
// (folded), and computes what the exported file computes in onnxruntime.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { NEEDS_BIG, skipping } from '../skip.js';
import { PYTHON, requirePython, tempDir } from '../onnx/helpers.js';
import { alexnetc, compareModels, importChecked } from './helpers.js';

const hasTorch = requirePython('onnx, torch, torchvision', 'torchvision CNN import tests');
const big = process.env.ALEXNETC_BIG_TESTS === '1';

type Mode = 'plain' | 'default';

function exportModel(name: string, file: string, mode: Mode, size: number): { params: number; onnx_params: number; output_shape: number[] } {
  const out = execFileSync(PYTHON, [path.join(import.meta.dirname, 'export_torchvision.py'), name, file, mode, '--size', String(size)], {
    encoding: 'utf8',
    timeout: 300_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return JSON.parse(out.trim().split('\n').pop()!);
}

/** What the imported source of each family must say (the spec's constructs). */
const READS: Record<string, RegExp[]> = {
  // one block for the inverted residual, the input added back when the stride is 1 and the channels are kept
  mobilenet_v2: [/block inverted\(cin, [\w, ]+\) \{\n  residual if stride == 1 and cin == \w+ \{\n/, /relu6/, /repeat \d \{ inverted\(/],
  mobilenet_v3: [/block se\(squeeze, c\) \{\n  gate \{[\s\S]*hardsigmoid\n  \}\n\}/, /hardswish/, /residual if stride == 1 and cin == \w+ \{/],
  efficientnet: [/block se\(squeeze, c\) \{\n  gate \{[\s\S]*silu[\s\S]*sigmoid\n  \}\n\}/, /\| silu/, /block inverted\(cin, [\w, ]+\) \{\n  residual if stride == 1 and cin == \w+ \{/],
  // the transform is the body, the projection (written first by torchvision) the shortcut
  // fused MBConv (no depthwise conv) and MBConv with SE, each one block with its conditional residual
  efficientnet_v2: [/residual if stride == 1 and cin == \w+ \{/, /gate \{[\s\S]*sigmoid/, /\| silu/],
  // the exporter's one Concat of Mixed_7b's branches and their halves comes back nested
  inception: [/block \w+\([\w, ]*\) \{\n  concat \{[\s\S]*branch \{\n[^{}]+concat \{\n\s+branch/, /avgpool\(3, 1, pad 1, countpad true\)/],
  regnet_y: [/gate \{[\s\S]*relu[\s\S]*sigmoid/, /residual \{\n    \w+\((\w+), 1[\s\S]*se\(\w+, \1\)\n[\s\S]*\} shortcut \{\n    conv\(\1, 1, stride 2(, bias false)?\)( \| batchnorm)?\n  \}/],
  shufflenet: [/block unit\(c\) \{\n  split \{\n    branch \{\}\n    branch \{[\s\S]*\}\n  \}\n  shuffle\(2\)\n\}/, /concat \{/, /repeat \d+ \{ unit\(\d+\) \}/],
  densenet: [/block denselayer\(\) \{\n  concat \{\n    branch \{\}\n    branch \{\n      batchnorm \| relu/, /repeat \d+ \{ denselayer \}/, /\| avgpool\(2\)\n/],
  convnext: [/residual \{\n\s+conv\((\w+), 7, pad 3, groups \1\) \| tokens \| layernorm\(eps [\d.e-]+\)\n\s+dense\(\w+\) \| gelu\n\s+dense\(\1\) \| image\(\w+, \w+\) \| scale\n/, /repeat \d+ \{/],
};

const families: [string, string, number, boolean][] = [
  ['tiny_mobilenet_v2', 'mobilenet_v2', 32, true],
  ['tiny_mobilenet_v3', 'mobilenet_v3', 32, true],
  ['tiny_efficientnet', 'efficientnet', 32, true],
  ['tiny_regnet_y', 'regnet_y', 32, true],
  ['tiny_shufflenet', 'shufflenet', 32, true],
  ['tiny_densenet', 'densenet', 32, true],
  ['tiny_convnext', 'convnext', 32, true],
  ['mobilenet_v2', 'mobilenet_v2', 224, big],
  ['mobilenet_v3_small', 'mobilenet_v3', 224, big],
  ['mobilenet_v3_large', 'mobilenet_v3', 224, big],
  ['efficientnet_b0', 'efficientnet', 224, big],
  ['efficientnet_v2_s', 'efficientnet_v2', 224, big],
  ['regnet_y_400mf', 'regnet_y', 224, big],
  ['shufflenet_v2_x0_5', 'shufflenet', 224, big],
  ['shufflenet_v2_x1_0', 'shufflenet', 224, big],
  ['densenet121', 'densenet', 224, big],
  ['convnext_tiny', 'convnext', 224, big],
  ['inception_v3', 'inception', 299, big],
];

describe('import of torchvision CNNs (issue 19)', () => {
  for (const [name, family, size, enabled] of families) {
    for (const mode of ['default', 'plain'] as Mode[]) {
      const what = mode === 'plain' ? 'TrainingMode.PRESERVE: batch norm kept' : 'exporter defaults: batch norm folded';
      it.skipIf(!hasTorch || skipping(`torchvision import ${name} (${mode})`, !enabled && NEEDS_BIG))(`${name} at ${size}² (${what})`, async () => {
        const dir = tempDir(`import-${name}`);
        try {
          const onnx = path.join(dir, `${name}.onnx`);
          const ref = exportModel(name, onnx, mode, size);
          const net = path.join(dir, `${name}.net`);
          const report = importChecked(onnx, net, ref.output_shape);
          // batch norm kept: torchvision's own count; folded: the weights the file's nodes use
          expect(report.params).toBe(mode === 'plain' ? ref.params : ref.onnx_params);

          const source = fs.readFileSync(net, 'utf8');
          for (const re of READS[family]!) expect(source).toMatch(re);
          expect(report.blocks).toBeGreaterThan(0);
          if (mode === 'plain' && family !== 'convnext') expect(source).toContain('batchnorm'); // ConvNeXt has none

          const again = path.join(dir, 'again.onnx');
          const c = alexnetc(['compile', net, '--weights', report.weights, '-o', again]);
          expect(c.stderr).toContain('wrote');
          expect(c.code).toBe(0);
          const cmp = await compareModels(onnx, again, [2, 3, size, size]);
          console.log(`${name} (${mode}, ${size}²): ${report.params.toLocaleString('en-US')} parameters, ${report.blocks} blocks, max |Δ| = ${(cmp.rel * cmp.maxAbs).toExponential(2)}, / max |y| = ${cmp.rel.toExponential(2)}`);
          expect(cmp.length).toBe(2 * ref.output_shape[1]!);
          expect(cmp.maxAbs).toBeGreaterThan(1e-3);
          expect(cmp.rel).toBeLessThanOrEqual(1e-4);
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      }, 600_000);
    }
  }
});
