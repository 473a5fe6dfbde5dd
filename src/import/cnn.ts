// What today's CNNs (issue 19) export as several nodes that are one thing
// in the language (GELU's erf formula is ./transformer.ts's): ConvNeXt's channels-last MLP
// (Transpose → … → Transpose back: `tokens | … | image(h, w)`), layer scale
// (a Mul by a per-channel constant), ShuffleNet's channel shuffle (Reshape
// to groups, Transpose, Reshape back) and channel split (Slices of the
// channels) and DenseNet's growing Concat. The structure builder
// (./structure.ts) asks these before the layers' own converters (a pattern
// that does not match hands the node on); it reads the Mul that joins a value
// with a function of itself as `gate { … }`, or `silu` for a sigmoid.
import type { OnnxNode } from '../weights/onnx-read.js';
import { type ImportGraph, intAttr, intsAttr } from './graph.js';
import { layer, type OpContext, type OpResult } from './ops.js';

const samePerm = (p: readonly number[] | undefined, want: number[]): boolean => p !== undefined && p.length === want.length && p.every((x, i) => x === want[i]);

/** The one live reader of a node's first output, unless that output is the graph's. */
function onlyReader(g: ImportGraph, n: OnnxNode): OnnxNode | undefined {
  const out = n.outputs[0]!;
  const users = g.consumers.get(out) ?? [];
  return users.length === 1 && out !== g.output ? users[0]!.node : undefined;
}

// ---------------------------------------------------------------- single-reader chains

/** A node the language writes differently from the layers' converters, or undefined to hand it on. */
export function convertCnnPattern(c: OpContext): OpResult | undefined {
  const { g, node: n } = c;
  if (n.op === 'Mul') return scaleOf(c);
  if (n.op === 'Transpose') return channelsLast(c);
  if (n.op === 'Reshape') return shuffleOf(c);
  return undefined;
}

/** Mul by a constant with one factor per channel: ConvNeXt's layer scale, `scale`. */
function scaleOf(c: OpContext): OpResult | undefined {
  const { g, node: n } = c;
  const data = n.inputs.filter((i) => g.isData(i));
  if (data.length !== 1 || n.inputs.length !== 2) return undefined;
  const slot = n.inputs[0] === data[0] ? 1 : 0;
  const w = g.floats(n.inputs[slot]!, n);
  const channels = c.inShape[0]!;
  const image = c.inShape.length === 3;
  // [C, 1, 1] (or [1, C, 1, 1]) for an image, [C] for a vector or each token's features
  const squeezed = w.dims.filter((d, i) => !(d === 1 && i < w.dims.length - (image ? 3 : 1)));
  const feature = image ? channels : c.inShape[c.inShape.length - 1]!;
  const ok = image ? squeezed.length === 3 && squeezed[0] === channels && squeezed[1] === 1 && squeezed[2] === 1 : squeezed.length === 1 && squeezed[0] === feature;
  if (!ok) {
    g.fail(n, `multiplies [${c.inShape.join(', ')}] by a constant of shape [${w.dims.join(', ')}]; alexnetc's scale multiplies each channel by its own factor ([${image ? `${channels}, 1, 1` : feature}])`);
  }
  const weight = { name: 'weight', dims: image ? [channels, 1, 1] : [feature], values: w.values };
  return { layers: [layer(c, 'scale', {}, [weight])], out: n.outputs[0]! };
}

/**
 * Transpose [N, C, H, W] → [N, H, W, C] not closed by a LayerNormalization
 * and the Transpose back (that is `layernorm`'s): the positions become tokens
 * of C features (`tokens`), on which LayerNormalization, MatMul and GELU work
 * per position, until Transpose [0, 3, 1, 2] makes them an image again
 * (`image(h, w)`, h and w from the Transpose that opened it).
 */
function channelsLast(c: OpContext): OpResult | undefined {
  const { g, node: n } = c;
  const perm = intsAttr(n, 'perm');
  if (c.inShape.length === 3 && samePerm(perm, [0, 2, 3, 1])) {
    const ln = onlyReader(g, n);
    const back = ln?.op === 'LayerNormalization' ? onlyReader(g, ln) : undefined;
    if (back?.op === 'Transpose' && samePerm(intsAttr(back, 'perm'), [0, 3, 1, 2])) return undefined; // layernorm over the channels
    return { layers: [layer(c, 'tokens', {})], out: n.outputs[0]! };
  }
  if (c.inShape.length === 2 && samePerm(perm, [0, 3, 1, 2])) {
    const opened = openingTranspose(g, n);
    if (!opened) return g.fail(n, `transposes [N, H, W, C] back to an image, but no Transpose [0, 2, 3, 1] of an image before it says what H and W are`);
    const [, h, w] = g.shapes.get(opened.inputs[0]!)!;
    return { layers: [layer(c, 'image', { h: h!, w: w! })], out: n.outputs[0]! };
  }
  return undefined;
}

/** The Transpose [0, 2, 3, 1] of an image that the channels-last value `n` reads descends from. */
function openingTranspose(g: ImportGraph, n: OnnxNode): OnnxNode | undefined {
  const seen = new Set<OnnxNode>();
  const queue = [n];
  while (queue.length) {
    const m = queue.shift()!;
    for (const i of m.inputs) {
      if (!g.isData(i)) continue;
      const p = g.producer.get(i);
      if (!p || seen.has(p)) continue;
      seen.add(p);
      if (p.op === 'Transpose' && samePerm(intsAttr(p, 'perm'), [0, 2, 3, 1]) && g.shapes.get(p.inputs[0]!)?.length === 3) return p;
      if (p.op === 'Transpose') continue; // another transpose: not this one's opening
      queue.push(p);
    }
  }
  return undefined;
}

/** Reshape [C, H, W] → [g, C/g, H, W], Transpose [0, 2, 1, 3, 4], Reshape back: ShuffleNet's channel shuffle, `shuffle(g)`. */
function shuffleOf(c: OpContext): OpResult | undefined {
  const { g, node: n } = c;
  if (c.inShape.length !== 3) return undefined;
  const [ch, h, w] = c.inShape as [number, number, number];
  const target = g.ints(n.inputs[1]!, n).slice(1); // without the batch
  if (target.length !== 4 || target.some((d) => d === null)) return undefined;
  const full = target.map((d, i) => (d === 0 ? [ch, h, w][i] ?? 0 : d)) as number[];
  const known = full.reduce((a, d) => a * (d === -1 ? 1 : d), 1);
  const dims = full.map((d) => (d === -1 ? (ch * h * w) / known : d));
  const [groups, per, hh, ww] = dims as [number, number, number, number];
  if (groups * per !== ch || hh !== h || ww !== w) return undefined;
  const t = onlyReader(g, n);
  if (t?.op !== 'Transpose' || !samePerm(intsAttr(t, 'perm'), [0, 2, 1, 3, 4])) {
    g.fail(n, `reshapes [${ch}, ${h}, ${w}] to [${dims.join(', ')}] per example, but no Transpose [0, 2, 1, 3, 4] follows; alexnetc reads this only as a channel shuffle (shuffle)`);
  }
  const back = onlyReader(g, t!);
  if (back?.op !== 'Reshape') g.fail(t!, `a channel shuffle must end in a Reshape back to [N, ${ch}, ${h}, ${w}]`);
  const to = g.ints(back!.inputs[1]!, back!).slice(1);
  const size = ch * h * w;
  const backKnown = to.reduce<number>((a, d, i) => a * (d === -1 ? 1 : d === 0 ? [per, groups, h, w][i]! : (d ?? 1)), 1);
  const backDims = to.map((d, i) => (d === -1 ? size / backKnown : d === 0 ? [per, groups, h, w][i]! : d));
  if (backDims.join() !== [ch, h, w].join()) g.fail(back!, `reshapes a channel shuffle to [${backDims.join(', ')}], not back to [${ch}, ${h}, ${w}]`);
  return { layers: [layer(c, 'shuffle', { groups }, [], [n, t!, back!])], out: back!.outputs[0]! };
}

// ---------------------------------------------------------------- ShuffleNet's channel split

/** The Slices that divide a value's channels equally among the branches of a `split`, in channel order. */
export function splitSlices(g: ImportGraph, v: string, readers: OnnxNode[]): { node: OnnxNode; out: string; shape: number[] }[] | undefined {
  if (readers.length < 2 || !readers.every((r) => r.op === 'Slice')) return undefined;
  const shape = g.shapes.get(v)!;
  const rank = shape.length + 1;
  const channels = shape[0]!;
  const parts = readers.map((r) => {
    if (r.inputs[0] !== v) g.fail(r, `slices a constant by the network's value`);
    const ints = (i: number): number[] => {
      const x = g.ints(r.inputs[i]!, r);
      if (x.some((d) => d === null)) g.fail(r, `slices by a size that depends on the batch`);
      return x as number[];
    };
    const starts = ints(1);
    const ends = ints(2);
    const axes = (r.inputs[3] ?? '') !== '' ? ints(3) : starts.map((_, i) => i);
    const steps = (r.inputs[4] ?? '') !== '' ? ints(4) : starts.map(() => 1);
    if (axes.length !== 1 || !(axes[0] === 1 || axes[0] === 1 - rank) || steps[0] !== 1) {
      g.fail(r, `slices axes [${axes.join(', ')}] (steps [${steps.join(', ')}]); alexnetc's split divides the channels (axis 1) into equal parts`);
    }
    const clamp = (x: number): number => Math.min(Math.max(x < 0 ? x + channels : x, 0), channels);
    return { node: r, lo: clamp(starts[0]!), hi: clamp(ends[0]!) };
  });
  parts.sort((a, b) => a.lo - b.lo);
  const size = channels / parts.length;
  parts.forEach((p, i) => {
    if (p.lo !== i * size || p.hi !== (i + 1) * size) {
      g.fail(p.node, `takes channels ${p.lo}…${p.hi - 1} of ${channels}; alexnetc's split divides them into ${parts.length} equal parts in order`);
    }
  });
  return parts.map((p) => {
    const out = p.node.outputs[0]!;
    const s = [size, ...shape.slice(1)];
    g.shapes.set(out, s);
    return { node: p.node, out, shape: s };
  });
}

// ---------------------------------------------------------------- DenseNet's growing concat

/**
 * DenseNet concatenates the block's input and every layer's output so far:
 * Concat(x, f1, …, fk) after Concat(x, f1, …, fk−1). Read as Concat of the
 * earlier Concat and fk, each dense layer is `concat { branch { } branch { … } }`
 * of the value before it. Rewrites the file's nodes in place (same function).
 */
export function nestGrowingConcats(nodes: OnnxNode[]): void {
  const made = new Map<string, string>();
  for (const n of nodes) {
    if (n.op !== 'Concat' || n.inputs.length === 0) continue;
    const axis = intAttr(n, 'axis', 0);
    const key = (inputs: string[]): string => `${axis}:${inputs.join('\u0000')}`;
    const own = key(n.inputs);
    if (n.inputs.length >= 2) {
      const before = made.get(key(n.inputs.slice(0, -1)));
      if (before !== undefined) n.inputs = [before, n.inputs[n.inputs.length - 1]!];
    }
    if (!made.has(own)) made.set(own, n.outputs[0]!);
  }
}

/**
 * torch.onnx.export flattens `cat([cat([a, b], 1), c], 1)` into one Concat
 * (Inception-v3's Mixed_7b: the 1×3 and 3×1 halves of a branch sit among the
 * other branches' outputs). A run of consecutive inputs that descends from a
 * value no other input descends from is the inner concat: it gets its own
 * Concat node again, so the branches nest as the language writes them.
 */
export function nestFlattenedConcats(nodes: OnnxNode[], inputs: ReadonlySet<string>): OnnxNode[] {
  const producer = new Map<string, OnnxNode>();
  // values computed from the network's input: weights and constants say nothing about the branches
  const data = new Set(inputs);
  for (const n of nodes) {
    for (const o of n.outputs) producer.set(o, n);
    if (n.op !== 'Shape' && n.inputs.some((i) => data.has(i))) for (const o of n.outputs) data.add(o);
  }
  const memo = new Map<string, Set<string>>();
  const ancestors = (v: string): Set<string> => {
    const known = memo.get(v);
    if (known) return known;
    const out = new Set<string>([v]);
    const p = producer.get(v);
    if (p) for (const i of p.inputs) if (data.has(i)) for (const a of ancestors(i)) out.add(a);
    memo.set(v, out);
    return out;
  };
  const added = new Map<OnnxNode, OnnxNode[]>();
  for (const n of nodes) {
    if (n.op !== 'Concat' || n.inputs.length < 3 || intAttr(n, 'axis', 0) !== 1) continue;
    const inputs = [...n.inputs];
    const out: string[] = [];
    const inner: OnnxNode[] = [];
    for (let k = 0; k < inputs.length; ) {
      let taken = 1;
      for (let end = inputs.length - (k === 0 ? 1 : 0); end - k >= 2; end--) {
        const run = inputs.slice(k, end);
        const others = [...inputs.slice(0, k), ...inputs.slice(end)];
        const common = [...ancestors(run[0]!)].filter((a) => run.every((r) => ancestors(r).has(a)) && !others.some((o) => ancestors(o).has(a)) && !run.includes(a));
        if (common.length === 0) continue;
        const syn = `${n.outputs[0]}#${k}`;
        inner.push({ name: `${n.name}#${k}`, op: 'Concat', domain: n.domain, inputs: run, outputs: [syn], attrs: n.attrs, index: n.index });
        out.push(syn);
        taken = end - k;
        break;
      }
      if (taken === 1) out.push(inputs[k]!);
      k += taken;
    }
    if (inner.length) {
      n.inputs = out;
      added.set(n, inner);
    }
  }
  return added.size ? nodes.flatMap((n) => [...(added.get(n) ?? []), n]) : nodes;
}
