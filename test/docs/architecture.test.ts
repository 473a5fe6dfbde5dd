// The contributor map stays true: docs/architecture.md's folder table lists
// exactly the folders of src/ (two deep) with the levels scripts/layering.mjs
// holds, and the layering check passes on src/ — and fails on an upward
// import, a language server that imports a target, a cycle, a folder with
// no level (shown on made-up files).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LEVELS, sourceFiles, violations } from '../../scripts/layering.mjs';

const root = path.join(import.meta.dirname, '../..');
const map = readFileSync(path.join(root, 'docs/architecture.md'), 'utf8');

/** The folders of src/, two deep: src/check/, src/emit/onnx/, … */
function srcFolders(): string[] {
  const out: string[] = [];
  for (const a of readdirSync(path.join(root, 'src'), { withFileTypes: true }).filter((e) => e.isDirectory())) {
    out.push(`src/${a.name}/`);
    for (const b of readdirSync(path.join(root, 'src', a.name), { withFileTypes: true }).filter((e) => e.isDirectory())) out.push(`src/${a.name}/${b.name}/`);
  }
  return out.sort();
}

/** The map's folder table: folder → its level column. */
function table(): Map<string, string> {
  const rows = new Map<string, string>();
  for (const m of map.matchAll(/^\| `(src\/[^`]+)` \| ([^|]+) \|/gm)) rows.set(m[1]!, m[2]!.trim());
  return rows;
}

describe('docs/architecture.md', () => {
  it('its folder table lists exactly the folders of src/', () => {
    expect([...table().keys()].sort()).toEqual(srcFolders());
  });

  it('its levels are the ones the layering check holds', () => {
    const rows = table();
    for (const [unit, level] of LEVELS as [string, number, string][]) {
      if (unit.endsWith('.ts')) expect(map, unit).toContain(`\`${unit}\` (${level}`);
      else if (unit !== 'emit') expect(rows.get(`src/${unit}/`), unit).toBe(String(level));
    }
  });

  it('has the recipes', () => {
    for (const h of ['Add a layer', 'Add a command', 'Add a training engine', 'Add an importer op', 'Add a fast kernel']) expect(map).toContain(`### ${h}`);
  });
});

describe('the layering check', () => {
  const src = sourceFiles(root);

  it('src/ passes it', () => {
    expect(Object.keys(src).length).toBeGreaterThan(100);
    expect(violations(src)).toEqual([]);
  });

  it('fails on an upward import, static, type-only or lazy', () => {
    const bad = {
      'src/emit/onnx/bad.ts': "import { trainNetwork } from '../../train/loop.js';\n",
      'src/check/bad.ts': "import type { Target } from '../emit/tfjs/index.js';\n",
      'src/layers/bad.ts': "export async function f() { return import('../cli/main.js'); }\n",
    };
    const v = violations({ ...src, ...bad });
    expect(v).toHaveLength(3);
    expect(v[0]).toContain('src/emit/onnx/bad.ts → src/train/loop.js (static): emit/onnx (level 8) may not import train (level 12)');
    expect(v[1]).toContain('(type): check (level 4) may not import emit/tfjs');
    expect(v[2]).toContain('(lazy): layers (level 1) may not import cli');
  });

  it('the language server imports the language only; the drawing lazily', () => {
    expect(violations({ 'src/lsp/a.ts': "import { loadTf } from '../emit/tfjs/backend.js';\n" })[0]).toContain('the language server imports only the language');
    expect(violations({ 'src/lsp/a.ts': "const d = await import('../inspect/draw/index.js');\n" })).toEqual([]);
    expect(violations({ 'src/lsp/a.ts': "const d = await import('../train/loop.js');\n" })[0]).toContain('the language server loads nothing of train');
  });

  it('two folders of one level do not import each other (no cycles)', () => {
    expect(violations({ 'src/quantize/a.ts': "import { x } from '../tune/index.js';\n" })[0]).toContain('quantize (level 14) may not import tune (level 14)');
  });

  it('a folder with no level fails it', () => {
    expect(violations({ 'src/newthing/a.ts': "export const a = 1;\n" })[0]).toContain('no level');
  });

  it('imports in comments and strings of other kinds do not count', () => {
    expect(violations({ 'src/layers/a.ts': "// import { x } from '../cli/main.js';\n/* import('../cli/main.js') */\nexport const a = 1;\n" })).toEqual([]);
  });
});

describe('one of each', () => {
  const src = sourceFiles(root);
  /** the files of src/ whose code (comments left out) matches `re` */
  const using = (re: RegExp): string[] =>
    Object.entries(src)
      .filter(([, text]) => re.test(text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/[^\n]*/g, '$1')))
      .map(([f]) => f)
      .sort();

  it('one module loads onnxruntime-node (the session loader)', () => {
    expect(using(/['"]onnxruntime-node['"]/)).toEqual(['src/emit/onnx/session.ts']);
  });

  it('one ONNX reader (protobufjs decodes ONNX files in one place)', () => {
    expect(using(/['"]protobufjs(\/[\w.]+)?['"]/)).toEqual(['src/weights/onnx-read.ts']);
  });

  it("one reader of tfjs weight files (io.ts writes them and hands them to tfjs's own loader)", () => {
    expect(using(/weightsManifest/)).toEqual(['src/emit/tfjs/io.ts', 'src/weights/tfjs.ts']);
  });

  it('ALEXNETC_THREADS is read in one place, and no option travels through the environment', () => {
    expect(using(/env(\.|\[['"])ALEXNETC_THREADS/)).toEqual(['src/util/threads.ts']);
    expect(using(/process\.env\.\w+\s*=[^=]/)).toEqual([]);
  });

  it('the compile targets are listed beside the emitters', () => {
    expect(using(/export const TARGETS\b/)).toEqual(['src/emit/targets.ts']);
  });
});
