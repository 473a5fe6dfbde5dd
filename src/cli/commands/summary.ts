// `alexnetc summary FILE`: a per-stage table (like torchinfo or Keras' summary).
import { renderSummary, summarize } from '../../summary.js';
import { compileAndReport, defineCommand, OPT, parseSets, printJson } from '../frame.js';

export default defineCommand({
  name: 'summary',
  summary: 'print a per-stage table of shapes, parameters and MACs',
  args: '<file>',
  description: 'Prints, for the chosen network (or every network of FILE), each stage with its output shape, parameters and multiply-accumulates, and the totals.',
  options: [OPT.network, OPT.set, OPT.json],
  examples: [
    ['alexnetc summary specs/vgg.net --network VGG16', "VGG-16's table"],
    ['alexnetc summary specs/lenet5.net --json', 'the rows as JSON'],
  ],
  async run([file], o) {
    const network = o.network as string | undefined;
    const { result, ok } = compileAndReport(file!, { network, set: parseSets(o.set as string[]), all: network === undefined }, false);
    if (!ok) return 1;
    const nets = result.network ? [result.network] : result.networks;
    if (nets.length === 0) {
      // a library of blocks: say why there is nothing to summarise, as compile does (E105)
      compileAndReport(file!, { network, set: parseSets(o.set as string[]) }, false);
      return 1;
    }
    const summaries = nets.map(summarize);
    if (o.json === true) printJson(summaries.length === 1 ? summaries[0] : summaries);
    else process.stdout.write(summaries.map(renderSummary).join('\n\n') + '\n');
    return 0;
  },
});
