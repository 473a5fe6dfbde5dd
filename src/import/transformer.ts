// Transformer patterns: what PyTorch's exporter (opset 17) writes for a
// Vision Transformer, recognised as a whole and turned into the catalogue's
// sequence layers. None of them is one ONNX op, so no layer's onnxImport can
// claim them (src/layers/tokens.ts, attention.ts and gelu.ts say so); the
// structure builder asks here first, for a node (`matchNode`) and for a value
// read by several nodes (`matchFork`, GELU's x·½(1 + erf(x/√2))). Every
// constant that decides what a pattern computes (slice bounds, reshape
// targets, the attention scale, GELU's √2) is folded and checked: a graph
// that looks like a pattern but computes something else is refused, naming
// the node where it departs.
import { nonFinite } from '../weights/match.js';
import type { OnnxAttrValue, OnnxModelFile, OnnxNode } from '../weights/onnx-read.js';
import { floatAttr, type ImportGraph, intAttr, intsAttr } from './graph.js';
import { type ImportLayer, type ImportWeight, layer, type OpResult } from './ops.js';

type Dims = (number | null)[];

/** The one data node that reads `value` (undefined when none, several, or the value is the graph's output). */
function only(g: ImportGraph, value: string): OnnxNode | undefined {
  if (value === g.output) return undefined;
  const users = g.consumers.get(value) ?? [];
  const nodes = new Set(users.map((u) => u.node));
  return nodes.size === 1 ? users[0]!.node : undefined;
}

/** `only`, or a refusal naming the node whose output is shared. */
function next(g: ImportGraph, n: OnnxNode, what: string): OnnxNode {
  const r = only(g, n.outputs[0]!);
  if (!r) g.fail(n, `is part of ${what}, but its output is read by ${(g.consumers.get(n.outputs[0]!) ?? []).length} nodes; PyTorch's pattern reads it once`);
  return r;
}

function expectOp(g: ImportGraph, n: OnnxNode, ops: string[], what: string): void {
  if (!ops.includes(n.op)) g.fail(n, `is where ${what} departs from PyTorch's pattern: ${ops.join(' or ')} expected, not ${n.op}`);
}

function samePerm(n: OnnxNode, want: number[]): boolean {
  const p = intsAttr(n, 'perm');
  return p !== undefined && p.length === want.length && p.every((x, i) => x === want[i]);
}

/** The data input of a node with one data input and constants, and the slot of the (first) constant. */
function dataAndConst(g: ImportGraph, n: OnnxNode): { data: string; constSlot: number } | undefined {
  if (n.inputs.length !== 2) return undefined;
  const [a, b] = n.inputs as [string, string];
  if (g.isData(a) && !g.isData(b)) return { data: a, constSlot: 1 };
  if (g.isData(b) && !g.isData(a)) return { data: b, constSlot: 0 };
  return undefined;
}

/** A scalar constant (one value, any rank) read by `n` at `slot`, or undefined. */
function scalar(g: ImportGraph, n: OnnxNode, slot: number): number | undefined {
  const v = g.floats(n.inputs[slot]!, n);
  return v.values.length === 1 ? v.values[0]! : undefined;
}

/** float32 equality with a little room for the exporter's rounding. */
function near(x: number, want: number): boolean {
  return Math.abs(x - want) <= 1e-6 * Math.abs(want);
}

function weightOf(g: ImportGraph, n: OnnxNode, slot: number, name: string): ImportWeight {
  const v = g.floats(n.inputs[slot]!, n);
  const bad = nonFinite(v.values, `'${n.inputs[slot]}'`, `${g.model.file}: ${g.where(n)}`);
  if (bad) g.fail(n, `its weight '${n.inputs[slot]}' is not finite: ${bad.replace(/^.*?: '.*?' /, '')}`);
  return { name, dims: v.dims, values: v.values };
}

function transposed(w: ImportWeight, name = w.name): ImportWeight {
  const [r, k] = w.dims as [number, number];
  const out = new Float32Array(r * k);
  for (let i = 0; i < r; i++) for (let j = 0; j < k; j++) out[j * r + i] = w.values[i * k + j]!;
  return { name, dims: [k, r], values: out };
}

/**
 * A Reshape's target resolved against the input's whole shape (`null`: an
 * axis holding the batch): 0 copies, -1 is what is left. Returns the target
 * as written after those rules, `null` where it depends on the batch.
 */
function reshapeTarget(g: ImportGraph, n: OnnxNode, input: Dims): Dims {
  const t = g.ints(n.inputs[1]!, n);
  const zero = intAttr(n, 'allowzero', 0) === 0;
  return t.map((d, i) => (d === 0 && zero ? (input[i] ?? null) : d));
}

/** Does a resolved target equal `want` (numbers exact; `null` in want: the batch-holding axis, written null or -1)? */
function targetIs(t: Dims, want: Dims): boolean {
  if (t.length !== want.length) return false;
  let free = 0;
  for (let i = 0; i < t.length; i++) {
    if (want[i] === null) {
      if (t[i] !== null && t[i] !== -1) return false;
      free++;
    } else if (t[i] !== want[i]) return false;
  }
  return free <= 1 || !t.includes(-1);
}

function showDims(t: Dims): string {
  return `[${t.map((d) => (d === null ? 'N·…' : d)).join(', ')}]`;
}

// ---------------------------------------------------------------- node patterns

/** A pattern that starts at node `n`, which reads the data value `v`; undefined when none does. */
export function matchNode(g: ImportGraph, n: OnnxNode, v: string): OpResult | undefined {
  const inShape = g.shapes.get(v)!;
  const tokens = inShape.length === 2;
  switch (n.op) {
    case 'Reshape':
      return inShape.length === 3 ? toTokens(g, n, inShape) : undefined;
    case 'MatMul':
      return tokens ? packedAttention(g, n, inShape) : undefined;
    case 'Transpose':
      if (tokens && samePerm(n, [1, 0, 2])) return attention(g, n, inShape);
      if (tokens && samePerm(n, [0, 2, 1])) return toImage(g, n, inShape);
      return undefined;
    case 'Concat':
      return tokens ? classToken(g, n, v, inShape) : undefined;
    case 'Add':
      return tokens ? posEmbed(g, n, inShape) : undefined;
    case 'Gather':
      return tokens ? gatherToken(g, n, v, inShape) : undefined;
    case 'Slice':
      return tokens ? sliceToken(g, n, inShape) : undefined;
    case 'ReduceMean':
      return tokens ? meanTokens(g, n, inShape) : undefined;
    default:
      return undefined;
  }
}

/** Reshape [N, D, H, W] → [N, D, H·W], Transpose [0, 2, 1]: `tokens` (torchvision's x.reshape(n, D, -1).permute(0, 2, 1)). */
function toTokens(g: ImportGraph, n: OnnxNode, inShape: number[]): OpResult | undefined {
  const [d, h, w] = inShape as [number, number, number];
  const t = reshapeTarget(g, n, [null, d, h, w]);
  const rest = t.slice(1);
  const known = rest.filter((x) => x !== -1 && x !== null).reduce((a: number, b) => a * b!, 1);
  const dims = rest.map((x) => (x === -1 ? (d * h * w) / known : x));
  if (!(t.length === 3 && (t[0] === null || t[0] === -1) && dims[0] === d && dims[1] === h * w && !(t[0] === -1 && rest.includes(-1)))) return undefined;
  const tr = only(g, n.outputs[0]!);
  if (!tr || tr.op !== 'Transpose' || !samePerm(tr, [0, 2, 1])) return undefined;
  return { layers: [layer({ g, node: n, inShape }, 'tokens', {}, [], [n, tr])], out: tr.outputs[0]! };
}

/** Transpose [0, 2, 1], Reshape [N, D, h, w]: `image(h, w)`. */
function toImage(g: ImportGraph, n: OnnxNode, inShape: number[]): OpResult | undefined {
  const [t, d] = inShape as [number, number];
  const r = only(g, n.outputs[0]!);
  if (!r || r.op !== 'Reshape') return undefined;
  const target = reshapeTarget(g, r, [null, d, t]);
  if (target.length !== 4 || !(target[0] === null || target[0] === -1) || target[1] !== d) return undefined;
  const h = target[2]!;
  const w = target[3]!;
  const hw = h === -1 && w !== null && w > 0 ? [t / w, w] : w === -1 && h !== null && h > 0 ? [h, t / h] : [h, w];
  if (hw.some((x) => x === null || x < 1 || !Number.isInteger(x)) || hw[0]! * hw[1]! !== t || target[0] === -1 && (h === -1 || w === -1)) return undefined;
  return { layers: [layer({ g, node: n, inShape }, 'image', { h: hw[0]!, w: hw[1]! }, [], [n, r])], out: r.outputs[0]! };
}

/** Concat([Expand(class_token [1, 1, D], [N, 1, 1]), x], axis 1): `classtoken`. */
function classToken(g: ImportGraph, n: OnnxNode, v: string, inShape: number[]): OpResult | undefined {
  const axis = intAttr(n, 'axis', 0);
  if (n.inputs.length !== 2 || n.inputs[1] !== v || g.isData(n.inputs[0]!) || !(axis === 1 || axis === -2)) return undefined;
  const d = inShape[1]!;
  const ex = g.producer.get(n.inputs[0]!);
  let token: ImportWeight;
  const nodes = [n];
  if (ex?.op === 'Expand') {
    const w = g.floats(ex.inputs[0]!, ex);
    if (w.dims.join() !== `1,1,${d}`) g.fail(ex, `expands a tensor of shape [${w.dims.join(', ')}] to prepend it to tokens [N, ${inShape.join(', ')}]; a class token is [1, 1, ${d}]`);
    // the shape it is expanded to must broadcast [1, 1, D] to [N, 1, D]: one token per example
    const shape = g.ints(ex.inputs[1]!, ex);
    const ok = shape.length === 3 && (shape[0] === null || shape[0] === 1) && shape[1] === 1 && (shape[2] === 1 || shape[2] === d);
    if (!ok) g.fail(ex, `expands the class token to ${showDims(shape)}; alexnetc's classtoken prepends one token per example, [N, 1, ${d}]`);
    token = weightOf(g, ex, 0, 'class_token');
    nodes.unshift(ex);
  } else {
    return undefined;
  }
  return { layers: [layer({ g, node: n, inShape }, 'classtoken', {}, [token], nodes)], out: n.outputs[0]! };
}

/** Add of a learned [1, T, D] (or [T, D]) tensor to tokens [T, D]: `posembed`. */
function posEmbed(g: ImportGraph, n: OnnxNode, inShape: number[]): OpResult | undefined {
  const dc = dataAndConst(g, n);
  if (!dc) return undefined;
  const w = weightOf(g, n, dc.constSlot, 'pos_embedding');
  const [t, d] = inShape as [number, number];
  if (!(w.dims.join() === `1,${t},${d}` || w.dims.join() === `${t},${d}`)) return undefined;
  return { layers: [layer({ g, node: n, inShape }, 'posembed', {}, [{ ...w, dims: [1, t, d] }])], out: n.outputs[0]! };
}

/** Gather of one index (a scalar) along the tokens: `token(i)` (torchvision's x[:, 0]). */
function gatherToken(g: ImportGraph, n: OnnxNode, v: string, inShape: number[]): OpResult | undefined {
  const axis = intAttr(n, 'axis', 0);
  if (n.inputs[0] !== v || !(axis === 1 || axis === -2)) return undefined;
  const idx = g.fold(n.inputs[1]!, n);
  const values = g.ints(n.inputs[1]!, n);
  if (idx.dims.length !== 0 || values.length !== 1 || values[0] === null) {
    g.fail(n, `gathers tokens [${values.join(', ')}] keeping the axis; alexnetc's token selects one token, given as a scalar index`);
  }
  let i = values[0]!;
  if (i < 0) i += inShape[0]!;
  return { layers: [layer({ g, node: n, inShape }, 'token', { index: i })], out: n.outputs[0]! };
}

/** Slice [i, i+1) along the tokens, Squeeze that axis: `token(i)` (as alexnetc writes it). */
function sliceToken(g: ImportGraph, n: OnnxNode, inShape: number[]): OpResult | undefined {
  if (n.inputs.length < 4) return undefined;
  const starts = g.ints(n.inputs[1]!, n);
  const ends = g.ints(n.inputs[2]!, n);
  const axes = g.ints(n.inputs[3]!, n);
  const steps = (n.inputs[4] ?? '') !== '' ? g.ints(n.inputs[4]!, n) : [1];
  if (starts.length !== 1 || ends.length !== 1 || axes.length !== 1 || steps[0] !== 1 || !(axes[0] === 1 || axes[0] === -2)) return undefined;
  const t = inShape[0]!;
  const i = starts[0]! < 0 ? starts[0]! + t : starts[0]!;
  if (ends[0] !== i + 1 || i < 0 || i >= t) return undefined;
  const sq = only(g, n.outputs[0]!);
  if (!sq || sq.op !== 'Squeeze') return undefined;
  const sqAxes = (sq.inputs[1] ?? '') !== '' ? g.ints(sq.inputs[1]!, sq) : intsAttr(sq, 'axes') ?? [];
  if (sqAxes.length !== 1 || !(sqAxes[0] === 1 || sqAxes[0] === -2)) return undefined;
  return { layers: [layer({ g, node: n, inShape }, 'token', { index: i }, [], [n, sq])], out: sq.outputs[0]! };
}

/** ReduceMean over axis 1 of tokens, axis dropped: `avgtokens`. */
function meanTokens(g: ImportGraph, n: OnnxNode, inShape: number[]): OpResult | undefined {
  const axes = (n.inputs[1] ?? '') !== '' ? g.ints(n.inputs[1]!, n) : intsAttr(n, 'axes');
  if (!axes || axes.length !== 1 || !(axes[0] === 1 || axes[0] === -2)) return undefined;
  if (intAttr(n, 'keepdims', 1) !== 0) g.fail(n, `averages the tokens keeping their axis ([N, 1, ${inShape[1]}]); alexnetc's avgtokens gives [N, ${inShape[1]}]`);
  return { layers: [layer({ g, node: n, inShape }, 'avgtokens', {})], out: n.outputs[0]! };
}

// ---------------------------------------------------------------- attention

/** q, k and v by index (0, 1, 2): the three Slices of the packed [·, ·, 3·d] projection along its last axis, each checked; fails naming a slice that is not one of them. */
function qkvParts(g: ImportGraph, slices: OnnxNode[], d: number, what: string): Map<number, OnnxNode> {
  const part = new Map<number, OnnxNode>();
  for (const s of slices) {
    const starts = g.ints(s.inputs[1]!, s);
    const ends = g.ints(s.inputs[2]!, s);
    const axes = (s.inputs[3] ?? '') !== '' ? g.ints(s.inputs[3]!, s) : [0];
    const steps = (s.inputs[4] ?? '') !== '' ? g.ints(s.inputs[4]!, s) : [1];
    const k = starts[0] === null ? -1 : starts[0]! / d;
    const ok = starts.length === 1 && (axes[0] === 2 || axes[0] === -1) && steps[0] === 1 && Number.isInteger(k) && k >= 0 && k < 3 && ends[0] === (k + 1) * d && !part.has(k);
    if (!ok) g.fail(s, `slices the packed projection [${starts.join(', ')}]–[${ends.join(', ')}] along axis ${axes[0]}; ${what} needs q, k and v as [0, ${d}), [${d}, ${2 * d}), [${2 * d}, ${3 * d}) of the last axis`);
    part.set(k, s);
  }
  return part;
}

/**
 * nn.MultiheadAttention(D, heads, batch_first=True) called as self-attention
 * without masks, as torch.onnx.export (torch 1.13, opset 17) writes it:
 *
 *   x [N, T, D] → Transpose(1, 0, 2) → MatMul(W_inᵀ) → Add(b_in) → qkv [T, N, 3D]
 *   q, k, v = Slice(qkv, [0, D), [D, 2D), [2D, 3D)) along the last axis
 *   each → Reshape [T, N·heads, D/heads]; q, v → Transpose(1, 0, 2); q → Div(√(D/heads))
 *   k → Transpose(1, 2, 0); MatMul(q, k) → Softmax(-1) → MatMul(·, v) → Transpose(1, 0, 2)
 *   → Reshape [T·N, D] → Gemm(W_out, b_out, transB) → Reshape [T, N, D] → Transpose(1, 0, 2)
 */
function attention(g: ImportGraph, entry: OnnxNode, inShape: number[]): OpResult {
  const [t, d] = inShape as [number, number];
  const what = `the attention that starts at '${entry.name}'`;
  const nodes: OnnxNode[] = [entry];
  const step = (n: OnnxNode, ops: string[]): OnnxNode => {
    const r = next(g, n, what);
    expectOp(g, r, ops, what);
    nodes.push(r);
    return r;
  };
  g.layouts.set(entry.outputs[0]!, [t, null, d]);

  // the packed input projection
  const mm = step(entry, ['MatMul']);
  if (mm.inputs[0] !== entry.outputs[0] || g.isData(mm.inputs[1]!)) g.fail(mm, `multiplies the tokens by a value computed from the input; ${what} needs the packed projection in_proj_weight`);
  const wIn = weightOf(g, mm, 1, 'in_proj_weight');
  if (wIn.dims.join() !== `${d},${3 * d}`) g.fail(mm, `projects [N, ${t}, ${d}] tokens by a [${wIn.dims.join(', ')}] matrix; nn.MultiheadAttention packs q, k and v in one [${d}, ${3 * d}] projection`);
  let qkv = mm;
  let bIn: ImportWeight | undefined;
  const addIn = only(g, mm.outputs[0]!);
  if (addIn?.op === 'Add') {
    const dc = dataAndConst(g, addIn);
    if (dc) {
      bIn = weightOf(g, addIn, dc.constSlot, 'in_proj_bias');
      if (bIn.values.length !== 3 * d || bIn.dims.length !== 1) g.fail(addIn, `adds a bias of shape [${bIn.dims.join(', ')}] to the packed projection; in_proj_bias is [${3 * d}]`);
      nodes.push(addIn);
      qkv = addIn;
    }
  }
  g.layouts.set(qkv.outputs[0]!, [t, null, 3 * d]);

  // q, k and v: three slices of the last axis
  const slices = [...new Set((g.consumers.get(qkv.outputs[0]!) ?? []).map((c) => c.node))];
  if (slices.length !== 3 || slices.some((s) => s.op !== 'Slice' || s.inputs[0] !== qkv.outputs[0])) {
    g.fail(qkv, `is the packed q, k, v projection of ${what}; PyTorch's pattern slices it three times (it is read by ${slices.map((s) => `${s.name} (${s.op})`).join(', ')})`);
  }
  const part = qkvParts(g, slices, d, what);
  for (const s of slices) {
    g.layouts.set(s.outputs[0]!, [t, null, d]);
    nodes.push(s);
  }
  // each part as the heads: [T, N, D] → [T, N·heads, D/heads]
  let dh = 0;
  const heads = (s: OnnxNode): OnnxNode => {
    const r = step(s, ['Reshape']);
    const target = reshapeTarget(g, r, [t, null, d]);
    const size = target[2];
    if (dh === 0 && typeof size === 'number' && size > 0 && d % size === 0) dh = size;
    if (!targetIs(target, [t, null, dh])) g.fail(r, `reshapes [${t}, N, ${d}] to ${showDims(target)}; ${what} splits the features into heads, [${t}, N·heads, D/heads]`);
    g.layouts.set(r.outputs[0]!, [t, null, dh]);
    return r;
  };
  const transpose = (n: OnnxNode, perm: number[]): OnnxNode => {
    const r = step(n, ['Transpose']);
    if (!samePerm(r, perm)) g.fail(r, `transposes by [${(intsAttr(r, 'perm') ?? []).join(', ')}]; ${what} needs [${perm.join(', ')}] here`);
    return r;
  };
  const q = transpose(heads(part.get(0)!), [1, 0, 2]);
  const kR = heads(part.get(1)!);
  const v = transpose(heads(part.get(2)!), [1, 0, 2]);

  // the scale: q / √(D/heads)
  const scale = step(q, ['Div', 'Mul']);
  const sc = dataAndConst(g, scale);
  const factor = sc && sc.constSlot === 1 ? scalar(g, scale, 1) : undefined;
  const wanted = scale.op === 'Div' ? Math.sqrt(dh) : 1 / Math.sqrt(dh);
  if (factor === undefined || !near(factor, wanted)) {
    g.fail(scale, `scales the queries by ${scale.op === 'Div' ? '1 / ' : ''}${factor ?? 'a non-scalar'}; nn.MultiheadAttention divides them by √(D/heads) = ${Math.sqrt(dh)}`);
  }
  const scores = step(scale, ['MatMul']);
  const kT = transpose(kR, [1, 2, 0]);
  if (scores.inputs[0] !== scale.outputs[0] || scores.inputs[1] !== kT.outputs[0]) g.fail(scores, `is not q·kᵀ of ${what}`);
  if (only(g, kT.outputs[0]!) !== scores) g.fail(kT, `is read elsewhere than by q·kᵀ in ${what}`);
  const soft = step(scores, ['Softmax']);
  const axis = intAttr(soft, 'axis', g.model.opset >= 13 ? -1 : 1);
  if (!(axis === -1 || axis === 2)) g.fail(soft, `takes the softmax over axis ${axis} (opset ${g.model.opset}); ${what} needs it over the keys, the last axis (before opset 13 Softmax flattens from its axis: the last is the keys alone)`);
  const mix = step(soft, ['MatMul']);
  if (mix.inputs[0] !== soft.outputs[0] || mix.inputs[1] !== v.outputs[0] || only(g, v.outputs[0]!) !== mix) g.fail(mix, `is not softmax(q·kᵀ)·v of ${what}`);
  const back = transpose(mix, [1, 0, 2]);
  g.layouts.set(back.outputs[0]!, [t, null, dh]);

  // the heads joined, the output projection
  const joined = step(back, ['Reshape']);
  const jt = reshapeTarget(g, joined, [t, null, dh]);
  if (!targetIs(jt, [null, d])) g.fail(joined, `reshapes the heads to ${showDims(jt)}; ${what} joins them as [${t}·N, ${d}]`);
  g.layouts.set(joined.outputs[0]!, [null, d]);
  const proj = step(joined, ['Gemm', 'MatMul']);
  let wOut: ImportWeight;
  let bOut: ImportWeight | undefined;
  let projOut = proj;
  if (proj.op === 'Gemm') {
    if (intAttr(proj, 'transA', 0) !== 0 || floatAttr(proj, 'alpha', 1) !== 1 || floatAttr(proj, 'beta', 1) !== 1 || proj.inputs[0] !== joined.outputs[0]) {
      g.fail(proj, `is the output projection of ${what}, but scales or transposes its input (transA, alpha, beta)`);
    }
    wOut = weightOf(g, proj, 1, 'out_proj.weight');
    if (intAttr(proj, 'transB', 0) === 0 && wOut.dims.length === 2) wOut = transposed(wOut);
    if ((proj.inputs[2] ?? '') !== '') bOut = weightOf(g, proj, 2, 'out_proj.bias');
  } else {
    if (proj.inputs[0] !== joined.outputs[0] || g.isData(proj.inputs[1]!)) g.fail(proj, `is not the output projection of ${what}`);
    wOut = transposed(weightOf(g, proj, 1, 'out_proj.weight'));
    const add = only(g, proj.outputs[0]!);
    const dc = add?.op === 'Add' ? dataAndConst(g, add) : undefined;
    if (add && dc) {
      bOut = weightOf(g, add, dc.constSlot, 'out_proj.bias');
      nodes.push(add);
      projOut = add;
    }
  }
  if (wOut.dims.join() !== `${d},${d}`) g.fail(proj, `projects the joined heads by [${wOut.dims.join(', ')}]; out_proj.weight is [${d}, ${d}]`);
  if (bOut && (bOut.values.length !== d || bOut.dims.length !== 1)) g.fail(proj, `adds a bias of shape [${bOut.dims.join(', ')}]; out_proj.bias is [${d}]`);
  if ((bIn === undefined) !== (bOut === undefined)) g.fail(proj, `${what} has a bias on ${bIn ? 'its input projection only' : 'its output projection only'}; alexnetc's attention has both or neither`);
  g.layouts.set(projOut.outputs[0]!, [null, d]);
  const split = step(projOut, ['Reshape']);
  const st = reshapeTarget(g, split, [null, d]);
  if (!targetIs(st, [t, null, d])) g.fail(split, `reshapes the attention's output to ${showDims(st)}; ${what} gives [${t}, N, ${d}]`);
  g.layouts.set(split.outputs[0]!, [t, null, d]);
  const out = transpose(split, [1, 0, 2]);

  const weights = [transposed(wIn, 'in_proj_weight'), ...(bIn ? [bIn] : []), wOut, ...(bOut ? [bOut] : [])];
  const l = layer({ g, node: entry, inShape }, 'attention', { heads: d / dh, bias: bIn !== undefined }, weights, nodes);
  return { layers: [l], out: out.outputs[0]! };
}

// ---------------------------------------------------------------- fork patterns

/** A pattern that starts where the value `v` is read by several nodes (`readers`); undefined when none does. */
export function matchFork(g: ImportGraph, v: string, readers: OnnxNode[]): OpResult | undefined {
  if (readers.length === 2) return gelu(g, v, readers);
  if (readers.length === 4) return geluTanh(g, v, readers);
  return undefined;
}

/** The input of a two-input node other than `value` (undefined when it reads `value` twice or not at all). */
function otherInput(n: OnnxNode, value: string): string | undefined {
  if (n.inputs.length !== 2) return undefined;
  const i = n.inputs.indexOf(value);
  if (i < 0 || n.inputs[1 - i] === value) return undefined;
  return n.inputs[1 - i];
}

/** A Mul or Add of `value` by a scalar constant near `want`, read only by the next node. */
function byConstant(g: ImportGraph, n: OnnxNode | undefined, op: string, value: string, want: number): boolean {
  if (n?.op !== op) return false;
  const other = otherInput(n, value);
  if (other === undefined || g.isData(other)) return false;
  const c = scalar(g, n, n.inputs.indexOf(other));
  return c !== undefined && near(c, want);
}

/**
 * GELU's tanh approximation, ½x(1 + tanh(√(2/π)(x + 0.044715x³))), as
 * PyTorch writes nn.GELU(approximate="tanh") (x·x, ·x, ·0.044715, +x,
 * ·√(2/π), Tanh, +1, ·x, ·½) and as alexnetc does (the ½ taken from x first).
 */
function geluTanh(g: ImportGraph, v: string, readers: OnnxNode[]): OpResult | undefined {
  const inShape = g.shapes.get(v)!;
  const sq = readers.find((r) => r.op === 'Mul' && r.inputs.length === 2 && r.inputs[0] === v && r.inputs[1] === v);
  const cube = sq && only(g, sq.outputs[0]!);
  if (!sq || !cube || cube.op !== 'Mul' || otherInput(cube, sq.outputs[0]!) !== v) return undefined;
  const c = only(g, cube.outputs[0]!);
  if (!byConstant(g, c, 'Mul', cube.outputs[0]!, 0.044715)) return undefined;
  const a = only(g, c!.outputs[0]!);
  if (a?.op !== 'Add' || otherInput(a, c!.outputs[0]!) !== v) return undefined;
  const s = only(g, a.outputs[0]!);
  if (!byConstant(g, s, 'Mul', a.outputs[0]!, Math.sqrt(2 / Math.PI))) return undefined;
  const t = only(g, s!.outputs[0]!);
  if (t?.op !== 'Tanh') return undefined;
  const u = only(g, t.outputs[0]!);
  if (!byConstant(g, u, 'Add', t.outputs[0]!, 1)) return undefined;
  const last = only(g, u!.outputs[0]!);
  if (last?.op !== 'Mul') return undefined;
  const other = otherInput(last, u!.outputs[0]!);
  let nodes: OnnxNode[];
  let out: OnnxNode;
  if (other === v) {
    // PyTorch: (x · (1 + tanh(…))) · ½
    const half = only(g, last.outputs[0]!);
    if (!byConstant(g, half, 'Mul', last.outputs[0]!, 0.5)) return undefined;
    nodes = [sq, cube, c!, a, s!, t, u!, last, half!];
    out = half!;
  } else {
    // alexnetc: (x · ½) · (1 + tanh(…))
    const half = other === undefined ? undefined : g.producer.get(other);
    if (!half || !readers.includes(half) || !byConstant(g, half, 'Mul', v, 0.5) || only(g, half.outputs[0]!) !== last) return undefined;
    nodes = [sq, cube, c!, a, s!, t, half, u!, last];
    out = last;
  }
  if (!nodes.filter((n) => n.inputs.includes(v)).every((n) => readers.includes(n)) || new Set(readers).size !== 4) return undefined;
  const l: ImportLayer = layer({ g, node: sq, inShape }, 'gelu', { approximate: 'tanh' }, [], nodes);
  return { layers: [l], out: out.outputs[0]! };
}

/** x · ½(1 + erf(x/√2)) as PyTorch writes nn.GELU(): Div(x, √2) → Erf → Add 1 → Mul(x, ·) → Mul ½. */
function gelu(g: ImportGraph, v: string, readers: OnnxNode[]): OpResult | undefined {
  const inShape = g.shapes.get(v)!;
  const div = readers.find((r) => (r.op === 'Div' || r.op === 'Mul') && r.inputs[0] === v && !g.isData(r.inputs[1]!));
  const mul = readers.find((r) => r !== div && r.op === 'Mul');
  if (!div || !mul) return undefined;
  const erf = only(g, div.outputs[0]!);
  if (erf?.op !== 'Erf') return undefined;
  const what = `the GELU that reads ${v}`;
  const c = scalar(g, div, 1);
  if (c === undefined || !near(c, div.op === 'Div' ? Math.SQRT2 : Math.SQRT1_2)) g.fail(div, `scales erf's argument by ${div.op === 'Div' ? '1 / ' : ''}${c}; ${what} needs x / √2`);
  const add = next(g, erf, what);
  const ac = add.op === 'Add' ? dataAndConst(g, add) : undefined;
  if (!ac || !near(scalar(g, add, ac.constSlot) ?? NaN, 1)) g.fail(add, `is where ${what} departs from 1 + erf(x/√2)`);
  if (only(g, add.outputs[0]!) !== mul || !mul.inputs.includes(v) || !mul.inputs.includes(add.outputs[0]!)) g.fail(mul, `is not x · (1 + erf(x/√2)) of ${what}`);
  const half = next(g, mul, what);
  const hc = half.op === 'Mul' ? dataAndConst(g, half) : undefined;
  if (!hc || !near(scalar(g, half, hc.constSlot) ?? NaN, 0.5)) g.fail(half, `is where ${what} departs from ½ · x · (1 + erf(x/√2))`);
  const l: ImportLayer = layer({ g, node: div, inShape }, 'gelu', {}, [], [div, erf, add, mul, half]);
  return { layers: [l], out: half.outputs[0]! };
}

/**
 * Attention as alexnetc's ONNX back end writes it, batch first throughout
 * (src/layers/attention.ts): MatMul(W_inᵀ) → Add(b_in) → three Slices of the
 * last axis → Reshape [N, T, heads, D/heads] → Transpose (0, 2, 1, 3) for q
 * and v, (0, 2, 3, 1) for k; q → Mul(1/√(D/heads)); MatMul → Softmax(-1) →
 * MatMul(·, v) → Transpose (0, 2, 1, 3) → Reshape [N, T, D] → MatMul(W_outᵀ)
 * → Add(b_out). Undefined when the MatMul's result is not sliced in three
 * (a dense layer on tokens).
 */
function packedAttention(g: ImportGraph, mm: OnnxNode, inShape: number[]): OpResult | undefined {
  const [t, d] = inShape as [number, number];
  if (g.isData(mm.inputs[1]!)) return undefined;
  let qkv = mm;
  const add = only(g, mm.outputs[0]!);
  const dc = add?.op === 'Add' ? dataAndConst(g, add) : undefined;
  if (add && dc) qkv = add;
  const readers = [...new Set((g.consumers.get(qkv.outputs[0]!) ?? []).map((c) => c.node))];
  if (readers.length !== 3 || readers.some((r) => r.op !== 'Slice') || qkv.outputs[0] === g.output) return undefined;
  const what = `the attention that starts at '${mm.name}'`;
  const nodes: OnnxNode[] = qkv === mm ? [mm] : [mm, qkv];
  const wIn = weightOf(g, mm, 1, 'in_proj_weight');
  if (wIn.dims.join() !== `${d},${3 * d}`) g.fail(mm, `projects [N, ${t}, ${d}] tokens by a [${wIn.dims.join(', ')}] matrix and slices the result in three; attention packs q, k and v in one [${d}, ${3 * d}] projection`);
  const bIn = qkv === mm ? undefined : weightOf(g, qkv, dc!.constSlot, 'in_proj_bias');
  if (bIn && (bIn.values.length !== 3 * d || bIn.dims.length !== 1)) g.fail(qkv, `adds a bias of shape [${bIn.dims.join(', ')}] to the packed projection; in_proj_bias is [${3 * d}]`);
  const step = (n: OnnxNode, ops: string[]): OnnxNode => {
    const r = next(g, n, what);
    expectOp(g, r, ops, what);
    nodes.push(r);
    return r;
  };
  const transpose = (n: OnnxNode, perm: number[]): OnnxNode => {
    const r = step(n, ['Transpose']);
    if (!samePerm(r, perm)) g.fail(r, `transposes by [${(intsAttr(r, 'perm') ?? []).join(', ')}]; ${what} needs [${perm.join(', ')}] here`);
    return r;
  };
  const part = qkvParts(g, readers, d, what);
  nodes.push(...readers);
  let dh = 0;
  const heads = (s: OnnxNode): OnnxNode => {
    const r = step(s, ['Reshape']);
    const target = reshapeTarget(g, r, [null, t, d]);
    const size = target[3];
    if (dh === 0 && typeof size === 'number' && size > 0 && d % size === 0) dh = size;
    if (!targetIs(target, [null, t, d / dh, dh])) g.fail(r, `reshapes [N, ${t}, ${d}] to ${showDims(target)}; ${what} splits the features into heads, [N, ${t}, heads, D/heads]`);
    return r;
  };
  const q = transpose(heads(part.get(0)!), [0, 2, 1, 3]);
  const kT = transpose(heads(part.get(1)!), [0, 2, 3, 1]);
  const v = transpose(heads(part.get(2)!), [0, 2, 1, 3]);
  const scale = step(q, ['Mul', 'Div']);
  const sc = dataAndConst(g, scale);
  const factor = sc && (sc.constSlot === 1 || scale.op === 'Mul') ? scalar(g, scale, sc.constSlot) : undefined;
  const wanted = scale.op === 'Div' ? Math.sqrt(dh) : 1 / Math.sqrt(dh);
  if (factor === undefined || !near(factor, wanted)) g.fail(scale, `scales the queries by ${scale.op === 'Div' ? '1 / ' : ''}${factor ?? 'a non-scalar'}; attention scales them by 1/√(D/heads) = ${1 / Math.sqrt(dh)}`);
  const scores = step(scale, ['MatMul']);
  if (scores.inputs[0] !== scale.outputs[0] || scores.inputs[1] !== kT.outputs[0] || only(g, kT.outputs[0]!) !== scores) g.fail(scores, `is not q·kᵀ of ${what}`);
  const soft = step(scores, ['Softmax']);
  const axis = intAttr(soft, 'axis', g.model.opset >= 13 ? -1 : 1);
  if (!(axis === -1 || axis === 3)) g.fail(soft, `takes the softmax over axis ${axis} (opset ${g.model.opset}); ${what} needs it over the keys, the last axis (before opset 13 Softmax flattens from its axis: the last is the keys alone)`);
  const mix = step(soft, ['MatMul']);
  if (mix.inputs[0] !== soft.outputs[0] || mix.inputs[1] !== v.outputs[0] || only(g, v.outputs[0]!) !== mix) g.fail(mix, `is not softmax(q·kᵀ)·v of ${what}`);
  const back = transpose(mix, [0, 2, 1, 3]);
  const joined = step(back, ['Reshape']);
  const jt = reshapeTarget(g, joined, [null, t, d / dh, dh]);
  if (!targetIs(jt, [null, t, d]) && !(jt.length === 3 && jt[0] === null && jt[1] === t && jt[2] === -1)) g.fail(joined, `reshapes the heads to ${showDims(jt)}; ${what} joins them as [N, ${t}, ${d}]`);
  const proj = step(joined, ['MatMul']);
  if (proj.inputs[0] !== joined.outputs[0] || g.isData(proj.inputs[1]!)) g.fail(proj, `is not the output projection of ${what}`);
  const wOut = transposed(weightOf(g, proj, 1, 'out_proj.weight'));
  if (wOut.dims.join() !== `${d},${d}`) g.fail(proj, `projects the joined heads by [${wOut.dims.reverse().join(', ')}]; out_proj.weight is [${d}, ${d}]`);
  let out = proj;
  let bOut: ImportWeight | undefined;
  const addOut = only(g, proj.outputs[0]!);
  const dcOut = addOut?.op === 'Add' ? dataAndConst(g, addOut) : undefined;
  if (addOut && dcOut) {
    bOut = weightOf(g, addOut, dcOut.constSlot, 'out_proj.bias');
    if (bOut.values.length !== d || bOut.dims.length !== 1) g.fail(addOut, `adds a bias of shape [${bOut.dims.join(', ')}]; out_proj.bias is [${d}]`);
    nodes.push(addOut);
    out = addOut;
  }
  if ((bIn === undefined) !== (bOut === undefined)) g.fail(out, `${what} has a bias on ${bIn ? 'its input projection only' : 'its output projection only'}; alexnetc's attention has both or neither`);
  const weights = [transposed(wIn, 'in_proj_weight'), ...(bIn ? [bIn] : []), wOut, ...(bOut ? [bOut] : [])];
  return { layers: [layer({ g, node: mm, inShape }, 'attention', { heads: d / dh, bias: bIn !== undefined }, weights, nodes)], out: out.outputs[0]! };
}

// ---------------------------------------------------------------- layer norm before opset 17

/**
 * Before opset 17 ONNX has no LayerNormalization, and PyTorch writes
 * nn.LayerNorm(D) as its formula: ReduceMean(x, -1) → Sub(x, ·) → Pow 2 →
 * ReduceMean(-1) → Add eps → Sqrt → Div(x − mean, ·) → Mul(weight) →
 * Add(bias). Each such chain, when nothing else reads its intermediate
 * values, becomes one LayerNormalization node over the last axis (named
 * after its module, numbered as its first node) before the import reads the
 * graph; `nodeCount` keeps the file's count for messages. A chain that
 * differs anywhere is left as it is (and refused where the import meets it).
 */
export function fuseLayerNorms(model: OnnxModelFile): OnnxModelFile & { nodeCount?: number } {
  if (!model.nodes.some((n) => n.op === 'ReduceMean')) return model;
  const readers = new Map<string, OnnxNode[]>();
  const producer = new Map<string, OnnxNode>();
  for (const n of model.nodes) {
    for (const i of n.inputs) if (i !== '') readers.set(i, [...(readers.get(i) ?? []), n]);
    for (const o of n.outputs) producer.set(o, n);
  }
  const outputs = new Set(model.outputs.map((o) => o.name));
  const single = (value: string): OnnxNode | undefined => {
    const r = readers.get(value) ?? [];
    return r.length === 1 && !outputs.has(value) ? r[0] : undefined;
  };
  const constant = (value: string): Float32Array | undefined => {
    const init = model.initializers.get(value);
    if (init) return init.dataType === 1 || init.dataType === 10 || init.dataType === 11 ? init.floats() : undefined;
    const p = producer.get(value);
    if (p?.op === 'Identity') return constant(p.inputs[0]!);
    const a = p?.op === 'Constant' ? p.attrs.get('value') : undefined;
    return a?.type === 'tensor' && (a.t.dataType === 1 || a.t.dataType === 10 || a.t.dataType === 11) ? a.t.floats() : undefined;
  };
  const scalarOf = (n: OnnxNode, other: string): number | undefined => {
    const slot = n.inputs.indexOf(other);
    const v = n.inputs.length === 2 && slot >= 0 ? constant(n.inputs[1 - slot]!) : undefined;
    return v && v.length === 1 ? v[0] : undefined;
  };
  const intsOf = (value: string): number[] | undefined => {
    const init = model.initializers.get(value);
    const p = producer.get(value);
    const a = p?.op === 'Constant' ? p.attrs.get('value') : undefined;
    const t = init ?? (a?.type === 'tensor' ? a.t : undefined);
    return t && (t.dataType === 6 || t.dataType === 7) ? t.ints() : undefined;
  };
  const meanLast = (n: OnnxNode | undefined, input: string): boolean => {
    if (n?.op !== 'ReduceMean' || n.inputs[0] !== input || intAttr(n, 'keepdims', 1) !== 1) return false;
    const axes = intsAttr(n, 'axes') ?? ((n.inputs[1] ?? '') !== '' ? intsOf(n.inputs[1]!) : undefined);
    return axes?.length === 1 && axes[0] === -1;
  };
  const fused = new Map<OnnxNode, OnnxNode>();
  const dropped = new Set<OnnxNode>();
  for (const mean of model.nodes) {
    const x = mean.inputs[0]!;
    if (!meanLast(mean, x) || dropped.has(mean)) continue;
    const sub = single(mean.outputs[0]!);
    if (sub?.op !== 'Sub' || sub.inputs[0] !== x || sub.inputs[1] !== mean.outputs[0]) continue;
    const d = sub.outputs[0]!;
    const dReaders = readers.get(d) ?? [];
    const pow = dReaders.find((r) => r.op === 'Pow');
    const div = dReaders.find((r) => r.op === 'Div');
    if (dReaders.length !== 2 || outputs.has(d) || !pow || !div || pow.inputs[0] !== d || scalarOf(pow, d) !== 2 || div.inputs[0] !== d) continue;
    const mean2 = single(pow.outputs[0]!);
    if (!meanLast(mean2, pow.outputs[0]!)) continue;
    const addEps = single(mean2!.outputs[0]!);
    const eps = addEps?.op === 'Add' ? scalarOf(addEps, mean2!.outputs[0]!) : undefined;
    if (eps === undefined || !(eps > 0)) continue;
    const sqrt = single(addEps!.outputs[0]!);
    if (sqrt?.op !== 'Sqrt' || single(sqrt.outputs[0]!) !== div || div.inputs[1] !== sqrt.outputs[0]) continue;
    const mul = single(div.outputs[0]!);
    if (mul?.op !== 'Mul' || mul.inputs.length !== 2) continue;
    const weight = mul.inputs[1 - mul.inputs.indexOf(div.outputs[0]!)]!;
    const add = single(mul.outputs[0]!);
    if (add?.op !== 'Add' || add.inputs.length !== 2) continue;
    const bias = add.inputs[1 - add.inputs.indexOf(mul.outputs[0]!)]!;
    if (constant(weight) === undefined || constant(bias) === undefined) continue;
    const chain = [mean, sub, pow, mean2!, addEps!, sqrt, div, mul, add];
    const scope = mean.name.split('/').slice(0, -1).join('/');
    const ln: OnnxNode = {
      name: `${scope}/LayerNormalization`,
      op: 'LayerNormalization',
      domain: '',
      inputs: [x, weight, bias],
      outputs: [add.outputs[0]!],
      attrs: new Map<string, OnnxAttrValue>([
        ['axis', { type: 'int', i: -1 }],
        ['epsilon', { type: 'float', f: eps }],
      ]),
      index: mean.index,
    };
    // the chain's nodes leave the graph; the LayerNormalization stands where its last node stood
    for (const n of chain) dropped.add(n);
    fused.set(add, ln);
  }
  if (fused.size === 0) return model;
  const nodes = model.nodes.filter((n) => !dropped.has(n) || fused.has(n)).map((n) => fused.get(n) ?? n);
  return { ...model, nodes, nodeCount: model.nodes.length };
}
