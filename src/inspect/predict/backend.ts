// On pure-JS tfjs (the cpu backend) inference and its gradients run on the
// training wing's fast cpu kernels (im2col + WebAssembly-SIMD GEMM, checked
// against the stock kernels by their conformance tests): explaining AlexNet
// takes ~9 s of CPU with them and ~60 s without. Native backends are left alone.
import type { Tf } from '../../emit/tfjs/index.js';

/** Install the fast cpu kernels when `tf` runs on the cpu backend; returns how many are active. */
export async function useFastCpuKernels(tf: Tf): Promise<number> {
  if (tf.getBackend() !== 'cpu') return 0;
  const { installFastKernels } = await import('../../train/kernels/index.js');
  return installFastKernels(tf as unknown as Parameters<typeof installFastKernels>[0]).length;
}
