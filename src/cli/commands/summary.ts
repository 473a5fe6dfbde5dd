// `alexnetc summary FILE`: a per-stage table (like torchinfo or Keras' summary).
import { renderSummary, summarize } from '../../summary.js';
import { checkFreeze, freezeFlagList } from '../../check/freeze.js';
import { compileAndReport, defineCommand, OPT, parseSets, printJson, UsageError } from '../frame.js';

export default defineCommand({
  name: 'summary',
  summary: 'print a per-stage table of shapes, parameters and MACs',
  args: '<file>',
  description: 'Prints, for the chosen network (or every network of FILE), each stage with its output shape, parameters and multiply-accumulates, and the totals.',
  options: [
    OPT.network,
    OPT.set,
    { flags: '--freeze <paths>', help: "comma-separated stage paths or scopes to show as frozen (conv1,stage2/conv1), or none; replaces the file's `train { freeze … }`" },
    OPT.json,
  ],
  examples: [
    ['alexnetc summary specs/vgg.net --network VGG16', "VGG-16's table"],
    ['alexnetc summary specs/lenet5.net --json', 'the rows as JSON'],
    ['alexnetc summary specs/lenet5.net --freeze conv1,conv2,conv3', 'trainable and frozen parameters when the convolutions are frozen'],
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
    let freeze: string[] | undefined;
    if (o.freeze !== undefined) {
      const r = freezeFlagList(o.freeze as string);
      if ('bad' in r) throw new UsageError(`--freeze takes comma-separated stage paths (conv1,stage2/conv1) or none, got '${r.bad}'`);
      for (const n of nets) {
        const wrong = checkFreeze(r.value, n.body, n.name).find((p) => p.code === 'E102');
        if (wrong) throw new UsageError(`--freeze ${wrong.message}`);
      }
      freeze = r.value;
    }
    const summaries = nets.map((n) => summarize(n, { freeze }));
    if (o.json === true) printJson(summaries.length === 1 ? summaries[0] : summaries);
    else process.stdout.write(summaries.map(renderSummary).join('\n\n') + '\n');
    return 0;
  },
});
