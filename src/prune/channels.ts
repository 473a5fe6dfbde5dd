// Which filters and units can be removed, found by following every channel
// through the checked network, by each layer's own rule (LayerDef.channels).
// Each value carries, per channel (per feature for vectors), the conv/dense
// output it came from: the layers that act on each channel alone
// (activations, batch norm, pooling, dropout, a depthwise conv) pass channels
// on, flatten spreads a channel over its H·W features (C-major, as
// torch.flatten), concat puts branches side by side. A conv or dense layer may lose outputs
// when every place its channels reach can follow: the next conv/dense (which
// loses the matching inputs), batch norm (which loses the matching
// statistics), a concat (whose later offsets shift). Where channels must keep
// their number or their neighbours, the layers that made them are kept
// whole: a residual or add (both sides must agree; as in ResNet filter
// pruning, only the layers inside a residual body, not its last one, shrink),
// LRN and softmax (they mix neighbouring channels), and the network's output
// (the classes). A grouped conv reads its input in g contiguous groups: the
// layer feeding it must remove the same number of channels from each group,
// which the selection does by choosing within chunks. A depthwise conv
// (groups = channels) filters each channel alone, so it passes channels on
// and loses the groups of those that go (its filters and groups arguments
// are rewritten). A gate (squeeze-and-excitation) multiplies input channel c
// by its body's channel c: the conv that makes the gate's channels follows
// its input, losing output c exactly when input channel c goes, so a pruned
// MobileNet expansion channel takes its depthwise group and its SE channel
// with it. A split divides its channels equally and a shuffle interleaves
// groups: the channels that reach them keep their number (the layers inside
// a split's branches may still shrink).
import { layers, type LayerNode, type Network, type Node } from '../check/ir.js';

/** The conv/dense output a channel came from; producer -1: the network input. */
export interface ChannelRef {
  producer: number;
  channel: number;
}

export interface Producer {
  node: LayerNode;
  /** filters or units */
  width: number;
  /** why its outputs must all stay (undefined: they may go) */
  kept?: string;
  /** outputs are removed the same number per contiguous chunk of width/chunks (groups) */
  chunks: number;
  /**
   * a gate's last conv: output c stays exactly when the gated channel refs[c]
   * stays (it is not selected by its own norms)
   */
  follows?: { refs: ChannelRef[]; why: string };
}

export interface ChannelFlow {
  producers: Producer[];
  /** per layer node: the origin of each of its input channels (features) */
  inputs: Map<LayerNode, ChannelRef[]>;
  /** per conv/dense node: its index in producers */
  producerOf: Map<LayerNode, number>;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
const lcm = (a: number, b: number): number => (a / gcd(a, b)) * b;

export function channelFlow(network: Network): ChannelFlow {
  const producers: Producer[] = [];
  const inputs = new Map<LayerNode, ChannelRef[]>();
  const producerOf = new Map<LayerNode, number>();
  const none = (n: number): ChannelRef[] => Array.from({ length: n }, (_, c) => ({ producer: -1, channel: c }));

  const keep = (refs: readonly ChannelRef[], why: string): void => {
    for (const r of refs) if (r.producer >= 0) producers[r.producer]!.kept ??= why;
  };

  const layer = (n: LayerNode, input: ChannelRef[]): ChannelRef[] => {
    inputs.set(n, input);
    const rule = n.layer.channels(n.args, n.inShape, n.outShape);
    switch (rule.kind) {
      case 'new': {
        if (rule.groups > 1) groupedInput(input, rule.groups, n.path);
        const width = n.outShape[0]!;
        const id = producers.length;
        producers.push({ node: n, width, chunks: rule.groups });
        producerOf.set(n, id);
        return Array.from({ length: width }, (_, c) => ({ producer: id, channel: c }));
      }
      case 'spread':
        return input.flatMap((r) => Array.from({ length: rule.per }, () => r));
      case 'each':
        return input;
      case 'mixes':
        keep(input, `\`${n.layer.name}\` at ${n.path} mixes channels`);
        return input;
      default: {
        const never: never = rule;
        throw new Error(`unhandled channel rule ${(never as { kind: string }).kind}`);
      }
    }
  };

  /** a grouped conv: its input must come from one layer, in order, which then removes channels per chunk */
  const groupedInput = (input: ChannelRef[], g: number, where: string): void => {
    const p = input[0]?.producer ?? -1;
    const inOrder = p >= 0 && input.length === producers[p]!.width && input.every((r, c) => r.producer === p && r.channel === c);
    if (inOrder) producers[p]!.chunks = lcm(producers[p]!.chunks, g);
    else keep(input, `the grouped conv ${where} reads channels of several layers`);
  };

  const sequence = (nodes: readonly Node[], input: ChannelRef[]): ChannelRef[] => {
    let v = input;
    for (const n of nodes) {
      switch (n.kind) {
        case 'layer':
          v = layer(n, v);
          break;
        case 'residual': {
          const body = sequence(n.body, v);
          const shortcut = n.shortcut ? sequence(n.shortcut, v) : v;
          keep(body, `the residual ${n.path} adds it to its shortcut`);
          keep(shortcut, `the residual ${n.path} adds it to its body`);
          v = body;
          break;
        }
        case 'add': {
          const branches = n.branches.map((b) => sequence(b, v));
          for (const b of branches) keep(b, `the add ${n.path} sums its branches`);
          v = branches[0]!;
          break;
        }
        case 'concat':
          v = n.branches.flatMap((b) => sequence(b, v));
          break;
        case 'split': {
          // equal shares: removing an input channel would move the boundaries
          keep(v, `the split ${n.path} divides its channels equally`);
          const part = v.length / n.branches.length;
          const input = v;
          v = n.branches.flatMap((b, i) => sequence(b, input.slice(i * part, (i + 1) * part)));
          break;
        }
        case 'gate': {
          // the gate's channel c scales input channel c: the conv that makes the gate follows the input
          const gate = sequence(n.body, v);
          const q = gate[0]?.producer ?? -1;
          const follower = q >= 0 ? producers[q]! : undefined;
          const inOrder =
            follower !== undefined &&
            follower.kept === undefined &&
            follower.chunks === 1 &&
            follower.follows === undefined &&
            gate.length === v.length &&
            follower.width === v.length &&
            gate.every((r, c) => r.producer === q && r.channel === c);
          if (inOrder) follower.follows = { refs: v, why: `the gate ${n.path} multiplies its input channels by it` };
          else {
            keep(gate, `the gate ${n.path} multiplies its input by it, channel for channel`);
            keep(v, `the gate ${n.path} multiplies it by the gate, channel for channel`);
          }
          break;
        }
        default: {
          const never: never = n;
          throw new Error(`unhandled node ${(never as Node).kind}`);
        }
      }
    }
    return v;
  };

  const out = sequence(network.body, none(network.input[0]!));
  keep(out, 'it is the network output');
  // sanity: every layer was visited
  for (const n of layers(network.body)) if (!inputs.has(n)) throw new Error(`internal: ${n.path} was not visited`);
  return { producers, inputs, producerOf };
}
