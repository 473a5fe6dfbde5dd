// `alexnetc train --engine torch` end to end, one process, on real
// Fashion-MNIST (a small part, so the suite stays quick on two cores):
// accuracy well above chance, the run directory, exact resume (also after
// Ctrl-C), the NaN stop, the export of the trained weights (the same ONNX
// file whichever copy of the weights it is made from, and PyTorch's own
// predictions = onnxruntime's), and refusals before anything runs.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { PNG } from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { layers } from '../../../src/check/ir.js';
import { compile } from '../../../src/compile.js';
import { readTfjsWeights } from '../../../src/weights/tfjs.js';
import { batches, loadIdxDir, subset } from '../../../src/train/data/index.js';
import { safetensorsWeights } from '../../../src/weights/safetensors.js';
import { cli, FASHION, hasData, hasTorch, json, LENET, maxDiff, root, tensors, tmp, train, trainUntil, type Run } from './helpers.js';

describe.skipIf(!hasData || !hasTorch)('alexnetc train --engine torch on Fashion-MNIST', () => {
  let straight: string;
  let straightRun: Run;

  beforeAll(() => {
    straight = path.join(tmp(), 'run');
    straightRun = train([...LENET, '--engine', 'torch', '--epochs', '2', '--out', straight]);
  }, 600_000);

  it('trains LeNet-5 well above chance and writes the run directory', () => {
    expect(straightRun.code, straightRun.stderr).toBe(0);
    expect(straightRun.stderr).toMatch(/backend: torch \d+\.\d+\S* on cpu \(1 thread\) \(\/usr\/bin\/python3, Python 3/);
    expect(straightRun.stderr).toContain('loss: softmax cross-entropy on the logits before the final softmax');
    expect(straightRun.stderr).toMatch(/epoch 2\/2 loss [\d.]+ {2}acc [\d.]+% {2}val_loss [\d.]+ {2}val_acc/);
    const metrics = json(path.join(straight, 'metrics.json'));
    expect(metrics).toMatchObject({ evaluatedOn: 'test', examples: 500 });
    expect(metrics.accuracy).toBeGreaterThan(0.55); // chance is 0.10
    expect(metrics.backend).toMatch(/^torch /);
    const history = json(path.join(straight, 'history.json'));
    expect(history).toHaveLength(2);
    expect(history[1].loss).toBeLessThan(history[0].loss);
    expect(PNG.sync.read(readFileSync(path.join(straight, 'confusion.png'))).width).toBe(900);
    expect(json(path.join(straight, 'config.json')).engine).toBe('torch');
    // the model: safetensors with alexnetc's names and the run's metadata, the module, a tfjs copy
    const model = tensors(path.join(straight, 'model.safetensors'));
    expect([...model.keys()]).toEqual(['conv1.weight', 'conv1.bias', 'conv2.weight', 'conv2.bias', 'conv3.weight', 'conv3.bias', 'dense1.weight', 'dense1.bias', 'dense2.weight', 'dense2.bias']);
    expect(readFileSync(path.join(straight, 'model.py'), 'utf8')).toContain('class LeNet5(Network):');
    expect(json(path.join(straight, 'model', 'model.json')).userDefinedMetadata.alexnetc.classes[0]).toBe('T-shirt/top');
    // the checkpoint: the engine's files and its state
    for (const f of ['model.safetensors', 'optimizer.safetensors', 'torch.json', 'state.json']) expect(existsSync(path.join(straight, 'checkpoint', f)), f).toBe(true);
    expect(json(path.join(straight, 'checkpoint', 'state.json'))).toMatchObject({ epoch: 2, step: 0, engine: 'torch' });
    // Adam's slots: step, exp_avg, exp_avg_sq per parameter
    const slots = tensors(path.join(straight, 'checkpoint', 'optimizer.safetensors'));
    expect(slots.get('conv1.weight:step')![0]).toBe(2 * 29);
    expect(slots.get('dense2.bias:exp_avg_sq')!.length).toBe(10);
  });

  it('gives bit-identical weights when 2 epochs are run as 1 + resume 1 (the engine is kept)', () => {
    const dir = path.join(tmp(), 'run');
    const first = train([...LENET, '--engine', 'torch', '--epochs', '1', '--out', dir]);
    expect(first.code, first.stderr).toBe(0);
    const second = train(['--resume', dir, '--epochs', '2']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/resuming .* at epoch 2/);
    expect(second.stderr).toMatch(/backend: torch /);
    expect(maxDiff(path.join(dir, 'model.safetensors'), path.join(straight, 'model.safetensors'))).toBe(0);
    expect(maxDiff(path.join(dir, 'checkpoint', 'optimizer.safetensors'), path.join(straight, 'checkpoint', 'optimizer.safetensors'))).toBe(0);
    expect(json(path.join(dir, 'metrics.json')).accuracy).toBe(json(path.join(straight, 'metrics.json')).accuracy);
  }, 600_000);

  it('writes a checkpoint on Ctrl-C, exits 130, stops its worker, and resumes mid-epoch to the same weights', async () => {
    const dir = path.join(tmp(), 'run');
    const r = await trainUntil([...LENET, '--engine', 'torch', '--epochs', '2', '--out', dir], /epoch 1\/2 step/, (pid) => process.kill(pid, 'SIGINT'));
    expect(r.stderr).toMatch(/interrupted at epoch 1, step \d+\/29: checkpoint written/);
    expect(r.code, r.stderr).toBe(130);
    const state = json(path.join(dir, 'checkpoint', 'state.json'));
    expect(state.epoch).toBe(0);
    expect(state.step).toBeGreaterThan(0);
    expect(existsSync(path.join(dir, 'model.safetensors'))).toBe(false);
    const resumed = train(['--resume', dir]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resuming .* at epoch 1, step \d+/);
    expect(maxDiff(path.join(dir, 'model.safetensors'), path.join(straight, 'model.safetensors'))).toBe(0);
    expect(json(path.join(dir, 'history.json'))[0].loss).toBeCloseTo(json(path.join(straight, 'history.json'))[0].loss, 6);
  }, 600_000);

  it('exports the trained weights (RUN, its tfjs copy = its safetensors) to ONNX, and predict, classifying as PyTorch does', async () => {
    const d = tmp();
    const fromRun = cli(['compile', 'specs/lenet5.net', '--weights', straight, '-o', path.join(d, 'lenet.onnx')]);
    expect(fromRun.code, fromRun.stderr).toBe(0);
    expect(fromRun.stderr).toContain(`using the settings of the run ${straight}: --network LeNet5 --set size=28`);
    // the tfjs copy (which RUN resolves to) holds exactly the values of RUN/model.safetensors
    const net = compile(readFileSync(path.join(root, 'specs/lenet5.net'), 'utf8'), { set: { size: '28' } }).network!;
    const fromTfjs = readTfjsWeights(path.join(straight, 'model'), net);
    const fromFile = safetensorsWeights(path.join(straight, 'model.safetensors'), net);
    let weights = 0;
    for (const n of layers(net.body)) {
      for (const w of n.weights) {
        expect(Array.from(fromTfjs.get(n.path, w)), `${n.path}.${w.name}`).toEqual(Array.from(fromFile.get(n.path, w)));
        weights++;
      }
    }
    expect(weights).toBe(10);

    // the run's own module and weights in PyTorch, against onnxruntime on 200 test images
    const norm = json(path.join(straight, 'normalization.json'));
    const images = subset(loadIdxDir(FASHION).test!, [...Array(200).keys()]);
    const [x] = [...batches(images, { batchSize: 200, layout: 'NCHW', normalization: norm })];
    writeFileSync(path.join(d, 'x.f32'), x!.x);
    const py = spawnSync(
      '/usr/bin/python3',
      ['-c', [
        'import importlib.util, sys, torch',
        'spec = importlib.util.spec_from_file_location("m", sys.argv[1]); m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)',
        'net = m.LeNet5().load_safetensors(sys.argv[2]).eval()',
        'x = torch.frombuffer(bytearray(open(sys.argv[3], "rb").read()), dtype=torch.float32).reshape(200, 1, 28, 28)',
        'sys.stdout.buffer.write(net(x).detach().numpy().tobytes())',
      ].join('\n'), path.join(straight, 'model.py'), path.join(straight, 'model.safetensors'), path.join(d, 'x.f32')],
      { maxBuffer: 1 << 20 },
    );
    expect(py.status, py.stderr?.toString()).toBe(0);
    const torchOut = new Float32Array(new Uint8Array(py.stdout).buffer);
    const session = await ort.InferenceSession.create(path.join(d, 'lenet.onnx'));
    const ortOut = (await session.run({ input: new ort.Tensor('float32', x!.x, x!.shape) })).output!.data as Float32Array;
    await session.release();
    let m = 0, hits = 0;
    for (let i = 0; i < ortOut.length; i++) m = Math.max(m, Math.abs(ortOut[i]! - torchOut[i]!));
    expect(m).toBeLessThan(1e-5);
    for (let i = 0; i < 200; i++) {
      const row = Array.from(ortOut.subarray(i * 10, i * 10 + 10));
      if (row.indexOf(Math.max(...row)) === images.labels[i]) hits++;
    }
    expect(hits / 200).toBeGreaterThan(0.55);

    // predict (which reads RUN/model/, the tfjs copy) classifies as PyTorch does
    const p = cli(['predict', straight, '--data', FASHION, '--index', '0-199', '--top', '1', '--json']);
    expect(p.code, p.stderr).toBe(0);
    const predictions = JSON.parse(p.stdout).predictions as Array<{ top: Array<{ index: number; probability: number }> }>;
    expect(predictions).toHaveLength(200);
    predictions.forEach(({ top: [best] }, i) => {
      const row = Array.from(torchOut.subarray(i * 10, i * 10 + 10));
      expect(best!.index, `test image ${i}`).toBe(row.indexOf(Math.max(...row)));
      expect(Math.abs(best!.probability - row[best!.index]!)).toBeLessThan(1e-5);
    });
  }, 120_000);

  it('stops on a NaN loss naming the epoch and step, and keeps the last good checkpoint', () => {
    const dir = path.join(tmp(), 'run');
    const r = train(['test/train/cli/fixtures/mlp.net', '--engine', 'torch', '--data', FASHION, '--limit', '500', '--test-limit', '100', '--epochs', '1', '--out', dir]);
    expect(r.stderr).toMatch(/training diverged: the loss became (NaN|Infinity|-Infinity) at epoch 1, step \d+\/8/);
    expect(r.stderr).toContain('the last good checkpoint (the initial weights) is kept');
    expect(r.code).toBe(1);
    expect(json(path.join(dir, 'checkpoint', 'state.json'))).toMatchObject({ epoch: 0, step: 0 });
    for (const v of tensors(path.join(dir, 'checkpoint', 'model.safetensors')).values()) expect(v.every(Number.isFinite)).toBe(true);
    expect(existsSync(path.join(dir, 'metrics.json'))).toBe(false);
  }, 120_000);
});

describe.skipIf(!hasTorch || !hasData)('alexnetc train --engine torch: dropout, image folders, refusals', () => {
  it('replays dropout exactly on resume (an image folder, a network with dropout)', () => {
    const data = tmp();
    ['left', 'top', 'dark'].forEach((cls, c) => {
      mkdirSync(path.join(data, cls));
      for (let i = 0; i < 16; i++) {
        const png = new PNG({ width: 8, height: 8 });
        for (let y = 0; y < 8; y++) {
          for (let x = 0; x < 8; x++) {
            const lit = c === 0 ? x < 4 : c === 1 ? y < 4 : false;
            const v = lit ? 200 + ((i * 7 + x) % 50) : (i * 13 + y * 3) % 40;
            png.data.set([v, v, v, 255], (y * 8 + x) * 4);
          }
        }
        writeFileSync(path.join(data, cls, `${i}.png`), PNG.sync.write(png));
      }
    });
    const args = ['test/train/cli/fixtures/tiny.net', '--engine', 'torch', '--data', data, '--batch', '8', '--val-split', '0.25', '--lr', '0.01'];
    const a = path.join(tmp(), 'run'), b = path.join(tmp(), 'run');
    const straight = train([...args, '--epochs', '3', '--out', a]);
    expect(straight.code, straight.stderr).toBe(0);
    expect(straight.stderr).toContain('(image folder), 36 training / 12 validation / 0 test images, 3 classes');
    expect(train([...args, '--epochs', '1', '--out', b]).code).toBe(0);
    const resumed = train(['--resume', b, '--epochs', '3']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(maxDiff(path.join(a, 'model.safetensors'), path.join(b, 'model.safetensors'))).toBe(0);
    // and dropout is on: another seed's masks would give other weights
    const c = path.join(tmp(), 'run');
    expect(train([...args, '--epochs', '3', '--out', c, '--seed', '1']).code).toBe(0);
    expect(maxDiff(path.join(a, 'model.safetensors'), path.join(c, 'model.safetensors'))).toBeGreaterThan(0);
  }, 300_000);

  it('refuses, before loading data, a Python without PyTorch, one too old, a missing one, a GPU that is not there', () => {
    const base = ['specs/lenet5.net', '--set', 'size=28', '--data', FASHION, '--engine', 'torch', '--out', path.join(tmp(), 'run')];
    // plain `python3` here is an interpreter without torch (Debian's is /usr/bin/python3)
    const noTorch = spawnSync('python3', ['-c', 'import torch'], { stdio: 'ignore' }).status !== 0;
    if (noTorch) {
      const r = train([...base, '--python', 'python3']);
      expect(r.stderr).toContain('PyTorch is not installed for python3');
      expect(r.stderr).toContain('apt-get install python3-torch');
      expect(r.stderr).toContain('pip install torch');
      expect(r.code).toBe(1);
      expect(r.stderr).not.toMatch(/^data:/m);
    }
    // a PyTorch too old: an interpreter that answers the probe as PyTorch 1.9 would
    const old = path.join(tmp(), 'python');
    writeFileSync(old, '#!/bin/sh\necho \'{"python": "3.8.10", "torch": "1.9.0", "cuda": false, "gpus": 0, "distributed": true, "gloo": true, "nccl": false}\'\n', { mode: 0o755 });
    const tooOld = train([...base, '--python', old]);
    expect(tooOld.stderr).toContain(`${old} has PyTorch 1.9.0, the torch engine needs 1.10 or later; upgrade it with \`apt-get install python3-torch\``);
    expect(tooOld.code).toBe(1);
    expect(tooOld.stderr).not.toMatch(/^data:/m);
    const missing = train([...base, '--python', '/nonexistent/python']);
    expect(missing.stderr).toContain('cannot run /nonexistent/python (no such program)');
    expect(missing.code).toBe(1);
    const cuda = spawnSync('/usr/bin/python3', ['-c', 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)']).status === 0;
    if (!cuda) {
      const r = train([...base, '--device', 'cuda']);
      expect(r.stderr).toContain('--device cuda: PyTorch');
      expect(r.stderr).toContain('sees no CUDA device');
      expect(r.code).toBe(1);
      expect(r.stderr).not.toMatch(/^data:/m);
    }
    for (const r of [missing]) expect(r.stderr).not.toMatch(/\n\s+at /);
  }, 120_000);

  it('refuses torch options without --engine torch, bad distributed settings, and another engine on resume', () => {
    const base = ['specs/lenet5.net', '--set', 'size=28', '--data', FASHION, '--out', path.join(tmp(), 'run')];
    const tfjs = train([...base, '--nproc', '2']);
    expect(tfjs.stderr).toContain('--nproc is an option of the torch engine; add --engine torch');
    expect(tfjs.code).toBe(2);
    const nodes = train([...base, '--engine', 'torch', '--nnodes', '2']);
    expect(nodes.stderr).toContain('--nnodes 2 needs --master-addr');
    expect(nodes.code).toBe(2);
    const rank = train([...base, '--engine', 'torch', '--nnodes', '2', '--node-rank', '2', '--master-addr', '10.0.0.1']);
    expect(rank.stderr).toContain('--node-rank must be a whole number from 0 to 1, got 2');
    expect(rank.code).toBe(2);
    const nproc = train([...base, '--engine', 'torch', '--nproc', '0']);
    expect(nproc.stderr).toContain('--nproc must be a whole number ≥ 1');
    expect(nproc.code).toBe(2);
    const port = train([...base, '--engine', 'torch', '--master-port', '70000']);
    expect(port.stderr).toContain('--master-port must be a port number');
    expect(port.code).toBe(2);
    const device = train([...base, '--engine', 'torch', '--device', 'tpu']);
    expect(device.code).toBe(2);
    const resume = train(['--resume', path.join(tmp(), 'nothing'), '--engine', 'torch']);
    expect(resume.stderr).toContain('not --engine');
    expect(resume.code).toBe(2);
    // a tfjs run keeps its engine: torch options do not apply to it
    const tfjsRun = path.join(tmp(), 'run');
    const t = train(['specs/lenet5.net', '--set', 'size=28', '--data', FASHION, '--limit', '100', '--test-limit', '50', '--epochs', '1', '--out', tfjsRun]);
    expect(t.code, t.stderr).toBe(0);
    const r = train(['--resume', tfjsRun, '--epochs', '2', '--nproc', '2']);
    expect(r.stderr).toContain(`--nproc is an option of the torch engine; ${tfjsRun} was trained by the tfjs engine`);
    expect(r.code).toBe(2);
  }, 120_000);
});
