// Expression evaluation. Values are numbers, booleans, bare words (`same`)
// and lists. Errors are reported, never thrown; a failed evaluation is undefined.
import { printExpr } from '../syntax/print.js';
import type { Expr } from '../syntax/ast.js';
import type { ArgValue } from '../layers/types.js';
import type { Span } from '../diagnostics/span.js';
import type { DiagnosticSink } from '../diagnostics/index.js';
import { suggest } from '../util/suggest.js';

export interface Scope {
  /** parameter name → value */
  values: Map<string, ArgValue>;
  /** marks parameters that were read (for the unused-parameter warning) */
  used?: Set<string>;
  /** parameters whose value is missing or failed: already reported, so their uses stay quiet */
  poisoned?: Set<string>;
}

/** A bare word that is not a parameter: allowed only where an argument takes words (`pad same`). */
export class Word {
  constructor(
    readonly name: string,
    readonly span: Span,
  ) {}
}

export type Evaluated = ArgValue | Word;

export function fmtValue(v: Evaluated): string {
  if (v instanceof Word) return v.name;
  if (Array.isArray(v)) return `[${v.map(fmtValue).join(', ')}]`;
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(+v.toPrecision(6));
  return String(v);
}

export class Evaluator {
  constructor(private readonly sink: DiagnosticSink) {}

  /** evaluate; bare words that are not parameters come back as Word for the caller to judge */
  eval(e: Expr, scope: Scope): Evaluated | undefined {
    switch (e.kind) {
      case 'num':
        if (!Number.isFinite(e.value)) {
          this.sink.report('E205', e.span, `the number \`${e.text}\` is too large (numbers go up to about 1.8e308)`);
          return undefined;
        }
        return e.value;
      case 'bool':
        return e.value;
      case 'ref': {
        if (scope.poisoned?.has(e.name)) return undefined;
        if (scope.values.has(e.name)) {
          scope.used?.add(e.name);
          return scope.values.get(e.name)!;
        }
        return new Word(e.name, e.span);
      }
      case 'paren':
        return this.eval(e.inner, scope);
      case 'call':
        return this.call(e, scope);
      case 'list': {
        const items: ArgValue[] = [];
        for (const it of e.items) {
          const v = this.number(it, scope);
          if (v === undefined) return undefined;
          items.push(v);
        }
        return items;
      }
      case 'unary': {
        if (e.op === 'not') {
          const b = this.bool(e.operand, scope);
          return b === undefined ? undefined : !b;
        }
        const v = this.number(e.operand, scope);
        if (v === undefined) return undefined;
        return e.op === '-' ? -v : v;
      }
      case 'binary': {
        if (e.op === 'and' || e.op === 'or') {
          const l = this.bool(e.left, scope);
          const r = this.bool(e.right, scope);
          if (l === undefined || r === undefined) return undefined;
          return e.op === 'and' ? l && r : l || r;
        }
        if (e.op === '==' || e.op === '!=') {
          const l = this.eval(e.left, scope);
          const r = this.eval(e.right, scope);
          if (l === undefined || r === undefined) return undefined;
          // a bare word compares as itself against a parameter holding a word (`pad == same`); elsewhere it is a typo
          for (const [w, other] of [[l, r], [r, l]] as const) {
            if (w instanceof Word && typeof other !== 'string') {
              this.unknownName(w, scope);
              return undefined;
            }
          }
          const key = (v: Evaluated): string => (v instanceof Word ? `word:${v.name}` : typeof v === 'string' ? `word:${v}` : JSON.stringify(v));
          return (key(l) === key(r)) === (e.op === '==');
        }
        const l = this.number(e.left, scope);
        const r = this.number(e.right, scope);
        if (l === undefined || r === undefined) return undefined;
        let v: number;
        switch (e.op) {
          case '+':
            v = l + r;
            break;
          case '-':
            v = l - r;
            break;
          case '*':
            v = l * r;
            break;
          case '<':
            return l < r;
          case '<=':
            return l <= r;
          case '>':
            return l > r;
          case '>=':
            return l >= r;
          case '/':
          case '//':
          case '%':
            if (r === 0) {
              this.sink.report('E204', e.right.span, `division by zero in \`${printExpr(e)}\``);
              return undefined;
            }
            v = e.op === '/' ? l / r : e.op === '//' ? Math.floor(l / r) : l - r * Math.floor(l / r);
            break;
        }
        if (!Number.isFinite(v)) {
          this.sink.report('E205', e.span, `\`${printExpr(e)}\` overflows: the result is beyond about 1.8e308`);
          return undefined;
        }
        return v;
      }
    }
  }

  /** evaluate where only a number makes sense (arithmetic operands, dims, counts) */
  number(e: Expr, scope: Scope): number | undefined {
    const v = this.eval(e, scope);
    if (v === undefined) return undefined;
    if (typeof v === 'number') return v;
    if (v instanceof Word) this.unknownName(v, scope);
    else this.sink.report('E201', e.span, `expected a number, got ${fmtValue(v)}`);
    return undefined;
  }

  /** round, floor, ceil, min, max, make_divisible: numbers in, a number out */
  private call(e: Extract<Expr, { kind: 'call' }>, scope: Scope): number | undefined {
    const name = e.name.name;
    const arity: Record<string, [number, number]> = { round: [1, 1], floor: [1, 1], ceil: [1, 1], min: [1, Infinity], max: [1, Infinity], make_divisible: [2, 2] };
    const want = arity[name];
    if (!want) {
      const s = suggest(name, Object.keys(arity));
      this.sink.report('E102', e.name.span, `unknown function \`${name}\`${s ? `; did you mean \`${s}\`?` : ` (functions: ${Object.keys(arity).join(', ')})`}`, {
        fixes: s ? [{ title: `replace with \`${s}\``, edits: [{ span: e.name.span, newText: s }] }] : [],
      });
      return undefined;
    }
    if (e.args.length < want[0] || e.args.length > want[1]) {
      const n = want[0] === want[1] ? `${want[0]} argument${want[0] === 1 ? '' : 's'}` : `at least ${want[0]} argument`;
      this.sink.report('E201', e.span, `\`${name}\` takes ${n}, got ${e.args.length}`);
      return undefined;
    }
    const xs: number[] = [];
    for (const a of e.args) {
      const v = this.number(a, scope);
      if (v === undefined) return undefined;
      xs.push(v);
    }
    switch (name) {
      case 'round':
        return roundHalfEven(xs[0]!);
      case 'floor':
        return Math.floor(xs[0]!);
      case 'ceil':
        return Math.ceil(xs[0]!);
      case 'min':
        return Math.min(...xs);
      case 'max':
        return Math.max(...xs);
      default: {
        const [v, d] = xs as [number, number];
        if (!(d > 0) || !Number.isInteger(d)) {
          this.sink.report('E202', e.args[1]!.span, `make_divisible: the divisor must be a whole number ≥ 1, got ${fmtValue(d)}`);
          return undefined;
        }
        return makeDivisible(v, d);
      }
    }
  }

  /** evaluate where only `true` or `false` makes sense (`if`, `and`, `or`, `not`) */
  bool(e: Expr, scope: Scope): boolean | undefined {
    const v = this.eval(e, scope);
    if (v === undefined) return undefined;
    if (typeof v === 'boolean') return v;
    if (v instanceof Word) this.unknownName(v, scope);
    else this.sink.report('E201', e.span, `expected \`true\` or \`false\` (a comparison such as \`stride == 1\`), got ${fmtValue(v)}`);
    return undefined;
  }

  /** a whole number where the language needs one: `repeat n`, input dims, assertions */
  int(e: Expr, scope: Scope, what: string, min = 1): number | undefined {
    const v = this.number(e, scope);
    if (v === undefined) return undefined;
    if (!Number.isInteger(v)) {
      this.notWhole(e, v, what);
      return undefined;
    }
    if (v < min || v > MAX_INT) {
      this.sink.report('E202', e.span, `${what} must be ${v < min ? `at least ${min}` : `at most ${MAX_INT}`}, got ${fmtValue(v)}`);
      return undefined;
    }
    return v;
  }

  notWhole(e: Expr, v: number, what: string): void {
    if (containsDivision(e)) this.sink.report('E203', e.span, `${what}: \`${printExpr(e)}\` = ${fmtValue(v)} is not a whole number`);
    else this.sink.report('E201', e.span, `${what} must be a whole number, got ${fmtValue(v)}`);
  }

  unknownName(w: Word, scope: Scope): void {
    const s = suggest(w.name, scope.values.keys());
    this.sink.report('E102', w.span, `unknown name \`${w.name}\`${s ? `; did you mean \`${s}\`?` : ''}`, {
      fixes: s ? [{ title: `replace with \`${s}\``, edits: [{ span: w.span, newText: s }] }] : [],
    });
  }
}

/** Python's round(): halves go to the even neighbour (round(2.5) = 2, round(3.5) = 4) */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * torchvision's _make_divisible(v, d): the multiple of d nearest to v (halves
 * up), at least d, and not more than 10% below v (the width multipliers of
 * MobileNet and EfficientNet)
 */
export function makeDivisible(v: number, d: number): number {
  let n = Math.max(d, Math.floor((Math.trunc(v + d / 2)) / d) * d);
  if (n < 0.9 * v) n += d;
  return n;
}

/** the largest whole number an argument or dimension may take (int32, what ONNX and tfjs index with) */
export const MAX_INT = 2 ** 31 - 1;

export function containsDivision(e: Expr): boolean {
  switch (e.kind) {
    case 'binary':
      return e.op === '/' || containsDivision(e.left) || containsDivision(e.right);
    case 'unary':
      return containsDivision(e.operand);
    case 'paren':
      return containsDivision(e.inner);
    case 'call':
      return e.args.some(containsDivision);
    default:
      return false;
  }
}

