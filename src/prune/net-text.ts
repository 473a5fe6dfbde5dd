// Writing .net text from checked values: a layer call from its evaluated
// arguments, a `train { }` section from its settings, and a whole network
// written out from the IR (blocks and repeats expanded). The formatter lays
// the result out canonically.
import type { LayerNode, Network, Node, TrainConfig } from '../check/ir.js';
import { format } from '../fmt/format.js';
import type { ArgValue } from '../layers/types.js';

/**
 * The arguments that set a layer's number of outputs (`filters`, `units`; a
 * depthwise conv's `filters` and `groups`): its channel rule's width.
 */
export function widthArgs(n: LayerNode): readonly string[] {
  const rule = n.layer.channels(n.args, n.inShape, n.outShape);
  if (rule.kind === 'new') return [rule.width];
  if (rule.kind === 'each' && rule.width?.length) return rule.width;
  throw new Error(`internal: ${n.path} (${n.layer.name}) has no width argument`);
}

/** An evaluated argument as source text: `3`, `0.5`, `same`, `[2, 2]`, `true`. */
export function printValue(v: ArgValue): string {
  if (Array.isArray(v)) return `[${v.map(printValue).join(', ')}]`;
  if (typeof v === 'number') return Number.isInteger(v) || Math.abs(v) >= 1e-4 ? String(v) : v.toExponential();
  return String(v);
}

function same(a: ArgValue | null | undefined, b: ArgValue | null | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A layer call: required arguments positional, others named where they differ from the default; `override` replaces values. */
export function printCall(n: LayerNode, override: Record<string, ArgValue> = {}): string {
  const raw = { ...n.rawArgs, ...override };
  const parts: string[] = [];
  let positional = true;
  for (const a of n.layer.args) {
    const v = raw[a.name];
    if (v === undefined) {
      positional = false;
      continue;
    }
    if (a.default === undefined && positional) parts.push(printValue(v));
    else if (a.default === undefined || !same(v, a.default)) {
      positional = false;
      parts.push(`${a.name} ${printValue(v)}`);
    } else positional = false;
  }
  return parts.length ? `${n.layer.name}(${parts.join(', ')})` : n.layer.name;
}

/** One `train { }` setting: `key value` or `key value(args)`. */
export function printSetting(key: string, s: TrainConfig[string]): string {
  const [head, ...rest] = s.positional;
  const args = [...rest.map(printValue), ...Object.entries(s.named).map(([k, v]) => `${k} ${printValue(v)}`)];
  return `${key} ${printValue(head!)}${args.length ? `(${args.join(', ')})` : ''}`;
}

export function printTrainSection(config: TrainConfig, indent = '  '): string {
  const keys = Object.keys(config);
  if (!keys.length) return `${indent}train {}`;
  return [`${indent}train {`, ...keys.map((k) => `${indent}  ${printSetting(k, config[k]!)}`), `${indent}}`].join('\n');
}

/**
 * The network written out in full: every stage a literal call (block calls
 * expanded, repeats unrolled), residual and concat/add kept as constructs,
 * the given widths for the given layers, no parameters (their values are
 * baked in). Formatted canonically.
 */
export function printExpanded(network: Network, widths: ReadonlyMap<LayerNode, number>, header: string[]): string {
  const lines: string[] = [...header.map((h) => `# ${h}`), `network ${network.name} {`, `  input [${network.input.join(', ')}]`];
  const call = (n: LayerNode): string => {
    const w = widths.get(n);
    if (w === undefined) return printCall(n);
    return printCall(n, Object.fromEntries(widthArgs(n).map((a) => [a, w])));
  };
  const body = (nodes: readonly Node[], indent: string): void => {
    let chain: string[] = [];
    const flush = (): void => {
      if (chain.length) lines.push(indent + chain.join(' | '));
      chain = [];
    };
    for (const n of nodes) {
      if (n.kind === 'layer') {
        // a new chain at every conv/dense, as the shipped specs are written
        if (n.layer.kind === 'conv' || n.layer.kind === 'dense') flush();
        chain.push(call(n));
        continue;
      }
      flush();
      if (n.kind === 'residual') {
        lines.push(`${indent}residual {`);
        body(n.body, indent + '  ');
        if (n.shortcut) {
          lines.push(`${indent}} shortcut {`);
          body(n.shortcut, indent + '  ');
        }
        lines.push(`${indent}}`);
      } else if (n.kind === 'gate') {
        lines.push(`${indent}gate {`);
        body(n.body, indent + '  ');
        lines.push(`${indent}}`);
      } else {
        lines.push(`${indent}${n.kind} {`);
        for (const b of n.branches) {
          lines.push(`${indent}  branch {`);
          body(b, indent + '    ');
          lines.push(`${indent}  }`);
        }
        lines.push(`${indent}}`);
      }
    }
    flush();
  };
  body(network.body, '  ');
  if (Object.keys(network.train).length) lines.push('', printTrainSection(network.train));
  lines.push('}', '');
  const text = lines.join('\n');
  return format(text) ?? text;
}
