// Concat and SplitV (a concat's gradient) as strided row copies: along any
// axis, a tensor is [outer, inner] with each output row the inputs' rows side
// by side. The stock SplitV slices each output element by element, which made
// it three quarters of a GoogLeNet step. Copies: bit-identical.
import type { FastKernel, TensorInfo, Tf } from './backend.js';
import { allFloat, onHeap, size } from './backend.js';
import type { Io } from './runtime/tensors.js';

/** Copy `rows` rows of `run` floats, in parallel blocks. */
function rowsCopy(io: Io, src: number, srcStride: number, dst: number, dstStride: number, run: number, rows: number): void {
  if (rows === 0 || run === 0) return;
  const rowsPer = Math.max(1, Math.ceil(16384 / run));
  io.rt.parallel('copy_rows', Math.ceil(rows / rowsPer), [src, srcStride * 4, dst, dstStride * 4, run, rows, rowsPer], rows * run < 1 << 16);
}

export function makeConcat(tf: Tf): FastKernel {
  return (args, fallback) => {
    const ins = Object.keys(args.inputs).sort((p, q) => Number(p) - Number(q)).map((k) => args.inputs[k]!) as TensorInfo[];
    if (ins.length < 2 || !allFloat(...ins)) return fallback(args as never) as TensorInfo;
    const axis = tf.util.parseAxisParam(args.attrs.axis as number, ins[0]!.shape)[0]!;
    const outShape = tf.backend_util.computeOutShape(ins.map((t) => t.shape), axis);
    const outer = size(outShape.slice(0, axis)), inner = size(outShape.slice(axis));
    return onHeap(args, fallback, (io) => {
      const y = io.output(outer * inner);
      let col = 0;
      for (const t of ins) {
        const run = size(t.shape.slice(axis));
        rowsCopy(io, io.input(t), run, y.p + col * 4, inner, run, outer);
        col += run;
      }
      return io.tensor(y.view, outShape);
    });
  };
}

export function makeSplitV(tf: Tf): FastKernel {
  return (args, fallback) => {
    const { x } = args.inputs as { x: TensorInfo };
    if (!allFloat(x)) return fallback(args as never) as TensorInfo;
    const axis = tf.util.parseAxisParam(args.attrs.axis as number, x.shape)[0]!;
    const sizes = tf.backend_util.prepareSplitSize(x as never, args.attrs.numOrSizeSplits as number | number[], axis);
    const outer = size(x.shape.slice(0, axis)), inner = size(x.shape.slice(axis)), per = size(x.shape.slice(axis + 1));
    return onHeap(args, fallback, (io) => {
      const px = io.input(x);
      let col = 0;
      return sizes.map((s) => {
        const shape = [...x.shape];
        shape[axis] = s;
        const run = s * per;
        const y = io.output(outer * run);
        rowsCopy(io, px + col * 4, inner, y.p, run, run, outer);
        col += run;
        return io.tensor(y.view, shape);
      });
    });
  };
}
