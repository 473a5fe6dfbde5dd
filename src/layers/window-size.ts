// The arithmetic of a sliding window along one axis, in one place: the
// checker's shape rule (window.ts), the tfjs lowering and its saved-model
// runtime (emit/tfjs), and the training kernels all use it. No imports, so the
// tfjs runtime can carry it without the compiler.

/** Extent of a dilated window: d·(k − 1) + 1. */
export function windowSpan(k: number, dilation = 1): number {
  return dilation * (k - 1) + 1;
}

/**
 * Output length along one axis: ⌊(size + before + after − span) / stride⌋ + 1,
 * or in ceil mode ⌈…⌉ + 1 without a last window that would start inside the
 * far padding (PyTorch's and ONNX's rule). May be ≤ 0 when the window does
 * not fit; callers that need a positive size check span ≤ padded size first.
 */
export function windowOut(size: number, before: number, after: number, k: number, stride: number, dilation = 1, ceil = false): number {
  const q = (size + before + after - windowSpan(k, dilation)) / stride;
  let o = (ceil ? Math.ceil(q) : Math.floor(q)) + 1;
  if (ceil && (o - 1) * stride >= size + before) o -= 1;
  return o;
}

/** TensorFlow/Keras SAME padding: output ⌈size/stride⌉, the odd extra row after. Returns [before, after]. */
export function samePads(size: number, k: number, stride: number, dilation = 1): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + windowSpan(k, dilation) - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/**
 * The padding after the input that a plain (floor) window walk needs to
 * produce `out` windows starting `before` cells early: in ceil mode the last
 * window may reach past the explicit far padding. Never negative.
 */
export function walkPadAfter(size: number, before: number, k: number, stride: number, out: number, dilation = 1): number {
  return Math.max(0, (out - 1) * stride + windowSpan(k, dilation) - size - before);
}
