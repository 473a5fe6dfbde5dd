// The torch engine's plumbing without PyTorch: message framing across any
// split of the byte stream, reading torchrun's failure summary, and the
// engine options' checks.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/train/config.js';
import { torchOptions } from '../../../src/train/engines/torch/options.js';
import { encode, FrameReader } from '../../../src/train/engines/torch/protocol.js';
import { torchrunFailures } from '../../../src/train/engines/torch/workers.js';
import { WORKER_SCRIPT } from '../../../src/train/engines/torch/engine.js';

describe('framing', () => {
  it('reassembles messages from any split of the stream, payloads intact', () => {
    const payload = new Uint8Array(new Float32Array([1.5, -2, 3e-7]).buffer);
    const stream = Buffer.concat([...encode({ op: 'step', lr: 0.01 }, payload), ...encode({ ok: { loss: 'NaN' } }), ...encode({ op: 'exit' })]);
    for (const cut of [1, 3, 7, 8, 9, 20, stream.length - 1]) {
      const r = new FrameReader();
      const got = [...r.push(stream.subarray(0, cut)), ...r.push(stream.subarray(cut))];
      expect(got.map((m) => m.header)).toEqual([{ op: 'step', lr: 0.01 }, { ok: { loss: 'NaN' } }, { op: 'exit' }]);
      expect(Array.from(new Float32Array(got[0]!.payload.buffer, got[0]!.payload.byteOffset, 3))).toEqual([1.5, -2, new Float32Array([3e-7])[0]]);
      expect(got[1]!.payload.length).toBe(0);
    }
    // byte by byte
    const r = new FrameReader();
    const got = [];
    for (let i = 0; i < stream.length; i++) got.push(...r.push(stream.subarray(i, i + 1)));
    expect(got).toHaveLength(3);
  });
});

describe("torchrun's failure summary", () => {
  const summary = `
torch.distributed.elastic.multiprocessing.errors.ChildFailedError:
======================================================
worker.py FAILED
------------------------------------------------------
Failures:
[1]:
  time      : 2026-11-23_13:47:46
  host      : localhost
  rank      : 1 (local_rank: 1)
  exitcode  : -9 (pid: 28332)
  error_file: <N/A>
  traceback : Signal 9 (SIGKILL) received by PID 28332
------------------------------------------------------
Root Cause (first observed failure):
[0]:
  time      : 2026-11-23_13:47:46
  host      : localhost
  rank      : 0 (local_rank: 0)
  exitcode  : 1 (pid: 28331)
  error_file: <N/A>
  traceback : To enable traceback see: https://pytorch.org/docs/stable/elastic/errors.html
======================================================`;

  it('reads every failed rank with its pid and how it ended', () => {
    const f = torchrunFailures(summary);
    expect(f.get(1)).toEqual({ pid: 28332, how: 'was killed by SIGKILL' });
    expect(f.get(0)).toEqual({ pid: 28331, how: 'exited with code 1' });
    expect(torchrunFailures('no summary here').size).toBe(0);
  });
});

describe('torch engine options', () => {
  it('fills in the defaults and checks every value', () => {
    expect(torchOptions(undefined, '/usr/bin/python3')).toEqual({ python: '/usr/bin/python3', device: 'auto', nproc: 1, nnodes: 1, nodeRank: 0, masterAddr: undefined, masterPort: undefined });
    expect(torchOptions({ nnodes: 2, nodeRank: 1, masterAddr: '10.0.0.1', masterPort: 29500 }, 'py')).toMatchObject({ nnodes: 2, nodeRank: 1, masterAddr: '10.0.0.1' });
    const bad: Array<[Record<string, unknown>, string]> = [
      [{ device: 'tpu' }, '--device must be cpu, cuda or auto'],
      [{ nproc: 0 }, '--nproc must be a whole number from 1 to 1024'],
      [{ nnodes: 2 }, '--nnodes 2 needs --master-addr'],
      [{ nnodes: 2, nodeRank: 2, masterAddr: 'a' }, '--node-rank must be a whole number from 0 to 1'],
      [{ nodeRank: 1 }, '--node-rank needs --nnodes'],
      [{ masterPort: 0 }, '--master-port must be a whole number from 1 to 65535'],
      [{ gpus: 2 }, 'the torch engine has no option gpus'],
    ];
    for (const [o, message] of bad) expect(() => torchOptions(o, 'py'), message).toThrow(message);
    expect(() => torchOptions({ nproc: 0 }, 'py')).toThrow(ConfigError);
  });
});

describe('worker.py', () => {
  it('is where the engine looks for it, compiles, keeps to PEP 8 (flake8 where installed)', () => {
    const text = readFileSync(WORKER_SCRIPT, 'utf8');
    text.split('\n').forEach((l, i) => expect(l.length, `worker.py:${i + 1}`).toBeLessThanOrEqual(79));
    expect(spawnSync('/usr/bin/python3', ['-m', 'py_compile', WORKER_SCRIPT], { env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONPYCACHEPREFIX: '/tmp' } }).status).toBe(0);
    const flake8 = spawnSync('/usr/bin/python3', ['-m', 'flake8', '--version'], { stdio: 'ignore' }).status === 0;
    if (!flake8) console.warn('SKIPPED flake8 on worker.py: /usr/bin/python3 has no flake8 (apt-get install python3-flake8)');
    else {
      const r = spawnSync('/usr/bin/python3', ['-m', 'flake8', WORKER_SCRIPT], { encoding: 'utf8' });
      expect(r.stdout, r.stdout).toBe('');
    }
  });
});
