// `alexnetc tune` end to end on a sliver of real Fashion-MNIST (LeNet-5, a
// few hundred images, 2 epochs): every trial a run directory, the table,
// results.csv, the plot, best.txt and --write; the median rule stopping a
// hopeless trial; Ctrl-C keeping finished trials and --resume finishing the
// search; and bad requests refused before anything is written.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { compile } from '../../src/compile.js';
import { tempDir } from '../onnx/helpers.js';

const root = path.join(import.meta.dirname, '../..');
const FASHION = process.env.ALEXNETC_FASHION_MNIST ?? '/usr/share/datasets/fashion-mnist';
const hasData = fs.existsSync(path.join(FASHION, 'train-images-idx3-ubyte.gz')) || fs.existsSync(path.join(FASHION, 'train-images-idx3-ubyte'));
if (!hasData) console.warn(`SKIPPED the tune CLI tests: Fashion-MNIST not found in ${FASHION}`);

const BIN = path.join(root, 'bin/alexnetc.js');
function cli(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const dir = tempDir('tune-cli');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const json = (f: string) => JSON.parse(fs.readFileSync(f, 'utf8'));
/** A copy of LeNet-5 the test may --write into. */
function lenetCopy(name: string): string {
  const f = path.join(dir, `${name}.net`);
  fs.copyFileSync(path.join(root, 'specs/lenet5.net'), f);
  return f;
}
const SMALL = ['--set', 'size=28', '--data', FASHION, '--limit', '400', '--test-limit', '100', '--epochs', '2'];

describe.skipIf(!hasData)('alexnetc tune on Fashion-MNIST', () => {
  it('a grid: run directories, table, csv, plot, best settings written back; a hopeless trial stopped early', () => {
    const file = lenetCopy('grid');
    const out = path.join(dir, 'grid');
    // --jobs 1 makes the median rule deterministic: trials 1–3 finish before the fourth reports
    const r = cli(['tune', file, ...SMALL, '--grid', 'lr=0.003,0.002,0.001,1e-7', '--jobs', '1', '-o', out, '--write']);
    expect(r.code, r.stderr).toBe(0);
    const state = json(path.join(out, 'search.json'));
    expect(state.trials.map((t: { status: string }) => t.status)).toEqual(['done', 'done', 'done', 'stopped']);
    expect(state.trials[3].note).toMatch(/by epoch 1 is below the median .* of 3 finished trials/);
    expect(r.stderr).toMatch(/trial 004 stopped early/);
    for (const id of ['001', '002', '003']) {
      // each finished trial is an ordinary run: curves, checkpoint, model, metrics
      for (const f of ['config.json', 'history.json', 'metrics.json', 'accuracy.svg', 'checkpoint/state.json', 'model/model.json']) expect(fs.existsSync(path.join(out, 'trials', id, f)), `${id}/${f}`).toBe(true);
      expect(json(path.join(out, 'trials', id, 'config.json')).source.file).toBe(path.join(out, 'trials', `${id}.net`));
    }
    // the stopped one wrote its checkpoint, as an interrupted run does
    expect(json(path.join(out, 'trials', '004', 'checkpoint', 'state.json')).history).toHaveLength(1);

    const rows = fs.readFileSync(path.join(out, 'results.csv'), 'utf8').trim().split('\n');
    expect(rows[0]).toBe('trial,lr,status,epochs,val_accuracy,val_loss,test_accuracy,seconds,rank,run_dir,note');
    expect(rows).toHaveLength(5);
    const scores = rows.slice(1).map((l) => l.split(','));
    for (const s of scores.slice(0, 3)) expect(Number(s[4])).toBe(json(path.join(out, 'trials', s[0]!, 'history.json'))[1].valAccuracy);
    const bestRow = scores.slice(0, 3).sort((a, b) => Number(b[4]) - Number(a[4]))[0]!;
    expect(bestRow[8]).toBe('1');
    expect(r.stdout).toMatch(new RegExp(`best: trial ${bestRow[0]}, validation accuracy`));

    // one point per scored trial, the stopped one hollow
    const svg = fs.readFileSync(path.join(out, 'scores.svg'), 'utf8');
    expect(svg.match(/<circle class="trial"/g)).toHaveLength(4);
    expect(svg.match(/fill="white" stroke/g)).toHaveLength(1);
    const png = PNG.sync.read(fs.readFileSync(path.join(out, 'scores.png')));
    expect(png.width).toBe(1000);

    // best.txt holds the section, and --write put it into the file: only lr changed
    const best = fs.readFileSync(path.join(out, 'best.txt'), 'utf8');
    expect(best).toContain(`  lr ${bestRow[1]}\n`);
    const written = fs.readFileSync(file, 'utf8');
    const original = fs.readFileSync(path.join(root, 'specs/lenet5.net'), 'utf8');
    expect(written).toBe(original.replace('    lr 0.001\n', `    lr ${bestRow[1]}\n`));
    expect(compile(written, { set: { size: '28' } }).network!.train.lr!.positional).toEqual([Number(bestRow[1])]);
  });

  it('Ctrl-C keeps the finished trials; --resume continues the others and keeps the finished ones', async () => {
    const file = lenetCopy('resume');
    const out = path.join(dir, 'resume');
    // 6 epochs, so that the second trial has epochs left when the signal lands (an epoch of 360 images takes ~0.2 s)
    const args = [...SMALL.slice(0, -1), '6'];
    const child = spawn(process.execPath, [BIN, 'tune', file, ...args, '--grid', 'batch=32,64,128', '--jobs', '1', '--no-early-stop', '-o', out], { cwd: root, env: { ...process.env, NO_COLOR: '1' } });
    let stderr = '';
    // interrupt as soon as the first trial has finished and the second has a checkpoint mid-run
    let sent = false;
    child.stderr.on('data', (b) => {
      stderr += b;
      if (!sent && /trial 001 done/.test(stderr) && /trial 002 epoch 1\/6/.test(stderr)) sent = child.kill('SIGINT');
    });
    const code = await Promise.race([
      new Promise<number | null>((r) => child.on('close', r)),
      new Promise<null>((r) => setTimeout(() => { child.kill('SIGKILL'); r(null); }, 240_000)),
    ]);
    expect(code, stderr).toBe(130);
    const state = json(path.join(out, 'search.json'));
    expect(state.trials.map((t: { status: string }) => t.status)).toEqual(['done', 'interrupted', 'pending']);
    expect(fs.existsSync(path.join(out, 'trials', '002', 'checkpoint', 'state.json'))).toBe(true);
    expect(fs.readFileSync(path.join(out, 'results.csv'), 'utf8')).toMatch(/\n001,32,done,6,/);
    const firstModel = fs.readFileSync(path.join(out, 'trials', '001', 'model', 'weights.bin'));

    // a search is resumed as it was defined
    expect(cli(['tune', '--resume', '-o', out, '--grid', 'lr=1']).stderr).toMatch(/only --jobs, --threads, --backend and --write may be given, not --grid/);
    const again = cli(['tune', '--resume', '-o', out]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/\(1 finished before\)/);
    expect(again.stderr).toMatch(/trial 002\/003 resumed/);
    expect(again.stderr).not.toMatch(/trial 001\/003/);
    const done = json(path.join(out, 'search.json'));
    expect(done.trials.map((t: { status: string }) => t.status)).toEqual(['done', 'done', 'done']);
    expect(fs.readFileSync(path.join(out, 'trials', '001', 'model', 'weights.bin')).equals(firstModel)).toBe(true);
    expect(fs.readFileSync(path.join(out, 'trials', '002.log'), 'utf8')).toMatch(/resuming .* at epoch/);
  });

  describe('refusals (nothing written)', () => {
    const refuse = (args: string[], code: number, message: RegExp) => {
      const out = path.join(dir, `refused-${Math.random().toString(36).slice(2)}`);
      const r = cli(['tune', ...args, '-o', out]);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/internal error|at .*\.js:\d+/);
      expect(r.code).toBe(code);
      expect(fs.existsSync(out)).toBe(false);
    };
    const LENET = path.join(root, 'specs/lenet5.net');
    it('an unknown setting, with a suggestion', () => refuse([LENET, ...SMALL, '--grid', 'lr=0.1;bach=32'], 2, /`bach` is neither a train \{ \} setting nor a parameter of the network; did you mean `batch`\?/));
    it('a value the trainer or the checker refuses', () => {
      // the checker validates train { } values itself, so a bad one is the trial's file not checking
      refuse([LENET, ...SMALL, '--grid', 'optimizer=adam,adamw'], 2, /trial 002 \(optimizer=adamw\) does not check: train \{ optimizer … \} must be sgd, momentum or adam, got adamw; did you mean `adam`\?/);
      refuse([LENET, ...SMALL, '--grid', 'lr=0.1,-1'], 2, /trial 002 \(lr=-1\) does not check: train \{ lr … \} must be a positive number/);
      refuse([LENET, ...SMALL, '--grid', 'batch=32,)'], 2, /trial 002 \(batch=\)\) does not check/);
    });
    it('data that do not fit the network', () => {
      refuse([LENET, '--data', FASHION, '--grid', 'lr=0.1'], 1, /takes images \[1, 32, 32\].*are \[1, 28, 28\]; try `--set size=28`/);
      refuse([LENET, ...SMALL.slice(0, 2), '--data', path.join(dir, 'nowhere'), '--grid', 'lr=0.1'], 1, /nowhere: no such directory/);
    });
    it('usage', () => {
      refuse([LENET, ...SMALL, '--grid', 'lr=0.1', '--random'], 2, /--random needs --trials N/);
      refuse([LENET, ...SMALL, '--grid', 'lr=0.1', '--trials', '3'], 2, /--trials N goes with --random/);
      refuse([LENET, ...SMALL, '--grid', 'lr=loguniform(1e-4, 1e-1)'], 2, /a distribution needs --random/);
      refuse([LENET, ...SMALL, '--grid', 'epochs=1,2'], 2, /--grid varies `epochs` and --epochs fixes it/);
      refuse([LENET, ...SMALL, '--grid', 'size=28,32'], 2, /--grid varies `size` and --set fixes it/);
      refuse([LENET, ...SMALL], 2, /needs --grid/);
      const r = cli(['tune', '--resume', '-o', path.join(dir, 'no-search')]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/no search to resume/);
      const full = path.join(dir, 'full');
      fs.mkdirSync(full);
      fs.writeFileSync(path.join(full, 'x'), '');
      expect(cli(['tune', LENET, ...SMALL, '--grid', 'lr=0.1', '-o', full]).stderr).toMatch(/refusing to write the search into .*full: it is not empty/);
    });
  });
});
