// FusedConv2D (conv + bias + activation) is what tfjs-layers' conv2d calls.
// The stock kernel calls the stock conv directly, not through the registry,
// so it must be replaced too. Bias and activation are applied in place;
// anything unusual (NCHW, prelu, broadcast bias) goes to the stock kernel.
import type { CpuBackend, FastKernel, TensorInfo, Tf } from './backend.js';
import { valuesOf } from './backend.js';
import { addBias, convForward, nhwcConvInfo } from './conv2d.js';

export { addBias };

const ACTIVATIONS = new Set(['linear', 'relu', 'relu6', 'leakyrelu', 'sigmoid', 'elu']);

export function makeFusedConv2D(tf: Tf): FastKernel {
  return (args, fallback) => {
    const { x, filter, bias } = args.inputs as { x: TensorInfo; filter: TensorInfo; bias?: TensorInfo };
    const activation = (args.attrs.activation as string | undefined) ?? 'linear';
    const ci = nhwcConvInfo(tf, x.shape, filter.shape, args.attrs, args.attrs.dilations ?? 1);
    const biasSize = bias === undefined ? 0 : bias.shape.reduce((p, d) => p * d, 1);
    if (ci === null || !ACTIVATIONS.has(activation) ||
        (bias !== undefined && biasSize !== 1 && biasSize !== ci.outChannels) ||
        (bias !== undefined && bias.shape.length > 1 && bias.shape[bias.shape.length - 1] !== biasSize)) {
      return fallback(args as never) as TensorInfo;
    }
    const b: CpuBackend = args.backend;
    let bv = bias === undefined ? undefined : valuesOf(b, bias);
    if (bv !== undefined && bv.length === 1 && ci.outChannels !== 1) bv = new Float32Array(ci.outChannels).fill(bv[0]!);
    const y = convForward(valuesOf(b, x), valuesOf(b, filter), ci, bv);
    applyActivation(y, activation, (args.attrs.leakyreluAlpha as number | undefined) ?? 0.2);
    return b.makeTensorInfo(ci.outShape, 'float32', y);
  };
}

export function applyActivation(y: Float32Array, activation: string, alpha: number): void {
  const n = y.length;
  switch (activation) {
    case 'linear': return;
    case 'relu': for (let i = 0; i < n; i++) { if (y[i]! < 0) y[i] = 0; } return;
    case 'relu6': for (let i = 0; i < n; i++) y[i] = Math.min(6, Math.max(0, y[i]!)); return;
    case 'leakyrelu': for (let i = 0; i < n; i++) { const v = y[i]!; if (v < 0) y[i] = alpha * v; } return;
    case 'sigmoid': for (let i = 0; i < n; i++) y[i] = 1 / (1 + Math.exp(-y[i]!)); return;
    case 'elu': for (let i = 0; i < n; i++) { const v = y[i]!; if (v < 0) y[i] = Math.exp(v) - 1; } return;
  }
}
