// `alexnetc draw FILE -o net.svg|net.png|net.dot`: an architecture diagram of
// a checked network, laid out automatically; no Graphviz or system fonts needed.
import * as path from 'node:path';
import type { DrawFormat } from '../../inspect/draw/index.js';
import { compileAndReport, defineCommand, diagnosticsJson, OPT, parseSets, printJson, UsageError } from '../frame.js';
import { checkFileOutput } from '../outputs.js';

const FORMATS: readonly DrawFormat[] = ['svg', 'png', 'dot'];
const BY_EXTENSION: Record<string, DrawFormat> = { '.svg': 'svg', '.png': 'png', '.dot': 'dot', '.gv': 'dot' };

/** The format from --format, else from the output's extension, else SVG; a contradiction is a usage error. */
export function drawFormat(out: string | undefined, format: string | undefined): DrawFormat {
  const ext = out !== undefined && out !== '-' ? path.extname(out).toLowerCase() : '';
  const byExt = BY_EXTENSION[ext];
  if (format !== undefined) {
    if (byExt !== undefined && byExt !== format) throw new UsageError(`--format ${format} contradicts the output name ${out} (a .${byExt} name); change one of them`);
    return format as DrawFormat;
  }
  if (byExt) return byExt;
  if (ext) throw new UsageError(`cannot tell the format from the name ${out}: use a .svg, .png or .dot name, or --format svg|png|dot`);
  return 'svg';
}

export default defineCommand({
  name: 'draw',
  summary: 'draw a network as an architecture diagram (SVG, PNG or Graphviz DOT)',
  args: '<file>',
  description:
    'Draws the chosen network: one box per stage with its layer, arguments, output shape and parameters, edges labelled with shapes, ' +
    'residual and concat/add branches as real branches, block calls as one box each (--expand shows their insides as nested groups), ' +
    'colours by layer kind and the totals in a legend. The format follows the name given with -o (.svg, .png, .dot) or --format; ' +
    'OUT defaults to NETWORK.svg, and - writes to standard output. PNGs are rendered in process with an embedded font; DOT is for laying out with Graphviz yourself.',
  options: [
    { flags: '-o, --output <path>', help: 'where to write (.svg, .png or .dot; - for standard output)' },
    { flags: '--format <name>', help: `what to write: ${FORMATS.join(', ')} (default: from the -o name, else svg)`, choices: FORMATS },
    { flags: '--expand', help: 'show the insides of block calls as nested groups (default: one box per call)' },
    { flags: '--scale <n>', help: 'PNG only: pixels per diagram unit', default: '2' },
    OPT.network,
    OPT.set,
    OPT.force,
    OPT.json,
  ],
  examples: [
    ['alexnetc draw specs/resnet.net --network ResNet18 -o resnet18.svg', 'ResNet-18, one box per block call'],
    ['alexnetc draw specs/googlenet.net --expand -o googlenet.png', "GoogLeNet with every inception block's branches, as PNG"],
    ['alexnetc draw specs/lenet5.net --format dot -o - | dot -Tpdf -o lenet5.pdf', 'Graphviz DOT, laid out by Graphviz'],
  ],
  async run([file], o) {
    const json = o.json === true;
    const outOpt = o.output as string | undefined;
    const format = drawFormat(outOpt, o.format as string | undefined);
    const scale = Number(o.scale);
    if (!Number.isFinite(scale) || scale <= 0 || scale > 16) throw new UsageError(`--scale must be a number above 0 and at most 16, got '${String(o.scale)}'`);
    const { result, ok, text } = compileAndReport(file!, { network: o.network as string | undefined, set: parseSets(o.set as string[]) }, json);
    if (!ok || !result.network) {
      if (json) printJson({ diagnostics: diagnosticsJson(file!, text, result) });
      return 1;
    }
    const net = result.network;
    const out = outOpt ?? `${net.name}.${format}`;
    const toStdout = out === '-';
    checkFileOutput(out, [file!], o.force === true, { implicit: outOpt === undefined, binary: format === 'png', what: 'a PNG', json });

    const { callLabelsIn, drawNetwork } = await import('../../inspect/draw/index.js');
    const drawing = await drawNetwork(net, { format, expand: o.expand === true, calls: callLabelsIn(result, net.name, text), scale });
    const bytes = typeof drawing.data === 'string' ? Buffer.from(drawing.data, 'utf8') : drawing.data;
    {
      const { writeFileAtomic } = await import('../../util/atomic.js');
      try {
        writeFileAtomic(out, bytes);
      } catch (e) {
        // a missing directory, no space, no permission: the user's to fix, not a bug
        if (e instanceof Error && /^E[A-Z]+$/.test(String((e as NodeJS.ErrnoException).code ?? ''))) throw new UsageError(`cannot write ${out}: ${e.message}`, 1);
        throw e;
      }
    }
    const d = drawing.diagram;
    const what = `${d.nodes.length - 2} boxes${d.groups.length ? ` in ${d.groups.length} groups` : ''}${drawing.width ? `, ${Math.round(drawing.width)}×${Math.round(drawing.height!)}${format === 'png' ? ' px' : ''}` : ''}`;
    if (json) {
      printJson({
        diagnostics: diagnosticsJson(file!, text, result),
        output: { path: out, format, bytes: bytes.length, network: net.name, expanded: d.expanded, nodes: d.nodes.length, groups: d.groups.length, edges: d.edges.length, width: drawing.width, height: drawing.height },
      });
    } else if (!toStdout) {
      process.stderr.write(`wrote ${out} (${net.name}, ${what})\n`);
    }
    return 0;
  },
});
