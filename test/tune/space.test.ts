// The parts of `alexnetc tune` that need no training: the --grid language,
// the trials a grid or a seeded random search makes, the trial files (the
// source with its train { } settings changed, nothing else), and the median
// stopping rule.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { skipping } from '../skip.js';
import { compile } from '../../src/compile.js';
import { format } from '../../src/fmt/format.js';
import { gridTrials, medianRule, parseSpace, planSearch, randomTrials, splitTop, trainSection, withSettings } from '../../src/tune/index.js';
import type { TrialState } from '../../src/tune/state.js';

const root = path.join(import.meta.dirname, '../..');
const LENET = fs.readFileSync(path.join(root, 'specs/lenet5.net'), 'utf8');

describe('--grid', () => {
  it('reads settings and network parameters, commas inside brackets belonging to the value', () => {
    expect(splitTop('step(every 2, gamma 0.5),constant', ',')).toEqual(['step(every 2, gamma 0.5)', 'constant']);
    const dims = parseSpace("lr=0.1, 0.01; weight-decay=0,5e-4; schedule=step(every 2, gamma 0.5),constant; size=28", ['classes', 'size'], false);
    expect(dims).toEqual([
      { name: 'lr', target: 'train', values: ['0.1', '0.01'] },
      { name: 'weight_decay', target: 'train', values: ['0', '5e-4'] },
      { name: 'schedule', target: 'train', values: ['step(every 2, gamma 0.5)', 'constant'] },
      { name: 'size', target: 'network', values: ['28'] },
    ]);
  });

  it('refuses an unknown name with the closest known one', () => {
    expect(() => parseSpace('lr=0.1;bach=32', ['classes'], false)).toThrow(/`bach` is neither a train \{ \} setting nor a parameter of the network; did you mean `batch`\?/);
    expect(() => parseSpace('clases=10', ['classes'], false)).toThrow(/did you mean `classes`/);
    expect(() => parseSpace('zzz=1', [], false)).toThrow(/network parameters: none/);
  });

  it('refuses what cannot be a space', () => {
    expect(() => parseSpace('', [], false)).toThrow(/--grid is empty/);
    expect(() => parseSpace('lr', [], false)).toThrow(/not name=value/);
    expect(() => parseSpace('lr=0.1;lr=0.2', [], false)).toThrow(/given twice/);
    expect(() => parseSpace('lr=0.1,,0.2', [], false)).toThrow(/an empty value/);
    expect(() => parseSpace('lr=0.1,0.1', [], false)).toThrow(/listed twice/);
    expect(() => parseSpace('lr=loguniform(1e-4, 1e-1)', [], false)).toThrow(/a distribution needs --random/);
    expect(() => parseSpace('lr=loguniform(0, 1)', [], true)).toThrow(/loguniform needs 0 < a < b/);
    expect(() => parseSpace('batch=int(8.5, 64)', [], true)).toThrow(/int needs whole numbers/);
  });

  it('a grid is every combination, the first name varying slowest', () => {
    const dims = parseSpace('lr=0.1,0.01;batch=32,64;optimizer=adam,momentum', [], false);
    const trials = gridTrials(dims);
    expect(trials).toHaveLength(8);
    expect(trials[0]).toEqual({ lr: '0.1', batch: '32', optimizer: 'adam' });
    expect(trials[1]).toEqual({ lr: '0.1', batch: '32', optimizer: 'momentum' });
    expect(trials[7]).toEqual({ lr: '0.01', batch: '64', optimizer: 'momentum' });
  });

  it('random trials are seeded, stay in range, and trial k does not depend on how many there are', () => {
    const dims = parseSpace('lr=loguniform(1e-4, 1e-1);batch=int(16, 64);momentum=uniform(0.8, 0.99);optimizer=adam,momentum,sgd', [], true);
    const a = randomTrials(dims, 50, 7);
    expect(randomTrials(dims, 50, 7)).toEqual(a);
    expect(randomTrials(dims, 5, 7)).toEqual(a.slice(0, 5));
    expect(randomTrials(dims, 5, 8)).not.toEqual(a.slice(0, 5));
    for (const t of a) {
      expect(Number(t.lr)).toBeGreaterThanOrEqual(1e-4);
      expect(Number(t.lr)).toBeLessThanOrEqual(1e-1);
      expect(Number.isInteger(Number(t.batch)) && Number(t.batch) >= 16 && Number(t.batch) <= 64).toBe(true);
      expect(Number(t.momentum)).toBeGreaterThanOrEqual(0.8);
      expect(['adam', 'momentum', 'sgd']).toContain(t.optimizer);
    }
    // log-uniform: about as many below 1e-2.5 as above
    const low = a.filter((t) => Number(t.lr) < 10 ** -2.5).length;
    expect(low).toBeGreaterThan(10);
    expect(low).toBeLessThan(40);
    expect(new Set(a.map((t) => t.optimizer)).size).toBe(3);
  });
});

describe('trial files', () => {
  it('change only the train { } settings searched, keep the rest of the file and its layout', () => {
    const next = withSettings(LENET, 'LeNet5', { lr: '0.01', optimizer: 'momentum', weight_decay: '5e-4' });
    expect(format(next)).toBe(next);
    const before = LENET.split('\n');
    const after = next.split('\n');
    expect(after.filter((l) => !before.includes(l)).map((l) => l.trim())).toEqual(['optimizer momentum', 'lr 0.01', 'weight_decay 5e-4']);
    expect(before.filter((l) => !after.includes(l)).map((l) => l.trim())).toEqual(['optimizer adam', 'lr 0.001']);
    const r = compile(next, { network: 'LeNet5' });
    expect(r.network!.train.lr!.positional).toEqual([0.01]);
    expect(r.network!.train.optimizer!.positional).toEqual(['momentum']);
    expect(r.network!.train.batch!.positional).toEqual([64]);
  });

  it('add a train section where there is none, and set parameter defaults (for --write)', () => {
    const text = 'network N(width = 8, classes) {\n  input [4]\n  dense(width) | relu\n  dense(classes)\n}\n';
    const next = withSettings(text, 'N', { lr: '0.1', schedule: 'step(every 2, gamma 0.5)' }, { width: '16', classes: '3' });
    expect(next).toBe('network N(width = 16, classes = 3) {\n  input [4]\n  dense(width) | relu\n  dense(classes)\n\n  train {\n    lr 0.1\n    schedule step(every 2, gamma 0.5)\n  }\n}\n');
    expect(compile(next).diagnostics).toEqual([]);
    expect(trainSection(text, 'N', { lr: '0.1' })).toBe('train {\n  lr 0.1\n}');
  });

  it('leave a file that is not in the canonical layout as it was, apart from the section', () => {
    const text = 'network N {\n    input [4]\n    dense(3)   # odd spacing kept\n    train { lr 0.1\n      batch 8 }\n}\n';
    const next = withSettings(text, 'N', { batch: '16' });
    expect(next).toBe('network N {\n    input [4]\n    dense(3)   # odd spacing kept\n    train {\n      lr 0.1\n      batch 16\n    }\n}\n');
  });
});

describe('the median stopping rule', () => {
  const trial = (id: string, status: TrialState['status'], acc: number[]): TrialState => ({ id, params: {}, status, valAccuracy: acc, valLoss: acc.map(() => 1) });

  it('stops a trial whose best so far is below the median of the finished trials’ running means', () => {
    const done = [trial('001', 'done', [0.5, 0.7, 0.8]), trial('002', 'done', [0.6, 0.8, 0.85]), trial('003', 'done', [0.4, 0.6, 0.7])];
    // running means at epoch 1: 0.5, 0.6, 0.4 → median 0.5; at epoch 2: 0.6, 0.7, 0.5 → median 0.6
    expect(medianRule(trial('004', 'running', [0.45]), 1, done)).toMatch(/45.00% by epoch 1 is below the median 50.00% of 3 finished trials/);
    expect(medianRule(trial('004', 'running', [0.5]), 1, done)).toBeUndefined();
    expect(medianRule(trial('004', 'running', [0.45, 0.59]), 2, done)).toMatch(/below the median 60.00%/);
    expect(medianRule(trial('004', 'running', [0.61, 0.5]), 2, done)).toBeUndefined(); // its best counts
  });

  it('waits for three finished trials, and ignores stopped or running ones', () => {
    const peers = [trial('001', 'done', [0.9]), trial('002', 'done', [0.9]), trial('003', 'stopped', [0.9]), trial('005', 'running', [0.9, 0.9])];
    expect(medianRule(trial('004', 'running', [0.1]), 1, peers)).toBeUndefined();
    peers.push(trial('006', 'done', [0.9, 0.9]));
    expect(medianRule(trial('004', 'running', [0.1]), 1, peers)).toBeDefined();
  });
});

const FASHION = process.env.ALEXNETC_FASHION_MNIST ?? '/usr/share/datasets/fashion-mnist';
const hasData = fs.existsSync(path.join(FASHION, 'train-images-idx3-ubyte.gz')) || fs.existsSync(path.join(FASHION, 'train-images-idx3-ubyte'));

describe.skipIf(skipping('planning a search', !hasData && `Fashion-MNIST is not in ${FASHION}`))('planning a search (every trial checked before any runs)', () => {
  const lenet = compile(LENET, { network: 'LeNet5', set: { size: '28' } }).network!;
  const base = { file: 'specs/lenet5.net', text: LENET, network: lenet, set: { size: '28' }, data: FASHION, seed: 3, earlyStop: true };

  it('a random search: N seeded trials over lists and distributions', () => {
    const s = planSearch({ ...base, grid: 'lr=loguniform(1e-4, 1e-2);optimizer=adam,momentum', random: true, trials: 5 });
    expect(s.mode).toBe('random');
    expect(s.trials.map((t) => t.id)).toEqual(['001', '002', '003', '004', '005']);
    expect(s.trials.every((t) => t.status === 'pending' && Number(t.params.lr) >= 1e-4 && Number(t.params.lr) <= 1e-2)).toBe(true);
    expect(planSearch({ ...base, grid: 'lr=loguniform(1e-4, 1e-2);optimizer=adam,momentum', random: true, trials: 5 }).trials).toEqual(s.trials);
  });

  it('refuses a trial whose settings are invalid, naming it', () => {
    expect(() => planSearch({ ...base, grid: 'momentum=0.9,1.5', random: false })).toThrow(/trial 002 \(momentum=1.5\) does not check: train \{ momentum … \} must be in \[0, 1\)/);
    expect(() => planSearch({ ...base, grid: 'val_split=0.1,0', random: false })).toThrow(/trial 002 \(val_split=0\) holds out no validation split/);
  });

  it('refuses a network parameter that breaks the network or the data', () => {
    // classes=5 checks, but the data have 10 classes
    expect(() => planSearch({ ...base, grid: 'classes=10,5', random: false })).toThrow(/ends in 5 output units, but the data .* have 10 classes/);
  });
});
