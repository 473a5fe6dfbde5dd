// In-memory data sets: examples stored channels-first ([C, H, W] each, the
// shape the .net language uses), raw 0..255 bytes or already-scaled floats.

export type Shape3 = [channels: number, height: number, width: number];

export interface Split {
  /** count × C × H × W values, example-major, channels first. */
  images: Float32Array | Uint8Array;
  /** Class index per example. */
  labels: Int32Array;
  count: number;
  shape: Shape3;
}

export interface Dataset {
  train: Split;
  /** Absent when the source has no separate test set. */
  test?: Split;
  classes: string[];
}

export function exampleSize(shape: Shape3): number {
  return shape[0] * shape[1] * shape[2];
}

/** The examples at `indices`, copied into a new split. */
export function subset(split: Split, indices: ArrayLike<number>): Split {
  const size = exampleSize(split.shape);
  const images = split.images instanceof Uint8Array
    ? new Uint8Array(indices.length * size)
    : new Float32Array(indices.length * size);
  const labels = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const j = indices[i]!;
    images.set(split.images.subarray(j * size, (j + 1) * size), i * size);
    labels[i] = split.labels[j]!;
  }
  return { images, labels, count: indices.length, shape: split.shape };
}
