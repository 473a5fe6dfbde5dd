// `alexnetc train --engine torch --nproc 2`: two gloo processes under
// torchrun, over loopback, on LeNet-5 and Fashion-MNIST. The ranks' slices of
// each global batch make up the batch one process trains on, so the weights
// match one process's (≤ 1e-5, also across a last batch of one example, where
// one rank gets nothing); a short run reaches its accuracy (±1 point); a rank
// that dies stops the run with exit 1, a message naming it, and the last good
// checkpoint, which resumes (here with one process).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as net from 'node:net';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FASHION, hasData, hasTorch, json, LENET, maxDiff, root, tmp, train, trainUntil, type Run } from './helpers.js';

/** `alexnetc train ARGS` in the background (for two "machines" on this one). */
function trainAsync(args: string[]): Promise<Run> {
  const child = spawn(process.execPath, [path.join(root, 'test/train/cli/run-train.mjs'), ...args], { cwd: root, env: { ...process.env, NO_COLOR: '1', ALEXNETC_THREADS: '1' } });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => void (stderr += d.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
}

const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });

describe.skipIf(!hasData || !hasTorch)('alexnetc train --engine torch --nproc 2 (torchrun, DDP, gloo)', () => {
  it('two processes, or two machines (resumed), give the weights of one process with the same global batch, momentum and weight decay included', async () => {
    // 193 images, batch 64: three full batches, then one of a single example (rank 0's slice is empty)
    const args = ['specs/lenet5.net', '--set', 'size=28', '--data', FASHION, '--limit', '193', '--val-split', '0', '--test-limit', '100', '--no-augment',
      '--optimizer', 'momentum', '--lr', '0.05', '--weight-decay', '0.001', '--epochs', '2', '--engine', 'torch'];
    const one = path.join(tmp(), 'run'), two = path.join(tmp(), 'run');
    const a = train([...args, '--out', one]);
    expect(a.code, a.stderr).toBe(0);
    const b = train([...args, '--nproc', '2', '--out', two]);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stderr).toMatch(/torchrun: 2 processes on this machine, gloo/);
    expect(b.stderr).toMatch(/torchrun: ranks 0, 1 of 2 here \(pids \d+, \d+\)/);
    expect(b.stderr).toMatch(/backend: torch \S+ on cpu \(1 thread\), DDP over 2 processes \(gloo\)/);
    const d = maxDiff(path.join(one, 'model.safetensors'), path.join(two, 'model.safetensors'));
    expect(d).toBeLessThanOrEqual(1e-5);
    expect(maxDiff(path.join(one, 'checkpoint', 'optimizer.safetensors'), path.join(two, 'checkpoint', 'optimizer.safetensors'))).toBeLessThanOrEqual(1e-5);
    const h1 = json(path.join(one, 'history.json')), h2 = json(path.join(two, 'history.json'));
    expect(h2[1].loss).toBeCloseTo(h1[1].loss, 5);
    expect(h2[1].accuracy).toBe(h1[1].accuracy);

    // two "machines" (--nnodes 2, one process each) over loopback, trained one epoch and resumed on
    // both for the second: the same weights again; machine 0 writes the model
    const port = String(await freePort());
    const m0 = path.join(tmp(), 'run'), m1 = path.join(tmp(), 'run');
    const nodes = ['--nnodes', '2', '--master-addr', '127.0.0.1', '--master-port', port];
    const firstEpoch = args.map((a, i) => (args[i - 1] === '--epochs' ? '1' : a));
    const [r0, r1] = await Promise.all([trainAsync([...firstEpoch, ...nodes, '--node-rank', '0', '--out', m0]), trainAsync([...firstEpoch, ...nodes, '--node-rank', '1', '--out', m1])]);
    expect(r0.code, r0.stderr).toBe(0);
    expect(r1.code, r1.stderr).toBe(0);
    expect(r0.stderr).toMatch(/torchrun: 1 process on this machine, machine 0 of 2 \(rendezvous 127\.0\.0\.1:\d+\), gloo/);
    expect(r1.stderr).toMatch(/torchrun: rank 1 of 2 here/);
    expect(r1.stderr).toContain('no model here: rank 0 (on the machine of --node-rank 0) writes model.safetensors');
    expect(existsSync(path.join(m1, 'model.safetensors'))).toBe(false);
    expect(existsSync(path.join(m1, 'checkpoint', 'model.safetensors'))).toBe(false); // machine 1 keeps the state only
    const [s0, s1] = await Promise.all([trainAsync(['--resume', m0, '--epochs', '2']), trainAsync(['--resume', m1, '--epochs', '2'])]);
    expect(s0.code, s0.stderr).toBe(0);
    expect(s1.code, s1.stderr).toBe(0);
    expect(s0.stderr).toMatch(/resuming .* at epoch 2/);
    expect(maxDiff(path.join(one, 'model.safetensors'), path.join(m0, 'model.safetensors'))).toBeLessThanOrEqual(1e-5);
    // both machines evaluated the whole test set together
    expect(json(path.join(m1, 'metrics.json')).accuracy).toBe(json(path.join(m0, 'metrics.json')).accuracy);
  }, 300_000);

  let single: string;
  beforeAll(() => {
    single = path.join(tmp(), 'run');
    const r = train([...LENET, '--engine', 'torch', '--epochs', '2', '--out', single]);
    expect(r.code, r.stderr).toBe(0);
  }, 600_000);

  it('a short multi-epoch run reaches the accuracy of one process (±1 point), and rank 0 writes the run', () => {
    const dir = path.join(tmp(), 'run');
    const r = train([...LENET, '--engine', 'torch', '--epochs', '2', '--nproc', '2', '--out', dir]);
    expect(r.code, r.stderr).toBe(0);
    const one = json(path.join(single, 'metrics.json')).accuracy, two = json(path.join(dir, 'metrics.json')).accuracy;
    expect(one).toBeGreaterThan(0.55);
    expect(Math.abs(two - one)).toBeLessThanOrEqual(0.01);
    expect(existsSync(path.join(dir, 'model.safetensors'))).toBe(true);
    expect(json(path.join(dir, 'checkpoint', 'state.json'))).toMatchObject({ epoch: 2, engine: 'torch', engineOptions: { nproc: 2 } });
  }, 300_000);

  it('Ctrl-C on one machine of two stops both at the same step; both resume to the weights of one process', async () => {
    const port = String(await freePort());
    const m0 = path.join(tmp(), 'run'), m1 = path.join(tmp(), 'run');
    const nodes = [...LENET, '--engine', 'torch', '--epochs', '2', '--nnodes', '2', '--master-addr', '127.0.0.1', '--master-port', port];
    const [r0, r1] = await Promise.all([
      trainUntil([...nodes, '--node-rank', '0', '--out', m0], /epoch 1\/2 step/, (pid) => process.kill(pid, 'SIGINT')),
      trainAsync([...nodes, '--node-rank', '1', '--out', m1]),
    ]);
    expect(r0.code, r0.stderr).toBe(130);
    expect(r1.code, r1.stderr).toBe(130);
    expect(r1.stderr).toContain('another machine of the run was interrupted: writing a checkpoint');
    const s0 = json(path.join(m0, 'checkpoint', 'state.json')), s1 = json(path.join(m1, 'checkpoint', 'state.json'));
    expect(s0.step).toBeGreaterThan(0);
    expect([s1.epoch, s1.step]).toEqual([s0.epoch, s0.step]);
    const [e0, e1] = await Promise.all([trainAsync(['--resume', m0]), trainAsync(['--resume', m1])]);
    expect(e0.code, e0.stderr).toBe(0);
    expect(e1.code, e1.stderr).toBe(0);
    expect(maxDiff(path.join(single, 'model.safetensors'), path.join(m0, 'model.safetensors'))).toBeLessThanOrEqual(1e-4);
    expect(json(path.join(m0, 'metrics.json')).accuracy).toBe(json(path.join(single, 'metrics.json')).accuracy);
  }, 300_000);

  it('a rank that dies stops the run (exit 1) naming it, keeps the last good checkpoint, which resumes', async () => {
    const dir = path.join(tmp(), 'run');
    let killed = 0;
    // after epoch 1's checkpoint (epoch 2 has begun), kill rank 1
    const r = await trainUntil([...LENET, '--engine', 'torch', '--epochs', '3', '--batch', '16', '--nproc', '2', '--out', dir], /epoch 2\/3 step/, (_, stderr) => {
      killed = Number(/pids \d+, (\d+)/.exec(stderr)![1]);
      process.kill(killed, 'SIGKILL');
    });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`alexnetc: the PyTorch workers stopped during epoch 2, step \\d+: rank 1 \\(pid ${killed}\\) was killed by SIGKILL; torchrun exited with code 1`));
    expect(r.stderr).toContain(`The last good checkpoint is kept in ${path.join(dir, 'checkpoint')}; continue with \`alexnetc train --resume ${dir}\``);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(json(path.join(dir, 'checkpoint', 'state.json'))).toMatchObject({ epoch: 1, step: 0 });
    // the checkpoint of two processes continues in one
    const resumed = train(['--resume', dir, '--nproc', '1']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resuming .* at epoch 2/);
    expect(json(path.join(dir, 'history.json'))).toHaveLength(3);
  }, 300_000);
});
