// The TensorFlow.js back end: a checked Network → a tf.LayersModel that
// computes what the ONNX graph computes, NHWC inside. Nothing here imports
// tfjs at module load: the namespace is passed in (see loadTf), so the
// compiler and language server stay light and one tfjs-core is loaded.
export { toTfjs, type TfjsOptions } from './build.js';
export { loadTf, provideTf, backendAnnouncement, BackendUnavailableError, type BackendChoice, type LoadedTf, type LoadOptions } from './backend.js';
export { registerCustomLayers, CUSTOM_LAYERS } from './custom.js';
export { saveTfjs, loadTfjs, fileSaver, fileLoader, MODEL_JSON, WEIGHTS_BIN } from './io.js';
export { tfjsModelWeights, WeightsMismatchError } from './weights.js';
export { planWeights, tfjsExampleShape, layerName, UnsupportedLayerError, type PlannedWeight } from './plan.js';
export type { Tf, LayersModel } from './tf.js';
