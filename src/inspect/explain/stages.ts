// Which stages explain looks at. Feature maps: every convolution, read after
// the element-wise stages that directly follow it in its sequence (batch norm
// and the activation — `conv | batchnorm | relu`), because that is what the
// next stage sees and what people mean by a layer's activations. Grad-CAM:
// the last convolution stage with a spatial map; when that convolution sits
// inside a residual or a concat, the whole construct's output (plus its
// activation) — ResNet's last block, GoogLeNet's last inception — which is
// the map Grad-CAM is usually computed on. For a Vision Transformer (an
// image made `tokens`, encoder blocks of `attention`) Grad-CAM reads the
// tokens that enter the last block's attention — the output of its pre-norm
// layer norm, where the class token still attends to every patch (after the
// attention the patch tokens no longer reach the class token, so their
// gradient is zero) — with the class token left out and the patch tokens laid
// back on the patch grid, as pytorch-grad-cam does for ViTs. Sequences are
// walked in execution order (body, shortcut, branches), like the checker's
// layers().
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
  /** the probe reads tokens [T, D]: the first `skip` (the class token) are left out, the rest are the grid's rows in order */
  tokens?: { skip: number; grid: [number, number] };
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

/**
 * A Vision Transformer's Grad-CAM probe: the layer right before the last
 * `attention` (its pre-norm), whose tokens are `skip` prepended tokens and
 * the patch grid of the last image made `tokens`. None when the network has
 * no attention on an image's tokens, when the last attention is the first
 * stage of its sequence, or when its tokens are not exactly those.
 */
export function tokenProbe(network: Network): Probe | undefined {
  let found: Probe | undefined;
  let grid: [number, number] | undefined;
  let skip = 0;
  const walk = (seq: readonly Node[]): void => {
    seq.forEach((n, i) => {
      switch (n.kind) {
        case 'layer': {
          if (n.layer.name === 'tokens') {
            grid = [n.inShape[1]!, n.inShape[2]!];
            skip = 0;
          } else if (n.layer.name === 'classtoken') skip++;
          if (n.layer.name !== 'attention') return;
          const prev = seq[i - 1];
          const t = n.inShape[0]!;
          found =
            grid && prev?.kind === 'layer' && prev.outShape.length === 2 && t === skip + grid[0] * grid[1]
              ? { node: prev, path: prev.path, followers: [], shape: [prev.outShape[1]!, grid[0], grid[1]], tokens: { skip, grid } }
              : undefined;
          return;
        }
        case 'residual':
          walk(n.body);
          if (n.shortcut) walk(n.shortcut);
          return;
        case 'concat':
        case 'add':
        case 'split':
          for (const b of n.branches) walk(b);
          return;
        case 'gate':
          walk(n.body);
          return;
        default: {
          const never: never = n;
          throw new Error(`unhandled node ${(never as Node).kind}`);
        }
      }
    });
  };
  walk(network.body);
  return found;
}

/** "stage2/conv1 → relu" for titles: the path, and the kinds read through. */
export function probeLabel(p: Probe): string {
  const kinds = p.followers.map((f) => f.slice(f.lastIndexOf('/') + 1).replace(/\d+$/, ''));
  const label = kinds.length ? `${p.path} → ${kinds.join(' → ')}` : p.path;
  if (!p.tokens) return label;
  const { skip, grid } = p.tokens;
  return `${label} (tokens ${skip + 1}–${skip + grid[0] * grid[1]} as the ${grid[0]}×${grid[1]} patch grid)`;
}
