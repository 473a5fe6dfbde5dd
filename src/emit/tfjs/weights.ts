// tfjs weights → canonical weights: the direction that carries a trained tfjs
// model into an ONNX file. Here: the matching of a model's weights to the
// network's (by the names the tfjs lowering gives them) and an in-memory
// model's weights; a model directory on disk is read by src/weights/tfjs.ts,
// the one reader of tfjs weight files. Everything is checked before a single
// value is handed out, so a model that does not fit the network is refused
// before the ONNX writer starts.
import type { Network } from '../../check/ir.js';
import { UserError } from '../../util/errors.js';
import { layers } from '../../check/ir.js';
import type { WeightSource } from '../onnx/index.js';
import { fromTfjs } from './layout.js';
import { planWeights, type PlannedWeight } from './plan.js';
import type { LayersModel } from './tf.js';

/** A tfjs model (directory or in memory) whose weights do not fit the network. */
export class WeightsMismatchError extends UserError {
  constructor(
    message: string,
    /** the network layer at fault (its path), when there is one */
    readonly layer?: string,
    /** the shape the network expects (tfjs layout) */
    readonly expected?: number[],
    /** the shape the model has */
    readonly actual?: number[],
  ) {
    super(message, 1);
    this.name = 'WeightsMismatchError';
  }
}

const fmt = (s: readonly number[]): string => `[${s.join(', ')}]`;
const key = (p: string, name: string): string => `${p}.${name}`;

export interface Stored {
  name: string;
  shape: number[];
  dtype: string;
}

/**
 * Find each of the network's weights in the model, by name (tfjs orders a
 * model's weights by graph depth, not by our walk, so order is not
 * compared); throws naming the first mismatching layer and both shapes.
 * Returns, per planned weight, the index of the stored weight.
 */
export function match(planned: PlannedWeight[], stored: Stored[], where: string): number[] {
  const byName = new Map(stored.map((s, i) => [s.name, i]));
  const found = planned.map((p, i) => {
    const at = byName.get(p.name);
    if (at === undefined) {
      // another architecture: show what the model has where this weight would be
      const other = stored[i];
      throw new WeightsMismatchError(
        `layer ${p.path}: the network expects ${p.name} with shape ${fmt(p.shape)}, ${where} has ` +
          (other ? `no such weight (in its place: ${other.name} with shape ${fmt(other.shape)})` : `no such weight (it has only ${stored.length} weights, the network ${planned.length})`),
        p.path,
        p.shape,
        other?.shape,
      );
    }
    const s = stored[at]!;
    if (s.shape.length !== p.shape.length || s.shape.some((d, j) => d !== p.shape[j])) {
      throw new WeightsMismatchError(
        `layer ${p.path}: the network expects ${p.name} with shape ${fmt(p.shape)}, ${where} has shape ${fmt(s.shape)}`,
        p.path,
        p.shape,
        s.shape,
      );
    }
    if (s.dtype !== 'float32') {
      throw new WeightsMismatchError(`layer ${p.path}: ${where} stores ${s.name} as ${s.dtype}, expected float32`, p.path, p.shape, s.shape);
    }
    return at;
  });
  if (stored.length > planned.length) {
    const names = new Set(planned.map((p) => p.name));
    const s = stored.find((x) => !names.has(x.name)) ?? stored[planned.length]!;
    throw new WeightsMismatchError(
      `${where} has more weights than the network (${stored.length} vs ${planned.length}): the first extra one is ${s.name} with shape ${fmt(s.shape)}`,
      undefined,
      undefined,
      s.shape,
    );
  }
  return found;
}

export function source(planned: PlannedWeight[], read: (i: number) => Float32Array): WeightSource {
  const index = new Map(planned.map((p, i) => [key(p.path, p.spec.name), i]));
  return {
    get(p, spec) {
      const i = index.get(key(p, spec.name));
      if (i === undefined) throw new Error(`weight ${key(p, spec.name)} is not in the tfjs model`);
      const w = planned[i]!;
      return fromTfjs(read(i), w.spec.shape, w.layout);
    },
  };
}

/** Every canonical weight must be carried by some tfjs weight, or the ONNX file would get seeded values silently. */
export function checkCovered(network: Network, planned: PlannedWeight[]): void {
  const have = new Set(planned.map((p) => key(p.path, p.spec.name)));
  for (const n of layers(network.body))
    for (const w of n.weights)
      if (!have.has(key(n.path, w.name))) throw new Error(`internal: the tfjs lowering of ${n.path} does not carry weight ${w.name}`);
}

/** The weights of an in-memory tfjs model (e.g. right after training) as a canonical WeightSource for `network`. */
export function tfjsModelWeights(model: LayersModel, network: Network): WeightSource {
  const planned = planWeights(network);
  checkCovered(network, planned);
  const vars = model.weights;
  const at = match(
    planned,
    vars.map((v) => ({ name: v.originalName, shape: [...v.shape] as number[], dtype: v.dtype })),
    `the tfjs model ${model.name}`,
  );
  return source(planned, (i) => vars[at[i]!]!.read().dataSync() as Float32Array);
}
