// Multi-file specs: `import "x.net"` brings another file's own blocks and
// networks into scope. Tested on an in-memory file system, plus the shipped
// ResNet split into a library and a network.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile, type CompileOptions } from '../../src/compile.js';
import { resolveImport } from '../../src/check/modules.js';
import { renderDiagnostic } from '../../src/diagnostics/render.js';

/** a file system of strings; reading a missing file throws like fs does */
function fsOf(files: Record<string, string>) {
  const reads: string[] = [];
  const readFile = (p: string): string => {
    reads.push(p);
    const t = files[p];
    if (t === undefined) throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
    return t;
  };
  return { readFile, reads };
}

const lib = 'block unit(c) {\n  conv(c, 3, pad 1) | relu\n}\n\nblock head(classes) {\n  flatten | dense(classes)\n}\n';
const main = 'import "lib/units.net"\n\nnetwork N {\n  input [3, 8, 8]\n  unit(4)\n  head(10)\n}\n';

function build(files: Record<string, string>, root: string, opts: CompileOptions = {}) {
  const fs = fsOf(files);
  return { ...compile(files[root]!, { file: root, readFile: fs.readFile, ...opts }), reads: fs.reads };
}

describe('resolving import paths', () => {
  it('is relative to the importing file, normalised, with absolute paths kept', () => {
    expect(resolveImport('specs/main.net', 'lib/units.net')).toBe('specs/lib/units.net');
    expect(resolveImport('specs/a/main.net', '../common.net')).toBe('specs/common.net');
    expect(resolveImport('specs/main.net', './x.net')).toBe('specs/x.net');
    expect(resolveImport('/home/u/m.net', '/etc/x.net')).toBe('/etc/x.net');
    expect(resolveImport('/home/u/m.net', '../../../x.net')).toBe('/x.net');
    expect(resolveImport('main.net', '../x.net')).toBe('../x.net');
    expect(resolveImport(undefined, 'x.net')).toBe('x.net');
    expect(resolveImport('C:\\work\\m.net', 'lib\\x.net')).toBe('C:/work/lib/x.net');
  });
});

describe('import', () => {
  it('brings the imported blocks into scope', () => {
    const r = build({ 'm/main.net': main, 'm/lib/units.net': lib }, 'm/main.net');
    expect(r.diagnostics).toEqual([]);
    expect(r.network!.output).toEqual([10]);
    // stage paths do not depend on where a block is written
    expect(r.network!.body.map((n) => n.path)).toEqual(['unit1/conv1', 'unit1/relu1', 'head1/flatten1', 'head1/dense1']);
    expect(r.files.map((f) => [f.file, f.direct])).toEqual([['m/lib/units.net', true]]);
  });

  it('builds the same network as the single file (ResNet split into a library)', () => {
    const single = readFileSync(path.join(import.meta.dirname, '../../specs/resnet.net'), 'utf8');
    const blocks = single.slice(0, single.indexOf('network '));
    const nets = single.slice(single.indexOf('network '));
    const r = build({ 'resnet-lib.net': blocks, 'resnet.net': `import "resnet-lib.net"\n\n${nets}` }, 'resnet.net', { network: 'ResNet18' });
    const s = compile(single, { network: 'ResNet18' });
    expect(r.diagnostics).toEqual([]);
    expect(r.network!.totalParams).toBe(11_689_512);
    expect(JSON.stringify(r.network!.body.map((n) => [n.path, n.outShape]))).toBe(JSON.stringify(s.network!.body.map((n) => [n.path, n.outShape])));
  });

  it('is not transitive: a file sees what it imports, not what those import', () => {
    const files = {
      'main.net': 'import "mid.net"\n\nnetwork N {\n  input [3, 8, 8]\n  wrap(4)\n  unit(4)\n}\n',
      'mid.net': 'import "units.net"\n\nblock wrap(c) {\n  unit(c)\n}\n',
      'units.net': lib,
    };
    const r = build(files, 'main.net');
    expect(r.diagnostics.map((d) => [d.code, d.file])).toEqual([['E101', undefined]]);
    expect(r.diagnostics[0]!.message).toMatch(/unknown layer or block `unit`/);
  });

  it('reads a file imported twice over (a diamond) once, and it clashes with nothing', () => {
    const files = {
      'main.net': 'import "a.net"\nimport "b.net"\n\nnetwork N {\n  input [3, 8, 8]\n  ua(4)\n  ub(4)\n}\n',
      'a.net': 'import "units.net"\n\nblock ua(c) {\n  unit(c)\n}\n',
      'b.net': 'import "units.net"\n\nblock ub(c) {\n  unit(c)\n}\n',
      'units.net': lib,
    };
    const r = build(files, 'main.net');
    expect(r.diagnostics).toEqual([]);
    expect(r.reads.filter((p) => p === 'units.net')).toHaveLength(1);
    expect(r.files.map((f) => [f.file, f.direct])).toEqual([['a.net', true], ['units.net', false], ['b.net', true]]);
  });

  it('imported networks can be chosen with --network, own ones are the default', () => {
    const files = {
      'main.net': 'import "zoo.net"\n\nnetwork Mine {\n  input [4]\n  dense(2)\n}\n',
      'zoo.net': 'network Small {\n  input [4]\n  dense(3)\n}\n',
    };
    expect(build(files, 'main.net').network!.name).toBe('Mine');
    expect(build(files, 'main.net', { network: 'Small' }).network!.output).toEqual([3]);
    const e = build(files, 'main.net', { network: 'Smal' }).diagnostics[0]!;
    expect(e.code).toBe('E104');
    expect(e.message).toContain('did you mean `Small`');
    // a network is not a stage
    const call = build({ ...files, 'main.net': 'import "zoo.net"\n\nnetwork Mine {\n  input [4]\n  Small\n}\n' }, 'main.net');
    expect(call.diagnostics[0]!.message).toMatch(/`Small` is a network/);
  });

  it('reports a problem inside an imported block in that file, with the call that reached it', () => {
    const files = {
      'main.net': 'import "lib.net"\n\nnetwork N {\n  input [3, 8, 8]\n  outer(4)\n}\n',
      'lib.net': 'block inner(c) {\n  conv(c, 99)\n}\n\nblock outer(c) {\n  inner(c)\n}\n',
    };
    const r = build(files, 'main.net');
    expect(r.diagnostics.map((d) => [d.code, d.file])).toEqual([['E301', 'lib.net']]);
    const d = r.diagnostics[0]!;
    expect(d.notes.map((n) => [n.message, n.file])).toEqual([
      ['in block `inner`, called here', 'lib.net'],
      ['reached from `outer`, called here', undefined],
    ]);
    const text = renderDiagnostic(d, 'main.net', files['main.net'], { sources: r.files });
    expect(text).toMatch(/^lib\.net:2:11: error\[E301\]/);
    expect(text).toContain('(main.net:5:3)');
    expect(text).toContain('  2 |   conv(c, 99)');
  });

  it('does not report unknown names again when an import failed', () => {
    const r = build({ 'main.net': main }, 'main.net');
    expect(r.diagnostics.map((d) => d.code)).toEqual(['E117']);
    expect(r.network).toBeUndefined();
  });

  it('without a file reader an import is one E117 saying so', () => {
    const r = compile(main, { file: 'main.net' });
    expect(r.diagnostics.map((d) => d.code)).toEqual(['E117']);
    expect(r.diagnostics[0]!.message).toMatch(/no way to read files/);
  });

  it('syntax errors in an imported file are reported there, with the import as a note', () => {
    const r = build({ 'main.net': main, 'lib/units.net': 'block unit(c) {\n  conv(c, 3\n}\n' }, 'main.net');
    const d = r.diagnostics.find((x) => x.code === 'E002')!;
    expect(d.file).toBe('lib/units.net');
    expect(d.notes.at(-1)).toMatchObject({ message: 'imported here', span: { start: 0 } });
  });

  it('two imports declaring the same name clash at the second import', () => {
    const files = { 'main.net': 'import "a.net"\nimport "b.net"\n\nnetwork N {\n  input [4]\n  x\n}\n', 'a.net': 'block x {\n  relu\n}\n', 'b.net': 'block x {\n  tanh\n}\n' };
    const r = build(files, 'main.net');
    expect(r.diagnostics.map((d) => d.code)).toEqual(['E106']);
    const d = r.diagnostics[0]!;
    expect(files['main.net'].slice(d.span.start, d.span.end)).toBe('"b.net"');
    expect(d.notes.map((n) => n.file)).toEqual(['a.net', 'b.net']);
  });

  it('imports after a declaration are E114 but still count', () => {
    const r = build({ 'main.net': 'network N {\n  input [3, 8, 8]\n  unit(4)\n}\n\nimport "lib.net"\n', 'lib.net': lib }, 'main.net');
    expect(r.diagnostics.map((d) => d.code)).toEqual(['E114']);
  });

  it('cycles through several files are one E118 in the file that closes them', () => {
    const files = { 'a.net': 'import "b.net"\n\nnetwork A {\n  input [4]\n  relu\n}\n', 'b.net': 'import "c.net"\n', 'c.net': 'import "a.net"\n' };
    const r = build(files, 'a.net');
    expect(r.diagnostics.map((d) => [d.code, d.file])).toEqual([['E118', 'c.net']]);
    expect(r.diagnostics[0]!.message).toBe('import cycle: a.net → b.net → c.net → a.net');
  });
});
