// tfjs tensors whose values live in the kernels' heap.
//
// A fast kernel allocates its output in the heap and gives tfjs a
// Float32Array view of it. The cpu backend's data store is watched so that
// such a block belongs to exactly one tensor record and is freed when tfjs
// disposes the record (or, for a tensor nobody disposed, when its id is
// garbage-collected). Two things would otherwise go wrong:
// - a stock kernel may return a subarray of its input (a contiguous Slice
//   does): such an alias would outlive the block it points into, so it is
//   copied out at once;
// - dataSync()/data() hand the values to the user, who may keep them after
//   disposing the tensor: reads return a copy.
import type { CpuBackend, TensorInfo } from '../backend.js';
import type { Heap } from './heap.js';
import type { Runtime } from './index.js';

type DataId = object;
interface Rec { values: unknown; dtype: string; refCount: number }
interface Store {
  set(id: DataId, rec: Rec): void;
  delete(id: DataId): boolean;
  has(id: DataId): boolean;
  get(id: DataId): Rec;
}
interface Watched { data: Store; readSync(id: DataId): unknown }

const WATCHED = Symbol.for('alexnetc.heapWatched');

/** Blocks handed out by output() and not yet stored in a record. */
const pending = new WeakMap<Float32Array, number>();
/** record id → its heap block */
const owned = new WeakMap<DataId, number>();
/** record id → what to release when a lazy record goes unread (see lazyTensor) */
const lazyCleanup = new WeakMap<DataId, () => void>();
let finalizer: FinalizationRegistry<number> | undefined;

/** Watch a cpu backend's data store (once per backend). */
export function watchBackend(backend: CpuBackend, heap: Heap): void {
  const b = backend as unknown as Watched & { [WATCHED]?: true };
  if (b[WATCHED]) return;
  b[WATCHED] = true;
  finalizer ??= new FinalizationRegistry((p: number) => {
    if (heap.sizeOf(p) !== undefined) heap.free_(p);
  });
  const store = b.data;
  const set = store.set.bind(store), del = store.delete.bind(store);
  const release = (id: DataId): void => {
    const cleanup = lazyCleanup.get(id);
    if (cleanup !== undefined) {
      lazyCleanup.delete(id);
      cleanup();
    }
    const p = owned.get(id);
    if (p === undefined) return;
    owned.delete(id);
    finalizer!.unregister(id);
    heap.free_(p);
  };
  store.set = (id, rec) => {
    if (owned.has(id) && store.has(id) && store.get(id).values !== rec.values) release(id);
    const v = rec.values;
    if (v instanceof Float32Array && heap.owns(v)) {
      const p = pending.get(v);
      if (p !== undefined) {
        pending.delete(v);
        owned.set(id, p);
        finalizer!.register(id, p, id);
      } else if (owned.get(id) !== v.byteOffset) {
        rec.values = v.slice(); // an alias into some other tensor's block
      }
    }
    set(id, rec);
  };
  store.delete = (id) => {
    release(id);
    return del(id);
  };
  const readSync = b.readSync.bind(b);
  b.readSync = (id) => {
    const v = readSync(id);
    return v instanceof Float32Array && heap.owns(v) ? v.slice() : v;
  };
}

/**
 * The heap address of a tensor's values when they are a block of their own
 * that no other tensor shares (an optimizer may then update it in place),
 * else null.
 */
export function heapAddress(backend: CpuBackend, t: TensorInfo): number | null {
  const rec = (backend as unknown as Watched).data.get(t.dataId as DataId);
  const v = rec.values;
  if (!(v instanceof Float32Array) || rec.refCount !== 1) return null;
  return owned.get(t.dataId as DataId) === v.byteOffset ? v.byteOffset : null;
}

/** A kernel's view of its tensors in the heap, freed temporaries on release(). */
export class Io {
  private readonly temps: number[] = [];
  private readonly outs: Float32Array[] = [];

  constructor(readonly rt: Runtime, readonly backend: CpuBackend) {
    watchBackend(backend, rt.heap);
  }

  get heap(): Heap {
    return this.rt.heap;
  }

  /**
   * The byte address of a tensor's values in the heap. float32 values that
   * live elsewhere (made by tf.tensor or a stock kernel) move into the heap
   * for good: the tensor's record takes the heap copy, so a weight or an input
   * batch is copied once, not at every kernel that reads it.
   */
  input(t: TensorInfo): number {
    const rec = (this.backend as unknown as Watched).data.get(t.dataId as DataId);
    const v = rec.values as ArrayLike<number> & ArrayBufferView;
    if (v instanceof Float32Array && this.heap.owns(v)) return v.byteOffset;
    if (v instanceof Float32Array && rec.dtype === 'float32') {
      const p = this.heap.allocF32(v.length);
      const view = this.heap.view(p, v.length);
      view.set(v);
      rec.values = view;
      owned.set(t.dataId as DataId, p);
      finalizer!.register(t.dataId as DataId, p, t.dataId as DataId);
      return p;
    }
    const p = this.temp(v.length);
    this.heap.f32.set(v as ArrayLike<number>, p / 4);
    return p;
  }

  /** A temporary block of n floats, freed by release(). */
  temp(n: number): number {
    const p = this.heap.allocF32(n);
    this.temps.push(p);
    return p;
  }

  /** A block of n floats for an output tensor; returns its address and view. */
  output(n: number): { p: number; view: Float32Array } {
    const p = this.heap.allocF32(n);
    const view = this.heap.view(p, n);
    pending.set(view, p);
    this.outs.push(view);
    return { p, view };
  }

  /** The output as a tensor of this backend. */
  tensor(view: Float32Array, shape: number[]): TensorInfo {
    return this.backend.makeTensorInfo(shape, 'float32', view);
  }

  /** Free the temporaries, and any output that never became a tensor (an error on the way). */
  release(): void {
    for (const p of this.temps) this.heap.free_(p);
    this.temps.length = 0;
    for (const v of this.outs) {
      const p = pending.get(v);
      if (p !== undefined) {
        pending.delete(v);
        this.heap.free_(p);
      }
    }
    this.outs.length = 0;
  }
}

const EMPTY = new Float32Array(0);

/**
 * A float32 tensor whose values are computed on first read, or never when it
 * is disposed unread (tfjs' fused conv gradient computes the input gradient
 * of a network's first layer, whose input needs none). `hold` lists the
 * inputs `compute` reads: they are kept alive (as tensors of their own) until
 * then. compute gets a fresh Io and returns an output of it.
 */
export function lazyTensor(
  rt: Runtime, backend: CpuBackend, shape: number[], hold: Array<{ dispose(): void }>,
  compute: (io: Io) => { p: number; view: Float32Array },
): TensorInfo {
  watchBackend(backend, rt.heap);
  const info = backend.makeTensorInfo(shape, 'float32', EMPTY);
  const id = info.dataId as DataId;
  const store = (backend as unknown as Watched).data;
  const rec = store.get(id);
  const drop = (): void => {
    for (const h of hold) h.dispose();
  };
  lazyCleanup.set(id, drop);
  Object.defineProperty(rec, 'values', {
    enumerable: true,
    configurable: true,
    get() {
      const io = new Io(rt, backend);
      let out: { p: number; view: Float32Array };
      try {
        out = compute(io);
        pending.delete(out.view);
      } finally {
        io.release();
      }
      lazyCleanup.delete(id);
      drop();
      owned.set(id, out.p);
      finalizer!.register(id, out.p, id);
      Object.defineProperty(rec, 'values', { value: out.view, writable: true, enumerable: true, configurable: true });
      return out.view;
    },
    set(v: unknown) {
      Object.defineProperty(rec, 'values', { value: v, writable: true, enumerable: true, configurable: true });
    },
  });
  return info;
}
