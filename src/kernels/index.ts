// The fast cpu kernels for pure @tensorflow/tfjs: wasm SIMD, on worker
// threads over shared memory. installFastKernels(tf) puts them in place;
// setKernelThreads(n) (or ALEXNETC_THREADS) says how many threads they use.
export { installFastKernels, uninstallFastKernels, stockKernel } from './install.js';
export { setKernelThreads, kernelThreads, runtimeUnavailable } from './runtime/index.js';
export { kernelMemory } from './runtime/stats.js';
