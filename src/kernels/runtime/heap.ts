// The kernels' memory: one shared WebAssembly.Memory that the main thread and
// every worker thread see, holding the tensors the fast kernels produce and
// their temporaries. Tensors are handed to tfjs as Float32Array views into
// it, so a kernel's output is the next kernel's input without a copy, and the
// same blocks are reused step after step instead of fresh pages being
// faulted in for every intermediate (the cost that dominated small kernels).
//
// The allocator runs on the main thread only. Blocks are 64-byte aligned and
// carry at least 16 bytes of slack, so vector loops may read one vector past
// an end. Freed blocks merge with free neighbours at once (a free block that
// reaches the top lowers it), and a request takes the best-fitting free block,
// splitting off the rest, before the top moves: memory freed by one phase of a
// step (the forward activations) serves the next (the optimizer's slots), so
// the heap's size is the step's peak of live data plus little fragmentation.
// Free blocks sit in bins by power of two; a request looks in its own bin and
// the next non-empty ones.

const PAGE = 65536;
const ALIGN = 64;
/** wasm32's ceiling: 4 GiB of address space, reserved, not committed. */
const MAX_PAGES = 65536;

export class OutOfKernelMemory extends Error {
  constructor(bytes: number) {
    super(`the fast kernels' heap cannot hold another ${(bytes / 2 ** 20).toFixed(1)} MiB (4 GiB wasm32 limit)`);
    this.name = 'OutOfKernelMemory';
  }
}

/** The block size for a request: the slack added, rounded up to the alignment. */
export function blockSize(bytes: number): number {
  return Math.ceil((Math.max(bytes, 0) + 16) / ALIGN) * ALIGN;
}

const binOf = (size: number): number => 31 - Math.clz32(size);

export class Heap {
  readonly memory: WebAssembly.Memory;
  /** every buffer object the memory has had (a grown shared memory hands out a new, larger one) */
  private readonly buffers = new WeakSet<SharedArrayBuffer>();
  private f32View: Float32Array;
  private top = ALIGN; // address 0 stays unused: a null pointer is never a block
  private readonly sizes = new Map<number, number>(); // live block → size
  private readonly freeAt = new Map<number, number>(); // free block → size
  private readonly freeEnd = new Map<number, number>(); // end of a free block → its start
  private readonly bins: Array<Set<number>> = Array.from({ length: 33 }, () => new Set());
  private freeBytes = 0;
  /** high-water mark of the top, in bytes */
  peak = 0;

  constructor(initialPages = 256) {
    this.memory = new WebAssembly.Memory({ initial: initialPages, maximum: MAX_PAGES, shared: true });
    this.f32View = this.refresh();
  }

  private refresh(): Float32Array {
    const buf = this.memory.buffer as unknown as SharedArrayBuffer;
    this.buffers.add(buf);
    this.f32View = new Float32Array(buf);
    return this.f32View;
  }

  /** The whole memory as floats (re-read after any alloc: growth gives a longer view). */
  get f32(): Float32Array {
    if (this.f32View.buffer.byteLength !== this.memory.buffer.byteLength) this.refresh();
    return this.f32View;
  }

  get i32(): Int32Array {
    return new Int32Array(this.f32.buffer);
  }

  /** Is this array a view into the heap? */
  owns(a: ArrayBufferView): boolean {
    // no instanceof SharedArrayBuffer: a page that is not cross-origin isolated has shared wasm memory but no such global
    return this.buffers.has(a.buffer as SharedArrayBuffer);
  }

  /** Bytes currently in use by live blocks (excluding free ones). */
  get liveBytes(): number {
    return this.top - this.freeBytes;
  }

  /** A block of at least `bytes` bytes; returns its byte address. */
  alloc(bytes: number): number {
    const size = blockSize(bytes);
    const p = this.fit(size);
    if (p >= 0) {
      this.sizes.set(p, size);
      return p;
    }
    if (this.top + size > this.memory.buffer.byteLength) this.grow(this.top + size);
    const q = this.top;
    this.top += size;
    this.peak = Math.max(this.peak, this.top);
    this.sizes.set(q, size);
    return q;
  }

  /** A block for `n` floats. */
  allocF32(n: number): number {
    return this.alloc(4 * n);
  }

  free_(p: number): void {
    let size = this.sizes.get(p);
    if (size === undefined) throw new Error(`kernel heap: free of unknown block ${p}`);
    this.sizes.delete(p);
    // merge with the free neighbours
    const before = this.freeEnd.get(p);
    if (before !== undefined) {
      const s = this.freeAt.get(before)!;
      this.unlink(before, s);
      p = before;
      size += s;
    }
    const after = this.freeAt.get(p + size);
    if (after !== undefined) {
      this.unlink(p + size, after);
      size += after;
    }
    if (p + size === this.top) this.top = p; // the wilderness grows back
    else this.link(p, size);
  }

  private link(p: number, size: number): void {
    this.freeAt.set(p, size);
    this.freeEnd.set(p + size, p);
    this.bins[binOf(size)]!.add(p);
    this.freeBytes += size;
  }

  private unlink(p: number, size: number): void {
    this.freeAt.delete(p);
    this.freeEnd.delete(p + size);
    this.bins[binOf(size)]!.delete(p);
    this.freeBytes -= size;
  }

  /** The best-fitting free block (the smallest that fits, in the first bin that has one), split; -1 if none. */
  private fit(size: number): number {
    for (let b = binOf(size); b < this.bins.length; b++) {
      let best = -1, bestSize = Infinity;
      for (const p of this.bins[b]!) {
        const s = this.freeAt.get(p)!;
        if (s >= size && s < bestSize) {
          best = p;
          bestSize = s;
          if (s === size) break;
        }
      }
      if (best < 0) continue;
      this.unlink(best, bestSize);
      if (bestSize > size) this.link(best + size, bestSize - size);
      return best;
    }
    return -1;
  }

  /** The size of a live block. */
  sizeOf(p: number): number | undefined {
    return this.sizes.get(p);
  }

  /** A Float32Array of n floats over the block at p. */
  view(p: number, n: number): Float32Array {
    return new Float32Array(this.memory.buffer, p, n);
  }

  private grow(needBytes: number): void {
    const have = this.memory.buffer.byteLength;
    // grow by at least a quarter so that a heap filling up step by step grows a few times, not per block
    const want = Math.max(needBytes, Math.min(MAX_PAGES * PAGE, have + (have >> 2)));
    const pages = Math.ceil((want - have) / PAGE);
    if (have / PAGE + pages > MAX_PAGES) {
      const exact = Math.ceil((needBytes - have) / PAGE);
      if (have / PAGE + exact > MAX_PAGES) throw new OutOfKernelMemory(needBytes - this.liveBytes);
      this.memory.grow(exact);
    } else {
      this.memory.grow(pages);
    }
    this.refresh();
  }
}
