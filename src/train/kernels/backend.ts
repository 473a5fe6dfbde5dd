// The slice of tfjs' kernel API these kernels use. Types only: the caller
// passes its own tf namespace, so no second copy of tfjs-core gets loaded.
import type * as tfTypes from '@tensorflow/tfjs';

export type Tf = typeof tfTypes;
export type TensorInfo = tfTypes.TensorInfo;
export type ConvInfo = tfTypes.backend_util.Conv2DInfo;
export type KernelFunc = tfTypes.KernelFunc;

/** What the cpu backend exposes that we need (MathBackendCPU, structurally). */
export interface CpuBackend {
  data: { get(dataId: object): { values: unknown } };
  makeTensorInfo(shape: number[], dtype: string, values: Float32Array): TensorInfo;
  disposeIntermediateTensorInfo(t: TensorInfo): void;
}

export interface KernelArgs {
  inputs: Record<string, TensorInfo | undefined>;
  backend: CpuBackend;
  attrs: Record<string, unknown>;
}

export function valuesOf(backend: CpuBackend, t: TensorInfo): Float32Array {
  const v = backend.data.get(t.dataId).values;
  if (v instanceof Float32Array) return v;
  // int32 or other numeric typed arrays: convert once, conv kernels are float.
  return Float32Array.from(v as ArrayLike<number>);
}

/** A kernel implemented here, plus the stock one to fall back on. */
export type FastKernel = (args: KernelArgs, fallback: KernelFunc) => TensorInfo;

/** tfjs's pooling geometry for an NHWC input and a pool kernel's attributes (shared by AvgPool and its gradient). */
export function pool2DInfo(tf: Tf, shape: readonly number[], a: Record<string, unknown>) {
  return tf.backend_util.computePool2DInfo(
    shape as [number, number, number, number],
    a.filterSize as [number, number] | number,
    a.strides as [number, number] | number,
    1,
    a.pad as 'valid' | 'same' | number,
    a.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
  );
}
