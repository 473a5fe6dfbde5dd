// safetensors: alexnetc's reader and writer (src/weights/safetensors.ts), the
// CLI's `--target safetensors` and `--weights FILE.safetensors`, and the
// cross-check with things nobody here wrote: Hugging Face's own library
// (its wheel, where one is on disk) reads alexnetc's files and writes files
// alexnetc reads, in every float dtype; the generated PyTorch module's
// load_safetensors()/save_safetensors() exchange weights with both.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { layers } from '../../src/check/ir.js';
import { seededWeights } from '../../src/emit/onnx/index.js';
import { toTorchModule } from '../../src/emit/torch/index.js';
import { sizeOf } from '../../src/util/rng.js';
import {
  networkTensors,
  readSafetensorsHeader,
  readTensor,
  safetensorsWeights,
  stateDictKey,
  tensorName,
  writeSafetensors,
  type TensorToWrite,
} from '../../src/weights/safetensors.js';
import { PY_DIR, PYTHON, randomInput, runOrt, runPython, tempDir, writeFloats } from '../onnx/helpers.js';
import { SPECS } from '../onnx/specs.js';
import { checked, hasTorch } from '../torch/helpers.js';

const root = path.join(import.meta.dirname, '../..');
const dir = tempDir('safetensors');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const at = (f: string): string => path.join(dir, f);

const lenet = checked(fs.readFileSync(path.join(SPECS, 'lenet5.net'), 'utf8'));

/** A safetensors file put together by hand: header object, then raw data. */
function rawFile(file: string, header: object, data: Uint8Array, lengthOverride?: bigint): string {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const head = new Uint8Array(8);
  new DataView(head.buffer).setBigUint64(0, lengthOverride ?? BigInt(json.length), true);
  fs.writeFileSync(at(file), Buffer.concat([head, json, data]));
  return at(file);
}

const f32 = (values: number[]): Uint8Array => new Uint8Array(new Float32Array(values).buffer);
const tensor = (name: string, shape: number[], values: number[]): TensorToWrite => ({ name, shape, values: () => new Float32Array(values) });

describe('safetensors reader and writer', () => {
  it('round-trips tensors and metadata; the data starts 8-byte aligned', async () => {
    const file = at('round.safetensors');
    const tensors = [tensor('a/conv1.weight', [2, 3], [1, 2, 3, 4, 5, -6.5]), tensor('scalar', [], [7]), tensor('empty', [0, 4], [])];
    const bytes = await writeSafetensors(file, tensors, { note: 'hi', 'alexnetc.network': 'T' });
    expect(fs.statSync(file).size).toBe(bytes);
    const h = readSafetensorsHeader(file);
    expect(h.metadata).toEqual({ note: 'hi', 'alexnetc.network': 'T' });
    expect(h.dataStart % 8).toBe(0);
    expect(h.tensors.map((t) => [t.name, t.dtype, t.shape])).toEqual([
      ['a/conv1.weight', 'F32', [2, 3]],
      ['scalar', 'F32', []],
      ['empty', 'F32', [0, 4]],
    ]);
    expect([...readTensor(h, h.tensors[0]!)]).toEqual([1, 2, 3, 4, 5, -6.5]);
    expect([...readTensor(h, h.tensors[1]!)]).toEqual([7]);
    expect(readTensor(h, h.tensors[2]!).length).toBe(0);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('reads F16 (subnormals and infinities too), BF16 and F64 as float32', () => {
    const f16 = new Uint8Array(new Uint16Array([0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x7c00]).buffer);
    const bf16 = new Uint8Array(new Uint16Array([0x3fc0, 0xc040]).buffer);
    const f64 = new Uint8Array(new Float64Array([0.1, -1e-3]).buffer);
    const file = rawFile(
      'dtypes.safetensors',
      {
        h: { dtype: 'F16', shape: [6], data_offsets: [0, 12] },
        b: { dtype: 'BF16', shape: [2], data_offsets: [12, 16] },
        d: { dtype: 'F64', shape: [2], data_offsets: [16, 32] },
      },
      Buffer.concat([f16, bf16, f64]),
    );
    const h = readSafetensorsHeader(file);
    const get = (n: string): number[] => [...readTensor(h, h.tensors.find((t) => t.name === n)!)];
    expect(get('h')).toEqual([1, -2, 0.5, 65504, 2 ** -24, Infinity]);
    expect(get('b')).toEqual([1.5, -3]);
    expect(get('d')).toEqual([Math.fround(0.1), Math.fround(-1e-3)]);
  });

  const t = (begin: number, end: number, shape = [2], dtype = 'F32'): object => ({ dtype, shape, data_offsets: [begin, end] });
  const INVALID: [string, () => string, RegExp][] = [
    ['a file shorter than 8 bytes', () => (fs.writeFileSync(at('short'), Buffer.from([1, 2, 3])), at('short')), /too short/],
    ['a header length past the end', () => rawFile('past', { a: t(0, 8) }, f32([1, 2]), 1000n), /header length 1000 exceeds the file/],
    ['a header over 100 MB', () => rawFile('huge', {}, new Uint8Array(), 200_000_000n), /at most 100000000/],
    ['a header that is not JSON', () => (fs.writeFileSync(at('nojson'), Buffer.concat([Buffer.from([4, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{x: ')])), at('nojson')), /not UTF-8 JSON/],
    ['an unknown dtype', () => rawFile('dtype', { a: t(0, 8, [2], 'F42') }, f32([1, 2])), /unknown dtype "F42"/],
    ['offsets that disagree with the shape', () => rawFile('size', { a: t(0, 8, [3]) }, f32([1, 2])), /needs 12 bytes but data_offsets \[0, 8\] hold 8/],
    ['a hole in the data', () => rawFile('hole', { a: t(0, 8), b: t(12, 20) }, f32([1, 2, 3, 4, 5])), /bytes 8–12 of the data belong to no tensor/],
    ['overlapping tensors', () => rawFile('overlap', { a: t(0, 8), b: t(4, 12) }, f32([1, 2, 3])), /b overlaps/],
    ['bytes after the last tensor', () => rawFile('trailing', { a: t(0, 8) }, f32([1, 2, 3])), /the data has 12 bytes but its tensors cover 8/],
    ['a truncated file', () => rawFile('truncated', { a: t(0, 8), b: t(8, 16) }, f32([1, 2, 3])), /b ends at byte 16 of the data, which has 12 \(truncated\?\)/],
    ['metadata that is not strings', () => rawFile('meta', { __metadata__: { a: 1 }, x: t(0, 8) }, f32([1, 2])), /__metadata__.a is not a string/],
  ];
  for (const [what, make, message] of INVALID) {
    it(`refuses ${what}`, () => {
      const file = make();
      expect(() => readSafetensorsHeader(file)).toThrow(message);
      expect(() => readSafetensorsHeader(file)).toThrow(/not a valid safetensors file/);
    });
  }
});

describe('safetensors as the weights of a network', () => {
  it('the seeded weights come back exactly, under alexnetc names or state_dict keys', async () => {
    const seeded = seededWeights(4);
    await writeSafetensors(at('seed4.safetensors'), networkTensors(lenet.network, seeded));
    const dotted = networkTensors(lenet.network, seeded).map((x) => ({ ...x, name: x.name.replace(/\//g, '../torch') }));
    // PyTorch's num_batches_tracked is no alexnetc weight: it is passed over
    await writeSafetensors(at('dotted.safetensors'), [...dotted, tensor('conv1.num_batches_tracked', [], [3])]);
    for (const f of ['seed4.safetensors', 'dotted.safetensors']) {
      const w = safetensorsWeights(at(f), lenet.network);
      for (const n of layers(lenet.network.body)) for (const s of n.weights) expect(w.get(n.path, s)).toEqual(seeded.get(n.path, s));
    }
    expect(stateDictKey('stage2/conv1', 'weight')).toBe('stage2.conv1.weight');
    expect(tensorName('stage2/conv1', 'weight')).toBe('stage2/conv1.weight');
  });

  it('refuses another network naming the first layer and both shapes, a missing weight, an extra tensor, integer values', async () => {
    const alex = checked(fs.readFileSync(path.join(SPECS, 'alexnet.net'), 'utf8'), 'AlexNet');
    expect(() => safetensorsWeights(at('seed4.safetensors'), alex.network)).toThrow(
      /layer conv1: the network expects conv1.weight with shape \[96, 3, 11, 11\], .*seed4.safetensors has shape \[6, 1, 5, 5\]/,
    );
    const all = networkTensors(lenet.network, seededWeights(0));
    await writeSafetensors(at('missing.safetensors'), all.filter((x) => x.name !== 'dense1.bias'));
    expect(() => safetensorsWeights(at('missing.safetensors'), lenet.network)).toThrow(/layer dense1: the network expects dense1.bias with shape \[84\], .* has no such tensor \(in its place: dense2.weight/);
    await writeSafetensors(at('extra.safetensors'), [...all, tensor('head/dense9.weight', [2], [1, 2])]);
    expect(() => safetensorsWeights(at('extra.safetensors'), lenet.network)).toThrow(/has tensors the network does not: the first is head\/dense9.weight with shape \[2\]/);
    const header: Record<string, object> = {};
    let off = 0;
    for (const x of all) {
      const n = sizeOf(x.shape) * 4;
      header[x.name] = { dtype: x.name === 'conv1.bias' ? 'I32' : 'F32', shape: x.shape, data_offsets: [off, off + n] };
      off += n;
    }
    rawFile('ints.safetensors', header, new Uint8Array(off));
    expect(() => safetensorsWeights(at('ints.safetensors'), lenet.network)).toThrow(/layer conv1: .* stores conv1.bias as I32, expected floating point/);
  });
});

describe('alexnetc compile --target safetensors / torch, --weights FILE.safetensors', () => {
  const run = (args: string[]) => {
    const r = spawnSync(process.execPath, [path.join(root, 'bin/alexnetc.js'), ...args], { cwd: root, encoding: 'utf8' });
    return { code: r.status, stderr: r.stderr };
  };
  const lenetFile = 'specs/lenet5.net';

  it('seeded safetensors carried into ONNX give the seeded ONNX file byte for byte', () => {
    expect(run(['compile', lenetFile, '--target', 'safetensors', '--seed', '7', '-o', at('l7.safetensors')]).code).toBe(0);
    expect(run(['compile', lenetFile, '--weights', at('l7.safetensors'), '-o', at('from-st.onnx')]).code).toBe(0);
    expect(run(['compile', lenetFile, '--seed', '7', '-o', at('seeded.onnx')]).code).toBe(0);
    expect(fs.readFileSync(at('from-st.onnx')).equals(fs.readFileSync(at('seeded.onnx')))).toBe(true);
    expect(run(['compile', lenetFile, '--seed', '8', '-o', at('seed8.onnx')]).code).toBe(0);
    expect(fs.readFileSync(at('from-st.onnx')).equals(fs.readFileSync(at('seed8.onnx')))).toBe(false);
  });

  it("a tfjs model's weights written as safetensors are the same file as the seeded one (both ways between engines)", () => {
    expect(run(['compile', lenetFile, '--target', 'tfjs', '--seed', '7', '-o', at('l7-tfjs')]).code).toBe(0);
    expect(run(['compile', lenetFile, '--weights', at('l7-tfjs'), '--target', 'safetensors', '-o', at('from-tfjs.safetensors')]).code).toBe(0);
    expect(fs.readFileSync(at('from-tfjs.safetensors')).equals(fs.readFileSync(at('l7.safetensors')))).toBe(true);
    expect(run(['compile', lenetFile, '--weights', at('l7.safetensors'), '--target', 'tfjs', '-o', at('back-tfjs')]).code).toBe(0);
    expect(run(['compile', lenetFile, '--weights', at('back-tfjs'), '-o', at('back.onnx')]).code).toBe(0);
    expect(fs.readFileSync(at('back.onnx')).equals(fs.readFileSync(at('seeded.onnx')))).toBe(true);
  });

  it('refuses the weights of another network with the layer and both shapes, and writes nothing', () => {
    const r = run(['compile', 'specs/alexnet.net', '--weights', at('l7.safetensors'), '-o', at('wrong.onnx')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^alexnetc: --weights .*l7.safetensors: layer conv1: the network expects conv1.weight with shape \[96, 3, 11, 11\], .* has shape \[6, 1, 5, 5\]$/m);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(fs.existsSync(at('wrong.onnx'))).toBe(false);
  });

  it('refuses a corrupt .safetensors file by name', () => {
    fs.writeFileSync(at('bad.safetensors'), 'not safetensors at all');
    const r = run(['compile', lenetFile, '--weights', at('bad.safetensors'), '-o', at('bad.onnx')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad.safetensors: not a valid safetensors file/);
  });

  it('--target torch writes the module, takes no --weights, and refuses stage names PyTorch would merge with the location', () => {
    expect(run(['compile', lenetFile, '--target', 'torch', '-o', at('lenet.py')]).code).toBe(0);
    expect(fs.readFileSync(at('lenet.py'), 'utf8')).toMatch(/^class LeNet5\(Network\):$/m);
    const r = run(['compile', lenetFile, '--target', 'torch', '--weights', at('l7.safetensors'), '-o', at('w.py')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--target torch writes no weights; write them with --target safetensors');
    fs.writeFileSync(at('clash.net'), 'block conv2() {\n  relu\n}\n\nnetwork Clash {\n  input [1, 4, 4]\n  repeat 21 { conv(1, 1) }\n  conv2\n}\n');
    const c = run(['compile', at('clash.net'), '--target', 'torch', '-o', at('clash.py')]);
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(/clash.net:7:15: two stages are both named conv21 in PyTorch/);
    expect(fs.existsSync(at('clash.py'))).toBe(false);
  });
});

describe.skipIf(!hasTorch())('the README flow: --target torch + --target safetensors', () => {
  it('the module with the seeded safetensors computes what the seeded ONNX file computes', async () => {
    const run = (args: string[]) => spawnSync(process.execPath, [path.join(root, 'bin/alexnetc.js'), ...args], { cwd: root, encoding: 'utf8' });
    const spec = ['compile', 'specs/lenet5.net', '--set', 'size=28'];
    for (const [target, out] of [['torch', 'flow.py'], ['safetensors', 'flow.safetensors'], ['onnx', 'flow.onnx']]) {
      const r = run([...spec, '--seed', '5', '--target', target!, '-o', at(out!)]);
      expect(r.status, r.stderr).toBe(0);
    }
    const dims = [3, 1, 28, 28];
    const input = randomInput(sizeOf(dims), 3);
    writeFloats(at('flow-in.f32'), input);
    writeFloats(at('flow-out.f32'), (await runOrt(at('flow.onnx'), input, dims)).data);
    const want: [string, number[]][] = [];
    for (const n of layers(checked(fs.readFileSync(path.join(SPECS, 'lenet5.net'), 'utf8'), undefined, { size: '28' }).network.body)) {
      for (const w of n.weights) want.push([tensorName(n.path, w.name), w.shape]);
    }
    const manifest = [
      { id: 'flow', module: at('flow.py'), cls: 'LeNet5', kwargs: {}, weights: at('flow.safetensors'), input: at('flow-in.f32'), input_shape: dims, expected: at('flow-out.f32'), weights_expected: want },
    ];
    fs.writeFileSync(at('flow.json'), JSON.stringify(manifest));
    const [r] = JSON.parse(runPython('torch_conform.py', [at('flow.json')])) as { rel: number; scale: number; names: string | null; error?: string }[];
    expect(r!.error ?? r!.names ?? null).toBeNull();
    expect(r!.scale).toBeGreaterThan(1e-3);
    expect(r!.rel).toBeLessThanOrEqual(1e-4);
  });
});

/** Hugging Face's safetensors for /usr/bin/python3: importable already, or installed from a wheel on disk into a scratch directory. */
function hfSafetensors(): string | undefined {
  const target = path.join(os.tmpdir(), `alexnetc-hf-safetensors-${process.getuid?.() ?? 0}`);
  const works = (): boolean => spawnSync(PYTHON, ['-c', 'import torch, safetensors.torch'], { env: { ...process.env, PYTHONPATH: target }, stdio: 'ignore' }).status === 0;
  if (works()) return target;
  for (const wheels of [process.env.ALEXNETC_WHEELS, '/opt/pypi/files', '/opt/wheels']) {
    if (!wheels || !fs.existsSync(wheels)) continue;
    spawnSync(PYTHON, ['-m', 'pip', 'install', '--quiet', '--no-deps', '--no-index', '--find-links', wheels, '--target', target, 'safetensors'], { stdio: 'ignore', timeout: 120_000 });
    if (works()) return target;
  }
  console.warn(`SKIPPED the Hugging Face safetensors cross-check: no importable \`safetensors\` for ${PYTHON} (nor a wheel in $ALEXNETC_WHEELS, /opt/pypi/files, /opt/wheels)`);
  return undefined;
}

const hf = hasTorch() ? hfSafetensors() : undefined;

describe.skipIf(!hf)('Hugging Face safetensors (the reference implementation)', () => {
  const py = (args: string[]): unknown => {
    const r = spawnSync(PYTHON, [path.join(PY_DIR, 'safetensors_check.py'), ...args], { env: { ...process.env, PYTHONPATH: hf }, encoding: 'utf8', maxBuffer: 256 << 20 });
    if (r.status !== 0) throw new Error(`safetensors_check.py ${args[0]} failed:\n${r.stderr}`);
    return JSON.parse(r.stdout);
  };

  it("reads alexnetc's files: every tensor, value for value, and the metadata", async () => {
    const seeded = seededWeights(4);
    const written = at('hf-read.safetensors');
    await writeSafetensors(written, networkTensors(lenet.network, seeded), { 'alexnetc.network': 'LeNet5' });
    const got = py(['hf-read', written]) as { metadata: Record<string, string>; tensors: { name: string; dtype: string; shape: number[]; values: number[] }[] };
    expect(got.metadata).toEqual({ 'alexnetc.network': 'LeNet5' });
    const want = networkTensors(lenet.network, seeded);
    expect(got.tensors.map((x) => x.name).sort()).toEqual(want.map((x) => x.name).sort());
    for (const w of want) {
      const g = got.tensors.find((x) => x.name === w.name)!;
      expect([g.dtype, g.shape]).toEqual(['F32', w.shape]);
      expect(g.values).toEqual([...w.values()]);
    }
  });

  it('writes files alexnetc reads, in F32, F16, BF16 and F64', () => {
    const values = [0.1, -2.5, 3.14159, 1e-5, 65000, -0.0001];
    const spec = {
      metadata: { format: 'pt' },
      tensors: ['F32', 'F16', 'BF16', 'F64'].map((dtype) => ({ name: `t.${dtype}`, dtype, shape: [2, 3], values })),
    };
    fs.writeFileSync(at('spec.json'), JSON.stringify(spec));
    const stored = py(['hf-write', at('spec.json'), at('hf.safetensors')]) as { tensors: { name: string; values: number[] }[] };
    const h = readSafetensorsHeader(at('hf.safetensors'));
    expect(h.metadata).toEqual({ format: 'pt' });
    for (const s of stored.tensors) {
      const t = h.tensors.find((x) => x.name === s.name)!;
      expect(t.shape).toEqual([2, 3]);
      expect([...readTensor(h, t)], s.name).toEqual(s.values);
    }
  });

  it("the generated module loads alexnetc's file and writes files that alexnetc and Hugging Face read (its names and state_dict keys)", async () => {
    const net = checked('network BN { input [3, 8, 8]\n conv(4, 3, pad same) | batchnorm | relu | residual { conv(4, 1) } | flatten | dense(5) }');
    const module = at('bn.py');
    fs.writeFileSync(module, toTorchModule(net.program, net.network));
    const seeded = seededWeights(11);
    // batch norm statistics other than 0 and 1, so that a swap would show
    const weights = { get: (p: string, s: Parameters<typeof seeded.get>[1]) => seeded.get(p, s).map((v, i) => (s.name.startsWith('running') ? 0.5 + i / 10 : v)) };
    await writeSafetensors(at('bn.safetensors'), networkTensors(net.network, weights));
    const r = py(['module', module, 'BN', at('bn.safetensors'), at('bn-module.safetensors'), at('bn-hf.safetensors')]) as { tensors: number };
    expect(r.tensors).toBe(10);
    for (const f of ['bn-module.safetensors', 'bn-hf.safetensors']) {
      const back = safetensorsWeights(at(f), net.network);
      for (const n of layers(net.network.body)) for (const s of n.weights) expect(back.get(n.path, s), `${f} ${n.path}.${s.name}`).toEqual(weights.get(n.path, s));
    }
    expect(readSafetensorsHeader(at('bn-hf.safetensors')).tensors.some((x) => x.name === 'batchnorm1.num_batches_tracked' && x.dtype === 'I64')).toBe(true);
  });
});
