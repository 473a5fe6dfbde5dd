// `alexnetc import MODEL.onnx -o model.net`: an ONNX model → readable `.net`
// source plus its weights (an ONNX file whose initializers carry alexnetc's
// weight names), so that `alexnetc compile model.net --weights W` gives back
// the original's function. Nothing is written unless the whole model imports.
import * as path from 'node:path';
import { defineCommand, OPT, printJson, UsageError } from '../frame.js';
import type { WeightSource } from '../../weights/index.js';
import { checkFileOutput, checkImplicitOutput } from '../outputs.js';

/** Extensions that say a file is something other than .net source */
const NOT_SOURCE = ['.onnx', '.safetensors', '.py', '.pt', '.pth', '.svg', '.png', '.dot', '.json'];

/** The weights file's format from its name: .safetensors, else ONNX (.onnx or no known extension); another kind of name is refused. */
export function weightsFormatOf(file: string): 'onnx' | 'safetensors' {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.safetensors') return 'safetensors';
  if (ext === '.onnx' || ext === '') return 'onnx';
  throw new UsageError(`--weights-out ${file}: weights are written as .onnx or .safetensors; choose a name with one of those extensions`);
}

export default defineCommand({
  name: 'import',
  summary: 'turn an ONNX model into .net source and its weights',
  args: '<model>',
  description:
    'Reads MODEL (an ONNX file, e.g. from torch.onnx.export, tf2onnx or alexnetc) and writes the network as .net source (OUT, default MODEL.net) ' +
    'and its weights as an ONNX file named like alexnetc\'s weights (default OUT with .weights.onnx), which `compile --weights` reads. ' +
    'Repeated sub-graphs become blocks. An op outside the catalogue, several inputs, dynamic image sizes, an unsupported opset, ' +
    'weights that are not finite, or a file that is not ONNX are errors (exit 1) naming the node, and nothing is written.',
  options: [
    { flags: '-o, --output <file>', help: 'the .net file to write (- for standard output, with --weights-out)' },
    { flags: '--weights-out <file>', help: 'the weights file to write: ONNX, or safetensors for a .safetensors name (default: OUT with .weights.onnx)' },
    { flags: '--name <name>', help: "the network's name (default: the graph's name, or the file's)" },
    OPT.force,
    OPT.json,
  ],
  examples: [
    ['alexnetc import resnet18.onnx -o resnet18.net', 'writes resnet18.net and resnet18.weights.onnx'],
    ['alexnetc compile resnet18.net --weights resnet18.weights.onnx -o again.onnx', 'the same function again, from alexnetc'],
    ['alexnetc import model.onnx -o net.net --weights-out net-weights.onnx --name MyNet', 'choose the weights file and the name'],
  ],
  async run([model], o) {
    const outOpt = o.output as string | undefined;
    const weightsOpt = o.weightsOut as string | undefined;
    const out = outOpt ?? `${path.basename(model!).replace(/\.onnx$/i, '')}.net`;
    if (out === '-' && weightsOpt === undefined) throw new UsageError('-o - writes the source to standard output; name the weights file with --weights-out');
    const weightsOut = weightsOpt ?? out.replace(/\.net$/i, '') + '.weights.onnx';
    const weightsFormat = weightsFormatOf(weightsOut);
    if (outOpt !== undefined && NOT_SOURCE.includes(path.extname(outOpt).toLowerCase())) {
      throw new UsageError(`-o ${outOpt}: import writes .net source; choose a .net name (the weights go to --weights-out)`);
    }
    const name = o.name as string | undefined;
    if (name !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new UsageError(`--name ${name}: a network name is an identifier ([A-Za-z_][A-Za-z0-9_]*)`);
    if (path.resolve(out) === path.resolve(weightsOut)) throw new UsageError(`the .net file and --weights-out are both ${out}; choose two files`);
    const force = o.force === true;
    const json = o.json === true;
    checkFileOutput(out, [model!], force, { implicit: outOpt === undefined, json });
    if (weightsOut === '-') throw new UsageError('--weights-out -: the weights are binary and standard output carries no name for them; name a file');
    if (weightsOpt === undefined) checkImplicitOutput(weightsOut, force, '--weights-out');
    checkFileOutput(weightsOut, [model!], force);

    const [{ importOnnx }, { writeOnnxAsync }, { onnxMetadata }, { openAtomic }, { writeSafetensors, networkTensors }] = await Promise.all([
      import('../../import/index.js'),
      import('../../emit/onnx/index.js'),
      import('../../emit/metadata.js'),
      import('../../util/atomic.js'),
      import('../../weights/safetensors.js'),
    ]);
    const imported = importOnnx(model!, { name });
    const net = imported.network;
    const source: WeightSource = {
      get(p, spec) {
        const v = imported.weights.get(`${p}.${spec.name}`);
        if (!v) throw new Error(`internal: no imported weight ${p}.${spec.name}`);
        return v;
      },
    };

    const fsError = (e: unknown, file: string): unknown =>
      e instanceof Error && /^E[A-Z]+$/.test(String((e as NodeJS.ErrnoException).code ?? '')) ? new UsageError(`cannot write ${file}: ${e.message}`, 1) : e;
    // the source is held back until the weights are complete, so a failure leaves neither file
    let sink: ReturnType<typeof openAtomic>;
    try {
      sink = openAtomic(out);
    } catch (e) {
      throw fsError(e, out);
    }
    let bytes: number;
    try {
      sink.write(Buffer.from(imported.source, 'utf8'));
      const metadata = onnxMetadata({ network: net, source: out });
      bytes =
        weightsFormat === 'safetensors'
          ? await writeSafetensors(weightsOut, networkTensors(net, source), { format: 'pt', ...metadata })
          : await writeOnnxAsync(net, weightsOut, { weights: source, docString: `${net.name} imported from ${path.basename(model!)}`, metadata });
    } catch (e) {
      sink.abort();
      throw fsError(e, weightsOut);
    }
    try {
      sink.commit();
    } catch (e) {
      throw fsError(e, out);
    }

    const s = imported.stats;
    if (o.json === true) {
      printJson({
        output: out,
        weights: weightsOut,
        network: net.name,
        input: net.input,
        output_shape: net.output,
        params: net.totalParams,
        onnx_nodes: s.nodes,
        layers: s.layers,
        blocks: s.blocks,
        opset: s.opset,
        producer: s.producer,
        weights_bytes: bytes,
      });
    } else {
      process.stderr.write(
        `wrote ${out === '-' ? 'the source to standard output' : out} (${net.name}: ${s.nodes} ONNX nodes → ${s.layers} layers, ${s.blocks} block${s.blocks === 1 ? '' : 's'}, ` +
          `${net.totalParams.toLocaleString('en-US')} parameters) and ${weightsOut} (${(bytes / 2 ** 20).toFixed(1)} MiB)\n` +
          `  compile it with: alexnetc compile ${out} --weights ${weightsOut} -o ${net.name}.onnx\n`,
      );
    }
    return 0;
  },
});
