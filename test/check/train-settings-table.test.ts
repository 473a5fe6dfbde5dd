// A training setting is written once, in src/check/train-settings.ts: the
// trainer's DEFAULTS, `alexnetc train`'s options (flags, help, defaults) and
// the settings table of docs/training.md are made from it. This fails when
// any of them drifts from the table: the docs table not regenerated, an
// option the command does not offer, a default said one way and set another.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LR, settingDocWithDefault, settingsTable, trainOptions, TRAIN_SETTINGS } from '../../src/check/train-settings.js';
import { COMMANDS } from '../../src/cli/commands/index.js';
import { DEFAULTS, resolveSettings } from '../../src/train/config.js';
import { withMarkedTable } from '../../src/util/marked-table.js';

const root = path.join(import.meta.dirname, '../..');

describe('the table of training settings', () => {
  it("docs/training.md's settings table is the table's (npm run grammar regenerates it)", () => {
    const md = readFileSync(path.join(root, 'docs/training.md'), 'utf8');
    expect(md).toContain(settingsTable());
    expect(withMarkedTable(md, 'settings', settingsTable()), 'docs/training.md: the settings table differs from src/check/train-settings.ts (edit the table, then npm run grammar)').toBe(md);
    for (const s of TRAIN_SETTINGS) expect(md).toContain(`| \`${s.name}\` |`);
  });

  it('the trainer resolves nothing given to the defaults the table states', () => {
    expect(resolveSettings({}, {})).toEqual({ ...DEFAULTS, lr: DEFAULT_LR[DEFAULTS.optimizer] });
    expect(DEFAULTS.lr).toBe(DEFAULT_LR[DEFAULTS.optimizer]);
    for (const s of TRAIN_SETTINGS) {
      const fields = Object.values(s.defaults);
      // a default that is one number is said as that number
      if (fields.length === 1 && typeof fields[0] === 'number' && s.name !== 'lr') expect(s.defaultText, s.name).toBe(String(fields[0]));
      for (const [k, v] of Object.entries(s.defaults)) expect(DEFAULTS[k as keyof typeof DEFAULTS], `${s.name}: ${k}`).toEqual(v);
      expect(settingDocWithDefault(s)).toContain(`Default: ${s.defaultText}.`);
    }
    expect(TRAIN_SETTINGS.find((s) => s.name === 'lr')!.defaultText).toBe(`${DEFAULT_LR.adam} for adam, ${DEFAULT_LR.sgd} for sgd and momentum`);
  });

  it("alexnetc train offers every setting's options, with the table's help and defaults", () => {
    const train = COMMANDS.find((c) => c.name === 'train')!;
    const offered = new Map(train.options.map((o) => [o.flags, o.help]));
    for (const o of trainOptions()) expect(offered.get(o.flags), o.flags).toBe(o.help);
    // a setting's `flag` (which names it in errors and in the editor's hover) is one of its options
    for (const s of TRAIN_SETTINGS) if (s.flag) expect((s.options ?? []).map((o) => o.flags.split(' ')[0]), s.name).toContain(`--${s.flag}`);
    const help = spawnSync(process.execPath, [path.join(root, 'bin/alexnetc.js'), 'train', '--help'], { encoding: 'utf8' }).stdout.replace(/\s+/g, ' ');
    for (const s of TRAIN_SETTINGS) if (s.options?.length) expect(help, s.name).toContain(`(default: ${s.defaultText})`);
  });

  it('every option reaches the settings: a flag given changes what is resolved', () => {
    const given: Record<string, string> = { '--optimizer': 'sgd', '--lr': '0.5', '--momentum': '0.5', '--weight-decay': '0.5', '--batch': '7', '--epochs': '3', '--val-split': '0.5', '--seed': '9', '--mean': '0.5', '--std': '0.25', '--freeze': 'none' };
    const base = resolveSettings({}, {});
    for (const o of trainOptions()) {
      const flag = o.flags.split(' ')[0]!;
      const name = flag.slice(2);
      const flags = name.startsWith('no-') ? { [name]: true } : flag === '--mean' || flag === '--std' ? { mean: '0.5', std: '0.25' } : { [name]: given[flag] };
      expect(flags[name] ?? flags.mean, `an example value for ${flag}`).toBeDefined();
      const r = resolveSettings({}, flags);
      if (flag === '--freeze') expect(r.freeze).toEqual([]);
      else expect(r, flag).not.toEqual(base);
    }
  });
});
