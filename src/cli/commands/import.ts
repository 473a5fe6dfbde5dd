// `alexnetc import MODEL.onnx -o model.net`: an ONNX model → readable `.net`
// source plus its weights (an ONNX file whose initializers carry alexnetc's
// weight names), so that `alexnetc compile model.net --weights W` gives back
// the original's function. Nothing is written unless the whole model imports.
import * as path from 'node:path';
import { defineCommand, OPT, printJson, UsageError } from '../frame.js';
import { checkFileOutput } from '../outputs.js';

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
    { flags: '-o, --output <file>', help: 'the .net file to write' },
    { flags: '--weights-out <file>', help: 'the weights file to write (ONNX; default: OUT with .weights.onnx)' },
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
    const out = (o.output as string | undefined) ?? `${path.basename(model!).replace(/\.onnx$/i, '')}.net`;
    const weightsOut = (o.weightsOut as string | undefined) ?? out.replace(/\.net$/i, '') + '.weights.onnx';
    const name = o.name as string | undefined;
    if (name !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new UsageError(`--name ${name}: a network name is an identifier ([A-Za-z_][A-Za-z0-9_]*)`);
    if (path.resolve(out) === path.resolve(weightsOut)) throw new UsageError(`the .net file and --weights-out are both ${out}; choose two files`);
    const force = o.force === true;
    checkFileOutput(out, [model!], force);
    checkFileOutput(weightsOut, [model!], force);

    const [{ importOnnx }, { writeOnnxAsync }, { onnxMetadata }, { openAtomic }] = await Promise.all([
      import('../../import/index.js'),
      import('../../emit/onnx/index.js'),
      import('../../emit/metadata.js'),
      import('../../util/atomic.js'),
    ]);
    const imported = importOnnx(model!, { name });
    const net = imported.network;

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
      bytes = await writeOnnxAsync(net, weightsOut, {
        weights: {
          get(p, spec) {
            const v = imported.weights.get(`${p}.${spec.name}`);
            if (!v) throw new Error(`internal: no imported weight ${p}.${spec.name}`);
            return v;
          },
        },
        docString: `${net.name} imported from ${path.basename(model!)}`,
        metadata: onnxMetadata({ network: net, source: out }),
      });
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
        `wrote ${out} (${net.name}: ${s.nodes} ONNX nodes → ${s.layers} layers, ${s.blocks} block${s.blocks === 1 ? '' : 's'}, ` +
          `${net.totalParams.toLocaleString('en-US')} parameters) and ${weightsOut} (${(bytes / 2 ** 20).toFixed(1)} MiB)\n` +
          `  compile it with: alexnetc compile ${out} --weights ${weightsOut} -o ${net.name}.onnx\n`,
      );
    }
    return 0;
  },
});
