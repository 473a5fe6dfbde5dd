// The generated modules keep to PEP 8: every layer case, shipped network and
// the parameters fixture, written by the PyTorch target, has lines of at most
// 79 columns, compiles, and flake8 (pycodestyle + pyflakes) finds nothing
// where it is installed (Debian: python3-flake8).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { toTorchModule } from '../../src/emit/torch/index.js';
import { CASES } from '../layers/cases.js';
import { PYTHON, tempDir } from '../onnx/helpers.js';
import { shippedNetworks, SPECS } from '../onnx/specs.js';
import { checked } from './helpers.js';

const dir = tempDir('torch-style');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function modules(): string[] {
  const files: string[] = [];
  const write = (name: string, c: ReturnType<typeof checked>, source?: string): void => {
    const f = path.join(dir, `${name}.py`);
    fs.writeFileSync(f, toTorchModule(c.program, c.network, { source }));
    files.push(f);
  };
  CASES.forEach(([, input, body], i) => write(`case${i}`, checked(`network T { input ${input}\n ${body} }`)));
  for (const [file, name] of shippedNetworks()) write(name, checked(fs.readFileSync(path.join(SPECS, file), 'utf8'), name), file);
  write('params', checked(fs.readFileSync(path.join(import.meta.dirname, 'fixtures/params.net'), 'utf8')), 'params.net');
  return files;
}

describe('generated PyTorch modules: PEP 8', () => {
  const files = modules();

  it('lines of at most 79 columns, ASCII-safe names, no trailing whitespace', () => {
    for (const f of files) {
      fs.readFileSync(f, 'utf8')
        .split('\n')
        .forEach((l, i) => {
          expect(l.length, `${path.basename(f)}:${i + 1} is longer than 79 columns`).toBeLessThanOrEqual(79);
          expect(l, `${path.basename(f)}:${i + 1} ends in whitespace`).toBe(l.trimEnd());
        });
    }
  });

  it('Python compiles them, and flake8 finds nothing', () => {
    const compiled = spawnSync(PYTHON, ['-m', 'py_compile', ...files], { encoding: 'utf8' });
    expect(compiled.stderr).toBe('');
    expect(compiled.status).toBe(0);
    const probe = spawnSync(PYTHON, ['-m', 'flake8', '--version'], { encoding: 'utf8' });
    if (probe.status !== 0) {
      console.warn(`SKIPPED flake8 on the generated modules: \`${PYTHON} -m flake8\` is missing (Debian: python3-flake8)`);
      return;
    }
    const r = spawnSync(PYTHON, ['-m', 'flake8', ...files], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
