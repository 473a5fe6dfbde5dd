// Registers the fast cpu kernels. The lists are the registry: tfjs kernels
// replaced (each keeps the stock one as its fallback), alexnetc's own kernels
// (what its custom layers and the gradients below call), and the gradients
// replaced by single fused kernels.
import type { FastKernel, KernelFunc, Tf } from './backend.js';
import { activationGradients, fastLeakyRelu, fastRelu, fastSigmoid, fastTanh, GRAD_KERNELS, gradKernel, overrideGradient, restoreGradient } from './activations.js';
import { batchNormKernels, registerBatchNormGradient } from './batchnorm.js';
import { fastAddN, makeBinary } from './binary.js';
import { makeConv2D, makeConv2DBackpropFilter, makeConv2DBackpropInput, makeFusedConv2D } from './conv2d.js';
import { convKernels, dilatedConv2DGradient, isDilated, registerConvGradient } from './grouped-conv.js';
import { fastBatchMatMul, fastFusedMatMul } from './matmul.js';
import { makeConcat, makeSplitV } from './concat.js';
import { fastLrn, fastLrnGrad } from './lrn.js';
import { makeAvgPool, makeAvgPoolGrad, makeMaxPool, makeMaxPoolGrad } from './pool.js';
import { runtime } from './runtime/index.js';
import { fastSoftmax, softmaxGrad, softmaxGradient } from './softmax.js';
import { fastSum } from './sum.js';
import { MASK_GRAD, maskGrad, minMaxGradient } from './minmax.js';
import { withMiddleBroadcast, withMiddleSum } from './broadcast.js';
import { withPermute } from './permute.js';
import { layerNormKernels, registerLayerNormGradients } from './layernorm.js';
import { withSmallBatches } from './batched-matmul.js';
import { fastPrelu, preluGradient, preluKernels } from './prelu.js';
import { installOptimizers, uninstallOptimizers } from './optimizers.js';
import { fastTranspose } from './transpose.js';

function replaced(tf: Tf): Array<[string, FastKernel]> {
  return [
    ['Conv2D', makeConv2D(tf)],
    ['FusedConv2D', makeFusedConv2D(tf)],
    ['Conv2DBackpropFilter', makeConv2DBackpropFilter(tf)],
    ['Conv2DBackpropInput', makeConv2DBackpropInput(tf)],
    ['MaxPool', makeMaxPool(tf)],
    ['MaxPoolGrad', makeMaxPoolGrad(tf)],
    ['AvgPool', makeAvgPool(tf)],
    ['AvgPoolGrad', makeAvgPoolGrad(tf)],
    ['Sum', withMiddleSum(fastSum)],
    ['Relu', fastRelu],
    ['LeakyRelu', fastLeakyRelu],
    ['Sigmoid', fastSigmoid],
    ['Tanh', fastTanh],
    ['Add', withMiddleBroadcast(tf, 'add', makeBinary(tf, 'add'))],
    ['Sub', withMiddleBroadcast(tf, 'sub', makeBinary(tf, 'sub'))],
    ['Multiply', withMiddleBroadcast(tf, 'mul', makeBinary(tf, 'mul'))],
    ['RealDiv', withMiddleBroadcast(tf, 'div', makeBinary(tf, 'div'))],
    ['AddN', fastAddN],
    ['BatchMatMul', withSmallBatches(fastBatchMatMul)],
    ['_FusedMatMul', fastFusedMatMul],
    ['Transpose', withPermute(fastTranspose)],
    ['Concat', makeConcat(tf)],
    ['SplitV', makeSplitV(tf)],
    ['LRN', fastLrn],
    ['LRNGrad', fastLrnGrad],
    ['Softmax', fastSoftmax],
    ['Minimum', makeBinary(tf, 'min')],
    ['Maximum', makeBinary(tf, 'max')],
    ['Prelu', fastPrelu],
  ];
}

function own(): Array<[string, KernelFunc]> {
  return [
    ...GRAD_KERNELS.map(([name, kernel, inputs, alpha]): [string, KernelFunc] => [name, gradKernel(kernel, inputs, alpha)]),
    ...batchNormKernels,
    ...convKernels,
    ['AlexnetcSoftmaxGrad', softmaxGrad],
    [MASK_GRAD, maskGrad],
    ...layerNormKernels,
    ...preluKernels,
  ];
}

function gradients(tf: Tf): Array<[string, Parameters<typeof overrideGradient>[2]]> {
  const stockConv = tf.getGradient('Conv2D');
  const dilated = dilatedConv2DGradient(tf);
  const minMax = (['Minimum', 'Maximum'] as const).flatMap((k): Array<[string, Parameters<typeof overrideGradient>[2]]> => {
    const g = minMaxGradient(tf, k);
    return g === undefined ? [] : [[k, g]];
  });
  const prelu = preluGradient(tf);
  if (prelu !== undefined) minMax.push(['Prelu', prelu]);
  return [
    ...activationGradients(tf),
    ...minMax,
    ['Softmax', softmaxGradient(tf)],
    ['Conv2D', (dy, saved, attrs) =>
      isDilated((attrs as { dilations?: unknown }).dilations) || stockConv === undefined ? dilated(dy, saved, attrs) : stockConv.gradFunc(dy, saved, attrs)],
  ];
}

/** Marks our kernel funcs so a second install (or a second tf handle) is a no-op. */
const FAST = Symbol.for('alexnetc.fastKernel');
interface Marked { [FAST]?: KernelFunc }

/** The stock kernel replaced under this name, or the registered one if none is (for tests and uninstall). */
export function stockKernel(tf: Tf, name: string): KernelFunc | undefined {
  const k = tf.getKernel(name, 'cpu');
  if (k === undefined) return undefined;
  return (k.kernelFunc as Marked)[FAST] ?? k.kernelFunc;
}

/**
 * Replace slow cpu-backend kernels with the wasm ones, and register
 * alexnetc's own kernels and fused gradients. Idempotent. Returns the names
 * of what is now fast; empty where wasm SIMD with shared memory is missing
 * (the stock kernels then stay).
 */
export function installFastKernels(tf: Tf): string[] {
  if (runtime() === null) return [];
  const installed: string[] = [];
  for (const [name, fast] of replaced(tf)) {
    const current = tf.getKernel(name, 'cpu');
    if (current === undefined) continue;
    if ((current.kernelFunc as Marked)[FAST] !== undefined) { installed.push(name); continue; }
    const stock = current.kernelFunc;
    const kernelFunc: KernelFunc = (args) => fast(args as never, stock) as ReturnType<KernelFunc>;
    (kernelFunc as Marked)[FAST] = stock;
    tf.unregisterKernel(name, 'cpu');
    tf.registerKernel({ ...current, kernelFunc });
    installed.push(name);
  }
  for (const [name, kernelFunc] of own()) {
    if (tf.getKernel(name, 'cpu') === undefined) tf.registerKernel({ kernelName: name, backendName: 'cpu', kernelFunc });
    installed.push(name);
  }
  registerBatchNormGradient(tf);
  registerConvGradient(tf);
  registerLayerNormGradients(tf);
  for (const [name, grad] of gradients(tf)) if (overrideGradient(tf, name, grad)) installed.push(`${name} gradient`);
  installed.push(...installOptimizers(tf));
  return installed;
}

/** Put the stock kernels back and withdraw alexnetc's own (benchmarks and tests compare both in one process). */
export function uninstallFastKernels(tf: Tf): void {
  for (const [name] of replaced(tf)) {
    const current = tf.getKernel(name, 'cpu');
    const stock = current === undefined ? undefined : (current.kernelFunc as Marked)[FAST];
    if (current === undefined || stock === undefined) continue;
    tf.unregisterKernel(name, 'cpu');
    tf.registerKernel({ ...current, kernelFunc: stock });
  }
  for (const [name] of own()) if (tf.getKernel(name, 'cpu') !== undefined) tf.unregisterKernel(name, 'cpu');
  for (const [name] of gradients(tf)) restoreGradient(tf, name);
  uninstallOptimizers(tf);
}
