// The train { } settings, declared once (src/check/train-settings.ts): the
// checker validates names and values with located diagnostics, and the
// trainer's command-line flags follow the same rules.
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compile.js';
import { TRAIN_SETTINGS } from '../../src/check/train-settings.js';
import { ConfigError, resolveSettings } from '../../src/train/config.js';

const net = (settings: string): string => `network N {\n  input [16]\n  dense(10) | softmax\n  train {\n${settings}\n  }\n}\n`;
const problems = (settings: string) => {
  const text = net(settings);
  return compile(text, { all: true }).diagnostics.map((d) => ({ code: d.code, at: text.slice(d.span.start, d.span.end), message: d.message, fix: d.fixes[0]?.edits[0]?.newText }));
};

describe('train { } values are checked by the checker', () => {
  it('the issue\'s example fails `check`, each value located', () => {
    expect(problems('    lr -1 optimizer adamw epochs 2.5')).toEqual([
      { code: 'E202', at: '-1', message: 'train { lr … } must be a positive number, got -1', fix: undefined },
      { code: 'E102', at: 'adamw', message: 'train { optimizer … } must be sgd, momentum or adam, got adamw; did you mean `adam`?', fix: 'adam' },
      { code: 'E201', at: '2.5', message: 'train { epochs … } must be a whole number ≥ 1, got 2.5', fix: undefined },
    ]);
  });

  const cases: [string, string, string, RegExp][] = [
    ['momentum 1', 'E202', '1', /in \[0, 1\)/],
    ['weight_decay -0.1', 'E202', '-0.1', /≥ 0/],
    ['batch 0', 'E202', '0', /whole number ≥ 1/],
    ['seed 1.5', 'E201', '1.5', /whole number ≥ 0/],
    ['val_split 1', 'E202', '1', /in \[0, 1\)/],
    ['lr adam', 'E201', 'adam', /must be a positive number, got adam/],
    ['loss mse', 'E102', 'mse', /only softmax cross-entropy/],
    ['schedule cosine', 'E102', 'cosine', /constant or step/],
    ['schedule step(gamma 0.1)', 'E109', 'step', /needs `every N`/],
    ['schedule step(every 30, gamma 0)', 'E202', '0', /gamma must be a positive number/],
    ['augment sideways', 'E102', 'sideways', /auto, none, flip, crop or crop_flip/],
    ['augment crop(pad (-1))', 'E202', '(-1)', /pad must be a whole number ≥ 0/],
    ['augment crop(size 3)', 'E103', 'size', /has no argument `size`/],
    ['optimizer adam(momentum 0.9)', 'E103', 'momentum', /optimizer adam takes beta1, beta2, lr/],
    ['optimizer momentum(momentum 1.5)', 'E202', '1.5', /momentum must be in \[0, 1\)/],
    ['optimizer sgd, momentum', 'E002', '', /./],
    ['normalize given(mean [0.5])', 'E109', 'given', /needs both mean and std/],
    ['normalize given(mean [0.5, 0.5], std [0.2, 0])', 'E202', '[0.2, 0]', /std must be positive numbers, got 0/],
    ['normalize given(mean [0.5, 0.5], std [0.2, 0.2, 0.2])', 'E202', '[0.2, 0.2, 0.2]', /as many std values as mean values/],
    ['schedule constant(3)', 'E108', '3', /takes one value, got 2/],
    ['lr 0.1\n    lr 0.2', 'E107', 'lr', /given twice/],
  ];
  for (const [setting, code, at, message] of cases) {
    it(setting.replace(/\n\s*/g, ' / '), () => {
      const p = problems(`    ${setting}`);
      expect(p.map((x) => x.code)).toContain(code);
      const d = p.find((x) => x.code === code)!;
      if (at) expect(d.at).toBe(at);
      expect(d.message).toMatch(message);
    });
  }

  it('other libraries\' names get "did you mean"', () => {
    for (const [wrong, right] of [['learning_rate', 'lr'], ['batch_size', 'batch'], ['num_epochs', 'epochs'], ['validation_split', 'val_split'], ['weightdecay', 'weight_decay']]) {
      const p = problems(`    ${wrong} 1`);
      expect(p[0]!.code, wrong).toBe('E115');
      expect(p[0]!.fix, wrong).toBe(right);
    }
  });

  it('a second train section is E106, not a silent override', () => {
    const text = 'network N {\n  input [4]\n  dense(2)\n  train { lr 0.1 }\n  train { lr 0.2 }\n}\n';
    const r = compile(text);
    expect(r.diagnostics.map((d) => d.code)).toEqual(['E106']);
    expect(text.slice(r.diagnostics[0]!.span.start, r.diagnostics[0]!.span.end)).toBe('train { lr 0.2 }');
  });

  it('valid sections check cleanly and resolve', () => {
    const text = net('    optimizer momentum(momentum 0.8)\n    lr 0.05\n    schedule step(30, 0.5)\n    augment crop_flip(pad 4)\n    normalize given(mean [0.5], std [0.25])\n    loss cross_entropy');
    const r = compile(text);
    expect(r.diagnostics).toEqual([]);
    expect(resolveSettings(r.network!.train, {})).toMatchObject({
      optimizer: 'momentum',
      momentum: 0.8,
      lr: 0.05,
      schedule: { kind: 'step', every: 30, gamma: 0.5 },
      augment: { crop: 4, flip: true },
      normalize: { mean: [0.5], std: [0.25] },
    });
  });
});

describe('command-line flags follow the same rules', () => {
  const flagError = (flags: Record<string, string>): string => {
    try {
      resolveSettings({}, flags);
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as Error).message;
    }
    throw new Error('no error');
  };
  it('refuses what the file would refuse, naming the flag', () => {
    expect(flagError({ lr: '-1' })).toBe("--lr must be a positive number, got '-1'");
    expect(flagError({ epochs: '2.5' })).toBe("--epochs must be a whole number ≥ 1, got '2.5'");
    expect(flagError({ optimizer: 'adamw' })).toMatch(/--optimizer must be sgd, momentum or adam, got 'adamw'/);
    expect(flagError({ lr: '1e400' })).toMatch(/--lr: '1e400' is not a value \(the number `1e400` is too large/);
    expect(flagError({ 'val-split': '1' })).toBe("--val-split must be in [0, 1), got '1'");
    expect(flagError({ batch: 'abc' })).toBe("--batch must be a whole number ≥ 1, got 'abc'");
    expect(flagError({ mean: '0.5', std: '0' })).toMatch(/--std must be comma-separated positive numbers, got '0'/);
  });

  it('accepts what the file accepts', () => {
    expect(resolveSettings({}, { lr: '1e-3', epochs: '3', optimizer: 'sgd', 'weight-decay': '5e-4', seed: '7' })).toMatchObject({ lr: 0.001, epochs: 3, optimizer: 'sgd', weightDecay: 5e-4, seed: 7 });
  });

  it('every flag the trainer has names a setting of the table', () => {
    const flags = TRAIN_SETTINGS.flatMap((s) => (s.flag ? [s.flag] : []));
    expect(flags.sort()).toEqual(['batch', 'epochs', 'lr', 'momentum', 'optimizer', 'seed', 'val-split', 'weight-decay']);
  });
});
