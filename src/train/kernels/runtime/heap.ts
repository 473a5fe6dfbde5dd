// The kernels' memory: one shared WebAssembly.Memory that the main thread and
// every worker thread see, holding the tensors the fast kernels produce and
// their temporaries. Tensors are handed to tfjs as Float32Array views into
// it, so a kernel's output is the next kernel's input without a copy, and the
// same blocks are reused step after step instead of fresh pages being
// faulted in for every intermediate (the cost that dominated small kernels).
//
// The allocator runs on the main thread only. Blocks are 64-byte aligned and
// carry at least 16 bytes of slack, so vector loops may read one vector past
// an end. Sizes are rounded up to classes (multiples of 64 bytes up to 4 KiB,
// then eight classes per doubling: at most 12.5 % waste) and freed blocks go
// to their class's list, never split or merged: a training step asks for the
// same sizes every time, so after the first step every request finds a block
// of its class and the heap stops growing. Only when the 4 GiB address space
// runs out are free neighbours merged and reused by best fit.

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

/** The block size for a request: the slack added, rounded up to a size class. */
export function sizeClass(bytes: number): number {
  const need = Math.max(bytes, 0) + 16;
  if (need <= 4096) return Math.ceil(need / ALIGN) * ALIGN;
  const step = 2 ** (28 - Math.clz32(need)); // an eighth of the highest power of two in need
  return Math.ceil(need / step) * step;
}

export class Heap {
  readonly memory: WebAssembly.Memory;
  /** every buffer object the memory has had (a grown shared memory hands out a new, larger one) */
  private readonly buffers = new WeakSet<SharedArrayBuffer>();
  private f32View: Float32Array;
  private top = ALIGN; // address 0 stays unused: a null pointer is never a block
  private readonly sizes = new Map<number, number>(); // live block → size
  private readonly free = new Map<number, number[]>(); // size → free blocks
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
    return a.buffer instanceof SharedArrayBuffer && this.buffers.has(a.buffer);
  }

  /** Bytes currently in use by live blocks (excluding free ones). */
  get liveBytes(): number {
    return this.top - this.freeBytes;
  }

  /** A block of at least `bytes` bytes; returns its byte address. */
  alloc(bytes: number): number {
    const size = sizeClass(bytes);
    const list = this.free.get(size);
    if (list !== undefined && list.length > 0) {
      const p = list.pop()!;
      this.freeBytes -= size;
      this.sizes.set(p, size);
      return p;
    }
    if (this.top + size > this.memory.buffer.byteLength) {
      try {
        this.grow(this.top + size);
      } catch (e) {
        if (!(e instanceof OutOfKernelMemory)) throw e;
        const p = this.coalesceAndFit(size);
        if (p < 0) throw e;
        return p;
      }
    }
    const p = this.top;
    this.top += size;
    this.peak = Math.max(this.peak, this.top);
    this.sizes.set(p, size);
    return p;
  }

  /** A block for `n` floats. */
  allocF32(n: number): number {
    return this.alloc(4 * n);
  }

  free_(p: number): void {
    const size = this.sizes.get(p);
    if (size === undefined) throw new Error(`kernel heap: free of unknown block ${p}`);
    this.sizes.delete(p);
    let list = this.free.get(size);
    if (list === undefined) this.free.set(size, (list = []));
    list.push(p);
    this.freeBytes += size;
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

  /**
   * Merge adjacent free blocks (lowering the top when the highest is free),
   * then take the smallest free block that fits, splitting off the rest.
   * Returns -1 when nothing fits below the top.
   */
  private coalesceAndFit(size: number): number {
    if (this.freeBytes === 0) return -1;
    const blocks: Array<[number, number]> = [];
    for (const [s, list] of this.free) for (const p of list) blocks.push([p, s]);
    blocks.sort((a, b) => a[0] - b[0]);
    const merged: Array<[number, number]> = [];
    for (const [p, s] of blocks) {
      const last = merged[merged.length - 1];
      if (last !== undefined && last[0] + last[1] === p) last[1] += s;
      else merged.push([p, s]);
    }
    this.free.clear();
    this.freeBytes = 0;
    const last = merged[merged.length - 1];
    if (last !== undefined && last[0] + last[1] === this.top) {
      this.top = last[0];
      merged.pop();
    }
    let best = -1;
    for (let i = 0; i < merged.length; i++) {
      if (merged[i]![1] >= size && (best < 0 || merged[i]![1] < merged[best]![1])) best = i;
    }
    let taken = -1;
    if (best >= 0) {
      const [p, s] = merged[best]!;
      taken = p;
      merged[best] = [p + size, s - size];
      this.sizes.set(p, size);
    }
    for (const [p, s] of merged) {
      if (s <= 0) continue;
      let list = this.free.get(s);
      if (list === undefined) this.free.set(s, (list = []));
      list.push(p);
      this.freeBytes += s;
    }
    if (taken < 0 && this.top + size <= this.memory.buffer.byteLength) {
      taken = this.top;
      this.top += size;
      this.sizes.set(taken, size);
    }
    return taken;
  }
}
