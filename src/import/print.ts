// Writing the imported network as `.net` source: statements (layers, block
// calls, the constructs) → text in the shipped specs' style — a line starts
// at each layer with weights, block call or construct, and the weightless
// layers after it join its line with ` | `. The formatter gives the final
// layout (aligned assertions and comments).
import { format } from '../fmt/format.js';
import { findLayer } from '../layers/registry.js';
import type { ArgValue } from '../layers/types.js';

/** An argument: a literal, or a reference to a block or network parameter. */
export type Value = ArgValue | { ref: string };

export type Stmt =
  | { kind: 'layer'; layer: string; args: Record<string, Value> }
  | { kind: 'call'; block: string; args: Value[] }
  | { kind: 'repeat'; count: number; body: Stmt[] }
  | { kind: 'residual'; body: Stmt[]; shortcut: Stmt[] | null; cond?: string }
  | { kind: 'concat' | 'add' | 'split'; branches: Stmt[][] }
  | { kind: 'gate'; body: Stmt[] };

export interface BlockDecl {
  name: string;
  params: string[];
  body: Stmt[];
  comment?: string;
}

export interface NetworkDecl {
  name: string;
  params: { name: string; value: number }[];
  input: number[];
  body: Stmt[];
  /** asserted at the end of the body */
  output: number[];
}

/** Layers that continue the line of the layer before them: all but convolutions and dense layers (LayerDef.kind). */
function joinsLine(layer: string): boolean {
  const kind = findLayer(layer)?.kind;
  return kind !== undefined && kind !== 'conv' && kind !== 'dense';
}

/** A windowed pool joins the line of a block call before it (`cbr(64, 7) | maxpool(3, 2)`), as in the specs. */
function isPool(layer: string): boolean {
  const def = findLayer(layer);
  return def?.kind === 'pool' && def.args.length > 0;
}

/** How many leading arguments a layer takes positionally (the spec files' style: `conv(64, 3, pad 1)`, `maxpool(3, 2)`). */
export function positionalCount(def: { args: readonly { default?: unknown }[]; positional?: number }): number {
  return def.positional ?? def.args.filter((a) => a.default === undefined).length;
}

export function printValue(v: Value): string {
  if (typeof v === 'object' && !Array.isArray(v)) return v.ref;
  if (Array.isArray(v)) return `[${v.map((x) => printValue(x)).join(', ')}]`;
  if (typeof v === 'number') return numberText(v);
  return String(v);
}

/** Numbers as JavaScript writes them (64, 0.001), small ones as the specs do: 1e-6, not 0.000001. */
export function numberText(n: number): string {
  const plain = String(n);
  if (n === 0 || !Number.isFinite(n) || Math.abs(n) >= 1e-3) return plain;
  const exp = n.toExponential();
  return exp.length < plain.length ? exp : plain;
}

const isRef = (v: Value | undefined): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);
const same = (a: Value | undefined, b: ArgValue | null | undefined): boolean => JSON.stringify(a) === JSON.stringify(b);

export function printLayer(layer: string, args: Record<string, Value>): string {
  const def = findLayer(layer);
  if (!def) throw new Error(`internal: no layer ${layer}`);
  const positional = positionalCount(def);
  const parts: string[] = [];
  let named = false;
  def.args.forEach((spec, i) => {
    let v = args[spec.name];
    // a pool's stride defaults to its window
    const dflt = spec.default === null ? args.k : spec.default;
    const omit = v === undefined || (!isRef(v) && !isRef(dflt as Value) && same(v, dflt as ArgValue));
    if (omit && spec.default !== undefined) {
      if (i < positional) named = true; // a skipped positional: what follows must be named
      return;
    }
    if (v === undefined) v = dflt as Value;
    if (i < positional && !named) parts.push(printValue(v!));
    else {
      named = true;
      parts.push(`${spec.name} ${printValue(v!)}`);
    }
  });
  return parts.length ? `${layer}(${parts.join(', ')})` : layer;
}

function printCall(s: Extract<Stmt, { kind: 'call' }>): string {
  return s.args.length ? `${s.block}(${s.args.map(printValue).join(', ')})` : s.block;
}

/** Lines of a body at one indentation. */
function printBody(body: Stmt[], indent: string, out: string[]): void {
  let line: string[] = [];
  // a block call ends its line, like the specs' `stem` / `head(classes)` lines
  let afterCall = false;
  const flush = (): void => {
    if (line.length) out.push(indent + line.join(' | '));
    line = [];
  };
  for (const s of body) {
    switch (s.kind) {
      case 'layer': {
        // after a block call only a pool joins its line (`cbr(64, 7) | maxpool(3, 2)`), as in the specs
        if (!joinsLine(s.layer) || line.length === 0 || (afterCall && !isPool(s.layer))) flush();
        afterCall = false;
        line.push(printLayer(s.layer, s.args));
        break;
      }
      case 'call':
        flush();
        line.push(printCall(s));
        afterCall = true;
        break;
      case 'repeat':
        flush();
        if (s.body.length === 1 && s.body[0]!.kind === 'call') out.push(`${indent}repeat ${s.count} { ${printCall(s.body[0]!)} }`);
        else {
          out.push(`${indent}repeat ${s.count} {`);
          printBody(s.body, indent + '  ', out);
          out.push(`${indent}}`);
        }
        break;
      case 'residual':
        flush();
        out.push(`${indent}residual ${s.cond ? `if ${s.cond} ` : ''}{`);
        printBody(s.body, indent + '  ', out);
        if (s.shortcut) {
          out.push(`${indent}} shortcut {`);
          printBody(s.shortcut, indent + '  ', out);
        }
        out.push(`${indent}}`);
        break;
      case 'gate': {
        flush();
        const lines: string[] = [];
        printBody(s.body, '', lines);
        if (lines.length === 1) out.push(`${indent}gate { ${lines[0]} }`);
        else {
          out.push(`${indent}gate {`);
          printBody(s.body, indent + '  ', out);
          out.push(`${indent}}`);
        }
        break;
      }
      case 'concat':
      case 'add':
      case 'split':
        flush();
        out.push(`${indent}${s.kind} {`);
        for (const b of s.branches) {
          const lines: string[] = [];
          printBody(b, '', lines);
          if (lines.length === 0) out.push(`${indent}  branch {}`);
          else if (lines.length === 1) out.push(`${indent}  branch { ${lines[0]} }`);
          else {
            out.push(`${indent}  branch {`);
            printBody(b, indent + '    ', out);
            out.push(`${indent}  }`);
          }
        }
        out.push(`${indent}}`);
        break;
      default: {
        const never: never = s;
        throw new Error(`unhandled statement ${(never as Stmt).kind}`);
      }
    }
  }
  flush();
}

export function printProgram(header: string[], blocks: BlockDecl[], net: NetworkDecl): string {
  const out: string[] = header.map((h) => (h ? `# ${h}` : '#'));
  for (const b of blocks) {
    out.push('');
    if (b.comment) out.push(`# ${b.comment}`);
    out.push(`block ${b.name}(${b.params.join(', ')}) {`);
    printBody(b.body, '  ', out);
    out.push('}');
  }
  out.push('');
  const params = net.params.map((p) => `${p.name} = ${numberText(p.value)}`).join(', ');
  out.push(`network ${net.name}(${params}) {`);
  out.push(`  input [${net.input.join(', ')}]`);
  printBody(net.body, '  ', out);
  const last = out.length - 1;
  const closes = out[last]!.trim() === '}';
  const outShape = net.output.map((d, i) => (i === 0 && net.params.some((p) => p.name === 'classes' && p.value === d) && net.output.length === 1 ? 'classes' : String(d)));
  if (!closes) out[last] = `${out[last]}   : [${outShape.join(', ')}]`;
  out.push('}');
  const text = out.join('\n') + '\n';
  return format(text) ?? text;
}
