// Tanh via one exp: V8's Math.tanh is ~1.7× slower than Math.exp, and
// 1 − 2/(e^{2x}+1) evaluated in doubles is accurate to far below float32.
import type { CpuBackend, FastKernel, TensorInfo } from './backend.js';

export const fastTanh: FastKernel = (args, fallback) => {
  const { x } = args.inputs as { x: TensorInfo };
  const b: CpuBackend = args.backend;
  const v = b.data.get(x.dataId).values;
  if (x.dtype !== 'float32' || !(v instanceof Float32Array)) return fallback(args as never) as TensorInfo;
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const e = Math.exp(2 * v[i]!);
    out[i] = 1 - 2 / (e + 1);
  }
  // NaN stays NaN (exp(NaN) is NaN), so a diverging run is still detected.
  return b.makeTensorInfo(x.shape, 'float32', out);
};
