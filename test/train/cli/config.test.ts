// Settings resolution: defaults < the network's train { } section < flags.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../../../src/compile.js';
import { ConfigError, DEFAULTS, learningRate, resolveAugment, resolveSettings } from '../../../src/train/config.js';

const root = path.join(import.meta.dirname, '../../..');
const trainOf = (file: string, set: Record<string, string> = {}) => {
  const r = compile(readFileSync(path.join(root, file), 'utf8'), { file, set });
  if (!r.network) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return r.network.train;
};
const section = (body: string) => {
  const text = `network N { input [1, 8, 8]\n flatten | dense(2)\n train {\n ${body}\n }\n}`;
  const r = compile(text);
  if (!r.network) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return r.network.train;
};

describe('training settings', () => {
  it('takes defaults when the file says nothing', () => {
    const s = resolveSettings({}, {});
    expect(s).toEqual({ ...DEFAULTS, lr: 0.001 });
  });

  it("reads AlexNet's recipe from its train section", () => {
    const s = resolveSettings(trainOf('specs/alexnet.net'), {});
    expect(s).toMatchObject({ optimizer: 'momentum', lr: 0.01, momentum: 0.9, weightDecay: 5e-4, batch: 128, epochs: 90 });
    expect(s.schedule).toEqual({ kind: 'step', every: 30, gamma: 0.1 });
    expect(learningRate(s, 0)).toBe(0.01);
    expect(learningRate(s, 29)).toBe(0.01);
    expect(learningRate(s, 30)).toBeCloseTo(0.001, 12);
    expect(learningRate(s, 89)).toBeCloseTo(0.0001, 12);
  });

  it('lets flags win over the section', () => {
    const s = resolveSettings(trainOf('specs/lenet5.net', { size: '28' }), { epochs: '3', lr: '0.01', optimizer: 'sgd', 'no-augment': true, 'val-split': '0' });
    expect(s).toMatchObject({ optimizer: 'sgd', lr: 0.01, batch: 64, epochs: 3, valSplit: 0, augment: { crop: 0, flip: false } });
  });

  it('takes given normalisation from the section or from --mean/--std', () => {
    expect(resolveSettings({}, {}).normalize).toBe('computed');
    expect(resolveSettings(section('normalize given(mean [0.485, 0.456, 0.406], std [0.229, 0.224, 0.225])'), {}).normalize).toEqual({
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
    });
    expect(resolveSettings(section('normalize given(mean [0.5], std [0.5])'), { mean: '0.286', std: '0.353' }).normalize).toEqual({ mean: [0.286], std: [0.353] });
    expect(resolveSettings(section('normalize computed'), {}).normalize).toBe('computed');
    expect(() => resolveSettings(section('normalize given(mean [0.5])'), {})).toThrow(/needs both mean and std/);
    expect(() => resolveSettings(section('normalize given(mean [0.5], std [0])'), {})).toThrow(/std must be positive numbers, got 0/);
    expect(() => resolveSettings({}, { mean: '0.5' })).toThrow(/--mean and --std go together/);
    expect(() => resolveSettings({}, { mean: '0.5,x', std: '1' })).toThrow(/--mean must be comma-separated numbers, got 'x'/);
  });

  it("uses the chosen optimizer's default learning rate when none is given", () => {
    expect(resolveSettings({}, { optimizer: 'momentum' }).lr).toBe(0.01);
    expect(resolveSettings(section('optimizer sgd'), {}).lr).toBe(0.01);
  });

  it('parses augment, optimizer arguments and loss names', () => {
    expect(resolveSettings(section('augment crop_flip(pad 4)'), {}).augment).toEqual({ crop: 4, flip: true });
    expect(resolveSettings(section('augment none'), {}).augment).toEqual({ crop: 0, flip: false });
    expect(resolveSettings(section('optimizer adam(beta1 0.8)'), {}).beta1).toBe(0.8);
    expect(resolveSettings(section('loss cross_entropy'), {}).loss).toBe('cross_entropy');
  });

  it('refuses bad values, naming where they came from', () => {
    expect(() => resolveSettings({}, { lr: '-1' })).toThrow(/--lr must be a positive number, got '-1'/);
    expect(() => resolveSettings({}, { batch: '2.5' })).toThrow(ConfigError);
    expect(() => resolveSettings({}, { optimizer: 'rmsprop' })).toThrow(/--optimizer must be sgd, momentum or adam/);
    expect(() => resolveSettings(section('lr 0'), {})).toThrow(/train \{ lr … \} must be a positive number/);
    expect(() => resolveSettings(section('loss mse'), {})).toThrow(/only softmax cross-entropy/);
    expect(() => resolveSettings(section('schedule cosine'), {})).toThrow(/constant or step/);
    expect(() => resolveSettings(section('augment sideways'), {})).toThrow(/augment/);
  });

  it('decides automatic augmentation from the image size and mirror safety', () => {
    expect(resolveAugment('auto', 28, true)).toEqual({ crop: 2, flip: true });
    expect(resolveAugment('auto', 28, false)).toEqual({ crop: 2, flip: false });
    expect(resolveAugment('auto', 227, true)).toEqual({ crop: 16, flip: true });
    expect(resolveAugment({ crop: 0, flip: false }, 28, true)).toEqual({ crop: 0, flip: false });
  });
});
