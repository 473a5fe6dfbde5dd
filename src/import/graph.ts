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
    const ints = (i: number): (number | null)[] => this.ints(n.inputs[i]!, n);
    switch (n.op) {
      case 'Constant': {
        const a = [...n.attrs.entries()][0];
        if (!a) this.fail(n, 'a Constant without a value');
        return constantAttr(a![0], a![1]) ?? this.fail(n, `cannot fold a Constant given as ${a![0]}`);
      }
      case 'Identity':
        return this.fold(n.inputs[0]!, n);
      case 'Shape': {
        const shape = this.shapes.get(n.inputs[0]!);
        if (!shape) this.fail(n, 'takes the shape of a value the importer has not reached; the graph is not a chain alexnetc can follow');
        const full: (number | null)[] = [null, ...shape!];
        const start = normAxis(intAttr(n, 'start', 0), full.length);
        const end = n.attrs.has('end') ? normAxis(intAttr(n, 'end', full.length), full.length) : full.length;
        const r = full.slice(start, end);
        return { dims: [r.length], ints: r };
      }
      case 'Cast':
        return this.fold(n.inputs[0]!, n);
      case 'Gather': {
        const data = ints(0);
        const idx = this.fold(n.inputs[1]!, n);
        const d = this.fold(n.inputs[0]!, n);
        if (d.dims.length !== 1 || intAttr(n, 'axis', 0) !== 0) this.fail(n, 'can only fold a Gather from a vector');
        const at = (idx.ints ?? []).map((i) => data[normAxis(i ?? NaN, data.length)]);
        if (at.some((x) => x === undefined)) this.fail(n, 'Gather index out of range');
        return { dims: idx.dims, ints: at as (number | null)[] };
      }
      case 'Unsqueeze':
      case 'Squeeze': {
        const v = this.fold(n.inputs[0]!, n);
        const size = v.dims.reduce((a, b) => a * b, 1);
        // folding only scalars and vectors: the result is again a flat list of `size` values
        const dims = n.op === 'Unsqueeze' ? (v.dims.length === 0 ? [1] : [1, ...v.dims]) : size === 1 ? [] : [size];
        return { ...v, dims };
      }
      case 'Concat': {
        const parts = n.inputs.map((_, i) => ints(i));
        const all = parts.flat();
        return { dims: [all.length], ints: all };
      }
      case 'Slice': {
        const data = ints(0);
        const starts = ints(1);
        const ends = ints(2);
        if (starts.length !== 1 || (n.inputs[3] && ints(3)[0] !== 0) || (n.inputs[4] && ints(4)[0] !== 1)) this.fail(n, 'can only fold a Slice of a vector with step 1');
        const len = data.length;
        const s = Math.min(Math.max(starts[0]! < 0 ? starts[0]! + len : starts[0]!, 0), len);
        const e = Math.min(Math.max(ends[0]! < 0 ? ends[0]! + len : ends[0]!, 0), len);
        const r = data.slice(s, e);
        return { dims: [r.length], ints: r };
      }
      case 'Mul':
      case 'Add':
      case 'Sub':
      case 'Div': {
        const a = ints(0);
        const b = ints(1);
        if (a.length !== b.length && a.length !== 1 && b.length !== 1) this.fail(n, `cannot fold ${n.op} of vectors of lengths ${a.length} and ${b.length}`);
        const len = Math.max(a.length, b.length);
        const r = Array.from({ length: len }, (_, i) => {
          const x = a[a.length === 1 ? 0 : i]!;
          const y = b[b.length === 1 ? 0 : i]!;
          if (x === null || y === null) return null;
          return n.op === 'Mul' ? x * y : n.op === 'Add' ? x + y : n.op === 'Sub' ? x - y : Math.trunc(x / y);
        });
        return { dims: this.fold(n.inputs[a.length >= b.length ? 0 : 1]!, n).dims, ints: r };
      }
      case 'Reshape': {
        const v = this.fold(n.inputs[0]!, n);
        const shape = ints(1);
        const size = v.dims.reduce((x, y) => x * y, 1);
        if (shape.some((d) => d === null)) this.fail(n, 'cannot fold a Reshape of a constant to the batch size');
        const known = (shape as number[]).reduce((x, y, i) => x * (y === -1 ? 1 : y === 0 ? v.dims[i]! : y), 1);
        const dims = (shape as number[]).map((d, i) => (d === -1 ? size / known : d === 0 ? v.dims[i]! : d));
        return { ...v, dims };
      }
      case 'Transpose': {
        const v = this.fold(n.inputs[0]!, n);
        if (v.dims.length !== 2 || !v.floats) this.fail(n, 'can only fold the Transpose of a constant matrix');
        const [r, c] = v.dims as [number, number];
        const out = new Float32Array(r * c);
        for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = v.floats![i * c + j]!;
        return { dims: [c, r], floats: out };
      }
      default:
        this.fail(n, `computes the constant '${value}' with ${n.op}, which alexnetc cannot fold (re-export with do_constant_folding=True)`);
    }
  }
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
export function where(n: OnnxNode, model: OnnxModelFile): string {
  return `node '${n.name}' (${n.op}, #${n.index + 1} of ${model.nodes.length} in the graph)`;
}

function inputShape(v: { name: string; elemType: number; dims: (number | string | undefined)[] | undefined }, file: string): number[] {
  if (v.elemType !== 1) throw new ImportError(`${file}: the input ${v.name} is ${typeName(v.elemType)}; alexnetc networks take float32`);
  if (!v.dims) throw new ImportError(`${file}: the input ${v.name} has no shape; alexnetc needs its size per example`);
  if (v.dims.length !== 2 && v.dims.length !== 4) {
    throw new ImportError(`${file}: the input ${v.name} has rank ${v.dims.length}; alexnetc networks take images [N, C, H, W] or vectors [N, F]`);
  }
  const rest = v.dims.slice(1);
  rest.forEach((d, i) => {
    if (typeof d !== 'number' || d <= 0) {
      const axis = v.dims!.length === 4 ? ['channels', 'height', 'width'][i] : 'features';
      throw new ImportError(
        `${file}: the input ${v.name} has a dynamic ${axis} (${d === undefined ? 'unknown' : `'${d}'`}); alexnetc needs fixed sizes per example — re-export with a fixed input size (only the batch may be symbolic)`,
      );
    }
  });
  return rest as number[];
}
