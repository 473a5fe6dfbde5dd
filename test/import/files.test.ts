// ONNX files as such: what is not a readable ONNX model is refused with a
// clear message and exit 1 (nothing written); models with external data are
// read; ONNX files are a `--weights` source for `compile`, with the same
// refusals as the tfjs reader; and matchWeights reports per weight.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compile } from '../../src/compile.js';
import { matchWeights } from '../../src/weights/match.js';
import { openOnnxTensors } from '../../src/weights/onnx.js';
import { ONNX_PROTO } from '../../src/weights/onnx-proto.js';
import { PYTHON, requirePython, tempDir } from '../onnx/helpers.js';
import { alexnetc, compareModels, listing, ROOT } from './helpers.js';

const hasOnnx = requirePython('onnx, numpy', 'ONNX external-data and NaN cases');
const dir = tempDir('import-files');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const lenetSpec = path.join(ROOT, 'specs/lenet5.net');

function lenetOnnx(name = 'lenet.onnx'): string {
  const f = path.join(dir, name);
  if (!fs.existsSync(f)) expect(alexnetc(['compile', lenetSpec, '--seed', '5', '-o', f]).code).toBe(0);
  return f;
}

function refused(file: string, message: RegExp): void {
  const out = tempDir('import-refused');
  try {
    const r = alexnetc(['import', file, '-o', path.join(out, 'x.net')]);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.code).toBe(1);
    expect(listing(out)).toEqual([]);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

const INSTALLED_PROTO = '/usr/lib/python3/dist-packages/onnx/onnx.proto';
it.skipIf(!fs.existsSync(INSTALLED_PROTO))("the schema is onnx's own onnx.proto, verbatim", () => {
  expect(ONNX_PROTO).toBe(fs.readFileSync(INSTALLED_PROTO, 'utf8'));
});

describe('files that are not readable ONNX models', () => {
  it('a text file', () => {
    const f = path.join(dir, 'notes.onnx');
    fs.writeFileSync(f, 'this is not a model, just some text that happens to end in .onnx\n');
    refused(f, /notes\.onnx: not an ONNX model/);
  });

  it('an empty file, a missing file, a directory', () => {
    const f = path.join(dir, 'empty.onnx');
    fs.writeFileSync(f, '');
    refused(f, /empty\.onnx: empty file, not an ONNX model/);
    refused(path.join(dir, 'missing.onnx'), /missing\.onnx: no such file/);
    refused(dir, /is a directory, expected an ONNX file/);
  });

  it('a truncated model, cut anywhere', () => {
    const whole = fs.readFileSync(lenetOnnx());
    for (const frac of [0.1, 0.5, 0.9, 0.999]) {
      const f = path.join(dir, `cut${frac}.onnx`);
      fs.writeFileSync(f, whole.subarray(0, Math.floor(whole.length * frac)));
      refused(f, /truncated/);
    }
  });

  it('a file over 2 GiB (sparse) is refused before it is read', () => {
    const f = path.join(dir, 'huge.onnx');
    const fd = fs.openSync(f, 'w');
    fs.ftruncateSync(fd, 2 ** 31 + 10);
    fs.closeSync(fd);
    refused(f, /over protobuf's 2 GiB limit.*external data/);
    fs.rmSync(f);
  });

  it('refuses to overwrite the input with an output, and two outputs that are one file (exit 2)', () => {
    const f = lenetOnnx();
    const a = alexnetc(['import', f, '-o', path.join(dir, 'l.net'), '--weights-out', f]);
    expect(a.stderr).toMatch(/refusing to overwrite the input/);
    expect(a.code).toBe(2);
    const b = alexnetc(['import', f, '-o', path.join(dir, 'same'), '--weights-out', path.join(dir, 'same')]);
    expect(b.code).toBe(2);
    expect(fs.existsSync(path.join(dir, 'same'))).toBe(false);
    // a weights file that cannot be written: exit 1, and the .net file is not left behind either
    const net = path.join(dir, 'half.net');
    const c = alexnetc(['import', f, '-o', net, '--weights-out', path.join(dir, 'no', 'such', 'dir', 'w.onnx')]);
    expect(c.stderr).toMatch(/cannot write .*w\.onnx: ENOENT/);
    expect(c.code).toBe(1);
    expect(fs.existsSync(net)).toBe(false);
    expect(listing(dir).filter((x) => x.endsWith('.tmp'))).toEqual([]);
  });
});

describe.skipIf(!hasOnnx)('external data', () => {
  const py = (code: string, ...args: string[]): string => execFileSync(PYTHON, ['-c', code, ...args], { encoding: 'utf8', timeout: 120_000 });

  it('reads the weights from the data file beside the model', async () => {
    const src = lenetOnnx();
    const sub = path.join(dir, 'ext');
    fs.mkdirSync(sub);
    const model = path.join(sub, 'lenet.onnx');
    py(
      'import onnx, sys; m = onnx.load(sys.argv[1]); onnx.save_model(m, sys.argv[2], save_as_external_data=True, all_tensors_to_one_file=True, location="lenet.data", size_threshold=0)',
      src,
      model,
    );
    expect(fs.statSync(model).size).toBeLessThan(20_000); // the weights are not in it
    const net = path.join(dir, 'ext.net');
    const r = alexnetc(['import', model, '-o', net]);
    expect(r.code).toBe(0);
    const again = path.join(dir, 'ext-again.onnx');
    expect(alexnetc(['compile', net, '--weights', path.join(dir, 'ext.weights.onnx'), '-o', again]).code).toBe(0);
    const cmp = await compareModels(src, again, [2, 1, 32, 32]);
    expect(cmp.rel).toBe(0);

    // a missing or short data file, and a location outside the model's directory, are refused
    fs.renameSync(path.join(sub, 'lenet.data'), path.join(sub, 'moved.data'));
    refused(model, /external data file .*lenet\.data is missing/);
    fs.writeFileSync(path.join(sub, 'lenet.data'), fs.readFileSync(path.join(sub, 'moved.data')).subarray(0, 1000));
    refused(model, /which holds 1000 \(truncated\?\)/);
    const escape = path.join(sub, 'escape.onnx');
    py(
      'import onnx, sys\nm = onnx.load(sys.argv[1], load_external_data=False)\nfor t in m.graph.initializer:\n    for e in t.external_data:\n        if e.key == "location": e.value = "../../etc/passwd"\nonnx.save(m, sys.argv[2])',
      model,
      escape,
    );
    refused(escape, /lies outside the model's directory; refusing to read it/);
  });
});

describe('--weights FILE.onnx for compile', () => {
  it('reads the weights of an ONNX file alexnetc wrote: the same bytes again', () => {
    const a = lenetOnnx();
    const b = path.join(dir, 'b.onnx');
    expect(alexnetc(['compile', lenetSpec, '--weights', a, '-o', b]).code).toBe(0);
    expect(fs.readFileSync(b).equals(fs.readFileSync(a))).toBe(true);
  });

  it('refuses another network, naming the first layer and both shapes; writes nothing', () => {
    const out = path.join(dir, 'nope.onnx');
    const r = alexnetc(['compile', path.join(ROOT, 'specs/resnet.net'), '--network', 'ResNet18', '--weights', lenetOnnx(), '-o', out]);
    expect(r.stderr).toMatch(/--weights .*lenet\.onnx: layer stem1\/conv1: the network expects stem1\/conv1\.weight with shape \[64, 3, 7, 7\], the ONNX file .* has no such weight \(in its place: conv1\.weight with shape \[6, 1, 5, 5\]\)/);
    expect(r.code).toBe(1);
    expect(fs.existsSync(out)).toBe(false);
    const s = alexnetc(['compile', lenetSpec, '--set', 'classes=7', '--weights', lenetOnnx(), '-o', out]);
    expect(s.stderr).toMatch(/layer dense2: the network expects dense2\.weight with shape \[7, 84\], .* has shape \[10, 84\]/);
    expect(s.code).toBe(1);
  });

  it.skipIf(!hasOnnx)('refuses weights that are NaN or infinite', () => {
    const bad = path.join(dir, 'nan.onnx');
    execFileSync(PYTHON, ['-c', 'import onnx, numpy, sys\nfrom onnx import numpy_helper\nm = onnx.load(sys.argv[1])\nt = m.graph.initializer[1]\na = numpy_helper.to_array(t).copy(); a.flat[2] = numpy.inf\nt.CopyFrom(numpy_helper.from_array(a, t.name))\nonnx.save(m, sys.argv[2])', lenetOnnx(), bad]);
    const out = path.join(dir, 'nan-out.onnx');
    const r = alexnetc(['compile', lenetSpec, '--weights', bad, '-o', out]);
    expect(r.stderr).toMatch(/conv1\.bias holds Infinity at index 2; refusing weights that are not finite/);
    expect(r.code).toBe(1);
    expect(fs.existsSync(out)).toBe(false);
  });
});

describe('matchWeights', () => {
  it('reports, per weight, loaded / shape-differs / missing, and the extras', () => {
    const source = openOnnxTensors(lenetOnnx());
    // LeNet-5 for 7 classes, with one more dense layer: the old head differs, the new one is missing
    const text = fs.readFileSync(lenetSpec, 'utf8').replace(/dense\(classes\)/, 'dense(classes) | dense(classes)');
    const net = compile(text, { set: { classes: '7' } }).network!;
    const report = matchWeights(source, net);
    const by = new Map(report.entries.map((e) => [e.key, e]));
    expect(by.get('conv1.weight')).toMatchObject({ status: 'loaded', expected: [6, 1, 5, 5], actual: [6, 1, 5, 5] });
    expect(by.get('dense2.weight')).toMatchObject({ status: 'shape-differs', expected: [7, 84], actual: [10, 84] });
    expect(by.get('dense3.weight')).toMatchObject({ status: 'missing', expected: [7, 7] });
    expect(report.entries.filter((e) => e.status === 'loaded').length).toBe(8); // conv1-3 and dense1, weight and bias
    expect(report.extra).toEqual([]);
  });
});
