// The generated module's constructor arguments are the network's
// parameters: built with other values it must be, weight for weight and
// output for output, the network `alexnetc compile --set` gives. Values
// that make the network invalid are refused, as the checker refuses them.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SPECS } from '../onnx/specs.js';
import { checked, Conformance, describeResult, hasTorch, TOL, type CaseResult } from './helpers.js';
import { distinctWeights } from './weights.js';

const PARAMS = fs.readFileSync(path.join(import.meta.dirname, 'fixtures/params.net'), 'utf8');
const LENET = fs.readFileSync(path.join(SPECS, 'lenet5.net'), 'utf8');
const RESNET = fs.readFileSync(path.join(SPECS, 'resnet.net'), 'utf8');

const OTHER = { size: '36', width: '6', depth: '3', classes: '5' };
const asNumbers = (set: Record<string, string>): Record<string, number> => Object.fromEntries(Object.entries(set).map(([k, v]) => [k, Number(v)]));

describe.skipIf(!hasTorch())('PyTorch module arguments rebuild the network as --set does', () => {
  const conf = new Conformance();
  let results = new Map<string, CaseResult>();
  const ids: string[] = [];
  const add = async (id: string, c: Omit<Parameters<Conformance['add']>[0], 'id' | 'weights'>): Promise<void> => {
    ids.push(id);
    await conf.add({ id, weights: distinctWeights(9), ...c });
  };

  beforeAll(async () => {
    const params = checked(PARAMS);
    await add('defaults', { module: params });
    await add('other sizes, widths, depth and classes as arguments', { module: params, kwargs: asNumbers(OTHER), reference: checked(PARAMS, undefined, OTHER).network });
    await add('compiled with --set: the values are the defaults', { module: checked(PARAMS, undefined, OTHER), opts: { set: OTHER } });
    await add('LeNet5(size=28, classes=7)', {
      module: checked(LENET),
      kwargs: { size: 28, classes: 7 },
      reference: checked(LENET, undefined, { size: '28', classes: '7' }).network,
    });
    await add('ResNet18(classes=10)', { module: checked(RESNET, 'ResNet18'), kwargs: { classes: 10 }, reference: checked(RESNET, 'ResNet18', { classes: '10' }).network });
    conf.refuse('LeNet5(size=29): the padding (32 - 29) / 2 is not whole', checked(LENET), { size: 29 });
    conf.refuse('Params(size=25): a shape assertion fails', params, { size: 25 });
    conf.refuse('Params(width=5): width / 2 is not whole', params, { width: 5 });
    results = conf.run();
  }, 600_000);

  afterAll(() => conf.dispose());

  for (const id of ['defaults', 'other sizes, widths, depth and classes as arguments', 'compiled with --set: the values are the defaults', 'LeNet5(size=28, classes=7)', 'ResNet18(classes=10)']) {
    it(id, () => {
      const r = results.get(id);
      expect(r?.error ?? r?.names ?? null, describeResult(r)).toBeNull();
      expect(r!.scale).toBeGreaterThan(1e-3);
      expect(r!.rel, describeResult(r)).toBeLessThanOrEqual(TOL);
    });
  }

  it('arguments that make the network invalid are refused with the reason', () => {
    expect(results.get('LeNet5(size=29): the padding (32 - 29) / 2 is not whole')?.raised).toMatch(/ValueError: pad must be a whole number, got 1.5/);
    expect(results.get('Params(size=25): a shape assertion fails')?.raised).toMatch(/ValueError: shape assertion failed: expected \[8, 12.5, 12.5\], but this stage produces \[8, 13, 13\]/);
    expect(results.get('Params(width=5): width / 2 is not whole')?.raised).toMatch(/ValueError: filters must be a whole number, got 2.5/);
  });
});
