// The one pipeline entry the CLI, the language server and the tests call:
// text → AST → checked networks + diagnostics. It never throws: an internal
// failure becomes an E900 diagnostic.
import { hasErrors, type Diagnostic } from './diagnostics/index.js';
import { Checker, type StageInfo } from './check/checker.js';
import type { Network } from './check/ir.js';
import { suggest } from './check/suggest.js';
import { parse } from './syntax/parse.js';
import type { Program } from './syntax/ast.js';

export interface CompileOptions {
  /** which network to return (`--network`); a file with one network needs none */
  network?: string;
  /** `--set name=value` overrides for that network */
  set?: Record<string, string>;
  /** check every network and do not insist on choosing one (editors, `alexnetc check`) */
  all?: boolean;
  /**
   * the source file's name: in a file with several networks, the one named
   * like the file (`alexnet.net` → `AlexNet`, case-insensitive) is the default
   */
  file?: string;
}

export interface CompileResult {
  program?: Program;
  /** every network that checked cleanly */
  networks: Network[];
  /** the chosen network, when the whole file checked without errors (warnings are fine) */
  network?: Network;
  diagnostics: Diagnostic[];
  stageInfo: StageInfo[];
}

export function compile(text: string, opts: CompileOptions = {}): CompileResult {
  try {
    return run(text, opts);
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    return {
      networks: [],
      stageInfo: [],
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
  const parsed = parse(text);
  const program = parsed.program;
  // past a nesting limit the program is partial: the limit error is the one message
  if (parsed.limited) return { program, networks: [], diagnostics: parsed.diagnostics, stageInfo: [] };
  const names = program.decls.filter((d) => d.kind === 'network').map((d) => d.name.name);
  const diagnostics = [...parsed.diagnostics];
  let target = opts.network;
  if (target !== undefined && !names.includes(target)) {
    const s = suggest(target, names);
    diagnostics.push({
      code: 'E104',
      severity: 'error',
      message: `no network \`${target}\` in this file${s ? `; did you mean \`${s}\`?` : names.length ? ` (it has ${names.join(', ')})` : ' (it declares no network)'}`,
      span: { start: 0, end: 0 },
      notes: [],
      fixes: [],
    });
    target = undefined;
  } else if (target === undefined && names.length === 1) target = names[0];
  else if (target === undefined && namedLikeFile(names, opts.file)) target = namedLikeFile(names, opts.file);
  else if (target === undefined && (!opts.all || program.decls.length === 0) && !hasErrors(diagnostics)) {
    // One rule for every command: a file that declares nothing is an error (check, summary and
    // compile alike); a file of blocks only is a library, which checks cleanly but has nothing to
    // compile or summarise.
    diagnostics.push({
      code: 'E105',
      severity: 'error',
      message: names.length
        ? `this file declares ${names.length} networks (${names.join(', ')}); choose one with --network NAME`
        : program.decls.length
          ? 'this file declares no network, only blocks (a library for other files to `import`): there is nothing to compile'
          : 'this file declares nothing: a .net file holds networks (`network Name { input [..] … }`) and blocks',
      span: { start: 0, end: 0 },
      notes: [],
      fixes: [],
    });
  }
  const checked = new Checker().check(program, { overrides: opts.set, target });
  for (const d of checked.diagnostics) diagnostics.push(d);
  diagnostics.sort((a, b) => a.span.start - b.span.start || a.code.localeCompare(b.code));
  // a network is handed out only from a file that checked cleanly: exporting it from broken source would
  // build something other than what is written
  const network = target !== undefined && !hasErrors(diagnostics) ? checked.networks.find((n) => n.name === target) : undefined;
  return { program, networks: checked.networks, network, diagnostics, stageInfo: checked.stageInfo };
}

function namedLikeFile(names: string[], file: string | undefined): string | undefined {
  if (!file) return undefined;
  const base = file.replace(/^.*[\\/]/, '').replace(/\.net$/i, '').toLowerCase();
  return names.find((n) => n.toLowerCase() === base);
}

/** Check every network in a file (what editors and `alexnetc check` do). */
export function check(text: string, opts: Omit<CompileOptions, 'all'> = {}): CompileResult {
  return compile(text, { ...opts, all: true });
}
