// Classification metrics over predicted and true class indices.

/** Index of the largest value in each row of a rows × classes score matrix. */
export function argmaxRows(scores: ArrayLike<number>, classes: number): Int32Array {
  const rows = Math.floor(scores.length / classes);
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0, bestV = -Infinity;
    for (let c = 0; c < classes; c++) {
      const v = scores[r * classes + c]!;
      if (v > bestV) { bestV = v; best = c; }
    }
    out[r] = best;
  }
  return out;
}

export function accuracy(predicted: ArrayLike<number>, labels: ArrayLike<number>): number {
  if (predicted.length !== labels.length) throw new RangeError(`${predicted.length} predictions for ${labels.length} labels`);
  if (labels.length === 0) return 0;
  let hit = 0;
  for (let i = 0; i < labels.length; i++) if (predicted[i] === labels[i]) hit++;
  return hit / labels.length;
}

/** counts[true][predicted]: rows are the true class, as scikit-learn does. */
export function confusionMatrix(predicted: ArrayLike<number>, labels: ArrayLike<number>, classes: number): number[][] {
  if (predicted.length !== labels.length) throw new RangeError(`${predicted.length} predictions for ${labels.length} labels`);
  const m = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < labels.length; i++) {
    const t = labels[i]!, p = predicted[i]!;
    if (t < 0 || t >= classes || p < 0 || p >= classes) throw new RangeError(`class index out of range at ${i}: true ${t}, predicted ${p}`);
    m[t]![p]!++;
  }
  return m;
}

/** Recall per class (the diagonal over row sums); NaN for a class with no examples. */
export function perClassAccuracy(matrix: number[][]): number[] {
  return matrix.map((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    return total === 0 ? NaN : row[i]! / total;
  });
}
