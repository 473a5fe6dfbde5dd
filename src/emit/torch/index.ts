// The PyTorch target: a checked network → one self-contained Python module.
export { toTorchModule, torchClassName, TorchUnsupportedError, type TorchModuleOptions } from './module.js';
