// The `alexnetc` command line on commander: per-command --help with examples,
// --version, "did you mean" for unknown commands and options, and one ladder
// from every failure to an exit code (see frame.ts). Command files are light:
// each imports its machinery (tfjs, the trainer, the language server) only
// when it runs, so `alexnetc check` and `alexnetc lsp` start fast.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { isUserError } from '../util/errors.js';
import { StdoutClosedError } from '../util/atomic.js';
import { installSignalHandlers } from '../util/signals.js';
import { COMMANDS } from './commands/index.js';
import { EXIT, setColor, UsageError, type CommandSpec } from './frame.js';
import { whenMade } from './stdio.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), '../../package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

const EXIT_CODES = `Exit codes:
  0    success
  1    the input has errors (nothing is written), or training diverged
  2    bad usage (an unknown command or option, a bad value)
  70   internal error (a bug: please report it with the input)
  130  interrupted (Ctrl-C); 143 terminated (SIGTERM)`;

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function addCommand(program: Command, spec: CommandSpec, done: (code: number) => void): void {
  const cmd = program.command(spec.name).summary(spec.summary).description(spec.description ?? spec.summary);
  if (spec.args) cmd.arguments(spec.args);
  const aliases: Array<[string, string, string]> = [];
  for (const o of spec.options) {
    const opt = new Option(o.flags, o.alias ? `${o.help} (also ${o.alias})` : o.help);
    if (o.choices) opt.choices(o.choices);
    if (o.repeatable) opt.argParser(collect);
    if (o.default !== undefined) opt.default(o.default);
    cmd.addOption(opt);
    if (o.alias) {
      const alias = new Option(`${o.alias}${opt.required ? ' <value>' : opt.optional ? ' [value]' : ''}`, `the same as ${opt.long}`).hideHelp();
      if (o.choices) alias.choices(o.choices);
      cmd.addOption(alias);
      aliases.push([opt.attributeName(), alias.attributeName(), `${o.alias} and ${opt.long}`]);
    }
  }
  cmd.addOption(new Option('--color', 'colour the diagnostics (default: when stderr is a terminal and NO_COLOR is unset)'));
  cmd.addOption(new Option('--no-color', 'never colour'));
  if (spec.allowUnknownOptions) cmd.allowUnknownOption();
  const width = Math.max(...spec.examples.map(([c]) => c.length));
  cmd.addHelpText('after', `\nExamples:\n${spec.examples.map(([c, what]) => `  ${c.padEnd(width)}   ${what}`).join('\n')}\n\n${EXIT_CODES}`);
  cmd.action(async (...args: unknown[]) => {
    // commander passes the declared arguments, then the options, then the command
    const opts = args[args.length - 2] as Record<string, unknown>;
    for (const [key, alias, both] of aliases) {
      if (opts[alias] === undefined) continue;
      if (opts[key] !== undefined) throw new UsageError(`${both} are the same option: give it once`);
      opts[key] = opts[alias];
      delete opts[alias];
    }
    const positional = args.slice(0, -2).flatMap((a) => (a === undefined ? [] : Array.isArray(a) ? (a as string[]) : [a as string]));
    setColor(opts.color as boolean | undefined);
    done(await spec.run(positional, opts));
  });
}

function program(done: (code: number) => void): Command {
  const p = new Command('alexnetc')
    .description('A compiler for .net network descriptions: shape checking, ONNX and TensorFlow.js, training, a language server.')
    .version(`alexnetc ${version()}`, '-v, --version', 'print the version')
    .helpOption('-h, --help', 'show help (also: alexnetc COMMAND --help)')
    .addHelpText('after', `\nRun \`alexnetc COMMAND --help\` for a command's options and examples.\n\n${EXIT_CODES}`)
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeErr: (s) => void process.stderr.write(s),
      outputError: (s, write) => write(`alexnetc: ${s.replace(/^error: /, '')}`),
    });
  for (const spec of COMMANDS) addCommand(p, spec, done);
  return p;
}

/** Run the command line; returns the exit code (never throws, never prints a stack). */
export async function main(argv: string[]): Promise<number> {
  installSignalHandlers();
  // `alexnetc … | head`: a reader that goes away ends the output, not with a stack trace (on each
  // stream when it is made: making them costs a start that writes with writeErr alone)
  whenMade((s) => s.on('error', (e: NodeJS.ErrnoException) => e.code === 'EPIPE' && process.exit(EXIT.ok)));
  let code: number = EXIT.ok;
  const p = program((c) => (code = c));
  if (argv.length === 0) {
    process.stderr.write(p.helpInformation());
    return EXIT.usage;
  }
  try {
    await p.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end here too, with exit code 0
      return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    // `-o - | head`: the reader has what it wanted; nothing was left half-written on disk
    if (e instanceof StdoutClosedError) return EXIT.ok;
    if (isUserError(e)) {
      process.stderr.write(`alexnetc: ${e.message}\n`);
      return e.exitCode;
    }
    process.stderr.write(`alexnetc: internal error: ${e instanceof Error ? e.message : String(e)} — please report this bug with the command and its input\n`);
    return EXIT.internal;
  }
}
