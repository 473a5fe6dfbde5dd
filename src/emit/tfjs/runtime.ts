// `import 'alexnetc/tfjs'`: registers alexnetc's custom layers (AlexnetcLRN,
// AlexnetcConv2D, AlexnetcPool2D) so that a plain
// `tf.loadLayersModel('file://DIR/model.json')` loads every compiled model.
// It imports @tensorflow/tfjs, which is the same module instance tfjs-node
// and tfjs-node-gpu re-export, so the registration reaches their tfjs-core too.
// Programs that hold a tfjs namespace of their own can call registerCustomLayers(tf).
import * as tf from '@tensorflow/tfjs';
import { registerCustomLayers } from './custom.js';

registerCustomLayers(tf);

export { registerCustomLayers, CUSTOM_LAYERS } from './custom.js';
