// `npm run bench`: every benchmark of the project, each printing ratios
// against a baseline measured in the same run. Sub-benchmarks that need a
// part of the project that is missing say so and are skipped. Names pick
// benchmarks; options (`--quick`, …) go to each one that runs:
// `npm run bench -- training --quick`.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const benches = [
  ['compiler', 'compiler.mjs'],
  ['tfjs', 'tfjs.mjs'],
  ['training', 'train-kernels.mjs'],
  // the torch engine beside the tfjs engine (`npm run bench -- training` runs both parts)
  ['training-torch', 'train-torch.mjs'],
  ['lsp', 'lsp.mjs'],
  ['draw', 'draw.mjs'],
  ['quantize', 'quantize.mjs'],
  ['web', 'web.mjs'],
];
const names = new Set(benches.map(([name]) => name));
const only = process.argv.slice(2).filter((a) => names.has(a));
const options = process.argv.slice(2).filter((a) => !names.has(a));
let failed = 0;
for (const [name, file] of benches) {
  // a part's name selects its sub-parts too: `training` runs training and training-torch
  if (only.length && !only.some((o) => name === o || name.startsWith(`${o}-`))) continue;
  const p = path.join(here, file);
  console.log(`\n=== ${name} (${file}) ===`);
  if (!existsSync(p)) {
    console.log(`skipped: ${file} is not there`);
    continue;
  }
  const r = spawnSync(process.execPath, ['--expose-gc', p, ...options], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.log(`${name}: exited with ${r.status}`);
  }
}
process.exitCode = failed ? 1 : 0;
