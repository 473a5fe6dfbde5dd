// `alexnetc compile FILE -o OUT`: a checked network → ONNX (default), a tfjs
// model directory, or another target. With --weights the exported model
// carries trained weights (a run directory's settings are used by default).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ModelInfo } from '../../emit/metadata.js';
import { TARGETS, type Target, type TargetJob } from '../../emit/targets.js';
import type { WeightSource } from '../../weights/index.js';
import { compileAndReport, defineCommand, diagnosticsJson, OPT, parseSets, printJson, UsageError, wholeNumber } from '../frame.js';
import { checkFileOutput, checkModelDirOutput } from '../outputs.js';

/** What a file name's extension says it holds, where alexnetc knows: a target's name, or what else it is. */
const EXTENSIONS: Record<string, { target?: string; is: string }> = {
  '.onnx': { target: 'onnx', is: 'an ONNX name' },
  '.py': { target: 'torch', is: 'a Python name' },
  '.safetensors': { target: 'safetensors', is: 'a safetensors name' },
  '.net': { is: 'a .net source name' },
  '.svg': { is: 'a drawing name (alexnetc draw)' },
  '.png': { is: 'an image name (alexnetc draw)' },
  '.dot': { is: 'a Graphviz name (alexnetc draw)' },
  '.json': { is: 'a JSON name' },
  '.pt': { is: 'a pickled PyTorch name (alexnetc writes weights as .safetensors)' },
  '.pth': { is: 'a pickled PyTorch name (alexnetc writes weights as .safetensors)' },
};

/** Does `out` name a directory: a trailing slash, or an existing directory? */
function namesDirectory(out: string): boolean {
  if (out.endsWith('/') || out.endsWith(path.sep)) return true;
  try {
    return fs.statSync(out).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The target: --target, else what the -o name says (.onnx, .py, .safetensors,
 * a directory for tfjs), else ONNX. A name whose extension says another kind
 * of file than the target writes is refused (exit 2): ONNX bytes never go
 * into a .net file, Python never into a .onnx.
 */
export function chooseTarget(out: string | undefined, requested: string | undefined): Target {
  const named = requested === undefined ? undefined : TARGETS.find((t) => t.name === requested)!;
  if (out === undefined || out === '-') return named ?? TARGETS[0]!;
  const ext = EXTENSIONS[path.extname(out).toLowerCase()];
  const dir = namesDirectory(out);
  if (named) {
    if (named.kind === 'dir') {
      if (ext && !dir) throw new UsageError(`-o ${out} is ${ext.is}, but --target tfjs writes a directory (model.json + weights.bin): name a directory with -o`);
      return named;
    }
    if (ext && ext.target !== named.name) {
      const fits = TARGETS.find((t) => t.name === ext.target);
      throw new UsageError(
        `-o ${out} is ${ext.is}, but --target ${named.name} writes ${named.help.split(' (')[0]}: ` +
          `use a ${named.ext} name${fits ? `, or --target ${fits.name} for ${fits.ext}` : ''}`,
      );
    }
    return named;
  }
  const trailingSlash = out.endsWith('/') || out.endsWith(path.sep);
  if (ext?.target && !trailingSlash) return TARGETS.find((t) => t.name === ext.target)!;
  if (dir) return TARGETS.find((t) => t.kind === 'dir')!;
  if (ext) throw new UsageError(`-o ${out} is ${ext.is}; compile writes ${TARGETS.filter((t) => t.kind === 'file').map((t) => t.ext).join(', ')} files or a directory (tfjs): choose another name, or --target`);
  return TARGETS[0]!;
}

export default defineCommand({
  name: 'compile',
  summary: 'check a network and write it as ONNX (or another target)',
  args: '<file>',
  description:
    'Checks FILE and writes the chosen network. Without --target, the target follows OUT\'s name (.onnx, .py torch, .safetensors, a directory/ tfjs; a name saying another kind, like .net, is refused); - is standard output. ' +
    'OUT defaults to NETWORK.onnx (NETWORK/ for --target tfjs, NETWORK.py for torch, NETWORK.safetensors), and a default name never replaces an existing file (name it with -o, or --force). ' +
    'Without --weights the weights are seeded He-uniform (--seed): the same input and seed give byte-identical files. ' +
    'Nothing is written when FILE has errors; an output that is an input, or a non-empty directory alexnetc did not write, is refused unless --force.',
  options: [
    { flags: '-o, --output <path>', help: 'where to write (a file, or a directory for --target tfjs)' },
    { flags: '--target <name>', help: `what to write: ${TARGETS.map((t) => t.name).join(', ')} (default: from the -o name, else onnx)`, choices: TARGETS.map((t) => t.name) },
    OPT.network,
    OPT.set,
    { flags: '--seed <n>', help: 'seed of the initial weights', default: '0' },
    { flags: '--weights <path>', help: 'trained weights: a run directory, a tfjs model directory, a .safetensors file or an ONNX file with alexnetc weight names' },
    { flags: '--quantize <mode>', help: 'int8: int8 weights (per output channel); int8-static: int8 weights and activations (QDQ, needs --calibrate)', choices: ['int8', 'int8-static'] },
    { flags: '--calibrate <dir>', help: 'int8-static: calibration images (an IDX directory or image folder; a sample of its training split)' },
    { flags: '--calibrate-n <n>', help: 'int8-static: how many calibration images (default 300)' },
    { flags: '--calibrate-method <name>', help: 'int8-static: activation ranges from minmax or percentile (99.999%) (default minmax)', choices: ['minmax', 'percentile'] },
    OPT.backend,
    OPT.force,
    OPT.json,
  ],
  examples: [
    ['alexnetc compile specs/alexnet.net -o alexnet.onnx', 'AlexNet as ONNX'],
    ['alexnetc compile specs/vgg.net --network VGG16 --set classes=10 -o vgg16.onnx', 'one network of a file, with a parameter changed'],
    ['alexnetc compile specs/lenet5.net --weights runs/LeNet5 -o lenet5.onnx', "a trained run's weights (and its --set values)"],
    ['alexnetc compile specs/lenet5.net --target tfjs -o lenet5/', 'a TensorFlow.js model directory'],
    ['alexnetc compile specs/resnet.net --network ResNet18 --target torch -o resnet18.py', 'a PyTorch module'],
    ['alexnetc compile specs/lenet5.net --weights runs/LeNet5 --target safetensors -o lenet5.safetensors', "a run's weights as safetensors (for the PyTorch module)"],
    ['alexnetc compile specs/lenet5.net --weights runs/LeNet5 --quantize int8 -o lenet5-int8.onnx', 'int8 weights: about a quarter of the size'],
    [
      'alexnetc compile specs/lenet5.net --weights runs/LeNet5 --quantize int8-static --calibrate /usr/share/datasets/fashion-mnist -o q.onnx',
      'int8 weights and activations, calibrated on 300 training images',
    ],
  ],
  async run([file], o) {
    const outOpt = o.output as string | undefined;
    // --quantize with another --target says so before the -o name is weighed against the target
    if (o.quantize !== undefined && o.target !== undefined && o.target !== 'onnx') quantizeRequest(o, o.target as string, o.weights as string | undefined);
    const target = chooseTarget(outOpt, o.target as string | undefined);
    if (o.weights !== undefined && target.takesWeights === false) {
      throw new UsageError(`--target ${target.name} writes no weights; write them with --target safetensors --weights ${o.weights as string}`);
    }
    const seed = wholeNumber(o.seed, '--seed');
    const json = o.json === true;
    let set = parseSets(o.set as string[]);
    let network = o.network as string | undefined;
    const weightsPath = o.weights as string | undefined;
    const info: Omit<ModelInfo, 'network'> = { source: file! };
    if (weightsPath !== undefined) {
      const { readRunInfo } = await import('../../train/run-dir.js');
      const run = readRunInfo(weightsPath);
      if (run) {
        ({ set, network } = runDefaults(run, set, network, weightsPath));
        info.classes = run.classes;
        info.normalization = run.normalization;
      }
    }
    const quantize = quantizeRequest(o, target.name, weightsPath);
    const { result, ok, text } = compileAndReport(file!, { network, set }, json);
    if (!ok || !result.network) {
      if (json) printJson({ diagnostics: diagnosticsJson(file!, text, result) });
      return 1;
    }
    const net = result.network;
    const out = outOpt ?? `${net.name}${target.ext}`;
    const inputs = [file!, ...(weightsPath ? [weightsPath] : [])];
    const implicit = outOpt === undefined;
    if (target.kind === 'file') checkFileOutput(out, inputs, o.force === true, { implicit, binary: target.name !== 'torch', what: target.name === 'onnx' ? 'ONNX' : target.name, json });
    else checkModelDirOutput(out, inputs, o.force === true, implicit);
    let weights: WeightSource | undefined;
    if (weightsPath !== undefined) {
      const { openWeights } = await import('../../weights/index.js');
      weights = await openWeights(weightsPath, net);
    }
    let quantized: TargetJob['quantize'];
    if (quantize) {
      const { prepareQuantization } = await import('../../quantize/index.js');
      quantized = await prepareQuantization(net, weights!, { ...quantize, weightsPath: weightsPath!, normalization: info.normalization, say: (l) => void process.stderr.write(l + '\n') });
    }
    let written;
    try {
      const source = { file: file!, text, program: result.program!, set };
      const log = (line: string): void => void process.stderr.write(line + '\n');
      written = await target.write({ network: net, source, out, seed, weights, info: { ...info, network: net }, backend: o.backend as string, quantize: quantized, log });
    } catch (e) {
      if (isFsError(e) || e instanceof RangeError) throw new UsageError(`cannot write ${out === '-' ? 'standard output' : out}: ${e.message}`, 1);
      throw e;
    }
    if (json) {
      printJson({
        diagnostics: diagnosticsJson(file!, text, result),
        output: {
          path: out,
          target: target.name,
          kind: target.kind,
          bytes: written.bytes,
          network: net.name,
          params: net.totalParams,
          seeded: weights === undefined,
          ...(quantized ? { quantization: quantized.about } : {}),
        },
      });
    } else if (out !== '-') {
      process.stderr.write(`wrote ${target.kind === 'dir' ? out.replace(/\/+$/, '') + '/' : out} (${net.name}, ${(written.bytes / 2 ** 20).toFixed(1)} MiB, ${written.what})\n`);
    }
    return 0;
  },
});

/** The --quantize request, checked before anything is compiled: every misuse is a usage error (exit 2). */
function quantizeRequest(o: Record<string, unknown>, target: string, weights: string | undefined) {
  const mode = o.quantize as 'int8' | 'int8-static' | undefined;
  const calibration = ['calibrate', 'calibrateN', 'calibrateMethod'].find((k) => o[k] !== undefined);
  const flag = (k: string): string => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  if (mode === undefined) {
    if (calibration) throw new UsageError(`${flag(calibration)} belongs to --quantize int8-static`);
    return undefined;
  }
  if (target !== 'onnx') throw new UsageError(`--quantize writes ONNX; it does not apply to --target ${target}`);
  if (weights === undefined) {
    throw new UsageError('--quantize needs trained weights (--weights RUN_DIR or a model directory): quantizing seeded random weights would measure nothing');
  }
  if (mode === 'int8') {
    if (calibration) throw new UsageError(`${flag(calibration)} belongs to --quantize int8-static; --quantize int8 quantizes the weights only and needs no data`);
    return { mode };
  }
  if (o.calibrate === undefined) {
    throw new UsageError('--quantize int8-static needs calibration images: --calibrate DIR (an IDX directory or an image folder like the training data)');
  }
  return {
    mode,
    calibrate: o.calibrate as string,
    count: o.calibrateN === undefined ? 300 : wholeNumber(o.calibrateN, '--calibrate-n', 1),
    method: (o.calibrateMethod as 'minmax' | 'percentile' | undefined) ?? 'minmax',
  };
}

/**
 * A run directory records the network and --set values it was trained with;
 * exporting its weights uses them by default (and says so). A --set or
 * --network that differs from the run's is an error: the weights belong to
 * the network the run trained.
 */
function runDefaults(run: import('../../train/run-dir.js').RunInfo, set: Record<string, string>, network: string | undefined, dir: string) {
  for (const [k, v] of Object.entries(set)) {
    const trained = run.source.set[k];
    if (trained !== v) {
      throw new UsageError(
        `--set ${k}=${v} conflicts with ${dir}, which was trained with ${trained === undefined ? `the default ${k}` : `--set ${k}=${trained}`} ` +
          `(see ${path.join(dir, 'config.json')}); leave --set out to use the run's values`,
      );
    }
  }
  if (network !== undefined && network !== run.source.network) {
    throw new UsageError(`--network ${network} conflicts with ${dir}, which trained ${run.source.network}`);
  }
  const used = Object.entries(run.source.set).map(([k, v]) => `--set ${k}=${v}`);
  process.stderr.write(`using the settings of the run ${dir}: --network ${run.source.network}${used.length ? ' ' + used.join(' ') : ''}\n`);
  return { set: { ...run.source.set }, network: run.source.network };
}

/** A failure of the file system (a missing directory, no space, no permission), not a bug. */
function isFsError(e: unknown): e is Error {
  return e instanceof Error && /^E[A-Z]+$/.test(String((e as NodeJS.ErrnoException).code ?? ''));
}
