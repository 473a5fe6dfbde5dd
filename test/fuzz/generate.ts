// A grammar-aware generator of random networks that should check: it keeps
// its own model of the shapes (written independently of the checker) and
// picks only layers and arguments that fit, edge values included (windows
// that just fit, strides larger than the window, ceil mode that drops a last
// window, asymmetric and `same` padding, groups up to depthwise, dilation,
// extreme but representable floats), inside blocks, `repeat`, `residual`
// with and without a shortcut, `concat` and `add`, nested several deep.
import { createRng, type Rng } from '../../src/util/rng.js';

export type Shape = number[];

class R {
  private readonly rng: Rng;
  constructor(seed: number, key: string) {
    this.rng = createRng(seed, key);
  }
  float(): number {
    return this.rng.next();
  }
  /** a whole number in [lo, hi] */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.rng.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.rng.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rng.next() * xs.length)]!;
  }
}

/** how a stage changes the shape, and its source */
interface Piece {
  text: string;
  shape: Shape;
}

const divisors = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1).filter((d) => n % d === 0);

/** an integer written the way people (and fuzzers) write it: plainly or as arithmetic */
function intExpr(r: R, v: number): string {
  switch (r.int(0, 9)) {
    case 0:
      return `${v + 2} - 2`;
    case 1:
      return `(${v * 2}) // 2`;
    case 2:
      return v > 1 && v % 2 === 0 ? `2 * ${v / 2}` : String(v);
    case 3:
      return `${v * 3} / 3`;
    default:
      return String(v);
  }
}

/** output size of one spatial dimension, the PyTorch/ONNX way (ceil mode drops a window starting in the end padding) */
function window(size: number, k: number, s: number, p0: number, p1: number, d: number, ceil: boolean): number | undefined {
  const span = d * (k - 1) + 1;
  const padded = size + p0 + p1;
  if (span > padded) return undefined;
  const q = (padded - span) / s;
  let o = (ceil ? Math.ceil(q) : Math.floor(q)) + 1;
  if (ceil && (o - 1) * s >= size + p0) o -= 1;
  return o;
}

/** TensorFlow's `same`: out = ceil(in / s), the odd pixel at the end */
function samePads(size: number, k: number, s: number, d: number): [number, number] {
  const out = Math.ceil(size / s);
  const total = Math.max((out - 1) * s + d * (k - 1) + 1 - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

interface Ctx {
  r: R;
  /** block declarations made so far (source) */
  blocks: string[];
  depth: number;
  /** stages emitted so far (keeps networks small) */
  stages: number;
  /** an ill-conditioning value was chosen */
  wild: boolean;
}

const MAX_ELEMENTS = 4 * 14 * 14;

function fits(shape: Shape): boolean {
  return shape.every((d) => d >= 1) && shape.reduce((a, b) => a * b, 1) <= MAX_ELEMENTS;
}

/** `pad` in one of its forms, with the pads it means; undefined for forms that do not suit */
function padArg(r: R, k: [number, number], s: [number, number], d: [number, number], hw: [number, number], maxPad: number[] | undefined): { text: string; pads: [number, number, number, number] } {
  const form = r.int(0, 4);
  const lim = (i: number): number => (maxPad ? maxPad[i]! : k[i]! + 1);
  if (form === 0) {
    const sp = [samePads(hw[0], k[0], s[0], d[0]), samePads(hw[1], k[1], s[1], d[1])];
    return { text: 'same', pads: [sp[0]![0], sp[1]![0], sp[0]![1], sp[1]![1]] };
  }
  if (form === 1) {
    const p = r.int(0, Math.min(lim(0), lim(1)));
    return { text: String(p), pads: [p, p, p, p] };
  }
  if (form === 2) {
    const ph = r.int(0, lim(0));
    const pw = r.int(0, lim(1));
    return { text: `[${ph}, ${pw}]`, pads: [ph, pw, ph, pw] };
  }
  if (form === 3) {
    const p: [number, number, number, number] = [r.int(0, lim(0)), r.int(0, lim(1)), r.int(0, lim(0)), r.int(0, lim(1))];
    return { text: `[${p.join(', ')}]`, pads: p };
  }
  return { text: '0', pads: [0, 0, 0, 0] };
}

const pairText = (v: [number, number], r: R): string => (v[0] === v[1] && r.chance(0.7) ? String(v[0]) : `[${v[0]}, ${v[1]}]`);

function conv(c: Ctx, shape: Shape, keepHW = false): Piece | undefined {
  const { r } = c;
  const [ch, h, w] = shape as [number, number, number];
  for (let attempt = 0; attempt < 8; attempt++) {
    const g = r.pick(divisors(ch).filter((x) => x <= 8));
    const f = g * r.int(1, Math.max(1, Math.floor(8 / g)));
    const k: [number, number] = r.chance(0.7) ? [r.int(1, 5), 0] : [r.int(1, 5), r.int(1, 5)];
    if (k[1] === 0) k[1] = k[0];
    const s: [number, number] = keepHW ? [1, 1] : r.chance(0.6) ? [1, 1] : [r.int(1, 4), r.int(1, 4)];
    const d: [number, number] = r.chance(0.8) ? [1, 1] : [r.int(1, 3), r.int(1, 3)];
    const pad = keepHW ? { text: 'same', pads: [0, 0, 0, 0] as [number, number, number, number] } : padArg(r, k, s, d, [h, w], undefined);
    if (keepHW) {
      const sp = [samePads(h, k[0], 1, d[0]), samePads(w, k[1], 1, d[1])];
      pad.pads = [sp[0]![0], sp[1]![0], sp[0]![1], sp[1]![1]];
    }
    const oh = window(h, k[0], s[0], pad.pads[0], pad.pads[2], d[0], false);
    const ow = window(w, k[1], s[1], pad.pads[1], pad.pads[3], d[1], false);
    if (oh === undefined || ow === undefined) continue;
    const args = [intExpr(r, f), pairText(k, r)];
    if (s[0] !== 1 || s[1] !== 1 || r.chance(0.1)) args.push(`stride ${pairText(s, r)}`);
    if (pad.text !== '0' || r.chance(0.1)) args.push(`pad ${pad.text}`);
    if (d[0] !== 1 || d[1] !== 1) args.push(`dilation ${pairText(d, r)}`);
    if (g !== 1 || r.chance(0.05)) args.push(`groups ${g}`);
    if (r.chance(0.2)) args.push(`bias ${r.chance(0.5)}`);
    const out = [f, oh, ow];
    if (!fits(out)) continue;
    return { text: `conv(${args.join(', ')})`, shape: out };
  }
  return undefined;
}

function pool(c: Ctx, shape: Shape, keepHW = false): Piece | undefined {
  const { r } = c;
  const [ch, h, w] = shape as [number, number, number];
  const name = r.pick(['maxpool', 'avgpool']);
  for (let attempt = 0; attempt < 8; attempt++) {
    const k: [number, number] = r.chance(0.7) ? [r.int(1, 4), 0] : [r.int(1, 4), r.int(1, 4)];
    if (k[1] === 0) k[1] = k[0];
    const strideGiven = keepHW || r.chance(0.6);
    const s: [number, number] = keepHW ? [1, 1] : strideGiven ? [r.int(1, 3), r.int(1, 3)] : [k[0], k[1]];
    const half = [Math.floor(k[0] / 2), Math.floor(k[1] / 2)];
    let pad = keepHW ? { text: 'same', pads: [0, 0, 0, 0] as [number, number, number, number] } : padArg(r, k, s, [1, 1], [h, w], half);
    if (pad.text === 'same') {
      const sp = [samePads(h, k[0], s[0], 1), samePads(w, k[1], s[1], 1)];
      pad = { text: 'same', pads: [sp[0]![0], sp[1]![0], sp[0]![1], sp[1]![1]] };
    }
    const ceil = !keepHW && r.chance(0.35);
    const oh = window(h, k[0], s[0], pad.pads[0], pad.pads[2], 1, ceil);
    const ow = window(w, k[1], s[1], pad.pads[1], pad.pads[3], 1, ceil);
    if (oh === undefined || ow === undefined || oh < 1 || ow < 1) continue;
    if (keepHW && (oh !== h || ow !== w)) continue;
    const args = [pairText(k, r)];
    if (strideGiven) args.push(r.chance(0.5) ? pairText(s, r) : `stride ${pairText(s, r)}`);
    if (pad.text !== '0' || r.chance(0.1)) args.push(`pad ${pad.text}`);
    if (ceil || r.chance(0.05)) args.push(`ceil ${ceil}`);
    // a positional stride must come before the named ones
    const positional = args.filter((a) => !/^[a-z]+ /.test(a));
    const named = args.filter((a) => /^[a-z]+ /.test(a));
    return { text: `${name}(${[...positional, ...named].join(', ')})`, shape: [ch, oh, ow] };
  }
  return undefined;
}

const FLOATS = {
  leaky: ['0', '0.01', '0.2', '1', '5.5', '1e-30', '100'],
  lrnAlpha: ['1e-4', '5e-4', '0.01', '1', '1e-20'],
  lrnBeta: ['0.75', '0.5', '1', '2', '1e-3'],
  lrnBias: ['1', '2', '0.5', '1e-3', '10'],
  eps: ['1e-5', '1e-3', '0.1', '1e-30'],
  momentum: ['0', '0.1', '0.5', '1'],
  rate: ['0', '0.1', '0.5', '0.999'],
};

/** values that make a network ill-conditioned: it must still run everywhere, but its numbers are not compared */
const WILD = new Set(['leaky:5.5', 'leaky:100', 'lrnBias:1e-3']);

function float(c: Ctx, kind: keyof typeof FLOATS): string {
  const v = c.r.pick(FLOATS[kind]);
  if (WILD.has(`${kind}:${v}`)) c.wild = true;
  return v;
}

/** layers that keep the shape (channels, height and width) */
function elementwise(c: Ctx, shape: Shape): Piece {
  const { r } = c;
  const options: (() => string)[] = [
    () => 'relu',
    () => 'tanh',
    () => 'sigmoid',
    () => 'identity',
    () => 'softmax',
    () => (r.chance(0.3) ? 'leakyrelu' : `leakyrelu(${r.chance(0.5) ? 'alpha ' : ''}${float(c, 'leaky')})`),
    () => (r.chance(0.3) ? 'dropout' : `dropout(${float(c, 'rate')})`),
    () => (r.chance(0.3) ? 'batchnorm' : `batchnorm(eps ${float(c, 'eps')}, momentum ${float(c, 'momentum')})`),
  ];
  if (shape.length === 3) {
    options.push(() => {
      const size = r.pick([1, 3, 5, 7]);
      const args = [`size ${size}`];
      if (r.chance(0.5)) args.push(`alpha ${float(c, 'lrnAlpha')}`);
      if (r.chance(0.5)) args.push(`beta ${float(c, 'lrnBeta')}`);
      if (r.chance(0.5)) args.push(`bias ${float(c, 'lrnBias')}`);
      return r.chance(0.2) ? 'lrn' : `lrn(${args.join(', ')})`;
    });
  }
  return { text: r.pick(options)(), shape };
}

/** a chain of stages from `shape`; `keep`: the chain must end with the shape it started with */
function chain(c: Ctx, shape: Shape, length: number, keep: 'none' | 'hw' | 'all'): Piece[] {
  const out: Piece[] = [];
  let cur = shape;
  for (let i = 0; i < length; i++) {
    const p = stage(c, cur, keep, i === length - 1);
    if (!p) break;
    out.push(p);
    cur = p.shape;
  }
  return out;
}

function bodyText(c: Ctx, pieces: Piece[], indent: string, oneLine: boolean): string {
  if (!pieces.length) return '{ }';
  if (oneLine) return `{ ${pieces.map((p) => p.text).join(' | ')} }`;
  const lines = pieces.map((p) => `${indent}  ${p.text}`);
  // sometimes join a few with `|`, sometimes assert a shape
  return `{\n${lines.map((l, i) => (c.r.chance(0.15) ? `${l}   : [${pieces[i]!.shape.join(', ')}]` : l)).join('\n')}\n${indent}}`;
}

/** one stage for `shape`; with `keep`, one that keeps it (all of it, or height and width) */
function stage(c: Ctx, shape: Shape, keep: 'none' | 'hw' | 'all', last: boolean): Piece | undefined {
  const { r } = c;
  c.stages++;
  const image = shape.length === 3;
  const deeper = c.depth < 5 && c.stages < 60;
  const roll = r.float();
  const indent = '  '.repeat(c.depth + 1);
  const nested = (f: () => Piece | undefined): Piece | undefined => {
    c.depth++;
    try {
      return f();
    } finally {
      c.depth--;
    }
  };
  if (deeper && roll < 0.1) {
    // repeat n { body that keeps the shape }
    return nested(() => {
      const n = r.int(0, 3);
      const body = chain(c, shape, r.int(0, 3), 'all');
      return { text: `repeat ${intExpr(r, n)} ${bodyText(c, body, indent, r.chance(0.5))}`, shape };
    });
  }
  if (deeper && roll < 0.2) {
    // residual { … } with an identity shortcut, or one that projects
    return nested(() => {
      if (keep !== 'none' || !image || r.chance(0.5)) {
        const body = chain(c, shape, r.int(1, 3), 'all');
        return { text: `residual ${bodyText(c, body, indent, r.chance(0.4))}`, shape };
      }
      const [ch, h, w] = shape as [number, number, number];
      const f = r.int(1, 8);
      const s = r.int(1, 3);
      const out = [f, Math.ceil(h / s), Math.ceil(w / s)];
      const body = `conv(${f}, ${r.pick([1, 3])}, stride ${s}, pad same) | relu`;
      const sc = `conv(${f}, 1, stride ${s}${ch % 2 === 0 && f % 2 === 0 && r.chance(0.3) ? ', groups 2' : ''})`;
      return { text: `residual { ${body} } shortcut { ${sc} }`, shape: out };
    });
  }
  if (deeper && roll < 0.3) {
    // concat / add of branches
    return nested(() => {
      const kind = keep === 'all' || !image || r.chance(0.4) ? 'add' : 'concat';
      const n = r.int(1, 3);
      const branches: Piece[][] = [];
      if (kind === 'add') for (let i = 0; i < n; i++) branches.push(chain(c, shape, r.int(0, 2), 'all'));
      else for (let i = 0; i < n; i++) branches.push(chain(c, shape, r.int(1, 2), 'hw'));
      const shapes = branches.map((b) => (b.length ? b[b.length - 1]!.shape : shape));
      if (kind === 'concat' && shapes.some((s) => s[1] !== shape[1] || s[2] !== shape[2])) return undefined;
      const out = kind === 'add' ? shape : [shapes.reduce((a, s) => a + s[0]!, 0), shape[1]!, shape[2]!];
      if (!fits(out)) return undefined;
      const oneLine = r.chance(0.5);
      const bs = branches.map((b) => `branch ${bodyText(c, b, indent + '  ', true)}`);
      return { text: oneLine ? `${kind} { ${bs.join(' ')} }` : `${kind} {\n${bs.map((b) => `${indent}  ${b}`).join('\n')}\n${indent}}`, shape: out };
    });
  }
  if (deeper && roll < 0.38 && image && keep !== 'all') {
    // a block with parameters, declared once and called with arguments
    const name = `b${c.blocks.length}`;
    const k = r.pick([1, 3, 5]);
    const f = r.int(1, 8);
    const inner = r.chance(0.5) ? ' | relu' : r.chance(0.5) ? ' | batchnorm' : '';
    const useDefault = r.chance(0.5);
    c.blocks.push(`block ${name}(c, k = ${k}) {\n  conv(c, k, pad same)${inner}\n}\n`);
    const call = useDefault ? (r.chance(0.5) ? `${name}(${intExpr(r, f)})` : `${name}(c ${f})`) : r.chance(0.5) ? `${name}(${f}, ${k})` : `${name}(${f}, k ${k})`;
    return { text: call, shape: [f, shape[1]!, shape[2]!] };
  }
  if (image && keep !== 'all' && roll < 0.62) {
    const p = roll < 0.5 ? conv(c, shape, keep === 'hw') : pool(c, shape, keep === 'hw');
    if (p) return p;
  }
  if (image && keep !== 'all' && keep !== 'hw' && roll < 0.65 && fits([shape[0]!, 1, 1])) return { text: 'globalavgpool', shape: [shape[0]!, 1, 1] };
  if (image && keep === 'none' && last && roll < 0.72) return { text: 'flatten', shape: [shape.reduce((a, b) => a * b, 1)] };
  if (!image && keep !== 'all' && roll < 0.7) {
    const units = r.int(1, 16);
    return { text: r.chance(0.2) ? `dense(${units}, bias false)` : `dense(${intExpr(r, units)})`, shape: [units] };
  }
  return elementwise(c, shape);
}

export interface Generated {
  source: string;
  /** the shape the generator expects at the output */
  output: Shape;
  /** no ill-conditioning value was chosen: the back ends must agree numerically */
  tame: boolean;
}

/** one random network: `seed` and `index` fix it */
export function generate(seed: number, index: number): Generated {
  const r = new R(seed, `fuzz/generate/${index}`);
  const c: Ctx = { r, blocks: [], depth: 0, stages: 0, wild: false };
  const image = r.chance(0.8);
  const input: Shape = image ? [r.int(1, 4), r.int(1, 12), r.int(1, 12)] : [r.int(1, 16)];
  const length = r.int(1, 8);
  const pieces = chain(c, input, length, 'none');
  let out = pieces.length ? pieces[pieces.length - 1]!.shape : input;
  const lines = pieces.map((p) => `  ${p.text}${r.chance(0.1) ? `   : [${p.shape.join(', ')}]` : ''}`);
  if (r.chance(0.5)) {
    if (out.length === 3) {
      lines.push('  flatten');
      out = [out.reduce((a, b) => a * b, 1)];
    }
    const classes = r.int(1, 10);
    lines.push(`  dense(classes)${r.chance(0.5) ? ' | softmax' : ''}`);
    out = [classes];
    const source = `${c.blocks.join('\n')}${c.blocks.length ? '\n' : ''}network Fuzz(classes = ${classes}) {\n  input [${input.join(', ')}]\n${lines.join('\n')}\n}\n`;
    return { source, output: out, tame: !c.wild };
  }
  const source = `${c.blocks.join('\n')}${c.blocks.length ? '\n' : ''}network Fuzz {\n  input [${input.join(', ')}]\n${lines.join('\n')}\n}\n`;
  return { source, output: out, tame: !c.wild };
}
