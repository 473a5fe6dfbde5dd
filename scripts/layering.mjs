// The house's layering, checked over the import graph of src/ (`npm run
// layering`; test/docs/architecture.test.ts runs the same check in the suite).
// docs/architecture.md explains the levels; this file is what holds them.
//
// Every folder (or top-level file) of src/ has a level. An import — static,
// type-only or lazy (`await import(…)`) — may only point to a lower level, so
// the folders cannot form a cycle; two units on the same level do not import
// each other. Two rules on top:
//  - the language server imports only the language statically; it may load
//    the drawing lazily (a diagram is asked for), nothing else of the house;
//  - a lazy import may point up only where EXCEPTIONS says why.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Units of src/, lowest first: [path under src/, level, what it is]. */
export const LEVELS = [
  ['diagnostics', 0, 'the language: diagnostic codes and rendering'],
  ['layers', 1, 'the language: the layer catalogue'],
  ['util', 2, 'small helpers (atomic writes, seeded random numbers, signals, suggestions)'],
  ['syntax', 3, 'the language: tokens, parser, CST → AST'],
  ['check', 4, 'the language: names, arguments, shapes'],
  ['compile.ts', 5, 'the language: the one pipeline entry'],
  ['summary.ts', 5, 'the language: the per-stage table'],
  ['fmt', 5, 'the formatter'],
  ['read-file.ts', 6, 'reading a .net file from disk for compile'],
  ['fonts', 6, 'the font the drawings are rendered with (no code)'],
  ['kernels', 7, 'the fast WebAssembly cpu backend for tfjs'],
  ['emit', 8, 'targets: what every target writes into its files (metadata)'],
  ['emit/onnx', 8, 'target: ONNX'],
  ['emit/torch', 8, 'target: PyTorch module'],
  ['emit/tfjs', 9, 'target: TensorFlow.js (its ONNX-style weight names from emit/onnx)'],
  ['weights', 10, 'weight formats, one reader each; name/shape matching'],
  ['emit/targets.ts', 11, "the compile targets, beside the emitters (the safetensors target writes with src/weights' writer)"],
  ['import', 11, 'ONNX → .net source + weights'],
  ['train', 12, 'the run directory, loop, data, reports, engine interface'],
  ['train/compiled', 12, 'the compiled training step (kernel calls planned once)'],
  ['train/engines', 13, 'the training engines (tfjs, torch)'],
  ['inspect', 14, 'draw, predict, explain'],
  ['quantize', 14, 'int8 quantization'],
  ['tune', 14, 'hyperparameter search'],
  ['prune', 15, 'pruning (fine-tunes through train, evaluates like quantize)'],
  ['lsp', 16, 'the language server'],
  ['cli', 17, 'the command line'],
  ['index.ts', 17, 'the package entry'],
];

/** The highest level the language server imports statically: the language. */
export const LSP_STATIC_MAX = 6;
/** What the language server may import lazily beside the language. */
export const LSP_LAZY = ['inspect'];

/** Lazy imports that point up, each with its reason: [from unit, to unit, why]. */
export const EXCEPTIONS = [['train', 'train/engines', 'the engine registry (train/engine.ts ENGINES) loads an engine by name when a run asks for it']];

const levelOf = new Map(LEVELS.map(([u, l]) => [u, l]));

/** The unit a path under src/ belongs to (the longest matching entry), or undefined. */
export function unitOf(rel) {
  const parts = rel.split('/');
  for (let n = parts.length; n > 0; n--) {
    const u = parts.slice(0, n).join('/');
    if (levelOf.has(u)) return u;
  }
  return undefined;
}

/** The imports of one file: { spec, kind: 'static' | 'type' | 'lazy' }. */
export function importsOf(text) {
  const out = [];
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/[^\n]*/g, '$1');
  for (const m of code.matchAll(/(?:^|[\n;])\s*(import|export)(\s+type)?\b([^'"`;]*?)\bfrom\s*['"]([^'"]+)['"]/g)) {
    const names = /^\s*\{([^}]*)\}\s*$/.exec(m[3]);
    const entries = names?.[1].split(',').map((x) => x.trim()).filter(Boolean);
    const typeOnly = Boolean(m[2]) || (entries !== undefined && entries.length > 0 && entries.every((x) => x.startsWith('type ')));
    out.push({ spec: m[4], kind: typeOnly ? 'type' : 'static' });
  }
  for (const m of code.matchAll(/(?:^|[\n;])\s*import\s*['"]([^'"]+)['"]/g)) out.push({ spec: m[1], kind: 'static' });
  for (const m of code.matchAll(/(typeof\s+)?\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push({ spec: m[2], kind: m[1] ? 'type' : 'lazy' });
  return out;
}

/**
 * The layering violations of a set of files ({ 'src/a/b.ts': text }), as
 * one line each; relative imports only (packages are not units).
 */
export function violations(files) {
  const out = [];
  for (const [file, text] of Object.entries(files)) {
    const rel = path.posix.relative('src', file);
    const from = unitOf(rel);
    if (from === undefined) {
      out.push(`${file}: its folder has no level in scripts/layering.mjs LEVELS (add it there and to docs/architecture.md)`);
      continue;
    }
    for (const { spec, kind } of importsOf(text)) {
      if (!spec.startsWith('.')) continue;
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec));
      const to = unitOf(path.posix.relative('src', target));
      if (to === undefined || to === from) continue;
      const [lf, lt] = [levelOf.get(from), levelOf.get(to)];
      const what = `${file} → ${target} (${kind})`;
      if (from === 'lsp' && kind !== 'lazy' && lt > LSP_STATIC_MAX) out.push(`${what}: the language server imports only the language (${to} only lazily, if at all)`);
      else if (from === 'lsp' && kind === 'lazy' && lt > LSP_STATIC_MAX && !LSP_LAZY.includes(to)) out.push(`${what}: the language server loads nothing of ${to}`);
      else if (lt < lf) continue;
      else if (kind === 'lazy' && EXCEPTIONS.some(([a, b]) => a === from && b === to)) continue;
      else out.push(`${what}: ${from} (level ${lf}) may not import ${to} (level ${lt}): imports point down`);
    }
  }
  return out;
}

/** Every .ts file under root/src, as violations() takes them. */
export function sourceFiles(root) {
  const files = {};
  const walk = (dir) => {
    for (const e of readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const p = `${dir}/${e.name}`;
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) files[p] = readFileSync(path.join(root, p), 'utf8');
    }
  };
  walk('src');
  return files;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
  const files = sourceFiles(root);
  const v = violations(files);
  for (const line of v) console.error(line);
  console.log(v.length ? `layering: ${v.length} violation(s)` : `layering: ok (${Object.keys(files).length} files)`);
  process.exit(v.length ? 1 : 0);
}
