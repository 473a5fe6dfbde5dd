// `import 'alexnetc/tfjs'`: registers alexnetc's custom layers (AlexnetcLRN,
// AlexnetcConv2D, AlexnetcPool2D) so that a plain
// `tf.loadLayersModel('file://DIR/model.json')` loads every compiled model.
// It imports @tensorflow/tfjs, which is the same module instance tfjs-node
// and tfjs-node-gpu re-export, so the registration reaches their tfjs-core too.
// Programs that hold a tfjs namespace of their own can call registerCustomLayers(tf).
//
// In Node, pure @tensorflow/tfjs has no file:// handler (its loadLayersModel
// would try fetch and fail); where none is registered, this registers one
// that reads and writes exactly what tfjs-node's does (model.json +
// weights.bin). Where tfjs-node is loaded, its own handler stays in charge.
import * as tf from '@tensorflow/tfjs';
import { registerCustomLayers } from './custom.js';

registerCustomLayers(tf);

if (typeof process !== 'undefined' && process.versions?.node !== undefined) {
  const { fileLoader, fileSaver } = await import('./io.js');
  const { fileURLToPath } = await import('node:url');
  const path = await import('node:path');
  const toPath = (url: string): string => (url.startsWith('file:///') ? fileURLToPath(url) : url.slice('file://'.length));
  const isFile = (url: unknown): url is string => typeof url === 'string' && url.startsWith('file://');
  if (tf.io.getLoadHandlers('file:///model.json').length === 0) {
    tf.io.registerLoadRouter(((url: unknown) => (isFile(url) ? fileLoader(path.dirname(toPath(url))) : null)) as Parameters<typeof tf.io.registerLoadRouter>[0]);
  }
  if (tf.io.getSaveHandlers('file:///model').length === 0) {
    tf.io.registerSaveRouter(((url: unknown) => (isFile(url) ? fileSaver(toPath(url)) : null)) as Parameters<typeof tf.io.registerLoadRouter>[0]);
  }
}

export { registerCustomLayers, CUSTOM_LAYERS } from './custom.js';
