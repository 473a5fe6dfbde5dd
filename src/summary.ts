// Per-stage table behind `alexnetc summary`: like torchinfo / Keras, with the
// block path of each stage, its output shape, parameters and MACs.
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
  totalMacs: number;
  /** float32 bytes of all weights */
  weightBytes: number;
}

export function summarize(net: Network): Summary {
  const rows: SummaryRow[] = [];
  let nonTrainable = 0;
  const walk = (nodes: readonly Node[], depth: number): void => {
    for (const n of nodes) {
      switch (n.kind) {
        case 'layer': {
          for (const w of n.weights) if (!w.trainable) nonTrainable += w.shape.reduce((a, b) => a * b, 1);
          rows.push({ path: n.path, layer: describeCall(n.layer.name, n.layer.args, n.rawArgs), depth, outShape: n.outShape, params: n.params, macs: n.macs });
          break;
        }
        case 'residual':
          rows.push({ path: n.path, layer: n.shortcut ? 'residual (projection)' : 'residual', depth, outShape: n.outShape, params: 0, macs: 0 });
          walk(n.body, depth + 1);
          if (n.shortcut) walk(n.shortcut, depth + 1);
          break;
        case 'concat':
        case 'add':
          rows.push({ path: n.path, layer: `${n.kind} (${n.branches.length} branches)`, depth, outShape: n.outShape, params: 0, macs: 0 });
          for (const b of n.branches) walk(b, depth + 1);
          break;
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
    trainableParams: net.totalParams,
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
  const header = ['Stage', 'Layer', 'Output shape', 'Params', 'MACs'];
  const body = s.rows.map((r) => [`${'  '.repeat(r.depth)}${r.path}`, r.layer, formatShape(r.outShape), int(r.params), int(r.macs)]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i >= 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
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
    `Non-trainable params: ${int(s.nonTrainableParams)} (batch-norm running statistics)`,
    `Total MACs:           ${int(s.totalMacs)} (${human(s.totalMacs, 'MAC')} per example; multiply-accumulates of conv and dense)`,
    `Weights size:         ${(s.weightBytes / 2 ** 20).toFixed(2)} MiB as float32`,
  ];
  return out.join('\n');
}
