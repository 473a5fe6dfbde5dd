export { installFastKernels, uninstallFastKernels, stockKernel } from './install.js';
export { gemmNT } from './gemm.js';
