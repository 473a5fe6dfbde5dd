// What the engine-boundary tests (pruning masks, freezing, the torch engine's
// hooks) build an engine from: a small setup on three classes, seeded masks,
// and random batches in either engine's layout.
import { layers, type Network } from '../src/check/ir.js';
import type { EngineSetup } from '../src/train/engine.js';
import { DEFAULTS, type TrainSettings } from '../src/train/config.js';
import { randomInput } from './onnx/helpers.js';

/**
 * An EngineSetup for `n` (written in `file`, network M): lr 0.05, no
 * augmentation, classes a, b, c, identity normalisation for 2 channels, cpu
 * (the tfjs engine ignores `options`).
 */
export function engineSetup(n: Network, file: string, extra: Partial<EngineSetup> = {}, settings: Partial<TrainSettings> = {}): EngineSetup {
  return {
    network: n,
    settings: { ...DEFAULTS, lr: 0.05, ...settings, augment: { crop: 0, flip: false } },
    classes: ['a', 'b', 'c'],
    normalization: { mean: [0, 0], std: [1, 1], scale: 1 },
    source: { file, network: 'M', set: {}, data: 'none' },
    backend: 'cpu',
    options: { device: 'cpu' },
    say: () => {},
    ...extra,
  };
}

/** Half of every conv/dense weight masked, at seeded positions. */
export function halfMasks(n: Network): Map<string, Uint8Array> {
  const m = new Map<string, Uint8Array>();
  let k = 1;
  for (const l of layers(n.body)) {
    if (l.layer.name !== 'conv' && l.layer.name !== 'dense') continue;
    const size = l.weights[0]!.shape.reduce((a, b) => a * b, 1);
    m.set(`${l.path}.weight`, Uint8Array.from({ length: size }, () => ((k = (k * 1103515245 + 12345) >>> 0) >>> 16) & 1));
  }
  return m;
}

/** 8 random 2×6×6 examples of classes 0–2: NHWC for the tfjs engine, NCHW for torch. */
export function batch(seed: number, layout: 'NCHW' | 'NHWC') {
  return { x: randomInput(8 * 72, seed), labels: Int32Array.from({ length: 8 }, (_, i) => (i * seed) % 3), count: 8, shape: layout === 'NCHW' ? [8, 2, 6, 6] : [8, 6, 6, 2] };
}
