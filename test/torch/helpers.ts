// Conformance plumbing for the PyTorch target: each case is a generated
// module, a safetensors file of weights, an input and the output
// onnxruntime-node computes for the same network and weights (or a
// formula's, where onnxruntime has no kernel). All cases of a test file run
// in one /usr/bin/python3 process (test/python/torch_conform.py), since
// importing torch costs more than running a small case.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { layers, type Network } from '../../src/check/ir.js';
import { compile } from '../../src/compile.js';
import { writeOnnx, type WeightSource } from '../../src/emit/onnx/index.js';
import { toTorchModule, type TorchModuleOptions } from '../../src/emit/torch/index.js';
import type { ArgValue } from '../../src/layers/types.js';
import type { Program } from '../../src/syntax/ast.js';
import { sizeOf } from '../../src/util/rng.js';
import { networkTensors, tensorName, writeSafetensors } from '../../src/weights/safetensors.js';
import { randomInput, requirePython, runOrt, runPython, tempDir, writeFloats } from '../onnx/helpers.js';

export const TOL = 1e-4;

/** torch and numpy under /usr/bin/python3 (Debian's python3-torch); the tests skip visibly without them. */
export const hasTorch = (): boolean => (cached ??= requirePython('torch, numpy', 'PyTorch target conformance'));
let cached: boolean | undefined;

export interface Checked {
  program: Program;
  network: Network;
}

/** Check one `.net` source; throws with the diagnostics if it does not check. */
export function checked(source: string, network?: string, set?: Record<string, string>): Checked {
  const r = compile(source, { network, set });
  if (!r.network || !r.program) throw new Error(`does not check:\n${r.diagnostics.map((d) => `${d.code} ${d.message}`).join('\n')}\n${source}`);
  return { program: r.program, network: r.network };
}

export interface CaseSpec {
  id: string;
  /** the module is generated from this */
  module: Checked;
  opts?: TorchModuleOptions;
  /** constructor arguments of the module's network class */
  kwargs?: Record<string, ArgValue>;
  /** the network onnxruntime runs (default: module.network): the `--set` network when kwargs change it */
  reference?: Network;
  weights: WeightSource;
  batch?: number;
  /** compare every stage but the last (the logits before a final softmax) */
  dropLast?: boolean;
  /** the expected output from a formula instead of onnxruntime */
  expected?: (input: Float32Array, dims: number[]) => Float32Array;
  seed?: number;
}

export interface CaseResult {
  id: string;
  rel?: number;
  scale?: number;
  shape?: number[];
  names?: string | null;
  error?: string;
  /** the exception an `expectError` case raised */
  raised?: string;
}

interface ManifestEntry {
  id: string;
  module: string;
  cls: string;
  kwargs: Record<string, ArgValue>;
  weights: string;
  input: string;
  input_shape: number[];
  expected: string;
  weights_expected: [string, number[]][];
  drop_last: boolean;
}

export class Conformance {
  readonly dir = tempDir('torch-conform');
  private readonly manifest: ManifestEntry[] = [];
  /** the generated sources, for the style checks */
  readonly modules: string[] = [];

  async add(c: CaseSpec): Promise<void> {
    const d = path.join(this.dir, `case${this.manifest.length}`);
    fs.mkdirSync(d);
    const net = c.reference ?? c.module.network;
    const modulePath = path.join(d, 'model.py');
    fs.writeFileSync(modulePath, toTorchModule(c.module.program, c.module.network, c.opts));
    this.modules.push(modulePath);
    const weights = path.join(d, 'weights.safetensors');
    await writeSafetensors(weights, networkTensors(net, c.weights));
    const dims = [c.batch ?? 2, ...net.input];
    const input = randomInput(sizeOf(dims), (c.seed ?? 7) + 11);
    let expected: Float32Array;
    if (c.expected) expected = c.expected(input, dims);
    else {
      const onnxFile = path.join(d, 'model.onnx');
      const onnxNet = c.dropLast ? withoutLast(net) : net;
      writeOnnx(onnxNet, onnxFile, { weights: c.weights });
      expected = (await runOrt(onnxFile, input, dims)).data;
      fs.rmSync(onnxFile);
    }
    writeFloats(path.join(d, 'input.f32'), input);
    writeFloats(path.join(d, 'expected.f32'), expected);
    const want: [string, number[]][] = [];
    for (const n of layers(net.body)) for (const w of n.weights) want.push([tensorName(n.path, w.name), [...w.shape]]);
    this.manifest.push({
      id: c.id,
      module: modulePath,
      cls: c.module.network.name,
      kwargs: c.kwargs ?? {},
      weights,
      input: path.join(d, 'input.f32'),
      input_shape: dims,
      expected: path.join(d, 'expected.f32'),
      weights_expected: want,
      drop_last: c.dropLast ?? false,
    });
  }

  /** A case whose constructor arguments the module must refuse (ValueError or TypeError). */
  refuse(id: string, module: Checked, kwargs: Record<string, ArgValue>): void {
    const d = path.join(this.dir, `case${this.manifest.length}`);
    fs.mkdirSync(d);
    const modulePath = path.join(d, 'model.py');
    fs.writeFileSync(modulePath, toTorchModule(module.program, module.network));
    this.manifest.push({ id, module: modulePath, cls: module.network.name, kwargs, expect_error: true } as unknown as ManifestEntry);
  }

  /** Run every case in one Python process. */
  run(timeoutMs = 600_000): Map<string, CaseResult> {
    const file = path.join(this.dir, 'manifest.json');
    fs.writeFileSync(file, JSON.stringify(this.manifest));
    const out = runPython('torch_conform.py', [file], timeoutMs);
    const results = JSON.parse(out) as CaseResult[];
    return new Map(results.map((r) => [r.id, r]));
  }

  dispose(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The network without its last stage (the logits before a final softmax). */
export function withoutLast(n: Network): Network {
  return { ...n, body: n.body.slice(0, -1), output: n.body[n.body.length - 2]?.outShape ?? n.input };
}

/** A readable failure for one case's result. */
export function describeResult(r: CaseResult | undefined): string {
  if (!r) return 'no result';
  if (r.error) return `error: ${r.error}`;
  if (r.names) return `weights differ: ${r.names}`;
  return `rel ${r.rel?.toExponential(2)} (scale ${r.scale?.toPrecision(3)}, shape [${r.shape?.join(', ')}])`;
}
