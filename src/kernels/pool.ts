// MaxPool, AvgPool and their gradients over NHWC on the wasm kernels of
// wasm/pool.ts (driven by ops/pool.ts, as the compiled step drives them): any window, stride and padding (explicit pads included, so a
// ceil-mode pool needs no padded copy). MaxPoolGrad takes the first maximum
// of each window, as the stock kernel does; AvgPoolGrad divides by the cells
// inside the image, which makes it the true gradient of AvgPool (the stock
// gradient divides by the whole window, wrong under padding and equal to this
// without).
import type { FastKernel, TensorInfo, Tf } from './backend.js';
import { allFloat, onHeap, pool2DInfo } from './backend.js';
import type { ConvGeom } from './ops/conv.js';
import { poolBackward, poolForward } from './ops/pool.js';

type PoolInfo = ReturnType<typeof pool2DInfo>;

function poolGeom(pi: PoolInfo): ConvGeom {
  return {
    N: pi.batchSize, H: pi.inHeight, W: pi.inWidth, C: pi.inChannels, OH: pi.outHeight, OW: pi.outWidth, F: pi.inChannels,
    FH: pi.filterHeight, FW: pi.filterWidth, SH: pi.strideHeight, SW: pi.strideWidth, DH: 1, DW: 1,
    top: pi.padInfo.top, left: pi.padInfo.left, groups: 1,
  };
}

const nhwc = (pi: PoolInfo): boolean => pi.dataFormat === 'channelsLast' && pi.dilationHeight === 1 && pi.dilationWidth === 1;

function forward(tf: Tf, kind: 'max' | 'avg'): FastKernel {
  return (args, fallback) => {
    const { x } = args.inputs as { x: TensorInfo };
    if (x.shape.length !== 4 || !allFloat(x)) return fallback(args as never) as TensorInfo;
    const pi = pool2DInfo(tf, x.shape, args.attrs);
    if (!nhwc(pi)) return fallback(args as never) as TensorInfo;
    return onHeap(args, fallback, (io) => io.tensor(poolForward(io, kind, poolGeom(pi), io.input(x)).view, pi.outShape));
  };
}

export function makeMaxPoolGrad(tf: Tf): FastKernel {
  return (args, fallback) => {
    const { dy, input, output } = args.inputs as { dy: TensorInfo; input: TensorInfo; output: TensorInfo };
    if (input.shape.length !== 4 || !allFloat(dy, input, output)) return fallback(args as never) as TensorInfo;
    const pi = pool2DInfo(tf, input.shape, args.attrs);
    if (!nhwc(pi)) return fallback(args as never) as TensorInfo;
    return onHeap(args, fallback, (io) => io.tensor(poolBackward(io, 'max', poolGeom(pi), io.input(input), io.input(output), io.input(dy)).view, input.shape));
  };
}

export function makeAvgPoolGrad(tf: Tf): FastKernel {
  return (args, fallback) => {
    const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo };
    if (input.shape.length !== 4 || !allFloat(dy)) return fallback(args as never) as TensorInfo;
    const pi = pool2DInfo(tf, input.shape, args.attrs);
    if (!nhwc(pi)) return fallback(args as never) as TensorInfo;
    return onHeap(args, fallback, (io) => io.tensor(poolBackward(io, 'avg', poolGeom(pi), 0, 0, io.input(dy)).view, input.shape));
  };
}

export const makeMaxPool = (tf: Tf): FastKernel => forward(tf, 'max');
export const makeAvgPool = (tf: Tf): FastKernel => forward(tf, 'avg');
