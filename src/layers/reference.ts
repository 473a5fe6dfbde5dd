// The layer table of docs/language.md, generated from the registry: each
// layer's signature from its arguments and their defaults, and the rest from
// the `reference` its own file gives it (what the signature's arguments mean,
// the output shape, the ONNX it lowers to). `npm run grammar` rewrites the
// table; test/check/docs.test.ts fails when it drifts.
import type { AnyLayer, ArgSpec, ArgValue } from './types.js';

/** What the reference says of a layer beyond its signature (Markdown, one table cell each). */
export interface LayerReference {
  /** after the signature: what the arguments mean, the formula (starts with its own punctuation, e.g. ": …") */
  note?: string;
  /** the output shape (`same`, `[C, 1, 1]`, …) */
  output: string;
  /** the ONNX operators it lowers to */
  onnx: string;
}

/** A layer with its reference text: what the registry holds. */
export type DocumentedLayer = AnyLayer & { reference: LayerReference };

/** `layer` with its reference text (written beside the layer's definition, in its own file). */
export function documented<L extends AnyLayer>(layer: L, reference: LayerReference): L & { reference: LayerReference } {
  return Object.assign(layer, { reference });
}

// small numbers as they are written (1e-5, not 0.00001)
const number = (v: number): string => (v !== 0 && Math.abs(v) < 1e-3 ? v.toExponential() : String(v));
const value = (v: ArgValue): string => (Array.isArray(v) ? `[${v.map(value).join(', ')}]` : typeof v === 'number' ? number(v) : String(v));

function argText(a: ArgSpec): string {
  if (a.default === undefined) return a.name;
  // a default the layer computes itself says which in its doc: "(default: k)"
  if (a.default === null) return `${a.name} ${/\(default: ([^)]+)\)/.exec(a.doc)?.[1] ?? 'auto'}`;
  return `${a.name} ${value(a.default)}`;
}

/** `conv(filters, k, stride 1, pad 0, …)`; a layer without arguments is its name. */
export function signature(layer: AnyLayer): string {
  return layer.args.length === 0 ? layer.name : `${layer.name}(${layer.args.map(argText).join(', ')})`;
}

/** The Markdown table of every layer, in the registry's order. */
export function layerTable(layers: readonly DocumentedLayer[]): string {
  const rows = layers.map((l) => `| \`${l.name}\` | \`${signature(l)}\`${l.reference.note ?? ''} | ${l.reference.output} | ${l.reference.onnx} |`);
  return ['| layer | signature (defaults) | output | ONNX |', '|---|---|---|---|', ...rows].join('\n') + '\n';
}
