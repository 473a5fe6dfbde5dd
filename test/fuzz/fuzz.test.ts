// A seeded, time-bounded fuzz campaign (about a minute here; FUZZ_SECONDS for
// a long one, FUZZ_SEED for another seed; each case is fixed by seed and index):
// - random valid networks from a grammar-aware generator must check, with the
//   output shape the generator's own shape model expects, and every back end
//   must accept them: onnx.checker (one batched Python process), onnxruntime
//   with exactly the checker's output shape, and a tfjs model that agrees
//   with onnxruntime numerically;
// - random mutations of the shipped specs and of generated networks must
//   never throw, give an internal error (E900), put a span outside the text,
//   or hang; a mutation the checker accepts must pass the back ends too.
// Findings are written to a folder (named in the failure) with their inputs.
// FUZZ_FAST=1 runs the tfjs side on alexnetc's fast cpu kernels instead of
// tfjs's stock ones (the generated shapes then test the kernels too).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../../src/compile.js';
import { requirePython } from '../onnx/helpers.js';
import { backEnds, onnxChecker, runnable, Watchdog, type Finding } from './campaign.js';
import { generate } from './generate.js';
import { mutate } from './mutate.js';
import { tf } from '../tfjs/helpers.js';
import { installFastKernels, uninstallFastKernels } from '../../src/kernels/index.js';

const SECONDS = Number(process.env.FUZZ_SECONDS ?? 60);
const SEED = Number(process.env.FUZZ_SEED ?? 20261123);
/** a compile that takes longer than this is a hang (generous: the machine may be shared) */
const HANG_MS = Number(process.env.FUZZ_HANG_MS ?? 20_000);
const haveOnnx = requirePython('onnx', 'onnx.checker on fuzzed networks');

const root = path.resolve(import.meta.dirname, '../..');
const specs = fs
  .readdirSync(path.join(root, 'specs'))
  .filter((f) => f.endsWith('.net'))
  .map((f) => fs.readFileSync(path.join(root, 'specs', f), 'utf8'));

const out = fs.mkdtempSync(path.join(os.tmpdir(), 'alexnetc-fuzz-'));
const stats: string[] = [];

function report(findings: Finding[], what: string): string {
  if (!findings.length) return 'no findings';
  const dir = path.join(out, 'findings');
  fs.mkdirSync(dir, { recursive: true });
  findings.forEach((f, i) => fs.writeFileSync(path.join(dir, `${what}-${i}.net`), `# ${f.kind}: ${f.detail.replace(/\n/g, '\n# ')}\n${f.source}`));
  const kinds = new Map<string, number>();
  for (const f of findings) kinds.set(f.kind, (kinds.get(f.kind) ?? 0) + 1);
  return `${findings.length} findings (${[...kinds].map(([k, n]) => `${n}× ${k}`).join(', ')}), inputs in ${dir}; first: ${findings[0]?.kind}: ${findings[0]?.detail}\n${findings[0]?.source}`;
}

const FAST = process.env.FUZZ_FAST === '1';
beforeAll(() => {
  if (FAST) expect(installFastKernels(tf).length).toBeGreaterThan(0);
});

afterAll(() => {
  if (FAST) uninstallFastKernels(tf);
  console.log(`fuzz (seed ${SEED}, ${SECONDS} s, ${FAST ? 'fast' : 'stock'} tfjs kernels): ${stats.join('; ')}`);
  if (!process.env.FUZZ_KEEP) fs.rmSync(out, { recursive: true, force: true });
});

describe('what the fuzzer found before, as fixed cases', () => {
  // ceil-mode pools whose last window would start past the input (PyTorch and onnxruntime drop it,
  // onnx's shape inference did not), alone and mixed with a dimension where ceil keeps a window
  const accepted: [string, string][] = [
    ['[1, 4, 4]', 'maxpool(1, stride 2, ceil true)'],
    ['[1, 4, 4]', 'avgpool(2, stride 3, pad 1, ceil true)'],
    ['[1, 5, 4]', 'maxpool([2, 1], stride 2, ceil true)'],
    ['[2, 5, 4]', 'avgpool([2, 1], stride 2, ceil true)'],
    ['[8, 20, 8]', 'maxpool(3, 2, pad 1, ceil true)'],
    ['[3, 9, 9]', 'avgpool(3, 2, pad 1, ceil true)'],
  ];
  it('run in onnxruntime and tfjs with the checker\'s shape, and pass onnx.checker', async () => {
    const dir = path.join(out, 'known');
    fs.mkdirSync(dir, { recursive: true });
    const findings: Finding[] = [];
    for (const [i, [input, body]] of accepted.entries()) {
      const source = `network Known {\n  input ${input}\n  ${body}\n}\n`;
      const n = compile(source).network!;
      expect(n, source).toBeDefined();
      findings.push(...(await backEnds(n, source, dir, `k${i}`, SEED)).findings);
    }
    if (haveOnnx) for (const c of onnxChecker(dir)) if (!c.ok) findings.push({ kind: 'onnx.checker refused', detail: c.error ?? '', source: c.file });
    expect(findings).toEqual([]);
  });

  // what onnxruntime refuses (or a float32 cannot hold) is refused by the checker
  for (const body of ['lrn(alpha 0)', 'lrn(beta 0)', 'lrn(size 4)', 'leakyrelu(1e39)', 'lrn(bias 1e-46)', 'batchnorm(eps 1e-40)']) {
    it(`${body} is E202`, () => {
      const r = compile(`network Known {\n  input [3, 4, 4]\n  ${body}\n}\n`);
      expect(r.diagnostics.map((d) => d.code)).toEqual(['E202']);
    });
  }
});

describe('fuzz campaign', () => {
  it(
    'generated networks check and every back end accepts them and agrees',
    async () => {
      const dir = path.join(out, 'generated');
      fs.mkdirSync(dir, { recursive: true });
      const findings: Finding[] = [];
      const deadline = Date.now() + SECONDS * 600;
      let n = 0;
      let worst = 0;
      let twice = 0;
      let compared = 0;
      for (; Date.now() < deadline; n++) {
        const g = generate(SEED, n);
        const r = compile(g.source);
        if (!r.network) {
          findings.push({ kind: 'checker refused a generated network', detail: r.diagnostics.map((d) => `${d.code} ${d.message}`).join('; '), source: g.source });
          continue;
        }
        if (r.diagnostics.some((d) => d.code === 'E900')) findings.push({ kind: 'internal error', detail: r.diagnostics.map((d) => d.message).join('; '), source: g.source });
        if (JSON.stringify(r.network.output) !== JSON.stringify(g.output)) {
          findings.push({ kind: 'output shape differs from the generator\'s model', detail: `checker [${r.network.output}] vs generator [${g.output}]`, source: g.source });
        }
        const b = await backEnds(r.network, g.source, dir, `g${n}`, SEED + n, g.tame);
        findings.push(...b.findings);
        if (b.twice) twice++;
        if (b.compared) compared++;
        if (b.rel > worst) worst = b.rel;
      }
      let checked = 0;
      if (haveOnnx) {
        for (const c of onnxChecker(dir)) {
          checked++;
          if (!c.ok) findings.push({ kind: 'onnx.checker refused', detail: c.error ?? '', source: fs.readFileSync(path.join(dir, c.file.replace(/\.onnx$/, '.net')), 'utf8') });
        }
      }
      stats.push(
        `${n} generated networks (${checked} through onnx.checker, ${compared} compared numerically: tfjs vs onnxruntime worst ${worst.toExponential(2)}; ${twice} with a merge taking one tensor twice)`,
      );
      expect(n).toBeGreaterThan(0);
      expect(findings, report(findings, 'generated')).toEqual([]);
    },
    SECONDS * 1000 + 300_000,
  );

  it(
    'mutated specs never throw, internal-error or hang, and what they leave valid runs everywhere',
    async () => {
      const dir = path.join(out, 'mutated');
      fs.mkdirSync(dir, { recursive: true });
      const findings: Finding[] = [];
      const dog = new Watchdog(HANG_MS);
      const deadline = Date.now() + SECONDS * 400;
      let n = 0;
      let slowest = 0;
      let accepted = 0;
      let ran = 0;
      let twice = 0;
      try {
        for (; Date.now() < deadline; n++) {
          const base = n % 3 === 0 ? generate(SEED + 1, n).source : specs[n % specs.length]!;
          const text = mutate(base, SEED, n);
          const res = await dog.run(text);
          if (res.hang) {
            findings.push({ kind: 'hang', detail: `no answer in ${HANG_MS} ms`, source: text });
            continue;
          }
          if (res.thrown) {
            findings.push({ kind: 'exception', detail: res.thrown, source: text });
            continue;
          }
          const ms = Math.max(res.ms ?? 0, res.fmtMs ?? 0);
          if (ms > slowest) {
            slowest = ms;
            fs.writeFileSync(path.join(out, 'slowest.net'), text);
          }
          if (res.codes!.includes('E900')) findings.push({ kind: 'internal error', detail: res.messages!.join('; '), source: text });
          if (!res.spansOk) findings.push({ kind: 'span outside the text', detail: res.codes!.join(' '), source: text });
          if (res.errors || !res.networks!.length) continue;
          accepted++;
          for (const name of res.networks!) {
            const net = compile(text, { network: name }).network;
            // a share of the budget: most valid mutations are the shipped specs again
            if (!net || !runnable(net) || ran >= SECONDS * 3) continue;
            ran++;
            const b = await backEnds(net, text, dir, `m${n}-${name}`, SEED + n);
            findings.push(...b.findings);
            if (b.twice) twice++;
          }
        }
      } finally {
        await dog.close();
      }
      if (haveOnnx) {
        for (const c of onnxChecker(dir)) {
          if (!c.ok) findings.push({ kind: 'onnx.checker refused', detail: c.error ?? '', source: fs.readFileSync(path.join(dir, c.file.replace(/\.onnx$/, '.net')), 'utf8') });
        }
      }
      stats.push(`${n} mutations (${accepted} still valid, ${ran} run in both back ends, ${twice} with a merge taking one tensor twice; slowest compile or format ${slowest.toFixed(0)} ms: ${path.join(out, 'slowest.net')})`);
      expect(n).toBeGreaterThan(0);
      expect(findings, report(findings, 'mutated')).toEqual([]);
    },
    SECONDS * 1000 + 300_000,
  );
});
