// The `alexnetc` command line. Every expected failure is a message and an
// exit code, never a stack trace: 0 ok, 1 the input has errors, 2 usage.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compileAndReport, parseSets, UsageError } from './io.js';
import { renderSummary, summarize } from '../summary.js';
import { writeOnnx } from '../emit/onnx/index.js';

const HELP = `alexnetc — compile .net network descriptions

Usage:
  alexnetc compile FILE [-o OUT] [--network N] [--set k=v]... [--target onnx|tfjs]
                        [--seed S] [--weights DIR] [--backend auto|gpu|node|cpu] [--json]
  alexnetc check FILE [--json]                      check every network in FILE
  alexnetc summary FILE [--network N] [--set k=v]... [--json]
  alexnetc train FILE --data DIR [--network N] [--set k=v]... [--epochs E] [--batch B]
                 [--lr LR] [--optimizer sgd|momentum|adam] [--out RUN_DIR] [...]
  alexnetc train --resume RUN_DIR                  (alexnetc train --help for all options)
  alexnetc fmt FILE [--write | --check]
  alexnetc lsp                                      language server on stdio
  alexnetc --version | --help

compile writes ONNX (opset 17, IR 8, batch dimension N) by default; OUT defaults
to NETWORK.onnx (or NETWORK/ for --target tfjs). Exit codes: 0 ok, 1 errors in
the input, 2 bad usage.`;

type Handler = (args: string[]) => Promise<number>;

const common = {
  network: { type: 'string' },
  set: { type: 'string', multiple: true },
  json: { type: 'boolean', default: false },
} as const satisfies ParseArgsConfig['options'];

function parse<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`${(e as Error).message.split('\n')[0]}\n\n${HELP}`);
  }
}

function oneFile(positionals: string[], cmd: string): string {
  if (positionals.length !== 1) throw new UsageError(`alexnetc ${cmd} expects one FILE, got ${positionals.length}\n\n${HELP}`);
  return positionals[0]!;
}

const commands: Record<string, Handler> = {
  async compile(args) {
    const { values, positionals } = parse(args, {
      ...common,
      output: { type: 'string', short: 'o' },
      target: { type: 'string', default: 'onnx' },
      seed: { type: 'string', default: '0' },
      weights: { type: 'string' },
      backend: { type: 'string', default: 'auto' },
    });
    const file = oneFile(positionals, 'compile');
    const target = values.target;
    if (target !== 'onnx' && target !== 'tfjs') throw new UsageError(`--target must be onnx or tfjs, got '${target}'`);
    const seed = Number(values.seed);
    if (!Number.isSafeInteger(seed) || seed < 0) throw new UsageError(`--seed must be a non-negative whole number, got '${values.seed}'`);
    const { result, ok } = compileAndReport(file, { network: values.network, set: parseSets(values.set) }, values.json);
    if (!ok || !result.network) return 1;
    const net = result.network;
    const out = values.output ?? (target === 'onnx' ? `${net.name}.onnx` : net.name);
    if (target === 'tfjs') {
      const { compileToTfjsDir } = await import('./tfjs.js');
      return compileToTfjsDir(net, out, { seed, weights: values.weights, backend: values.backend });
    }
    let weights;
    if (values.weights) {
      const { tfjsWeightSource } = await import('./tfjs.js');
      weights = await tfjsWeightSource(values.weights, net);
    }
    try {
      const bytes = writeOnnx(net, out, { seed, weights, docString: `${net.name} from ${path.basename(file)}` });
      if (!values.json) process.stderr.write(`wrote ${out} (${net.name}, ${(bytes / 2 ** 20).toFixed(1)} MiB, ${net.totalParams.toLocaleString('en-US')} parameters)\n`);
    } catch (e) {
      throw new UsageError(`cannot write ${out}: ${(e as Error).message}`, 1);
    }
    return 0;
  },

  async check(args) {
    const { values, positionals } = parse(args, { json: common.json });
    const file = oneFile(positionals, 'check');
    const { result, ok } = compileAndReport(file, { all: true }, values.json);
    if (ok && !values.json) {
      for (const n of result.networks) process.stderr.write(`${n.name}: ok, output [${n.output.join(', ')}], ${n.totalParams.toLocaleString('en-US')} parameters\n`);
    }
    return ok ? 0 : 1;
  },

  async summary(args) {
    const { values, positionals } = parse(args, common);
    const file = oneFile(positionals, 'summary');
    const sets = parseSets(values.set);
    const { result, ok } = compileAndReport(file, { network: values.network, set: sets, all: values.network === undefined }, false);
    if (!ok) return 1;
    const nets = result.network ? [result.network] : result.networks;
    const summaries = nets.map(summarize);
    if (values.json) process.stdout.write(JSON.stringify(summaries.length === 1 ? summaries[0] : summaries, null, 2) + '\n');
    else process.stdout.write(summaries.map(renderSummary).join('\n\n') + '\n');
    return 0;
  },

  async train(args) {
    const { trainCommand } = await import('../train/cli.js');
    return trainCommand(args);
  },

  async fmt(args) {
    const { fmtCommand } = await import('../fmt/cli.js');
    return fmtCommand(args);
  },

  async lsp() {
    const { startServer } = await import('../lsp/server.js');
    startServer();
    return new Promise<number>(() => {
      // the server runs until the client disconnects; the connection ends the process
    });
  },
};

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
      process.stdout.write(HELP + '\n');
      return cmd ? 0 : 2;
    }
    if (cmd === '--version' || cmd === '-v') {
      const pkg = JSON.parse(readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), '../../package.json'), 'utf8'));
      process.stdout.write(`alexnetc ${pkg.version}\n`);
      return 0;
    }
    const handler = commands[cmd];
    if (!handler) throw new UsageError(`unknown command '${cmd}'\n\n${HELP}`);
    return await handler(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`alexnetc: ${e.message}\n`);
      return e.exitCode;
    }
    process.stderr.write(`alexnetc: internal error: ${e instanceof Error ? e.message : String(e)} — please report this bug\n`);
    return 70;
  }
}
