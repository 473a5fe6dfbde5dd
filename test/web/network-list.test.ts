// The networks the playground's analysis worker posts (web/src/network-list.ts):
// the list on a change of a network's name, parameters or table, and none on a
// keystroke that changes none of them, as the worker analyses each version
// (one IncrementalParser and CheckCache for the file).
import { describe, expect, it } from 'vitest';
import { CheckCache } from '../../src/check/checker.js';
import { compile } from '../../src/compile.js';
import { analyze, type Analysis } from '../../src/lsp/analysis.js';
import { summarize } from '../../src/summary.js';
import { IncrementalParser } from '../../src/syntax/incremental.js';
import { NetworkList } from '../../web/src/network-list.js';

const SMALL = `network Small(classes = 10) {
  input [1, 8, 8]
  conv(4, 3) | relu
  flatten | dense(classes)
}
`;

/** the worker's analysis of each version of one file */
function worker(): (text: string) => Analysis {
  const parser = new IncrementalParser();
  const checks = new CheckCache();
  let version = 0;
  return (text) => analyze(text, ++version, { file: 'small.net', parse: (t) => parser.parse(t), checkCache: checks });
}

/** the summary the page shows for `name` in `text`, made from scratch */
function table(text: string, name: string): object {
  const s = summarize(compile(text, { network: name }).network!);
  return { input: s.input, output: s.output, rows: s.rows, totalParams: s.totalParams, trainableParams: s.trainableParams, nonTrainableParams: s.nonTrainableParams, totalMacs: s.totalMacs, weightBytes: s.weightBytes };
}

describe('the networks the playground posts', () => {
  it('gives a list when a network, its parameters or its table change, and none when nothing shown changes', () => {
    const next = worker();
    const list = new NetworkList();
    const first = list.update(next(SMALL))!;
    expect(first).toEqual([{ name: 'Small', params: ['classes = 10'], summary: table(SMALL, 'Small') }]);
    // the same text again, a comment
    expect(list.update(next(SMALL))).toBeUndefined();
    expect(list.update(next(`# a comment\n${SMALL}`))).toBeUndefined();
    // an edit in the body that is checked again (new nodes) but gives the same table
    const before = next(SMALL);
    expect(list.update(before)).toBeUndefined();
    const asserted = SMALL.replace('conv(4, 3) | relu', 'conv(4, 3) | relu   : [4, 6, 6]');
    const after = next(asserted);
    expect(after.result.networks[0]!.body[0]).not.toBe(before.result.networks[0]!.body[0]);
    expect(list.update(after)).toBeUndefined();
    // a parameter that changes no stage: the list, with the table as it was
    const twoParams = asserted.replace('(classes = 10)', '(classes = 10, unused = 2 * 3)');
    const withParam = list.update(next(twoParams))!;
    expect(withParam.map((n) => n.params)).toEqual([['classes = 10', 'unused = 2 * 3']]);
    expect(withParam[0]!.summary).toEqual(first[0]!.summary);
    // a wider conv: a new table
    const wider = twoParams.replace('conv(4, 3) | relu   : [4, 6, 6]', 'conv(5, 3) | relu');
    expect(list.update(next(wider))).toEqual([{ name: 'Small', params: ['classes = 10', 'unused = 2 * 3'], summary: table(wider, 'Small') }]);
    // a network that does not check has no summary; fixed again, its table comes back
    const broken = wider.replace('conv(5, 3)', 'conv(5, 9)');
    expect(list.update(next(broken))).toEqual([{ name: 'Small', params: ['classes = 10', 'unused = 2 * 3'] }]);
    expect(list.update(next(wider))).toEqual([{ name: 'Small', params: ['classes = 10', 'unused = 2 * 3'], summary: table(wider, 'Small') }]);
    // a second network, then the first renamed
    const two = `${wider}network Tiny {\n  input [3]\n  dense(2)\n}\n`;
    expect(list.update(next(two))!.map((n) => [n.name, n.params, n.summary?.totalParams])).toEqual([['Small', ['classes = 10', 'unused = 2 * 3'], 1860], ['Tiny', [], 8]]);
    expect(list.update(next(two.replace('network Small', 'network Big')))!.map((n) => n.name)).toEqual(['Big', 'Tiny']);
    expect(list.update(next(two.replace('network Small', 'network Big')))).toBeUndefined();
  });
});
