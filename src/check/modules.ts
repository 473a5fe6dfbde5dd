// `import "common.net"`: loading the files a file imports and giving every
// file its scope. No I/O here: the caller passes `readFile` (the CLI reads
// the file system, the language server prefers its open documents).
//
// The rules:
// - a path is relative to the importing file (absolute paths are taken as they are);
// - an import brings the imported file's own blocks and networks into scope,
//   not the files *it* imports (imports are not transitive);
// - a name may be declared once per scope: a local declaration and an
//   imported one, or two imported ones, with the same name are E106;
// - a missing or unreadable file is E117, an import cycle E118;
// - an imported file's syntax errors are reported in that file, with a note
//   at the import that leads to it.
import { CODES, type Code, type Diagnostic, type Fix, type Note } from '../diagnostics/index.js';
import type { Span } from '../diagnostics/span.js';
import { findLayer } from '../layers/registry.js';
import type { Decl, ImportDecl, Program } from '../syntax/ast.js';
import { parse, type ParseResult } from '../syntax/parse.js';

/** Reads an imported file; throws (an Error, perhaps with a Node `code`) when it cannot. */
export type ReadFile = (path: string) => string;
/** how an imported file's text is parsed: `parse`, or an editor's memo of it (same text, same result) */
export type ParseFile = (path: string, text: string) => ParseResult;

/** how many files one compilation may read (a generated import graph must not run away) */
export const MAX_FILES = 256;

export interface ScopeEntry {
  decl: Decl;
  module: Module;
}

export interface Module {
  /** the path, resolved against the importing file; undefined for a compiled text that has no file name */
  file: string | undefined;
  text: string;
  program: Program;
  /** the compiled file's `import` through which this file is first reached (undefined for that file itself) */
  via?: Span;
  /** the compiled file imports this one itself */
  direct: boolean;
  /** this file's imports, resolved: the module, or undefined when it could not be loaded */
  imports: { decl: ImportDecl; file: string; module?: Module }[];
  /** every name this file can use: its own declarations, then those of the files it imports */
  scope: Map<string, ScopeEntry>;
  /** the file's own declarations that are usable (not duplicates, not named like a layer) */
  own: Set<Decl>;
  /**
   * an import of this file failed, or an imported file has syntax errors: a
   * name it cannot find may well be in what is missing, so an unknown name is
   * not reported again (the import's error is the root cause)
   */
  incomplete: boolean;
}

/** The path of `spec` imported from `from`: plain string work, so it runs anywhere (no `node:path`). */
export function resolveImport(from: string | undefined, spec: string): string {
  const absolute = spec.startsWith('/') || /^[A-Za-z]:[\\/]/.test(spec) || spec.startsWith('\\\\');
  const dir = from === undefined ? '' : from.replace(/[^\\/]*$/, '');
  return normalizePath(absolute ? spec : dir + spec);
}

/** a path with `.`/`..` resolved and forward slashes (how modules are told apart) */
export function normalizePath(p: string): string {
  const lead = /^([A-Za-z]:)?[\\/]/.exec(p)?.[0] ?? '';
  const out: string[] = [];
  for (const part of p.slice(lead.length).split(/[\\/]+/)) {
    if (part === '' || part === '.') continue;
    if (part === '..' && out.length && out[out.length - 1] !== '..') out.pop();
    else if (part === '..' && lead) continue;
    else out.push(part);
  }
  return lead.replace(/\\/g, '/') + out.join('/');
}

export interface Loaded {
  /** the compiled file first, then every imported file in the order first reached */
  modules: Module[];
  diagnostics: Diagnostic[];
}

function diag(code: Code, span: Span, message: string, file: string | undefined, notes: Note[] = [], fixes: Fix[] = []): Diagnostic {
  const d: Diagnostic = { code, severity: CODES[code].severity, message, span, notes, fixes };
  if (file !== undefined) d.file = file;
  return d;
}

function display(m: Module | undefined, path: string): string {
  return m?.file ?? path;
}

function why(e: unknown): string {
  const code = (e as { code?: string })?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'it is a directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return e instanceof Error ? e.message : String(e);
}

/**
 * Load the files `root` imports, transitively, and build every file's scope.
 * `rootProgram` is the compiled file, already parsed.
 */
export function loadModules(rootText: string, rootFile: string | undefined, rootProgram: Program, readFile: ReadFile | undefined, parseFile: ParseFile = (_, text) => parse(text)): Loaded {
  const diagnostics: Diagnostic[] = [];
  const root: Module = { file: rootFile === undefined ? undefined : normalizePath(rootFile), text: rootText, program: rootProgram, direct: false, imports: [], scope: new Map(), own: new Set(), incomplete: false };
  const byPath = new Map<string, Module>();
  if (root.file !== undefined) byPath.set(root.file, root);
  const modules = [root];
  /** diagnostics in the compiled file carry no file name; those in imported files do */
  const fileOf = (m: Module): string | undefined => (m === root ? undefined : m.file);
  /** the note that ties a problem in an imported file to the compiled file */
  const importedHere = (m: Module): Note[] => (m.via ? [{ message: 'imported here', span: m.via }] : []);

  const parsedWithErrors = new Set<Module>();
  const visit = (m: Module, stack: Module[]): void => {
    const seen = new Map<string, ImportDecl>();
    for (const decl of m.program.imports) {
      const path = resolveImport(m.file, decl.path);
      const at = decl.pathSpan;
      const fail = (code: Code, message: string, notes: Note[] = []): void => {
        diagnostics.push(diag(code, at, message, fileOf(m), [...notes, ...importedHere(m)]));
        m.imports.push({ decl, file: path });
        m.incomplete = true;
      };
      const twice = seen.get(path);
      if (twice) {
        const first: Note = { message: 'first imported here', span: twice.pathSpan };
        if (fileOf(m) !== undefined) first.file = fileOf(m);
        fail('E106', `\`${decl.path}\` is imported twice`, [first]);
        continue;
      }
      seen.set(path, decl);
      if (!readFile) {
        fail('E117', `cannot import \`${decl.path}\`: this compilation was given no way to read files (compile(text, { file, readFile }))`);
        continue;
      }
      const open = stack.findIndex((s) => s.file === path);
      if (open >= 0) {
        const cycle = [...stack.slice(open).map((s) => display(s, path)), path];
        fail('E118', open === stack.length - 1 ? `\`${decl.path}\` is this file: a file cannot import itself` : `import cycle: ${cycle.join(' → ')}`);
        continue;
      }
      let target = byPath.get(path);
      if (!target) {
        if (modules.length >= MAX_FILES) {
          fail('E404', `too many files: an import graph may hold at most ${MAX_FILES} files`);
          continue;
        }
        let text: string;
        try {
          text = readFile(path);
        } catch (e) {
          fail('E117', `cannot import \`${decl.path}\` (${path}): ${why(e)}`);
          continue;
        }
        const parsed = parseFile(path, text);
        target = { file: path, text, program: parsed.program, via: m === root ? decl.span : m.via, direct: m === root, imports: [], scope: new Map(), own: new Set(), incomplete: false };
        byPath.set(path, target);
        modules.push(target);
        if (parsed.diagnostics.length) {
          m.incomplete = true;
          parsedWithErrors.add(target);
        }
        for (const d of parsed.diagnostics) {
          diagnostics.push({ ...d, file: path, notes: [...d.notes.map((n) => (n.span ? { ...n, file: path } : n)), ...importedHere(target)] });
        }
        visit(target, [...stack, target]);
      } else {
        if (m === root) target.direct = true;
        if (parsedWithErrors.has(target)) m.incomplete = true;
      }
      m.imports.push({ decl, file: path, module: target });
    }
  };
  visit(root, [root]);
  // every file's own names first: a file's scope takes the own names of the files it imports
  for (const m of modules) ownScope(m, diagnostics, importedHere(m));
  for (const m of modules) importedScope(m, diagnostics, importedHere(m));
  return { modules, diagnostics };
}

/** a note at a declaration, in whichever file it is */
function declared(message: string, e: ScopeEntry): Note {
  const n: Note = { message, span: e.decl.name.span };
  if (e.module.file !== undefined && e.module.via !== undefined) n.file = e.module.file;
  return n;
}

/** report in `m`'s file, and a note in that same file (files are named only for imported files) */
function reporter(m: Module, diagnostics: Diagnostic[], importedHere: Note[]) {
  return {
    report: (code: Code, span: Span, message: string, notes: Note[] = []): void => {
      diagnostics.push(diag(code, span, message, m.via === undefined ? undefined : m.file, [...notes, ...importedHere]));
    },
    here: (message: string, span: Span): Note => (m.via === undefined || m.file === undefined ? { message, span } : { message, span, file: m.file }),
  };
}

function ownScope(m: Module, diagnostics: Diagnostic[], importedHere: Note[]): void {
  const { report, here } = reporter(m, diagnostics, importedHere);
  for (const d of m.program.decls) {
    const prev = m.scope.get(d.name.name);
    if (prev) {
      report('E106', d.name.span, `\`${d.name.name}\` is already declared`, [here('first declared here', prev.decl.name.span)]);
      continue;
    }
    if (d.kind === 'block' && findLayer(d.name.name)) {
      report('E106', d.name.span, `block \`${d.name.name}\` has the name of a built-in layer; choose another name`);
      continue;
    }
    m.scope.set(d.name.name, { decl: d, module: m });
    m.own.add(d);
  }
}

function importedScope(m: Module, diagnostics: Diagnostic[], importedHere: Note[]): void {
  const { report, here } = reporter(m, diagnostics, importedHere);
  for (const imp of m.imports) {
    const t = imp.module;
    if (!t) continue;
    for (const d of t.own) {
      const prev = m.scope.get(d.name.name);
      const entry = { decl: d, module: t };
      if (!prev) {
        m.scope.set(d.name.name, entry);
        continue;
      }
      if (prev.module === t) continue;
      if (prev.module === m) {
        report('E106', prev.decl.name.span, `\`${d.name.name}\` is declared here and also imported from \`${imp.decl.path}\``, [
          declared('the imported declaration', entry),
          here('imported here', imp.decl.pathSpan),
        ]);
      } else {
        report('E106', imp.decl.pathSpan, `\`${d.name.name}\` is declared both in \`${display(prev.module, '')}\` and in \`${imp.decl.path}\``, [
          declared(`declared in ${display(prev.module, '')}`, prev),
          declared(`declared in ${imp.decl.path}`, entry),
        ]);
      }
    }
  }
}
