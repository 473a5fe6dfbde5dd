// The slice of tfjs' kernel API these kernels use. Types only: the caller
// passes its own tf namespace, so no second copy of tfjs-core gets loaded.
import type * as tfTypes from '@tensorflow/tfjs';
import { runtime } from './runtime/index.js';
import { OutOfKernelMemory } from './runtime/heap.js';
import { Io } from './runtime/tensors.js';

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

/** A kernel implemented here, plus the stock one to fall back on (absent for alexnetc's own kernels). */
export type FastKernel = (args: KernelArgs, fallback: KernelFunc) => TensorInfo | TensorInfo[];

/**
 * Run a kernel body on the heap: inputs brought in, temporaries freed after.
 * The body returns null to hand the call to the stock kernel (an unusual
 * dtype or layout); so does a machine without wasm SIMD, and a heap that has
 * reached wasm32's 4 GiB.
 */
export function onHeap(
  args: KernelArgs, fallback: KernelFunc | undefined, body: (io: Io) => TensorInfo | TensorInfo[] | null,
): TensorInfo | TensorInfo[] {
  const rt = runtime();
  let out: TensorInfo | TensorInfo[] | null = null;
  if (rt !== null) {
    const io = new Io(rt, args.backend);
    try {
      out = body(io);
    } catch (e) {
      // the heap's 4 GiB are full: the stock kernel (its arrays live outside the heap) still can
      if (!(e instanceof OutOfKernelMemory) || fallback === undefined) throw e;
    } finally {
      io.release();
    }
  }
  if (out !== null) return out;
  if (fallback === undefined) throw new Error('alexnetc kernel: no wasm runtime and no stock kernel to fall back on');
  return fallback(args as never) as TensorInfo | TensorInfo[];
}

export const size = (shape: readonly number[]): number => shape.reduce((p, d) => p * d, 1);

/** The sizes of `shape`'s axes before k, from k to m, and from m on: a tensor as [outer, mid, inner]. */
export const aroundAxes = (shape: readonly number[], k: number, m: number): [number, number, number] =>
  [size(shape.slice(0, k)), size(shape.slice(k, m)), size(shape.slice(m))];

/** float32 inputs (the only dtype these kernels compute) */
export const allFloat = (...ts: Array<TensorInfo | undefined>): boolean => ts.every((t) => t === undefined || t.dtype === 'float32');

/** tfjs's pooling geometry for an NHWC input and a pool kernel's attributes. */
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
