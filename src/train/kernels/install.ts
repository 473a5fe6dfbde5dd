// Registers the fast cpu kernels in place of the stock ones. The list is the
// registry: one entry per kernel, each with the stock kernel kept as fallback.
import type { FastKernel, KernelFunc, Tf } from './backend.js';
import { makeAvgPool } from './avg-pool.js';
import { makeAvgPoolGrad } from './avg-pool-grad.js';
import { makeBinary } from './binary.js';
import { makeConv2D } from './conv2d.js';
import { makeConv2DBackpropFilter } from './conv2d-backprop-filter.js';
import { makeConv2DBackpropInput } from './conv2d-backprop-input.js';
import { makeFusedConv2D } from './fused-conv2d.js';
import { fastBatchMatMul, fastFusedMatMul } from './matmul.js';
import { fastSum } from './sum.js';
import { fastTanh } from './tanh.js';
import { installTanhGrad, uninstallTanhGrad } from './tanh-grad.js';

function fastKernels(tf: Tf): Array<[string, FastKernel]> {
  return [
    ['Conv2D', makeConv2D(tf)],
    ['FusedConv2D', makeFusedConv2D(tf)],
    ['Conv2DBackpropFilter', makeConv2DBackpropFilter(tf)],
    ['Conv2DBackpropInput', makeConv2DBackpropInput(tf)],
    ['AvgPool', makeAvgPool(tf)],
    ['AvgPoolGrad', makeAvgPoolGrad(tf)],
    ['Sum', fastSum],
    ['Tanh', fastTanh],
    ['Add', makeBinary(tf, 'add')],
    ['Sub', makeBinary(tf, 'sub')],
    ['Multiply', makeBinary(tf, 'mul')],
    ['RealDiv', makeBinary(tf, 'div')],
    ['BatchMatMul', fastBatchMatMul],
    ['_FusedMatMul', fastFusedMatMul],
  ];
}

/** Marks our kernel funcs so a second install (or a second tf handle) is a no-op. */
const FAST = Symbol.for('alexnetc.fastKernel');
interface Marked { [FAST]?: KernelFunc }

/** The stock kernels replaced so far, by name (for tests and uninstall). */
export function stockKernel(tf: Tf, name: string): KernelFunc | undefined {
  const k = tf.getKernel(name, 'cpu');
  if (k === undefined) return undefined;
  return (k.kernelFunc as Marked)[FAST] ?? k.kernelFunc;
}

/**
 * Replace slow cpu-backend kernels with im2col/GEMM ones. Idempotent. Returns
 * the names of the kernels that are now fast.
 */
export function installFastKernels(tf: Tf): string[] {
  const installed: string[] = [];
  for (const [name, fast] of fastKernels(tf)) {
    const current = tf.getKernel(name, 'cpu');
    if (current === undefined) continue;
    if ((current.kernelFunc as Marked)[FAST] !== undefined) { installed.push(name); continue; }
    const stock = current.kernelFunc;
    const kernelFunc: KernelFunc = (args) => fast(args as never, stock);
    (kernelFunc as Marked)[FAST] = stock;
    tf.unregisterKernel(name, 'cpu');
    tf.registerKernel({ ...current, kernelFunc });
    installed.push(name);
  }
  if (installTanhGrad(tf)) installed.push('Tanh gradient');
  return installed;
}

/** Put the stock kernels back (benchmarks compare both in one process). */
export function uninstallFastKernels(tf: Tf): void {
  for (const [name] of fastKernels(tf)) {
    const current = tf.getKernel(name, 'cpu');
    const stock = current === undefined ? undefined : (current.kernelFunc as Marked)[FAST];
    if (current === undefined || stock === undefined) continue;
    tf.unregisterKernel(name, 'cpu');
    tf.registerKernel({ ...current, kernelFunc: stock });
  }
  uninstallTanhGrad(tf);
}
