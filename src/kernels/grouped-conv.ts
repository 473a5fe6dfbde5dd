// alexnetc's own convolution kernel, for what tfjs's Conv2D cannot say:
// explicit [top, left, bottom, right] pads kept inside im2col (no Pad before,
// no Slice in the gradient), groups, and stride with dilation together.
//   AlexnetcConv2D                {x, filter[, bias]}  attrs {strides, pads, dilations, groups}
//   AlexnetcConv2DBackpropInput   {dy, filter}         attrs + inputShape
//   AlexnetcConv2DBackpropFilter  {x, dy}              attrs + filterShape
// with a registered gradient, so tfjs only computes the input gradient when
// something needs it. Also: the Conv2D gradient for dilation > 1, which tfjs
// lacks (its gradient asserts dilation 1), on the cpu backend.
import type { KernelArgs, KernelFunc, TensorInfo, Tf } from './backend.js';
import { allFloat, onHeap } from './backend.js';
import { windowOut } from '../layers/window-size.js';
import { convBackpropFilter, convBackpropInput, convForward, type ConvGeom } from './ops/conv.js';
import { depthwiseBackpropFilter, depthwiseBackpropInput, depthwiseForward, isDepthwise } from './depthwise.js';

export const CONV = 'AlexnetcConv2D';
export const CONV_BP_INPUT = 'AlexnetcConv2DBackpropInput';
export const CONV_BP_FILTER = 'AlexnetcConv2DBackpropFilter';

export interface ConvAttrs {
  strides: [number, number];
  /** top, left, bottom, right */
  pads: [number, number, number, number];
  dilations: [number, number];
  groups: number;
}

/** The geometry of x [N, H, W, C] convolved with a filter [FH, FW, C/groups, F]. */
export function convGeom(xShape: readonly number[], filterShape: readonly number[], a: ConvAttrs): ConvGeom {
  const [N, H, W, C] = xShape as [number, number, number, number];
  const [FH, FW, , F] = filterShape as [number, number, number, number];
  const [SH, SW] = a.strides, [DH, DW] = a.dilations, [top, left, bottom, right] = a.pads;
  return {
    N, H, W, C, F, FH, FW, SH, SW, DH, DW, top, left, groups: a.groups,
    OH: windowOut(H, top, bottom, FH, SH, DH), OW: windowOut(W, left, right, FW, SW, DW),
  };
}

const forward: KernelFunc = (args) => {
  const a = args as unknown as KernelArgs;
  const { x, filter, bias } = a.inputs as { x: TensorInfo; filter: TensorInfo; bias?: TensorInfo };
  const g = convGeom(x.shape, filter.shape, a.attrs as unknown as ConvAttrs);
  if (!allFloat(x, filter, bias)) throw new Error(`${CONV}: float32 only`);
  return onHeap(a, undefined, (io) => {
    const b = bias === undefined ? 0 : io.input(bias);
    const y = isDepthwise(g) ? depthwiseForward(io, g, io.input(x), io.input(filter), b) : convForward(io, g, io.input(x), io.input(filter), b, false);
    return io.tensor(y.view, [g.N, g.OH, g.OW, g.F]);
  }) as TensorInfo;
};

const backpropInput: KernelFunc = (args) => {
  const a = args as unknown as KernelArgs;
  const { dy, filter } = a.inputs as { dy: TensorInfo; filter: TensorInfo };
  const shape = a.attrs.inputShape as number[];
  const g = convGeom(shape, filter.shape, a.attrs as unknown as ConvAttrs);
  const pass = isDepthwise(g) ? depthwiseBackpropInput : convBackpropInput;
  return onHeap(a, undefined, (io) => io.tensor(pass(io, g, io.input(dy), io.input(filter)).view, shape)) as TensorInfo;
};

const backpropFilter: KernelFunc = (args) => {
  const a = args as unknown as KernelArgs;
  const { x, dy } = a.inputs as { x: TensorInfo; dy: TensorInfo };
  const shape = a.attrs.filterShape as number[];
  const g = convGeom(x.shape, shape, a.attrs as unknown as ConvAttrs);
  const pass = isDepthwise(g) ? depthwiseBackpropFilter : convBackpropFilter;
  return onHeap(a, undefined, (io) => io.tensor(pass(io, g, io.input(x), io.input(dy)).view, shape)) as TensorInfo;
};

export const convKernels: Array<[string, KernelFunc]> = [[CONV, forward], [CONV_BP_INPUT, backpropInput], [CONV_BP_FILTER, backpropFilter]];

type Tensor = import('@tensorflow/tfjs').Tensor;
const run = (tf: Tf, name: string, inputs: Record<string, unknown>, attrs: Record<string, unknown>): Tensor =>
  tf.engine().runKernel(name, inputs as never, attrs as never) as Tensor;

export function registerConvGradient(tf: Tf): void {
  tf.registerGradient({
    kernelName: CONV,
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy, saved, attrs) => {
      const [x, filter] = saved as Tensor[];
      const d = dy as Tensor;
      return {
        x: () => run(tf, CONV_BP_INPUT, { dy: d, filter }, { ...attrs, inputShape: x!.shape }),
        filter: () => run(tf, CONV_BP_FILTER, { x, dy: d }, { ...attrs, filterShape: filter!.shape }),
        bias: () => tf.sum(d, [0, 1, 2]),
      };
    },
  });
}

/**
 * Conv2D's gradient for dilated convolutions on the cpu backend: the same
 * as the stock one, with the dilations passed to the backprop kernels
 * installed here (which honour them). Undilated calls keep the stock gradient.
 */
export function dilatedConv2DGradient(tf: Tf): Parameters<typeof tf.registerGradient>[0]['gradFunc'] {
  return (dy, saved, attrs) => {
    const [x, filter] = saved as Tensor[];
    const a = attrs as { strides: unknown; pad: unknown; dataFormat?: string; dimRoundingMode?: unknown; dilations?: number | [number, number] };
    const d = dy as Tensor;
    const common = { strides: a.strides, pad: a.pad, dataFormat: a.dataFormat ?? 'NHWC', dimRoundingMode: a.dimRoundingMode, dilations: a.dilations };
    return {
      x: () => run(tf, 'Conv2DBackpropInput', { dy: d, filter }, { ...common, inputShape: x!.shape }),
      filter: () => run(tf, 'Conv2DBackpropFilter', { x, dy: d }, { ...common, filterShape: filter!.shape }),
    };
  };
}

/** dilations > 1 in a conv attribute (number or pair) */
export function isDilated(d: unknown): boolean {
  return Array.isArray(d) ? d.some((v) => v !== 1) : d !== undefined && d !== 1;
}
