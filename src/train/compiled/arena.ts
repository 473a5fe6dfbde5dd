// The compiled step's memory: the kernels' ops (kernels/ops) ask an Io for
// outputs and temporaries as they go; this one answers so that every run of
// the same program gets the same blocks. The first run allocates each output
// in the kernel heap and keeps it (the program's activations, gradients and
// weight gradients stay where they are, step after step); temporaries (packed
// operands, im2col blocks, geometry) are freed after each op on the first run,
// which measures the largest op's need, and from then on come from one block
// of that size, reused by every op. A program's call sequence is fixed by its
// shapes, so the n-th output of a run is always the same size (checked).
import { blockSize, type Heap } from '../../kernels/runtime/heap.js';
import type { Runtime } from '../../kernels/runtime/index.js';
import type { Io } from '../../kernels/runtime/tensors.js';

export class Arena {
  private readonly outs: number[] = [];
  private readonly outSizes: number[] = [];
  private next = 0;
  /** temporaries of the op running now on the first run (freed at its end) */
  private readonly firstTemps: number[] = [];
  private opBytes = 0;
  private maxBytes = 0;
  private block = 0;
  private blockBytes = 0;
  private bump = 0;
  private planned = false;

  constructor(readonly rt: Runtime) {}

  get heap(): Heap {
    return this.rt.heap;
  }

  /** The kernels' Io interface (temp, output, heap, rt) over this arena. */
  get io(): Io {
    return this as unknown as Io;
  }

  /** Bytes held: the outputs and the temporaries' block. */
  get bytes(): number {
    return this.outSizes.reduce((a, b) => a + b, 0) + this.blockBytes;
  }

  /** A run starts: outputs are handed out again from the first. */
  begin(): void {
    this.next = 0;
    if (!this.planned) this.endOp(); // an earlier first run that failed half-way

  }

  output(n: number): { p: number; view: Float32Array } {
    const size = blockSize(4 * n);
    let p: number;
    if (this.next < this.outs.length) {
      if (this.outSizes[this.next] !== size) throw new Error(`internal: compiled step output ${this.next} changed size`);
      p = this.outs[this.next]!;
    } else {
      if (this.planned) throw new Error('internal: compiled step asked for a new output after its first run');
      p = this.heap.alloc(4 * n);
      this.outs.push(p);
      this.outSizes.push(size);
    }
    this.next++;
    return { p, view: this.heap.view(p, n) };
  }

  temp(n: number): number {
    const size = blockSize(4 * n);
    if (this.planned) {
      if (this.bump + size > this.blockBytes) throw new Error('internal: compiled step temporaries outgrew their block');
      const p = this.block + this.bump;
      this.bump += size;
      return p;
    }
    const p = this.heap.alloc(4 * n);
    this.firstTemps.push(p);
    this.opBytes += size;
    return p;
  }

  /** An op is done: its temporaries can be reused by the next one. */
  endOp(): void {
    if (this.planned) {
      this.bump = 0;
      return;
    }
    for (const p of this.firstTemps) this.heap.free_(p);
    this.firstTemps.length = 0;
    this.maxBytes = Math.max(this.maxBytes, this.opBytes);
    this.opBytes = 0;
  }

  /** The first run is over: from now on temporaries come from one block. */
  end(): void {
    this.endOp();
    if (this.planned) return;
    this.planned = true;
    this.blockBytes = this.maxBytes;
    if (this.blockBytes > 0) this.block = this.heap.alloc(this.blockBytes);
  }

  /** Never used again: give every block back to the heap. */
  dispose(): void {
    for (const p of this.firstTemps) this.heap.free_(p);
    this.firstTemps.length = 0;
    for (const p of this.outs) this.heap.free_(p);
    this.outs.length = 0;
    this.outSizes.length = 0;
    if (this.block) this.heap.free_(this.block);
    this.block = 0;
    this.blockBytes = 0;
  }
}
