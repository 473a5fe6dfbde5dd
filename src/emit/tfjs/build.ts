// A checked Network → a tf.LayersModel. Inside tfjs, images are channels-last:
// the model takes [N, H, W, C] where ONNX takes [N, C, H, W], and an image
// output comes out [N, H, W, C]; vectors ([N, F]) are the same in both.
// Weights come in canonical (ONNX / PyTorch) layout and are converted here.
import type { Network } from '../../check/ir.js';
import { seededWeights, type WeightSource } from '../onnx/index.js';
import { registerCustomLayers } from './custom.js';
import { toTfjs as toTfjsLayout } from './layout.js';
import { INPUT_NAME, planNetwork, type PlannedWeight } from './plan.js';
import type { LayersModel, Tf } from './tf.js';

type SymbolicTensor = import('@tensorflow/tfjs').SymbolicTensor;
type Layer = import('@tensorflow/tfjs').layers.Layer;

export interface TfjsOptions {
  /** trained weights in canonical layout; default: seeded initialisation (the same values writeOnnx uses) */
  weights?: WeightSource;
  /** seed for the default initialisation (default 0) */
  seed?: number;
}

/** Build the tfjs model of a checked network, with `tf` the namespace the program loaded (see loadTf). */
export function toTfjs(tf: Tf, network: Network, opts: TfjsOptions = {}): LayersModel {
  registerCustomLayers(tf);
  const classes = tf.serialization.SerializationMap.getMap().classNameMap;
  const plan = planNetwork<SymbolicTensor>(network, {
    input: (shape) => tf.input({ shape, name: INPUT_NAME }),
    apply(name, className, config, inputs) {
      const entry = classes[className];
      if (!entry) throw new Error(`tfjs has no layer class ${className}`);
      const Cls = entry[0] as unknown as new (c: Record<string, unknown>) => Layer;
      const layer = new Cls({ ...config, name });
      return layer.apply(inputs.length === 1 ? inputs[0]! : inputs) as SymbolicTensor;
    },
  });
  const model = tf.model({ inputs: plan.input, outputs: plan.output, name: network.name });
  try {
    setWeights(tf, model, plan.weights, opts.weights ?? seededWeights(opts.seed ?? 0));
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}

/** Fill each tfjs layer from the source, one layer at a time so peak memory stays near one layer's weights. */
function setWeights(tf: Tf, model: LayersModel, planned: PlannedWeight[], source: WeightSource): void {
  const byLayer = new Map<string, PlannedWeight[]>();
  for (const p of planned) {
    const list = byLayer.get(p.layer);
    if (list) list.push(p);
    else byLayer.set(p.layer, [p]);
  }
  for (const [name, ws] of byLayer) {
    const layer = model.getLayer(name);
    const actual = layer.weights.map((w) => w.originalName);
    const expected = ws.map((w) => w.name);
    if (actual.length !== expected.length || actual.some((a, i) => a !== expected[i])) {
      throw new Error(`tfjs layer ${name} has weights [${actual.join(', ')}], the lowering declared [${expected.join(', ')}]`);
    }
    const tensors = ws.map((w) => {
      const values = source.get(w.path, w.spec);
      const count = w.shape.reduce((a, b) => a * b, 1);
      if (values.length !== count) {
        throw new Error(`weight ${w.path}.${w.spec.name}: expected ${count} values for shape [${w.spec.shape.join(', ')}], got ${values.length}`);
      }
      return tf.tensor(toTfjsLayout(values, w.spec.shape, w.layout), w.shape, 'float32');
    });
    try {
      layer.setWeights(tensors);
    } finally {
      tf.dispose(tensors);
    }
  }
}
