// The one pipeline entry the CLI, the language server and the tests call:
// text → AST → checked networks + diagnostics. It never throws: an internal
// failure becomes an E900 diagnostic.
import { hasErrors, type Diagnostic } from './diagnostics/index.js';
import { Checker, type CheckCache, type StageInfo } from './check/checker.js';
import type { Network } from './check/ir.js';
import { loadModules, type ParseFile, type ReadFile } from './check/modules.js';
import { suggest } from './util/suggest.js';
import { parse } from './syntax/parse.js';
import type { Parsed } from './syntax/incremental.js';
import type { Program } from './syntax/ast.js';
import type { Span } from './diagnostics/span.js';

export type { ParseFile, ReadFile } from './check/modules.js';

export interface CompileOptions {
  /** which network to return (`--network`); a file with one network needs none */
  network?: string;
  /** `--set name=value` overrides for that network */
  set?: Record<string, string>;
  /** check every network and do not insist on choosing one (editors, `alexnetc check`) */
  all?: boolean;
  /**
   * the source file's name: in a file with several networks, the one named
   * like the file (`alexnet.net` → `AlexNet`, case-insensitive) is the
   * default, and `import "x.net"` is resolved against its directory
   */
  file?: string;
  /**
   * how to read a file that is imported (its path resolved against `file`);
   * throws when it cannot. Without it an `import` is E117: the compiler
   * itself does no I/O (the CLI passes the file system, the language server
   * its open documents first).
   */
  readFile?: ReadFile;
  /**
   * how to parse an imported file (default: parse it). The language server
   * passes a memo, so an unchanged imported file is not parsed again; the
   * result must be what `parse` gives for that text.
   */
  parseFile?: ParseFile;
  /**
   * how to parse the compiled text itself (default: parse it). The language
   * server passes an IncrementalParser, which re-parses only the top-level
   * items an edit changed; the result must be what `parse` gives.
   */
  parse?: (text: string) => Parsed;
  /**
   * what the last check of the same text's earlier version left (the
   * language server keeps one per document, beside its IncrementalParser):
   * networks, or their first stages, that no edit could change keep their
   * checked result (see CheckCache); the result is what a check from scratch gives
   */
  checkCache?: CheckCache;
}

/** An imported file, as read (for rendering its diagnostics and for editors). */
export interface SourceFile {
  /** its path, resolved against the importing file */
  file: string;
  text: string;
  program: Program;
  /** the compiled file's `import` that leads to it */
  via: Span;
  /** the compiled file imports it itself (not only through another file) */
  direct: boolean;
}

export interface CompileResult {
  program?: Program;
  /** every network that checked cleanly */
  networks: Network[];
  /** the chosen network, when the whole file (and what it imports) checked without errors; warnings are fine */
  network?: Network;
  /**
   * sorted: the compiled file's own first, by position, then each imported
   * file's (those carry `file`)
   */
  diagnostics: Diagnostic[];
  stageInfo: StageInfo[];
  /** every file read for `import`, in the order first reached */
  files: SourceFile[];
  /** every path an `import` named, read or not (what a build tool or an editor watches) */
  dependencies: string[];
}

export function compile(text: string, opts: CompileOptions = {}): CompileResult {
  try {
    return run(text, opts);
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    return {
      networks: [],
      stageInfo: [],
      files: [],
      dependencies: [],
      diagnostics: [
        {
          code: 'E900',
          severity: 'error',
          message: `internal error: ${err.message} — this is a bug in alexnetc, please report it with the input file`,
          span: { start: 0, end: 0 },
          notes: [],
          fixes: [],
        },
      ],
    };
  }
}

function run(text: string, opts: CompileOptions): CompileResult {
  // the parse's tokens are not kept: alive through the check, the garbage collector would copy them
  const { program, diagnostics: syntax, limited } = opts.parse ? opts.parse(text) : parse(text);
  // past a nesting limit the program is partial: the limit error is the one message
  if (limited) return { program, networks: [], diagnostics: syntax, stageInfo: [], files: [], dependencies: [] };
  const diagnostics = [...syntax];
  const loaded = loadModules(text, opts.file, program, opts.readFile, opts.parseFile);
  for (const d of loaded.diagnostics) diagnostics.push(d);
  const root = loaded.modules[0]!;
  const files: SourceFile[] = loaded.modules.slice(1).map((m) => ({ file: m.file!, text: m.text, program: m.program, via: m.via!, direct: m.direct }));
  // the networks this file can compile: its own, and those of the files it imports
  const own = program.decls.filter((d) => d.kind === 'network' && root.own.has(d)).map((d) => d.name.name);
  const inScope = [...root.scope.values()].filter((e) => e.decl.kind === 'network').map((e) => e.decl.name.name);
  let target = opts.network;
  if (target !== undefined && !inScope.includes(target)) {
    const s = suggest(target, inScope);
    diagnostics.push({
      code: 'E104',
      severity: 'error',
      message: `no network \`${target}\` in this file${s ? `; did you mean \`${s}\`?` : inScope.length ? ` (it has ${inScope.join(', ')})` : ' (it declares no network)'}`,
      span: { start: 0, end: 0 },
      unlocated: true,
      notes: [],
      fixes: [],
    });
    target = undefined;
  } else if (target === undefined && own.length === 1) target = own[0];
  else if (target === undefined && namedLikeFile(own, opts.file)) target = namedLikeFile(own, opts.file);
  else if (target === undefined && (!opts.all || (program.decls.length === 0 && program.imports.length === 0)) && !hasErrors(diagnostics)) {
    // One rule for every command: a file that declares nothing is an error (check, summary and
    // compile alike); a file of blocks only is a library, which checks cleanly but has nothing to
    // compile or summarise.
    diagnostics.push({
      code: 'E105',
      severity: 'error',
      message: own.length
        ? `this file declares ${own.length} networks (${own.join(', ')}); choose one with --network NAME`
        : inScope.length
          ? `this file declares no network of its own; choose an imported one with --network NAME (${inScope.join(', ')})`
          : program.decls.length
            ? 'this file declares no network, only blocks (a library for other files to `import`): there is nothing to compile'
            : 'this file declares nothing: a .net file holds networks (`network Name { input [..] … }`) and blocks',
      span: { start: 0, end: 0 },
      unlocated: true,
      notes: [],
      fixes: [],
    });
  }
  const sets = Object.keys(opts.set ?? {});
  if (sets.length && target === undefined && own.length > 1) {
    // `check --set k=v` on a file of several networks: say which one it is for, never drop it silently
    diagnostics.push({
      code: 'E111',
      severity: 'error',
      message: `--set ${sets.join(', ')}: this file declares ${own.length} networks (${own.join(', ')}); choose the one to set with --network NAME`,
      span: { start: 0, end: 0 },
      notes: [],
      fixes: [],
    });
  }
  const checked = new Checker({ cache: opts.checkCache }).check(loaded.modules, { overrides: opts.set, target });
  for (const d of checked.diagnostics) diagnostics.push(d);
  sortDiagnostics(diagnostics, files);
  // a network is handed out only from a file that checked cleanly: exporting it from broken source would
  // build something other than what is written
  const network = target !== undefined && !hasErrors(diagnostics) ? checked.networks.find((n) => n.name === target) : undefined;
  const dependencies = [...new Set(loaded.modules.flatMap((m) => m.imports.map((i) => i.file)))];
  return { program, networks: checked.networks, network, diagnostics, stageInfo: checked.stageInfo, files, dependencies };
}

function namedLikeFile(names: string[], file: string | undefined): string | undefined {
  if (!file) return undefined;
  const base = file.replace(/^.*[\\/]/, '').replace(/\.net$/i, '').toLowerCase();
  return names.find((n) => n.toLowerCase() === base);
}

/**
 * Put diagnostics in the order a whole check gives them: the compiled file's
 * first, then each imported file's in `files`' order; within a file by where
 * they start, then by code. The language server orders a partial result the
 * same way.
 */
export function sortDiagnostics(diagnostics: Diagnostic[], files: readonly SourceFile[]): void {
  const order = new Map<string | undefined, number>([[undefined, 0], ...files.map((f, i) => [f.file, i + 1] as const)]);
  diagnostics.sort((a, b) => (order.get(a.file) ?? 0) - (order.get(b.file) ?? 0) || a.span.start - b.span.start || a.code.localeCompare(b.code));
}

/** Check every network in a file (what editors and `alexnetc check` do). */
export function check(text: string, opts: Omit<CompileOptions, 'all'> = {}): CompileResult {
  return compile(text, { ...opts, all: true });
}
