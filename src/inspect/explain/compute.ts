// The numbers behind the pictures, for one example: the activations of every
// convolution stage, the saliency (Simonyan et al. 2014: the gradient of the
// class score with respect to the input pixels, its largest magnitude over
// the channels) and Grad-CAM (Selvaraju et al. 2017: the probe's maps
// weighted by the spatial mean of the score's gradient there, summed, ReLU).
// The class score is the logit — the input of a final softmax — so one class
// is not explained by the others' scores going down.
//
// Intermediate outputs come from the tfjs model built from the network (tfjs
// layer names derive from stage paths: layerName). The gradient at the
// Grad-CAM probe is caught by an identity with a custom gradient put behind
// the probe's layer for the one backward pass that also gives the input
// gradient, so residual and concat networks need no surgery on the graph.
// A Vision Transformer's probe reads tokens: its patch tokens are laid on the
// patch grid (stages.ts: tokenProbe).
import type { Network } from '../../check/ir.js';
import { layerName, type LayersModel, type Tf } from '../../emit/tfjs/index.js';
import { resizeBilinear } from '../../train/data/index.js';
import { softmaxRows } from '../predict/index.js';
import { convStages, gradCamProbe, tokenProbe, type ConvStage, type Probe } from './stages.js';

type Tensor = import('@tensorflow/tfjs').Tensor;
type SymbolicTensor = import('@tensorflow/tfjs').SymbolicTensor;
type Layer = import('@tensorflow/tfjs').layers.Layer;

export interface FeatureMaps {
  stage: ConvStage;
  /** C × H × W, channels first */
  values: Float32Array;
}

export interface Explanation {
  /** per class: the model's probabilities */
  probabilities: Float32Array;
  /** the class explained (the predicted one unless asked otherwise) */
  target: number;
  /** what was differentiated */
  score: 'logit' | 'output';
  maps: FeatureMaps[];
  /** H × W at the network's input size: max over channels of |∂score/∂x| */
  saliency: Float32Array;
  gradcam?: {
    probe: Probe;
    /** h × w at the probe's size, ≥ 0 */
    coarse: Float32Array;
    /** H × W, bilinearly resized to the input */
    map: Float32Array;
  };
}

/** [1, H, W, C] values → C × H × W */
function toPlanar(v: Float32Array | Int32Array | Uint8Array, shape: readonly number[]): Float32Array {
  const [h, w, c] = [shape[1]!, shape[2]!, shape[3]!];
  const out = new Float32Array(c * h * w);
  for (let p = 0; p < h * w; p++) for (let ch = 0; ch < c; ch++) out[ch * h * w + p] = v[p * c + ch]!;
  return out;
}

/** [1, T, D] token values → D × gh × gw, the first `skip` tokens left out */
function tokensToPlanar(v: Float32Array | Int32Array | Uint8Array, shape: readonly number[], skip: number, grid: [number, number]): Float32Array {
  const d = shape[2]!;
  const cells = grid[0] * grid[1];
  if (shape[1] !== skip + cells) throw new Error(`internal: ${shape[1]} tokens, expected ${skip} + ${grid[0]}×${grid[1]}`);
  const out = new Float32Array(d * cells);
  for (let p = 0; p < cells; p++) for (let k = 0; k < d; k++) out[k * cells + p] = v[(skip + p) * d + k]!;
  return out;
}

/** A probe's tensor values, C × h × w. */
function probePlanar(p: Probe, v: Float32Array | Int32Array | Uint8Array, shape: readonly number[]): Float32Array {
  return p.tokens ? tokensToPlanar(v, shape, p.tokens.skip, p.tokens.grid) : toPlanar(v, shape);
}

function layerOf(model: LayersModel, path: string): Layer {
  return model.getLayer(layerName(path)) as unknown as Layer;
}

/** The tensor a probe reads: its last follower's output, else the node's own. */
function probeLayer(model: LayersModel, p: Probe): Layer {
  return layerOf(model, p.followers.length ? p.followers[p.followers.length - 1]! : p.node.path);
}

/**
 * Explain one example. `x` is the normalised input, channels first
 * ([C, H, W]); `model` is the tfjs model of `network` (toTfjs).
 */
export function explainExample(tf: Tf, model: LayersModel, network: Network, x: Float32Array, opts: { target?: number } = {}): Explanation {
  const [c, h, w] = network.input as [number, number, number];
  const stages = convStages(network);
  const camProbe = tokenProbe(network) ?? gradCamProbe(network, stages);
  const out = model.outputs[0]!;
  const last = out.sourceLayer;
  const endsWithSoftmax = last.getClassName() === 'Softmax';
  const logits = endsWithSoftmax ? tf.model({ inputs: model.inputs, outputs: last.input as SymbolicTensor }) : model;
  const probe = tf.model({ inputs: model.inputs, outputs: [out, ...stages.map((s) => probeLayer(model, s).output as SymbolicTensor)] });

  const input = tf.tidy(() => tf.tensor4d(x, [1, c, h, w]).transpose([0, 2, 3, 1]));
  let caught: Tensor | undefined;
  try {
    // forward: probabilities and every stage's activations
    const outs = probe.predict(input) as Tensor[];
    const outputs = Float32Array.from(outs[0]!.dataSync());
    // a network without a final softmax outputs logits (the trainer's convention): its probabilities are their softmax
    const probabilities = endsWithSoftmax ? outputs : softmaxRows(outputs, outputs.length);
    const maps = stages.map((stage, i) => ({ stage, values: toPlanar(outs[i + 1]!.dataSync() as Float32Array, outs[i + 1]!.shape) }));
    tf.dispose(outs);
    let target = opts.target ?? 0;
    if (opts.target === undefined) for (let k = 1; k < probabilities.length; k++) if (probabilities[k]! > probabilities[target]!) target = k;

    // backward: ∂score/∂input, and ∂score/∂(the Grad-CAM probe) caught on the way
    const camLayer = camProbe ? probeLayer(model, camProbe) : undefined;
    const catcher = tf.customGrad((...args: unknown[]) => {
      const a = args[0] as Tensor;
      return {
        value: a.clone(),
        gradFunc: (dy: Tensor) => {
          caught = tf.keep(dy.clone());
          return dy;
        },
      };
    });
    const original = camLayer?.call;
    if (camLayer) {
      camLayer.call = function (this: Layer, inputs, kwargs) {
        const y = original!.call(this, inputs, kwargs) as Tensor;
        return catcher(y);
      } as Layer['call'];
    }
    let dx: Float32Array;
    try {
      dx = tf.tidy(() => {
        const g = tf.grad((xi: Tensor) => (logits.apply(xi, { training: false }) as Tensor).slice([0, target], [1, 1]).sum())(input);
        return g.dataSync() as Float32Array;
      });
    } finally {
      if (camLayer) delete (camLayer as { call?: unknown }).call; // back to the prototype's
    }
    const saliency = new Float32Array(h * w);
    for (let p = 0; p < h * w; p++) {
      let m = 0;
      for (let ch = 0; ch < c; ch++) m = Math.max(m, Math.abs(dx[p * c + ch]!));
      saliency[p] = m;
    }

    let gradcam: Explanation['gradcam'];
    if (camProbe && caught) {
      const grads = probePlanar(camProbe, caught.dataSync() as Float32Array, caught.shape);
      const acts = camActivations(tf, model, camProbe, input, maps);
      gradcam = gradCam(camProbe, acts, grads, h, w);
    }
    return { probabilities, target, score: endsWithSoftmax ? 'logit' : 'output', maps, saliency, ...(gradcam ? { gradcam } : {}) };
  } finally {
    input.dispose();
    caught?.dispose();
  }
}

/** The probe's activations: already computed when it is a convolution stage, else one more forward pass. */
function camActivations(tf: Tf, model: LayersModel, p: Probe, input: Tensor, maps: FeatureMaps[]): Float32Array {
  const known = maps.find((m) => m.stage.node === p.node && m.stage.followers.join() === p.followers.join());
  if (known) return known.values;
  const sub = tf.model({ inputs: model.inputs, outputs: probeLayer(model, p).output as SymbolicTensor });
  const y = sub.predict(input) as Tensor;
  try {
    return probePlanar(p, y.dataSync() as Float32Array, y.shape);
  } finally {
    y.dispose();
  }
}

/** Grad-CAM from the probe's activations A and gradients G (both C × h × w): ReLU(Σ_k mean(G_k) · A_k), and resized to the input. */
export function gradCam(probe: Probe, acts: Float32Array, grads: Float32Array, H: number, W: number): NonNullable<Explanation['gradcam']> {
  const [c, h, w] = probe.shape;
  const plane = h * w;
  const coarse = new Float32Array(plane);
  for (let k = 0; k < c; k++) {
    let alpha = 0;
    for (let p = 0; p < plane; p++) alpha += grads[k * plane + p]!;
    alpha /= plane;
    for (let p = 0; p < plane; p++) coarse[p]! += alpha * acts[k * plane + p]!;
  }
  for (let p = 0; p < plane; p++) coarse[p] = Math.max(0, coarse[p]!);
  const map = resizeBilinear(coarse, 1, h, w, H, W);
  return { probe, coarse, map: map === coarse ? Float32Array.from(coarse) : map };
}
