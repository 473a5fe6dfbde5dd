// The documented fine-tuning commands (docs/training.md "Fine-tuning and transfer
// learning", examples/transfer-learning.md) end to end on a tiny budget of
// real Fashion-MNIST: LeNet-5 on classes 0-4, then on classes 5-9 from its
// convolutions, frozen, with a new head — on the tfjs engine and on the
// torch engine. The frozen convolutions come out bit for bit as the base
// run left them, the head trained; config.json records the init table, the
// class selection and the freeze list, and --resume keeps them. Plus the
// refusals, `summary --freeze`, and the example's own script.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../../../src/compile.js';
import { layers } from '../../../src/check/ir.js';
import { seededWeights, type WeightSource } from '../../../src/emit/onnx/index.js';
import { readTfjsWeights } from '../../../src/weights/tfjs.js';
import { safetensorsWeights } from '../../../src/weights/safetensors.js';
import { cli, FASHION, hasData, hasTorch, json, root, tmp, train } from '../torch/helpers.js';

const network = compile(readFileSync(path.join(root, 'specs/lenet5.net'), 'utf8'), { set: { size: '28', classes: '5' } }).network!;
const LENET5 = ['specs/lenet5.net', '--set', 'size=28', '--set', 'classes=5', '--data', FASHION, '--test-limit', '100'];
const CONVS = ['conv1', 'conv2', 'conv3'];
const bits = (v: Float32Array): string => Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');

/** Every weight of the frozen convolutions the same bits in `a` and `b`; the dense layers all different. */
function expectFrozen(a: WeightSource, b: WeightSource): void {
  for (const l of layers(network.body))
    for (const w of l.weights) {
      if (CONVS.includes(l.path)) expect(bits(a.get(l.path, w)), `${l.path}.${w.name}`).toBe(bits(b.get(l.path, w)));
      else expect(bits(a.get(l.path, w)), `${l.path}.${w.name}`).not.toBe(bits(b.get(l.path, w)));
    }
}

describe.skipIf(!hasData)('fine-tuning from the command line', () => {
  const dir = tmp();
  const base = path.join(dir, 'base');
  const tuned = path.join(dir, 'tuned');
  const tfjsModel = (run: string): WeightSource => readTfjsWeights(path.join(run, 'model'), network);

  it('trains the base on classes 0-4, then classes 5-9 from its frozen convolutions and a new head; --resume keeps it all', () => {
    const r0 = train([...LENET5, '--classes', '0-4', '--limit', '300', '--epochs', '1', '--out', base]);
    expect(r0.code, r0.stderr).toBe(0);
    expect(r0.stderr).toContain('--classes 0-4: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat');
    expect(json(path.join(base, 'config.json')).classes).toEqual(['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat']);

    const r = train([...LENET5, '--classes', '5-9', '--limit', '200', '--epochs', '1', '--init', base, '--init-only', 'conv1,conv2,conv3', '--freeze', 'conv1,conv2,conv3', '--out', tuned]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/init: 6 of 10 weights loaded from .*base, 4 left at their seeded initialisation/);
    expect(r.stderr).toMatch(/dense2 +weight, bias +seeded: not in --init-only/);
    expect(r.stderr).toContain('frozen: conv1, conv2, conv3 (50,692 of 61,281 parameters)');
    const cfg = json(path.join(tuned, 'config.json'));
    expect(cfg.classes).toEqual(['Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']);
    expect(cfg.source.classes).toBe('5-9');
    expect(cfg.settings.freeze).toEqual(CONVS);
    expect(cfg.init).toMatchObject({ from: path.resolve(base), strict: false, only: CONVS, loaded: 6, seeded: 4, unused: [] });
    expect(cfg.init.rows.map((x: { stage: string; status: string }) => `${x.stage} ${x.status}`)).toEqual(['conv1 loaded', 'conv2 loaded', 'conv3 loaded', 'dense1 not-selected', 'dense2 not-selected']);
    // the model's metadata names the new classes
    expect(json(path.join(tuned, 'model', 'model.json')).userDefinedMetadata.alexnetc.classes).toEqual(cfg.classes);
    // the convolutions are the base's, bit for bit; the head trained from its seeded start
    expectFrozen(tfjsModel(tuned), tfjsModel(base));
    for (const l of layers(network.body)) if (!CONVS.includes(l.path)) for (const w of l.weights) expect(bits(tfjsModel(tuned).get(l.path, w))).not.toBe(bits(seededWeights(0).get(l.path, w)));

    // one more epoch: the same init record, classes and freeze; the convolutions still the base's
    const again = train(['--resume', tuned, '--epochs', '2']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/init: the run started from .*base \(6 weights loaded; see config\.json\)/);
    expect(again.stderr).toContain('frozen: conv1, conv2, conv3');
    expect(json(path.join(tuned, 'config.json')).init).toEqual(cfg.init);
    expect(json(path.join(tuned, 'checkpoint', 'state.json')).source.classes).toBe('5-9');
    expectFrozen(tfjsModel(tuned), tfjsModel(base));
    const refused = train(['--resume', tuned, '--epochs', '3', '--freeze', 'none']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('not --freeze');
  }, 300_000);

  it.skipIf(!hasTorch)('does the same on the torch engine, from the tfjs base run', () => {
    const out = path.join(dir, 'tuned-torch');
    const r = train([...LENET5, '--classes', '5-9', '--limit', '200', '--epochs', '1', '--init', base, '--init-only', 'conv1,conv2,conv3', '--freeze', 'conv1,conv2,conv3', '--engine', 'torch', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(json(path.join(out, 'config.json')).init.loaded).toBe(6);
    expectFrozen(safetensorsWeights(path.join(out, 'model.safetensors'), network), tfjsModel(base));
  }, 300_000);

  it('loads a head whose shape differs as seeded, and --init-strict refuses it', () => {
    const ten = path.join(dir, 'ten');
    const r = train(['specs/lenet5.net', '--set', 'size=28', '--data', FASHION, '--limit', '100', '--test-limit', '50', '--epochs', '1', '--init', base, '--out', ten]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/dense2 +weight, bias +seeded: shape differs \(weight \[10, 84\] here, \[5, 84\] there; bias \[10\] here, \[5\] there\)/);
    const strict = train(['specs/lenet5.net', '--set', 'size=28', '--data', FASHION, '--limit', '100', '--epochs', '1', '--init', base, '--init-strict', '--out', path.join(dir, 'strict')]);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toMatch(/--init .*base: layer dense2: the network expects dense2\.weight with shape \[10, 84\], the tfjs model in .*base\/model has shape \[5, 84\] \(--init-strict refuses any mismatch/);
    expect(existsSync(path.join(dir, 'strict', 'config.json'))).toBe(false);
  }, 120_000);

  it('refuses what does not fit, before any data is read', () => {
    const run = (args: string[]) => train([...LENET5, '--epochs', '1', '--out', path.join(dir, 'bad'), ...args]);
    const cases: Array<[string[], number, string]> = [
      [['--classes', '0-12'], 1, '--classes 0-12: the data have 10 classes (0-9)'],
      [['--classes', 'sandal,snekaer,bag,shirt,coat'], 1, '--classes: the data have no class `snekaer`; did you mean `Sneaker`?'],
      [['--classes', '3-1'], 2, '--classes 3-1: a range goes up'],
      [['--classes', '0-3'], 1, 'network LeNet5 ends in 5 output units, but the data in'],
      [['--classes', '0,,1'], 2, '--classes takes comma-separated class indices, ranges (0-4) or names'],
      [['--freeze', 'conv1,conv9'], 2, '--freeze `conv9` names no stage of LeNet5; did you mean `conv1`?'],
      [['--init-strict'], 2, '--init-strict goes with --init WEIGHTS'],
      [['--init', path.join(dir, 'nope')], 1, `--init ${path.join(dir, 'nope')}: no such file or directory`],
      [['--init', base, '--init-only', 'dense9'], 2, '--init-only `dense9` names no stage of LeNet5; did you mean `dense1`?'],
    ];
    for (const [args, code, message] of cases) {
      const r = run(args);
      expect(r.stderr, args.join(' ')).toContain(message);
      expect(r.code, args.join(' ')).toBe(code);
    }
  }, 120_000);
});

describe('summary --freeze', () => {
  it('counts frozen and trainable parameters in text and JSON, and refuses a path that names no stage', () => {
    const r = cli(['summary', 'specs/lenet5.net', '--set', 'size=28', '--freeze', 'conv1,conv2,conv3', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ freeze: CONVS, frozenParams: 50_692, trainableParams: 11_014, totalParams: 61_706 });
    expect(s.rows.filter((x: { frozen?: boolean }) => x.frozen).map((x: { path: string }) => x.path)).toEqual(CONVS);
    const t = cli(['summary', 'specs/lenet5.net', '--freeze', 'conv3']);
    expect(t.stdout).toContain('Frozen params:        48,120 (freeze conv3)');
    const bad = cli(['summary', 'specs/lenet5.net', '--freeze', 'conv3,dense3']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--freeze `dense3` names no stage of LeNet5; did you mean `dense1`?');
  });
});

describe.skipIf(!hasData)('examples/transfer-learning.mjs', () => {
  it('runs the worked example on a tiny budget and checks the frozen convolutions', () => {
    const out = tmp();
    const r = spawnSync(
      process.execPath,
      ['examples/transfer-learning.mjs', '--data', FASHION, '--out', out, '--base-epochs', '1', '--base-limit', '200', '--sizes', '50', '--epochs', '1', '--seeds', '0', '--test-limit', '50'],
      { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', ALEXNETC_THREADS: '1' } },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('| training images | from scratch | frozen convolutions + new head | whole network fine-tuned |');
    expect(r.stdout).toMatch(/\| 50 \| [\d.]+ %, [\d.]+ s \| [\d.]+ %, [\d.]+ s \| [\d.]+ %, [\d.]+ s \|/);
    expect(r.stdout).toContain('frozen convolutions identical to the base\'s, bit for bit: yes');
  }, 300_000);
});
