// The tfjs namespace the program loaded: pure @tensorflow/tfjs, or tfjs-node /
// tfjs-node-gpu, which re-export it. Only its type is imported here; the value
// is always passed in, so one tfjs-core is ever loaded.
export type Tf = typeof import('@tensorflow/tfjs');
export type LayersModel = import('@tensorflow/tfjs').LayersModel;
