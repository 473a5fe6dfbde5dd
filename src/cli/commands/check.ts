// `alexnetc check FILE`: check every network in the file, print the problems.
import { compileAndReport, defineCommand, diagnosticsJson, grouped, OPT, parseSets, printJson, UsageError } from '../frame.js';
import { formatShape } from '../../diagnostics/index.js';

export default defineCommand({
  name: 'check',
  summary: 'check every network in a file and report problems',
  args: '<file>',
  description: 'Checks every network (and block) of FILE: syntax, names, arguments and every tensor shape. Exit 1 if there are errors.',
  options: [OPT.network, OPT.set, OPT.json],
  examples: [
    ['alexnetc check specs/resnet.net', 'check both ResNets'],
    ['alexnetc check specs/lenet5.net --set size=28', 'check with a parameter changed'],
    ['alexnetc check net.net --json', 'diagnostics as JSON for tools'],
  ],
  async run([file], o) {
    const json = o.json === true;
    const set = parseSets(o.set as string[]);
    const network = o.network as string | undefined;
    const { result, ok, text } = compileAndReport(file!, { all: true, network, set }, json);
    if (Object.keys(set).length && network === undefined && result.networks.length > 1 && !result.network) {
      throw new UsageError(`--set applies to one network: choose it with --network (${file} has ${result.networks.map((n) => n.name).join(', ')})`);
    }
    if (json) printJson({ diagnostics: diagnosticsJson(file!, text, result), networks: result.networks.map((n) => ({ name: n.name, input: n.input, output: n.output, params: n.totalParams, macs: n.totalMacs })) });
    else if (ok) {
      for (const n of result.networks) process.stderr.write(`${n.name}: ok, output ${formatShape(n.output)}, ${grouped(n.totalParams)} parameters\n`);
    }
    return ok ? 0 : 1;
  },
});
