// An ONNX graph seen from its one input: which nodes compute on the data
// (the path the network is made of), which compute shapes from it (`Shape →
// Gather → Concat → Reshape`, what an exporter writes for `x.view(N, -1)`),
// and which are constant. Constants and shapes are folded on demand; the
// batch dimension is the one symbol a folded shape may hold.
import { UserError } from '../util/errors.js';
import type { OnnxAttrValue, OnnxModelFile, OnnxNode } from '../weights/onnx-read.js';
import { typeName } from '../weights/onnx-read.js';

/** A model that cannot become a `.net` network: the message names the node, its op and where it is (exit 1). */
export class ImportError extends UserError {
  constructor(message: string) {
    super(message, 1);
    this.name = 'ImportError';
  }
}

/** The first and last opset versions whose semantics the importer follows (Softmax changed at 13, Dropout at 12). */
export const OPSETS = { min: 11, max: 18 } as const;

/** A folded tensor: floats (weights, scales) or integers (shapes, axes) where `null` is the batch size. */
export interface Folded {
  dims: number[];
  floats?: Float32Array;
  ints?: (number | null)[];
}

type Kind = 'data' | 'shape' | 'const';

export interface Consumer {
  node: OnnxNode;
  slot: number;
}

export class ImportGraph {
  readonly input: string;
  /** the input's shape per example (batch dimension removed) */
  readonly inputShape: number[];
  readonly output: string;
  /** nodes on the data path, in graph order */
  readonly dataNodes: OnnxNode[];
  readonly producer = new Map<string, OnnxNode>();
  /** per value: the data nodes that read it as data */
  readonly consumers = new Map<string, Consumer[]>();
  /** per data value: its shape per example, filled in as the importer walks the graph */
  readonly shapes = new Map<string, number[]>();
  /**
   * the whole shape of a value inside a recognised pattern whose batch is not
   * its first axis (PyTorch's attention works on [T, N, D]): `null` for every
   * axis that holds the batch, so that `Shape` of it folds
   */
  readonly layouts = new Map<string, (number | null)[]>();
  private readonly kind = new Map<string, Kind>();
  private readonly folded = new Map<string, Folded>();

  constructor(readonly model: OnnxModelFile) {
    const f = model.file;
    if (model.opset < OPSETS.min || model.opset > OPSETS.max) {
      throw new ImportError(`${f}: opset ${model.opset} is not supported (alexnetc imports ai.onnx opsets ${OPSETS.min}–${OPSETS.max}; re-export with opset_version=17)`);
    }
    const other = model.nodes.find((n) => n.domain !== '' && n.domain !== 'ai.onnx');
    if (other) throw new ImportError(`${f}: ${where(other, model)} is from the operator domain '${other.domain}', outside the standard ONNX operators alexnetc imports`);

    // graph inputs that are initializers too are weights (IR < 4 lists them as inputs)
    const inputs = model.inputs.filter((i) => !model.initializers.has(i.name));
    if (inputs.length !== 1) {
      throw new ImportError(
        `${f}: the model has ${inputs.length} inputs (${inputs.map((i) => i.name).join(', ') || 'none'}); an alexnetc network has exactly one`,
      );
    }
    const input = inputs[0]!;
    this.input = input.name;
    this.inputShape = inputShape(input, f);
    if (model.outputs.length !== 1) {
      throw new ImportError(`${f}: the model has ${model.outputs.length} outputs (${model.outputs.map((o) => o.name).join(', ')}); an alexnetc network has exactly one`);
    }
    this.output = model.outputs[0]!.name;

    this.kind.set(this.input, 'data');
    for (const name of model.initializers.keys()) if (name !== this.input) this.kind.set(name, 'const');
    this.kind.set('', 'const'); // an omitted optional input
    this.dataNodes = [];
    for (const n of model.nodes) {
      const kinds = n.inputs.map((i) => {
        const k = this.kind.get(i);
        if (k === undefined) throw new ImportError(`${f}: ${where(n, model)} reads '${i}', which no earlier node or initializer produces (is the file truncated, or not topologically sorted?)`);
        return k;
      });
      const kind: Kind = (n.op === 'Shape' || n.op === 'Size') && kinds[0] === 'data' ? 'shape' : kinds.includes('data') ? 'data' : kinds.includes('shape') ? 'shape' : 'const';
      for (const o of n.outputs) {
        if (o === '') continue;
        if (this.producer.has(o) || o === this.input) throw new ImportError(`${f}: ${where(n, model)} writes '${o}', which another node already writes`);
        this.producer.set(o, n);
        this.kind.set(o, kind);
      }
      if (kind !== 'data') continue;
      this.dataNodes.push(n);
      n.inputs.forEach((i, slot) => {
        if (this.kind.get(i) !== 'data') return;
        const list = this.consumers.get(i) ?? [];
        list.push({ node: n, slot });
        this.consumers.set(i, list);
      });
    }
    if (this.kind.get(this.output) !== 'data') throw new ImportError(`${f}: the output ${this.output} does not depend on the input ${this.input}`);
    this.shapes.set(this.input, this.inputShape);
  }

  /** Is this value computed from the input's data (not a weight, a constant or a shape)? */
  isData(value: string): boolean {
    return this.kind.get(value) === 'data';
  }

  /** Describe a node for messages: its name, op, and position. */
  where(n: OnnxNode): string {
    return where(n, this.model);
  }

  fail(n: OnnxNode, why: string): never {
    throw new ImportError(`${this.model.file}: ${this.where(n)}: ${why}`);
  }

  /** The value of a constant or shape input, folded; fails naming `user` when it cannot be. */
  fold(value: string, user: OnnxNode): Folded {
    const cached = this.folded.get(value);
    if (cached) return cached;
    if (this.kind.get(value) === 'data') this.fail(user, `its input '${value}' must be a constant, but it is computed from the network's input`);
    const init = this.model.initializers.get(value);
    let out: Folded;
    if (init) {
      out = init.dataType === 7 || init.dataType === 6 ? { dims: init.dims, ints: init.ints() } : { dims: init.dims, floats: init.floats() };
    } else {
      const n = this.producer.get(value);
      if (!n) this.fail(user, `its input '${value}' has no value`);
      out = this.evaluate(n!, value);
    }
    this.folded.set(value, out);
    return out;
  }

  /** A constant float tensor (a weight); fails naming `user` when it is not one. */
  floats(value: string, user: OnnxNode): { dims: number[]; values: Float32Array } {
    const v = this.fold(value, user);
    if (v.floats) return { dims: v.dims, values: v.floats };
    if (v.ints && v.ints.every((x) => x !== null)) return { dims: v.dims, values: Float32Array.from(v.ints as number[]) };
    this.fail(user, `its input '${value}' must be a float tensor`);
  }

  /** A constant integer vector (axes, a shape), `null` standing for the batch size. */
  ints(value: string, user: OnnxNode): (number | null)[] {
    const v = this.fold(value, user);
    if (v.ints) return v.ints;
    if (v.floats && v.floats.every((x) => Number.isInteger(x))) return [...v.floats];
    this.fail(user, `its input '${value}' must be an integer tensor`);
  }

  private evaluate(n: OnnxNode, value: string): Folded {
    const arg = (i: number): Folded => this.fold(n.inputs[i]!, n);
    const has = (i: number): boolean => (n.inputs[i] ?? '') !== '';
    const intList = (i: number): number[] => {
      const v = this.ints(n.inputs[i]!, n);
      if (v.some((x) => x === null)) this.fail(n, `needs '${n.inputs[i]}' without the batch size in it`);
      return v as number[];
    };
    switch (n.op) {
      case 'Constant': {
        const a = [...n.attrs.entries()][0];
        if (!a) this.fail(n, 'a Constant without a value');
        return constantAttr(a![0], a![1]) ?? this.fail(n, `cannot fold a Constant given as ${a![0]}`);
      }
      case 'Identity':
      case 'Cast':
        return arg(0);
      case 'Shape': {
        const layout = this.layouts.get(n.inputs[0]!);
        const shape = this.shapes.get(n.inputs[0]!);
        if (this.kind.get(n.inputs[0]!) !== 'data') {
          // the shape of a folded value (PyTorch's expand(-1, …) takes the shape of a shape)
          const dims = arg(0).dims;
          return { dims: [dims.length], ints: [...dims] };
        }
        if (!shape && !layout) this.fail(n, 'takes the shape of a value the importer has not reached; the graph is not a chain alexnetc can follow');
        const full: (number | null)[] = layout ?? [null, ...shape!];
        const start = normAxis(intAttr(n, 'start', 0), full.length);
        const end = n.attrs.has('end') ? normAxis(intAttr(n, 'end', full.length), full.length) : full.length;
        const r = full.slice(start, end);
        return { dims: [r.length], ints: r };
      }
      case 'ConstantOfShape': {
        const dims = intList(0);
        const count = dims.reduce((a, b) => a * b, 1);
        const v = n.attrs.get('value');
        const t = v?.type === 'tensor' ? v.t : undefined;
        if (t && (t.dataType === 7 || t.dataType === 6)) return { dims, ints: new Array<number>(count).fill(t.ints()[0] ?? 0) };
        return { dims, floats: new Float32Array(count).fill(t ? t.floats()[0] ?? 0 : 0) };
      }
      case 'Gather': {
        const data = arg(0);
        const idx = intList(1);
        const axis = normAxis(intAttr(n, 'axis', 0), data.dims.length);
        return gather(data, axis, idx, this.fold(n.inputs[1]!, n).dims) ?? this.fail(n, 'Gather index out of range');
      }
      case 'Unsqueeze': {
        const v = arg(0);
        const axes = has(1) ? intList(1) : intsAttr(n, 'axes') ?? [];
        const rank = v.dims.length + axes.length;
        const at = new Set(axes.map((a) => normAxis(a, rank)));
        const dims: number[] = [];
        let k = 0;
        for (let i = 0; i < rank; i++) dims.push(at.has(i) ? 1 : v.dims[k++]!);
        return { ...v, dims };
      }
      case 'Squeeze': {
        const v = arg(0);
        const axes = has(1) ? intList(1) : intsAttr(n, 'axes');
        const at = axes ? new Set(axes.map((a) => normAxis(a, v.dims.length))) : undefined;
        return { ...v, dims: v.dims.filter((d, i) => !(at ? at.has(i) : d === 1)) };
      }
      case 'Concat': {
        const parts = n.inputs.map((_, i) => arg(i));
        const rank = parts[0]!.dims.length;
        const axis = normAxis(intAttr(n, 'axis', 0), rank);
        return concat(parts, axis) ?? this.fail(n, 'cannot fold a Concat of mixed tensors');
      }
      case 'Reshape': {
        const v = arg(0);
        const shape = intList(1);
        const size = v.dims.reduce((x, y) => x * y, 1);
        const known = shape.reduce((x, y, i) => x * (y === -1 ? 1 : y === 0 ? v.dims[i]! : y), 1);
        return { ...v, dims: shape.map((d, i) => (d === -1 ? size / known : d === 0 ? v.dims[i]! : d)) };
      }
      case 'Transpose': {
        const v = arg(0);
        const perm = intsAttr(n, 'perm') ?? v.dims.map((_, i) => v.dims.length - 1 - i);
        return transpose(v, perm);
      }
      case 'Slice': {
        const v = arg(0);
        const starts = intList(1);
        const ends = intList(2);
        const axes = has(3) ? intList(3) : starts.map((_, i) => i);
        const steps = has(4) ? intList(4) : starts.map(() => 1);
        if (steps.some((s) => s === 0)) this.fail(n, 'a Slice with step 0');
        return slice(v, starts, ends, axes.map((a) => normAxis(a, v.dims.length)), steps);
      }
      case 'Mul':
      case 'Add':
      case 'Sub':
      case 'Div': {
        const a = arg(0);
        const b = arg(1);
        const av = a.ints ?? [...(a.floats ?? [])];
        const bv = b.ints ?? [...(b.floats ?? [])];
        if (av.length !== bv.length && av.length !== 1 && bv.length !== 1) this.fail(n, `cannot fold ${n.op} of tensors of ${av.length} and ${bv.length} values`);
        const isInt = a.ints !== undefined && b.ints !== undefined;
        const r = Array.from({ length: Math.max(av.length, bv.length) }, (_, i) => {
          const x = av[av.length === 1 ? 0 : i]!;
          const y = bv[bv.length === 1 ? 0 : i]!;
          if (x === null || y === null) return null;
          if (n.op === 'Mul') return x * y;
          if (n.op === 'Add') return x + y;
          if (n.op === 'Sub') return x - y;
          return isInt ? Math.trunc(x / y) : x / y;
        });
        const dims = av.length >= bv.length ? a.dims : b.dims;
        return isInt ? { dims, ints: r } : { dims, floats: Float32Array.from(r as number[]) };
      }
      case 'Equal': {
        // the batch size is a positive number: it equals no constant below 1 (PyTorch's expand(-1, …) tests for -1)
        const a = cells(arg(0));
        const b = cells(arg(1));
        if (a.length !== b.length && a.length !== 1 && b.length !== 1) this.fail(n, `cannot fold Equal of tensors of ${a.length} and ${b.length} values`);
        const r = Array.from({ length: Math.max(a.length, b.length) }, (_, i) => {
          const x = a[a.length === 1 ? 0 : i]!;
          const y = b[b.length === 1 ? 0 : i]!;
          if (x === null && y === null) return 1;
          if (x === null || y === null) {
            if ((x ?? y)! < 1) return 0;
            this.fail(n, 'compares the batch size with a number');
          }
          return x === y ? 1 : 0;
        });
        return { dims: a.length >= b.length ? arg(0).dims : arg(1).dims, ints: r };
      }
      case 'Where': {
        const c = cells(arg(0));
        const x = arg(1);
        const y = arg(2);
        const xv = cells(x);
        const yv = cells(y);
        const size = Math.max(c.length, xv.length, yv.length);
        if ([c, xv, yv].some((v) => v.length !== size && v.length !== 1)) this.fail(n, 'cannot fold a Where that broadcasts');
        const pick = (v: Cell[], i: number): Cell => v[v.length === 1 ? 0 : i]!;
        const r = Array.from({ length: size }, (_, i) => (pick(c, i) ? pick(xv, i) : pick(yv, i)));
        const dims = [c, xv, yv].find((v) => v.length === size) === c ? arg(0).dims : xv.length === size ? x.dims : y.dims;
        return x.ints && y.ints ? { dims, ints: r } : { dims, floats: Float32Array.from(r as number[]) };
      }
      default:
        this.fail(n, `computes the constant '${value}' with ${n.op}, which alexnetc cannot fold (re-export with do_constant_folding=True)`);
    }
  }
}

// ---------------------------------------------------------------- folding helpers (row-major, any rank)

type Cell = number | null;

function cells(v: Folded): Cell[] {
  return v.ints ?? [...(v.floats ?? [])];
}

function make(like: Folded, dims: number[], values: Cell[]): Folded {
  return like.ints ? { dims, ints: values } : { dims, floats: Float32Array.from(values as number[]) };
}

function strides(dims: number[]): number[] {
  const s = new Array<number>(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) s[i] = s[i + 1]! * dims[i + 1]!;
  return s;
}

/** Every index of a shape, in row-major order. */
function* indices(dims: number[]): Generator<number[]> {
  const total = dims.reduce((a, b) => a * b, 1);
  const idx = new Array<number>(dims.length).fill(0);
  for (let k = 0; k < total; k++) {
    yield idx;
    for (let i = dims.length - 1; i >= 0; i--) {
      if (++idx[i]! < dims[i]!) break;
      idx[i] = 0;
    }
  }
}

function at(v: Cell[], st: number[], idx: number[]): Cell {
  let o = 0;
  for (let i = 0; i < idx.length; i++) o += idx[i]! * st[i]!;
  return v[o]!;
}

function transpose(v: Folded, perm: number[]): Folded {
  const dims = perm.map((p) => v.dims[p]!);
  const src = cells(v);
  const st = strides(v.dims);
  const out: Cell[] = [];
  for (const idx of indices(dims)) {
    const from = new Array<number>(idx.length);
    perm.forEach((p, i) => (from[p] = idx[i]!));
    out.push(at(src, st, from));
  }
  return make(v, dims, out);
}

function slice(v: Folded, starts: number[], ends: number[], axes: number[], steps: number[]): Folded {
  const lo = v.dims.map(() => 0);
  const step = v.dims.map(() => 1);
  const dims = [...v.dims];
  axes.forEach((a, i) => {
    const size = v.dims[a]!;
    const s = steps[i]!;
    const clamp = (x: number, min: number, max: number): number => Math.min(Math.max(x, min), max);
    let b = starts[i]! < 0 ? starts[i]! + size : starts[i]!;
    let e = ends[i]! < 0 ? ends[i]! + size : ends[i]!;
    if (s > 0) {
      b = clamp(b, 0, size);
      e = clamp(e, 0, size);
      dims[a] = Math.max(0, Math.ceil((e - b) / s));
    } else {
      b = clamp(b, -1, size - 1);
      e = clamp(e, -1, size - 1);
      dims[a] = Math.max(0, Math.ceil((b - e) / -s));
    }
    lo[a] = b;
    step[a] = s;
  });
  const src = cells(v);
  const st = strides(v.dims);
  const out: Cell[] = [];
  for (const idx of indices(dims)) out.push(at(src, st, idx.map((x, i) => lo[i]! + x * step[i]!)));
  return make(v, dims, out);
}

function gather(v: Folded, axis: number, idx: number[], idxDims: number[]): Folded | undefined {
  const size = v.dims[axis]!;
  const norm = idx.map((i) => (i < 0 ? i + size : i));
  if (norm.some((i) => i < 0 || i >= size)) return undefined;
  const dims = [...v.dims.slice(0, axis), ...idxDims, ...v.dims.slice(axis + 1)];
  const src = cells(v);
  const st = strides(v.dims);
  const out: Cell[] = [];
  for (const i of indices(dims)) {
    const flatIdx = idxDims.length === 0 ? 0 : i.slice(axis, axis + idxDims.length).reduce((a, x, k) => a * idxDims[k]! + x, 0);
    const from = [...i.slice(0, axis), norm[flatIdx]!, ...i.slice(axis + idxDims.length)];
    out.push(at(src, st, from));
  }
  return make(v, dims, out);
}

function concat(parts: Folded[], axis: number): Folded | undefined {
  const first = parts[0]!;
  if (parts.some((p) => (p.ints === undefined) !== (first.ints === undefined) || p.dims.length !== first.dims.length)) return undefined;
  const dims = [...first.dims];
  dims[axis] = parts.reduce((a, p) => a + p.dims[axis]!, 0);
  const out: Cell[] = [];
  const srcs = parts.map((p) => ({ v: cells(p), st: strides(p.dims), size: p.dims[axis]! }));
  for (const idx of indices(dims)) {
    let k = idx[axis]!;
    let p = 0;
    while (k >= srcs[p]!.size) k -= srcs[p++]!.size;
    const from = [...idx];
    from[axis] = k;
    out.push(at(srcs[p]!.v, srcs[p]!.st, from));
  }
  return make(first, dims, out);
}

function constantAttr(name: string, a: OnnxAttrValue): Folded | undefined {
  if (a.type === 'tensor') {
    const t = a.t;
    return t.dataType === 7 || t.dataType === 6 ? { dims: t.dims, ints: t.ints() } : { dims: t.dims, floats: t.floats() };
  }
  if (name === 'value_float' && a.type === 'float') return { dims: [], floats: Float32Array.of(a.f) };
  if (name === 'value_floats' && a.type === 'floats') return { dims: [a.floats.length], floats: Float32Array.from(a.floats) };
  if (name === 'value_int' && a.type === 'int') return { dims: [], ints: [a.i] };
  if (name === 'value_ints' && a.type === 'ints') return { dims: [a.ints.length], ints: a.ints };
  return undefined;
}

function normAxis(a: number, rank: number): number {
  return a < 0 ? a + rank : a;
}

export function intAttr(n: OnnxNode, name: string, dflt: number): number {
  const a = n.attrs.get(name);
  return a?.type === 'int' ? a.i : dflt;
}

export function floatAttr(n: OnnxNode, name: string, dflt: number): number {
  const a = n.attrs.get(name);
  return a?.type === 'float' ? a.f : a?.type === 'int' ? a.i : dflt;
}

export function intsAttr(n: OnnxNode, name: string): number[] | undefined {
  const a = n.attrs.get(name);
  return a?.type === 'ints' ? a.ints : undefined;
}

export function stringAttr(n: OnnxNode, name: string, dflt: string): string {
  const a = n.attrs.get(name);
  return a?.type === 'string' ? a.s : dflt;
}

/** `node '/layer1/layer1.0/Add' (Add, #12 of 70)` */
export function where(n: OnnxNode, model: OnnxModelFile & { nodeCount?: number }): string {
  // nodeCount: the file's count when the importer has fused some of its nodes (transformer.ts)
  return `node '${n.name}' (${n.op}, #${n.index + 1} of ${model.nodeCount ?? model.nodes.length} in the graph)`;
}

function inputShape(v: { name: string; elemType: number; dims: (number | string | undefined)[] | undefined }, file: string): number[] {
  if (v.elemType !== 1) throw new ImportError(`${file}: the input ${v.name} is ${typeName(v.elemType)}; alexnetc networks take float32`);
  if (!v.dims) throw new ImportError(`${file}: the input ${v.name} has no shape; alexnetc needs its size per example`);
  if (v.dims.length < 2 || v.dims.length > 4) {
    throw new ImportError(`${file}: the input ${v.name} has rank ${v.dims.length}; alexnetc networks take images [N, C, H, W], tokens [N, T, D] or vectors [N, F]`);
  }
  const rest = v.dims.slice(1);
  rest.forEach((d, i) => {
    if (typeof d !== 'number' || d <= 0) {
      const axis = v.dims!.length === 4 ? ['channels', 'height', 'width'][i] : v.dims!.length === 3 ? ['tokens', 'features'][i] : 'features';
      throw new ImportError(
        `${file}: the input ${v.name} has a dynamic ${axis} (${d === undefined ? 'unknown' : `'${d}'`}); alexnetc needs fixed sizes per example — re-export with a fixed input size (only the batch may be symbolic)`,
      );
    }
  });
  return rest as number[];
}
