// MaxPool, AvgPool and their gradients over NHWC on the wasm kernels of
// wasm/pool.ts: any window, stride and padding (explicit pads included, so a
// ceil-mode pool needs no padded copy). MaxPoolGrad takes the first maximum
// of each window, as the stock kernel does; AvgPoolGrad divides by the cells
// inside the image, which makes it the true gradient of AvgPool (the stock
// gradient divides by the whole window, wrong under padding and equal to this
// without).
import type { FastKernel, TensorInfo, Tf } from './backend.js';
import { allFloat, onHeap, pool2DInfo } from './backend.js';
import { bandRows, geomBlock, zeroFill, type ConvGeom } from './ops/conv.js';
import type { Io } from './runtime/tensors.js';

type PoolInfo = ReturnType<typeof pool2DInfo>;

function poolGeom(pi: PoolInfo): ConvGeom {
  return {
    N: pi.batchSize, H: pi.inHeight, W: pi.inWidth, C: pi.inChannels, OH: pi.outHeight, OW: pi.outWidth, F: pi.inChannels,
    FH: pi.filterHeight, FW: pi.filterWidth, SH: pi.strideHeight, SW: pi.strideWidth, DH: 1, DW: 1,
    top: pi.padInfo.top, left: pi.padInfo.left, groups: 1,
  };
}

const nhwc = (pi: PoolInfo): boolean => pi.dataFormat === 'channelsLast' && pi.dilationHeight === 1 && pi.dilationWidth === 1;

function forward(tf: Tf, kernel: 'maxpool_fwd' | 'avgpool_fwd'): FastKernel {
  return (args, fallback) => {
    const { x } = args.inputs as { x: TensorInfo };
    if (x.shape.length !== 4 || !allFloat(x)) return fallback(args as never) as TensorInfo;
    const pi = pool2DInfo(tf, x.shape, args.attrs);
    if (!nhwc(pi)) return fallback(args as never) as TensorInfo;
    return onHeap(args, fallback, (io) => {
      const g = poolGeom(pi);
      const rows = g.N * g.OH;
      const y = io.output(rows * g.OW * g.C);
      const rowsPer = Math.max(1, Math.ceil(rows / (8 * io.rt.threads)));
      io.rt.parallel(kernel, Math.ceil(rows / rowsPer), [geomBlock(io, g), io.input(x), y.p, rowsPer],
        rows * g.OW * g.C * g.FH * g.FW < 1 << 16);
      return io.tensor(y.view, pi.outShape);
    });
  };
}

/** dx (zeroed) += the scatter of dy over the windows, band by band (see wasm/pool.ts). */
function scatter(io: Io, g: ConvGeom, kernel: 'maxpool_grad' | 'avgpool_grad', inputs: number[]): { p: number; view: Float32Array } {
  const n = g.N * g.H * g.W * g.C;
  const dx = io.output(n);
  zeroFill(io, dx.p, n);
  const { bh, nbands } = bandRows(g, 1 << 14);
  const geom = geomBlock(io, g);
  // max: a "found" mask per channel for each thread
  const extra = kernel === 'maxpool_grad' ? [io.temp(io.rt.threads * g.C + 4)] : [];
  for (const phase of [0, 1]) {
    const per = (nbands - phase + 1) >> 1;
    io.rt.parallel(kernel, g.N * per, [geom, ...inputs, dx.p, phase, bh, nbands, ...extra], g.N * g.OH * g.OW * g.C * g.FH * g.FW < 1 << 16);
  }
  return dx;
}

export function makeMaxPoolGrad(tf: Tf): FastKernel {
  return (args, fallback) => {
    const { dy, input, output } = args.inputs as { dy: TensorInfo; input: TensorInfo; output: TensorInfo };
    if (input.shape.length !== 4 || !allFloat(dy, input, output)) return fallback(args as never) as TensorInfo;
    const pi = pool2DInfo(tf, input.shape, args.attrs);
    if (!nhwc(pi)) return fallback(args as never) as TensorInfo;
    return onHeap(args, fallback, (io) => {
      const dx = scatter(io, poolGeom(pi), 'maxpool_grad', [io.input(input), io.input(output), io.input(dy)]);
      return io.tensor(dx.view, input.shape);
    });
  };
}

export function makeAvgPoolGrad(tf: Tf): FastKernel {
  return (args, fallback) => {
    const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo };
    if (input.shape.length !== 4 || !allFloat(dy)) return fallback(args as never) as TensorInfo;
    const pi = pool2DInfo(tf, input.shape, args.attrs);
    if (!nhwc(pi)) return fallback(args as never) as TensorInfo;
    return onHeap(args, fallback, (io) => io.tensor(scatter(io, poolGeom(pi), 'avgpool_grad', [io.input(dy)]).view, input.shape));
  };
}

export const makeMaxPool = (tf: Tf): FastKernel => forward(tf, 'maxpool_fwd');
export const makeAvgPool = (tf: Tf): FastKernel => forward(tf, 'avgpool_fwd');
