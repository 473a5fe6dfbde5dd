// The networks panel's list, as the analysis worker posts it: each network
// written, its parameters and, where it checks, its summary. A keystroke that
// changes none of them (a comment, a name being typed, an edit in a body that
// gives the same table) gives no list, so the page redraws nothing.
import type { Analysis } from '../../src/lsp/analysis.js';
import { summarize } from '../../src/summary.js';
import { printExpr } from '../../src/syntax/print.js';
import { declaredFreeze } from '../../src/check/freeze.js';
import type { Network } from '../../src/check/ir.js';
import type { NetworkOut } from './protocol.js';

type SummaryOut = NonNullable<NetworkOut['summary']>;

export class NetworkList {
  /**
   * each network's summary, by name, with what it was made from: a network
   * whose nodes (the CheckCache hands back the very objects of an unchanged
   * network) and totals are as they were keeps it without summarizing; one
   * summarized again to the same table keeps the same object too, so the
   * list below tells a change by identity
   */
  private readonly summaries = new Map<string, { body: readonly object[]; key: string; json: string; summary: SummaryOut }>();
  /** the list last handed out */
  private last: NetworkOut[] = [];

  /** The networks of `a`, or undefined where they are those of the last list handed out. */
  update(a: Analysis): NetworkOut[] | undefined {
    const list: NetworkOut[] = [];
    for (const d of a.program?.decls ?? []) {
      if (d.kind !== 'network') continue;
      const net = a.result.networks.find((n) => n.name === d.name.name);
      const params = d.params.map((p) => (p.default ? `${p.name.name} = ${printExpr(p.default)}` : p.name.name));
      list.push(net ? { name: d.name.name, params, summary: this.summaryOf(net) } : { name: d.name.name, params });
    }
    if (sameList(list, this.last)) return undefined;
    this.last = list;
    return list;
  }

  private summaryOf(net: Network): SummaryOut {
    const key = JSON.stringify([net.input, net.output, net.totalParams, net.totalMacs, declaredFreeze(net)]);
    const kept = this.summaries.get(net.name);
    if (kept && kept.key === key && kept.body.length === net.body.length && kept.body.every((n, i) => n === net.body[i])) return kept.summary;
    const s = summarize(net);
    const fresh: SummaryOut = {
      input: s.input,
      output: s.output,
      rows: s.rows,
      totalParams: s.totalParams,
      trainableParams: s.trainableParams,
      nonTrainableParams: s.nonTrainableParams,
      totalMacs: s.totalMacs,
      weightBytes: s.weightBytes,
    };
    const json = JSON.stringify(fresh);
    const summary = kept && kept.json === json ? kept.summary : fresh;
    this.summaries.set(net.name, { body: net.body, key, json, summary });
    return summary;
  }
}

const sameList = (a: readonly NetworkOut[], b: readonly NetworkOut[]): boolean =>
  a.length === b.length &&
  a.every((n, i) => {
    const m = b[i]!;
    return n.name === m.name && n.summary === m.summary && n.params.length === m.params.length && n.params.every((p, j) => p === m.params[j]);
  });
