// Which stages explain looks at. Feature maps: every convolution, read after
// the element-wise stages that directly follow it in its sequence (batch norm
// and the activation — `conv | batchnorm | relu`), because that is what the
// next stage sees and what people mean by a layer's activations. Grad-CAM:
// the last convolution stage with a spatial map; when that convolution sits
// inside a residual or a concat, the whole construct's output (plus its
// activation) — ResNet's last block, GoogLeNet's last inception — which is
// the map Grad-CAM is usually computed on. Sequences are walked in execution
// order (body, shortcut, branches), like the checker's layers().
import type { LayerNode, Network, Node } from '../../check/ir.js';

/**
 * Same-shape stages that mix nothing (each value from the same input value:
 * batch norm, the element-wise activations) belong to the stage before
 * them; dropout, the identity at inference, is not read through.
 */
function follows(m: LayerNode): boolean {
  return m.layer.mixes === 'nothing' && m.layer.kind !== 'dropout' && sameShape(m.inShape, m.outShape);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** A place in the network whose output is read. */
export interface Probe {
  /** the stage whose output is read (a layer, a residual or a merge) */
  node: Node;
  /** the path it is known by: the conv's (or the construct's) */
  path: string;
  /** the element-wise stages read through, in order (their paths) */
  followers: string[];
  /** [C, H, W] */
  shape: [number, number, number];
}

export interface ConvStage extends Probe {
  conv: LayerNode;
  /** index of the top-level stage (in network.body) that holds the conv */
  top: number;
}

/** The stage after `seq[i]` read through its element-wise followers. */
function through(seq: readonly Node[], i: number, path: string): Probe {
  let node = seq[i]!;
  const followers: string[] = [];
  for (let j = i + 1; j < seq.length; j++) {
    const m = seq[j]!;
    if (m.kind !== 'layer' || !follows(m)) break;
    node = m;
    followers.push(m.path);
  }
  return { node, path, followers, shape: node.outShape as [number, number, number] };
}

export function convStages(network: Network): ConvStage[] {
  const out: ConvStage[] = [];
  const walk = (seq: readonly Node[], top: number | undefined): void => {
    seq.forEach((n, i) => {
      const at = top ?? i;
      switch (n.kind) {
        case 'layer':
          if (n.layer.kind === 'conv' && n.outShape.length === 3) out.push({ ...through(seq, i, n.path), conv: n, top: at });
          return;
        case 'residual':
          walk(n.body, at);
          if (n.shortcut) walk(n.shortcut, at);
          return;
        case 'concat':
        case 'add':
        case 'split':
          for (const b of n.branches) walk(b, at);
          return;
        case 'gate':
          walk(n.body, at);
          return;
        default: {
          const never: never = n;
          throw new Error(`unhandled node ${(never as Node).kind}`);
        }
      }
    });
  };
  walk(network.body, undefined);
  return out;
}

/** Where Grad-CAM looks: the last convolution stage with a spatial map (more than 1×1), or the top-level construct that holds it; none without one. */
export function gradCamProbe(network: Network, stages: readonly ConvStage[]): Probe | undefined {
  for (let i = stages.length - 1; i >= 0; i--) {
    const s = stages[i]!;
    if (s.shape[1] * s.shape[2] <= 1) continue;
    const holder = network.body[s.top]!;
    if (holder === s.conv) return s;
    const p = through(network.body, s.top, holder.path);
    return p.shape.length === 3 && p.shape[1]! * p.shape[2]! > 1 ? p : s;
  }
  return undefined;
}

/** "stage2/conv1 → relu" for titles: the path, and the kinds read through. */
export function probeLabel(p: Probe): string {
  const kinds = p.followers.map((f) => f.slice(f.lastIndexOf('/') + 1).replace(/\d+$/, ''));
  return kinds.length ? `${p.path} → ${kinds.join(' → ')}` : p.path;
}
