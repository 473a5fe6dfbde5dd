// Shape arithmetic, table-driven. Expected sizes are computed with PyTorch's
// documented formulas (nn.Conv2d, nn.MaxPool2d with ceil_mode, nn.AvgPool2d)
// by hand, not by our own code.
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compile.js';

function outShape(input: string, stage: string): number[] | string {
  const r = compile(`network T {\n  input ${input}\n  ${stage}\n}\n`);
  const err = r.diagnostics.find((d) => d.severity === 'error');
  if (err) return err.code;
  return r.network!.output;
}

const cases: [string, string, number[] | string][] = [
  // conv: floor((H + pt + pb - d(k-1) - 1)/s) + 1
  ['[3, 227, 227]', 'conv(96, 11, stride 4)', [96, 55, 55]],
  ['[3, 224, 224]', 'conv(96, 11, stride 4)', [96, 54, 54]],
  ['[3, 224, 224]', 'conv(64, 11, stride 4, pad 2)', [64, 55, 55]],
  ['[3, 224, 224]', 'conv(64, 7, stride 2, pad 3)', [64, 112, 112]],
  ['[3, 32, 32]', 'conv(8, 3, pad same)', [8, 32, 32]],
  ['[3, 33, 33]', 'conv(8, 3, stride 2, pad same)', [8, 17, 17]],
  ['[3, 32, 31]', 'conv(8, [3, 5])', [8, 30, 27]],
  ['[3, 32, 32]', 'conv(8, 3, stride [1, 2])', [8, 30, 15]],
  ['[3, 32, 32]', 'conv(8, 3, pad [1, 0, 2, 0])', [8, 33, 30]],
  ['[3, 32, 32]', 'conv(8, 3, pad [2, 1])', [8, 34, 32]],
  ['[3, 32, 32]', 'conv(8, 3, dilation 2)', [8, 28, 28]],
  ['[3, 10, 10]', 'conv(8, 3, stride 3)', [8, 3, 3]],
  ['[4, 8, 8]', 'conv(8, 3, groups 4)', [8, 6, 6]],
  ['[3, 5, 5]', 'conv(8, 5)', [8, 1, 1]],
  ['[3, 4, 4]', 'conv(8, 5)', 'E301'],
  ['[3, 4, 4]', 'conv(8, 5, pad 1)', [8, 2, 2]],
  // pools: stride defaults to k
  ['[96, 55, 55]', 'maxpool(3, 2)', [96, 27, 27]],
  ['[64, 112, 112]', 'maxpool(3, 2, pad 1)', [64, 56, 56]],
  ['[8, 7, 7]', 'maxpool(2)', [8, 3, 3]],
  ['[8, 7, 7]', 'maxpool(2, ceil true)', [8, 4, 4]],
  ['[64, 112, 112]', 'maxpool(3, 2, ceil true)', [64, 56, 56]],
  ['[480, 28, 28]', 'maxpool(3, 2, ceil true)', [480, 14, 14]],
  ['[832, 14, 14]', 'maxpool(2, 2, ceil true)', [832, 7, 7]],
  // ceil mode rounds up, but drops a last window that would start in the right padding (PyTorch rule)
  ['[1, 6, 6]', 'maxpool(2, 2, pad 1, ceil true)', [1, 4, 4]],
  ['[1, 5, 5]', 'maxpool(2, 2, pad 1, ceil true)', [1, 3, 3]],
  ['[1, 5, 5]', 'avgpool(3, 2, pad 1, ceil true)', [1, 3, 3]],
  ['[6, 28, 28]', 'avgpool(2)', [6, 14, 14]],
  ['[8, 3, 3]', 'maxpool(3, pad 2)', 'E202'],
  ['[8, 2, 2]', 'maxpool(3)', 'E301'],
  ['[8, 5, 9]', 'globalavgpool', [8, 1, 1]],
  // shape-preserving and vector layers
  ['[96, 55, 55]', 'lrn', [96, 55, 55]],
  ['[16, 5, 5]', 'batchnorm', [16, 5, 5]],
  ['[256, 6, 6]', 'flatten', [9216]],
  ['[9216]', 'dense(4096)', [4096]],
  ['[9216]', 'flatten', [9216]],
  ['[256, 6, 6]', 'dense(10)', 'E303'],
  ['[10]', 'softmax', [10]],
  ['[10]', 'conv(3, 1)', 'E307'],
  // constructs
  ['[8, 8, 8]', 'residual { conv(8, 3, pad 1) | relu }', [8, 8, 8]],
  ['[8, 8, 8]', 'residual { conv(16, 3, stride 2, pad 1) } shortcut { conv(16, 1, stride 2) }', [16, 4, 4]],
  ['[8, 8, 8]', 'concat { branch { conv(4, 1) } branch { conv(6, 3, pad 1) } branch { } }', [18, 8, 8]],
  ['[8, 8, 8]', 'add { branch { conv(4, 1) } branch { conv(4, 3, pad 1) } }', [4, 8, 8]],
  ['[8, 8, 8]', 'repeat 3 { maxpool(2) }', [8, 1, 1]],
  ['[8, 8, 8]', 'repeat 0 { maxpool(2) }', [8, 8, 8]],
  ['[8, 8, 8]', 'repeat 4 { maxpool(2) }', 'E301'],
];

describe('output shapes', () => {
  for (const [input, stage, expected] of cases) {
    it(`${stage} on ${input} → ${JSON.stringify(expected)}`, () => {
      expect(outShape(input, stage)).toEqual(expected);
    });
  }
});

describe('expressions', () => {
  const cases: [string, number[] | string][] = [
    ['dense(c * 4)', [12]],
    ['dense((c + 1) * 2)', [8]],
    ['dense(c * 4 / 2)', [6]],
    ['dense(c // 2)', [1]],
    ['dense(7 % c + 1)', [2]],
    ['dense(c - -1)', [4]],
    ['dense(c / 2)', 'E203'],
    ['dense(c / 0)', 'E204'],
    ['dense(1e3)', [1000]],
  ];
  for (const [stage, expected] of cases) {
    it(`${stage} with c = 3`, () => {
      const r = compile(`network T(c = 3) {\n  input [4]\n  ${stage}\n}\n`);
      const err = r.diagnostics.find((d) => d.severity === 'error');
      expect(err ? err.code : r.network!.output).toEqual(expected);
    });
  }

  it('--set overrides a parameter and is checked', () => {
    const text = 'network T(classes = 1000, wide = false) {\n  input [4]\n  dense(classes)\n}\n';
    expect(compile(text, { set: { classes: '10' } }).network!.output).toEqual([10]);
    expect(compile(text, { set: { classes: '0' } }).diagnostics.map((d) => d.code)).toContain('E202');
    expect(compile(text, { set: { classes: 'ten' } }).diagnostics.map((d) => d.code)).toContain('E111');
  });

  it('picks one of several networks with --network', () => {
    const text = 'network A {\n  input [4]\n  dense(2)\n}\nnetwork B {\n  input [4]\n  dense(3)\n}\n';
    expect(compile(text, { network: 'B' }).network!.output).toEqual([3]);
    expect(compile(text).diagnostics.map((d) => d.code)).toEqual(['E105']);
  });
});

describe('paths', () => {
  it('name stages by block path, counting per scope', () => {
    const r = compile(
      'block stage(c) {\n  repeat 2 { conv(c, 3, pad 1) | relu }\n  maxpool(2)\n}\nnetwork T {\n  input [3, 16, 16]\n  stage(4) | stage(8)\n  residual { conv(8, 1) } shortcut { identity }\n  concat { branch { relu } branch { relu } }\n}\n',
    );
    const paths: string[] = [];
    const walk = (ns: typeof r.network.body): void => {
      for (const n of ns) {
        paths.push(n.path);
        if (n.kind === 'residual') {
          walk(n.body);
          walk(n.shortcut ?? []);
        } else if (n.kind !== 'layer') n.branches.forEach(walk);
      }
    };
    walk(r.network!.body);
    expect(paths).toEqual([
      'stage1/conv1', 'stage1/relu1', 'stage1/conv2', 'stage1/relu2', 'stage1/maxpool1',
      'stage2/conv1', 'stage2/relu1', 'stage2/conv2', 'stage2/relu2', 'stage2/maxpool1',
      'residual1', 'residual1/conv1', 'residual1/shortcut/identity1',
      'concat1', 'concat1/branch1/relu1', 'concat1/branch2/relu1',
    ]);
  });
});
