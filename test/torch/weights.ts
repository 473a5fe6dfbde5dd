// Weights for conformance tests. Seeded init makes batch norm the identity
// (γ = 1, β = 0, μ = 0, σ² = 1) and biases zero, which would hide a swapped
// mean and variance or a lost bias: these give every tensor distinct values,
// at a scale where 1e-4 measures mistakes rather than float32 rounding.
import type { WeightSource } from '../../src/emit/onnx/index.js';
import { createRng, sizeOf } from '../../src/util/rng.js';

export function distinctWeights(seed: number): WeightSource {
  return {
    get(path, spec) {
      const rng = createRng(seed, `${path}.${spec.name}`);
      const out = new Float32Array(sizeOf(spec.shape));
      const u = (lo: number, hi: number): number => lo + (hi - lo) * rng.next();
      const limit = spec.init.kind === 'he_uniform' ? Math.sqrt(6 / spec.init.fanIn) : 0;
      for (let i = 0; i < out.length; i++) {
        if (spec.init.kind === 'he_uniform') out[i] = u(-limit, limit);
        else if (spec.name === 'running_var') out[i] = u(0.5, 1.5);
        // γ < 1 keeps deep residual sums at a scale where float32 rounding stays far below 1e-4
        else if (spec.init.kind === 'ones') out[i] = u(0.25, 0.75);
        else out[i] = u(-0.2, 0.2);
      }
      return out;
    },
  };
}
