// The fuzz campaign's machinery: a watchdog around compile() (in a worker, so
// a hang is a finding with its input, not a frozen run), and the back-end
// check of an accepted network — onnxruntime runs the ONNX and gives exactly
// the shape the checker inferred, the tfjs model (pure @tensorflow/tfjs on
// its cpu backend) computes the same numbers, and the file is kept for one
// batched onnx.checker run at the end.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Network, Node } from '../../src/check/ir.js';
import { toOnnxBytes } from '../../src/emit/onnx/index.js';
import { toTfjs } from '../../src/emit/tfjs/index.js';
import { PYTHON, randomInput, runOrt } from '../onnx/helpers.js';
import { cpu, randomWeights, runTfjs, tf } from '../tfjs/helpers.js';

export interface Finding {
  kind: string;
  detail: string;
  source: string;
}

export interface WorkerResult {
  id: number;
  ms?: number;
  fmtMs?: number;
  codes?: string[];
  messages?: string[];
  networks?: string[];
  errors?: boolean;
  spansOk?: boolean;
  thrown?: string;
  /** no answer within the time limit */
  hang?: boolean;
}

/** compile() and format() in a worker thread, one input at a time, with a time limit per input */
export class Watchdog {
  private worker: Worker;
  private next = 0;
  constructor(private readonly limitMs: number) {
    this.worker = this.spawn();
  }

  private spawn(): Worker {
    return new Worker(new URL('./compile-worker.mjs', import.meta.url));
  }

  run(text: string): Promise<WorkerResult> {
    const id = this.next++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.worker.removeAllListeners('message');
        void this.worker.terminate();
        this.worker = this.spawn();
        resolve({ id, hang: true });
      }, this.limitMs);
      this.worker.once('message', (m: WorkerResult) => {
        clearTimeout(timer);
        resolve(m);
      });
      this.worker.postMessage({ id, text });
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}

/** elementwise agreement relative to the output's scale; non-finite values must match exactly */
export function disagreement(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      if (!(Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y)))) return Infinity;
      continue;
    }
    diff = Math.max(diff, Math.abs(x - y));
    scale = Math.max(scale, Math.abs(y));
  }
  return scale === 0 ? diff : diff / scale;
}

const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/**
 * Does a merge (residual, add, concat) take the same tensor twice? An empty
 * body, shortcut or branch passes its input through unchanged, so two of them
 * make the merge's operands one tensor.
 *
 * Pure @tensorflow/tfjs 4.22 cannot run such a model when that tensor also
 * feeds another layer: predict() fails with "Tensor is disposed" (its
 * executor counts the tensor's uses once per layer, not once per input).
 * Reproduced without alexnetc:
 *   r = relu(x); out = add([r, add([r, r])])  →  "Tensor is disposed."
 * The tfjs lowering passes a repeated operand through a linear Activation
 * (src/emit/tfjs/plan.ts, `distinct`); the campaign counts these networks to
 * show they are generated, and any failure of theirs is a finding.
 */
export function duplicateOperands(nodes: readonly Node[]): boolean {
  for (const n of nodes) {
    if (n.kind === 'residual') {
      if (passThrough(n.body) && passThrough(n.shortcut)) return true;
      if (duplicateOperands(n.body) || duplicateOperands(n.shortcut ?? [])) return true;
    } else if (n.kind === 'add' || n.kind === 'concat') {
      if (n.branches.filter((b) => passThrough(b)).length >= 2) return true;
      if (n.branches.some((b) => duplicateOperands(b))) return true;
    }
  }
  return false;
}

/**
 * Does a body hand its input on unchanged in the tfjs lowering (no layer in
 * between)? Empty bodies do, and so do one-branch merges of such a body and
 * `flatten` on a vector.
 */
function passThrough(body: readonly Node[] | null): boolean {
  if (body === null) return true;
  return body.every((n) =>
    n.kind === 'layer' ? n.layer.name === 'flatten' && n.inShape.length <= 1 : (n.kind === 'add' || n.kind === 'concat') && n.branches.length === 1 && passThrough(n.branches[0]!),
  );
}

/** outputs past this are compared only for being finite in both (float32 evaluation orders differ there) */
const HUGE = 1e20;

function tame(values: Float32Array): boolean {
  for (const v of values) if (!Number.isFinite(v) || Math.abs(v) > HUGE) return false;
  return true;
}

/** small enough to run in both back ends within the campaign's budget */
export function runnable(n: Network): boolean {
  return size(n.input) <= 20_000 && n.totalMacs <= 20_000_000 && n.totalParams <= 2_000_000;
}

export const TOLERANCE = 1e-3;

/**
 * Run one accepted network through onnxruntime and tfjs; keep its ONNX file in
 * `dir` as `name.onnx` for onnx.checker. Returns the findings (none: agreed),
 * and the disagreement measured.
 */
/**
 * `compare`: whether the numbers must agree too. A network with deliberately
 * ill-conditioned values (lrn bias 1e-3 with beta 2 amplifies a million-fold
 * per layer; leakyrelu slopes of 100) still has to load and run with the
 * right shape everywhere, but two float32 evaluation orders cannot agree on
 * it to a tolerance.
 */
export async function backEnds(
  n: Network,
  source: string,
  dir: string,
  name: string,
  seed: number,
  compare = true,
): Promise<{ findings: Finding[]; rel: number; compared: boolean; twice: boolean }> {
  await cpu();
  const findings: Finding[] = [];
  const weights = randomWeights(seed);
  let bytes: Uint8Array;
  try {
    bytes = toOnnxBytes(n, { weights });
  } catch (e) {
    return { findings: [{ kind: 'onnx export failed', detail: String(e), source }], rel: NaN, compared: false, twice: false };
  }
  fs.writeFileSync(path.join(dir, `${name}.onnx`), bytes);
  fs.writeFileSync(path.join(dir, `${name}.net`), source);
  const dims = [2, ...n.input];
  const input = randomInput(size(dims), seed + 3);
  let onnx: Float32Array | undefined;
  try {
    const out = await runOrt(bytes, input, dims);
    onnx = out.data;
    if (JSON.stringify([...out.dims]) !== JSON.stringify([2, ...n.output])) {
      findings.push({ kind: 'onnxruntime output shape', detail: `onnxruntime gives [${out.dims.join(', ')}], the checker said [2, ${n.output.join(', ')}]`, source });
    }
  } catch (e) {
    findings.push({ kind: 'onnxruntime refused', detail: String((e as Error).message ?? e).slice(0, 600), source });
  }
  let rel = NaN;
  let compared = false;
  try {
    const model = toTfjs(tf, n, { weights });
    try {
      const out = runTfjs(model, input, dims);
      if (out.length !== size(dims.slice(0, 1).concat(n.output))) findings.push({ kind: 'tfjs output size', detail: `tfjs gives ${out.length} values, the checker's shape ${size([2, ...n.output])}`, source });
      else if (onnx && compare && tame(onnx) && tame(out)) {
        compared = true;
        rel = disagreement(out, onnx);
        if (!(rel <= TOLERANCE)) findings.push({ kind: 'tfjs and onnxruntime disagree', detail: `max relative difference ${rel}`, source });
      }
    } finally {
      model.dispose();
    }
  } catch (e) {
    const message = String((e as Error).message ?? e);
    findings.push({ kind: 'tfjs refused', detail: message.slice(0, 600), source });
  }
  return { findings, rel, compared, twice: duplicateOperands(n.body) };
}

/** onnx.checker (full_check) over every .onnx file of `dir`, in one Python process */
export function onnxChecker(dir: string): { file: string; ok: boolean; error?: string }[] {
  const out = execFileSync(PYTHON, [path.join(import.meta.dirname, 'onnx_check_many.py'), dir], { encoding: 'utf8', maxBuffer: 256 << 20, timeout: 600_000 });
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { file: string; ok: boolean; error?: string });
}
