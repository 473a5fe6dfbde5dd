// The tanh gradient as one kernel. tfjs-core defines it as
// mul(sub(scalar(1), square(y)), dy): three kernels and three full-size
// temporaries, which on this machine cost more in fresh-page allocation than
// in arithmetic. Here the Tanh gradient calls one cpu kernel that does the
// same three float32 roundings in the same order (Math.fround after each
// step), so the result is bit-identical. The stock gradient is used on other
// backends and under an outer tape (gradients of gradients), where the fused
// kernel, having no gradient of its own, would not do.
import type { CpuBackend, KernelFunc, TensorInfo, Tf } from './backend.js';
import { wasmTanhGrad } from './wasm-gemm.js';

export const TANH_GRAD = 'AlexnetcTanhGrad';

const tanhGradKernel: KernelFunc = (args) => {
  const { y, dy } = args.inputs as { y: TensorInfo; dy: TensorInfo };
  const b = args.backend as unknown as CpuBackend;
  const asF32 = (t: TensorInfo): Float32Array => {
    const v = b.data.get(t.dataId).values;
    return v instanceof Float32Array ? v : Float32Array.from(v as ArrayLike<number>);
  };
  const yv = asF32(y), dv = asF32(dy);
  const n = yv.length;
  // Float32 SIMD lanes round exactly like the Math.fround loop below.
  const fast = n >= 64 ? wasmTanhGrad(yv, dv) : null;
  if (fast !== null) return b.makeTensorInfo(y.shape, 'float32', fast);
  const out = new Float32Array(n);
  const fr = Math.fround;
  for (let i = 0; i < n; i++) {
    const v = yv[i]!;
    out[i] = fr(1 - fr(v * v)) * dv[i]!;
  }
  return b.makeTensorInfo(y.shape, 'float32', out);
};

type GradConfig = NonNullable<ReturnType<Tf['getGradient']>>;
const FAST = Symbol.for('alexnetc.fastGradient');
interface Marked { [FAST]?: GradConfig }

export function installTanhGrad(tf: Tf): boolean {
  const stock = tf.getGradient('Tanh');
  if (stock === undefined) return false;
  if (tf.getKernel(TANH_GRAD, 'cpu') === undefined) {
    tf.registerKernel({ kernelName: TANH_GRAD, backendName: 'cpu', kernelFunc: tanhGradKernel });
  }
  if ((stock as Marked)[FAST] !== undefined) return true;
  const engine = tf.engine() as unknown as { state: { gradientDepth: number } };
  const config: GradConfig = {
    ...stock,
    gradFunc: (dy, saved, attrs) => {
      if (tf.getBackend() !== 'cpu' || engine.state.gradientDepth !== 0 || Array.isArray(dy)) {
        return stock.gradFunc(dy, saved, attrs);
      }
      const y = saved[0]!;
      return { x: () => tf.engine().runKernel(TANH_GRAD, { y, dy } as never) as never };
    },
  };
  (config as Marked)[FAST] = stock;
  tf.registerGradient(config);
  return true;
}

export function uninstallTanhGrad(tf: Tf): void {
  const current = tf.getGradient('Tanh') as Marked | undefined;
  const stock = current?.[FAST];
  if (stock !== undefined) tf.registerGradient(stock);
}
