// Per-stage table behind `alexnetc summary`: like torchinfo / Keras, with the
// block path of each stage, its output shape, parameters and MACs.
import { declaredFreeze, under } from './check/freeze.js';
import type { Network, Node } from './check/ir.js';
import { formatShape } from './diagnostics/index.js';
import type { ArgValue } from './layers/types.js';

export interface SummaryRow {
  /** block path, e.g. `stage2/conv1` */
  path: string;
  /** the layer with its arguments, or the construct (`residual`, `concat`) */
  layer: string;
  depth: number;
  outShape: number[];
  params: number;
  macs: number;
  /** frozen (`train { freeze … }`): a layer whose weights do not train; a construct all of whose weights are frozen (`partly` when some are) */
  frozen?: true | 'partly';
}

export interface Summary {
  network: string;
  input: number[];
  output: number[];
  rows: SummaryRow[];
  totalParams: number;
  trainableParams: number;
  /** running statistics of batch norm: stored in the model, not trained */
  nonTrainableParams: number;
  /** the freeze list (stage paths or scopes); [] when nothing is frozen */
  freeze: string[];
  /** trainable parameters of frozen stages (trainableParams does not count them) */
  frozenParams: number;
  totalMacs: number;
  /** float32 bytes of all weights */
  weightBytes: number;
}

/**
 * The summary of `net`. `freeze` (the stage paths of `--freeze`) replaces
 * the network's own `train { freeze … }`; the caller has checked it.
 */
export function summarize(net: Network, o: { freeze?: readonly string[] } = {}): Summary {
  const rows: SummaryRow[] = [];
  const freeze = [...(o.freeze ?? declaredFreeze(net))];
  const isFrozen = (path: string): boolean => freeze.some((e) => under(path, e));
  let nonTrainable = 0;
  let frozenParams = 0;
  /** a construct's mark, once its rows (from `from` on) are walked: frozen when all its weighted layers are, partly when some are */
  const mark = (at: number, from: number): void => {
    const inner = rows.slice(from).filter((r) => r.params > 0);
    const frozen = inner.filter((r) => r.frozen === true).length;
    if (frozen > 0) rows[at]!.frozen = frozen === inner.length ? true : 'partly';
  };
  const walk = (nodes: readonly Node[], depth: number): void => {
    for (const n of nodes) {
      switch (n.kind) {
        case 'layer': {
          for (const w of n.weights) if (!w.trainable) nonTrainable += w.shape.reduce((a, b) => a * b, 1);
          const row: SummaryRow = { path: n.path, layer: describeCall(n.layer.name, n.layer.args, n.rawArgs), depth, outShape: n.outShape, params: n.params, macs: n.macs };
          if (n.weights.length && isFrozen(n.path)) {
            row.frozen = true;
            frozenParams += n.params;
          }
          rows.push(row);
          break;
        }
        case 'residual': {
          const at = rows.push({ path: n.path, layer: n.shortcut ? 'residual (projection)' : 'residual', depth, outShape: n.outShape, params: 0, macs: 0 }) - 1;
          walk(n.body, depth + 1);
          if (n.shortcut) walk(n.shortcut, depth + 1);
          mark(at, at + 1);
          break;
        }
        case 'concat':
        case 'add':
        case 'split': {
          const at = rows.push({ path: n.path, layer: `${n.kind} (${n.branches.length} branches)`, depth, outShape: n.outShape, params: 0, macs: 0 }) - 1;
          for (const b of n.branches) walk(b, depth + 1);
          mark(at, at + 1);
          break;
        }
        case 'gate': {
          const at = rows.push({ path: n.path, layer: 'gate (input × body)', depth, outShape: n.outShape, params: 0, macs: 0 }) - 1;
          walk(n.body, depth + 1);
          mark(at, at + 1);
          break;
        }
        default: {
          const never: never = n;
          throw new Error(`unhandled node ${(never as Node).kind}`);
        }
      }
    }
  };
  walk(net.body, 0);
  return {
    network: net.name,
    input: net.input,
    output: net.output,
    rows,
    totalParams: net.totalParams,
    trainableParams: net.totalParams - frozenParams,
    freeze,
    frozenParams,
    nonTrainableParams: nonTrainable,
    totalMacs: net.totalMacs,
    weightBytes: (net.totalParams + nonTrainable) * 4,
  };
}

/**
 * `conv(96, 11, stride 4)`: the call as the specs write it, defaults left out.
 */
export function describeCall(name: string, specs: readonly { name: string; default?: ArgValue | null }[], raw: Record<string, ArgValue>): string {
  const parts: string[] = [];
  let positional = true;
  specs.forEach((s, i) => {
    const v = raw[s.name];
    const isDefault = v === undefined || (s.default !== undefined && s.default !== null && fmt(v) === fmt(s.default));
    // like the specs are written: required ones, a pool's stride and a lone first argument by position
    positional &&= !isDefault && (s.default === undefined || s.default === null || i === 0);
    if (!isDefault) parts.push(positional ? fmt(v!) : `${s.name} ${fmt(v!)}`);
  });
  return parts.length ? `${name}(${parts.join(', ')})` : name;
}

function fmt(v: ArgValue): string {
  if (Array.isArray(v)) return `[${v.map(fmt).join(', ')}]`;
  return String(v);
}

const int = (n: number): string => n.toLocaleString('en-US');

export function human(n: number, unit: string): string {
  const steps: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [v, p] of steps) if (n >= v) return `${(n / v).toFixed(2)} ${p}${unit}`;
  return `${n} ${unit}`;
}

export function renderSummary(s: Summary): string {
  // a Frozen column only when something is frozen: the tables of networks without freeze stay as they were
  const frozenColumn = s.freeze.length > 0;
  const header = ['Stage', 'Layer', 'Output shape', 'Params', 'MACs', ...(frozenColumn ? ['Frozen'] : [])];
  const body = s.rows.map((r) => [
    `${'  '.repeat(r.depth)}${r.path}`,
    r.layer,
    formatShape(r.outShape),
    int(r.params),
    int(r.macs),
    ...(frozenColumn ? [r.frozen === true ? 'frozen' : r.frozen === 'partly' ? 'partly' : ''] : []),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 3 || i === 4 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const rule = '─'.repeat(widths.reduce((a, b) => a + b + 2, -2));
  const out = [
    `${s.network}: input ${formatShape(s.input)} → output ${formatShape(s.output)} (per example; batch is N)`,
    rule,
    line(header),
    rule,
    ...body.map(line),
    rule,
    `Total params:         ${int(s.totalParams)} (${human(s.totalParams, 'params')})`,
    `Trainable params:     ${int(s.trainableParams)}`,
    ...(frozenColumn ? [`Frozen params:        ${int(s.frozenParams)} (freeze ${s.freeze.join(', ')})`] : []),
    `Non-trainable params: ${int(s.nonTrainableParams)} (batch-norm running statistics)`,
    `Total MACs:           ${int(s.totalMacs)} (${human(s.totalMacs, 'MAC')} per example; multiply-accumulates of conv and dense${s.rows.some((r) => r.layer.startsWith('attention')) ? ', attention\'s projections and products' : ''})`,
    `Weights size:         ${(s.weightBytes / 2 ** 20).toFixed(2)} MiB as float32`,
  ];
  return out.join('\n');
}
