// Writing Python text: literals, names that are safe to use, .net
// expressions as Python expressions, and statements kept within PEP 8's
// 79 columns.
import type { ArgValue } from '../../layers/types.js';
import type { Expr } from '../../syntax/ast.js';

export const MAX_LINE = 79;

const KEYWORDS = new Set(
  (
    'False None True and as assert async await break class continue def del elif else except finally for from ' +
    'global if import in is lambda nonlocal not or pass raise return try while with yield'
  ).split(' '),
);

/** `name`, or `name_` (`name__`, …) when it is a Python keyword or already taken. */
export function safeName(name: string, taken: ReadonlySet<string>): string {
  let n = name;
  while (KEYWORDS.has(n) || taken.has(n)) n += '_';
  return n;
}

/** `stage_bn` → `StageBn`, `inception` → `Inception` (PEP 8 class names). */
export function className(name: string): string {
  const words = name.split('_').filter((w) => w !== '');
  const joined = words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
  return joined === '' || /^[0-9]/.test(joined) ? `Block${joined}` : joined;
}

/** A number as a Python literal: whole numbers without a point, others in JavaScript's shortest form (valid Python too). */
export function pyNumber(v: number): string {
  if (!Number.isFinite(v)) throw new Error(`not a finite number: ${v}`);
  if (Number.isInteger(v) && Math.abs(v) < 1e21) return v.toFixed(0);
  return String(v);
}

export function pyString(s: string): string {
  return JSON.stringify(s);
}

/** An evaluated value (a network parameter) as a Python literal; lists become tuples. */
export function pyValue(v: ArgValue): string {
  if (typeof v === 'number') return pyNumber(v);
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'string') return pyString(v);
  return pyTuple(v.map(pyValue));
}

function pyTuple(items: string[]): string {
  return items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`;
}

/**
 * A .net expression as Python. `names` maps the parameters in scope to
 * their Python names; any other bare word is a word argument (`same`) and
 * becomes a string. The AST keeps the source's parentheses, and .net's
 * precedence and associativity are Python's, so nothing else needs adding.
 * `/` stays true division: layers turn 2.0 into 2 where they need a whole
 * number (the `whole` helper), and refuse 2.5.
 */
export function pyExpr(e: Expr, names: ReadonlyMap<string, string>): string {
  switch (e.kind) {
    case 'num':
      // the source's spelling reads best (1e-4), unless Python rejects it (leading zeros)
      return /^0\d/.test(e.text) ? pyNumber(e.value) : e.text;
    case 'bool':
      return e.value ? 'True' : 'False';
    case 'ref':
      return names.get(e.name) ?? pyString(e.name);
    case 'list':
      return pyTuple(e.items.map((i) => pyExpr(i, names)));
    case 'unary':
      return (e.op === 'not' ? 'not ' : e.op) + pyExpr(e.operand, names);
    case 'binary':
      return `${pyExpr(e.left, names)} ${e.op} ${pyExpr(e.right, names)}`;
    case 'paren':
      return `(${pyExpr(e.inner, names)})`;
    case 'call': {
      // Python's round, min and max are the language's; floor and ceil from math; make_divisible a helper of the module
      const fn = e.name.name === 'floor' || e.name.name === 'ceil' ? `math.${e.name.name}` : e.name.name;
      return `${fn}(${e.args.map((a) => pyExpr(a, names)).join(', ')})`;
    }
    default: {
      const never: never = e;
      throw new Error(`unhandled expression ${(never as Expr).kind}`);
    }
  }
}

/** Whether an expression refers to no parameter (so it can be a default argument as written). */
export function isConstant(e: Expr, params: ReadonlySet<string>): boolean {
  switch (e.kind) {
    case 'num':
    case 'bool':
      return true;
    case 'ref':
      return !params.has(e.name);
    case 'list':
      return e.items.every((i) => isConstant(i, params));
    case 'unary':
      return isConstant(e.operand, params);
    case 'binary':
      return isConstant(e.left, params) && isConstant(e.right, params);
    case 'paren':
      return isConstant(e.inner, params);
    case 'call':
      return e.args.every((a) => isConstant(a, params));
  }
}

/**
 * `indent + head(args) + tail` on one line if it fits in 79 columns;
 * otherwise the arguments on continuation lines, aligned with the opening
 * parenthesis or, when that is too far right, hanging by four spaces.
 */
export function callLines(indent: string, head: string, args: readonly string[], tail = ''): string[] {
  const one = `${indent}${head}(${args.join(', ')})${tail}`;
  if (one.length <= MAX_LINE || args.length === 0) return [one];
  const aligned = fill(`${indent}${head}(`, ' '.repeat(indent.length + head.length + 1), args, `)${tail}`);
  if (aligned.every((l) => l.length <= MAX_LINE)) return aligned;
  const inner = `${indent}    `;
  return [`${indent}${head}(`, ...fill(inner, inner, args, `)${tail}`)];
}

/** Pack `args` into lines that start with `first` / `rest`, breaking after commas. */
function fill(first: string, rest: string, args: readonly string[], close: string): string[] {
  const lines: string[] = [];
  let line = first;
  let empty = true;
  args.forEach((a, i) => {
    const piece = a + (i === args.length - 1 ? close : ',');
    const candidate = empty ? line + piece : `${line} ${piece}`;
    if (!empty && candidate.length > MAX_LINE) {
      lines.push(line);
      line = rest + piece;
    } else line = candidate;
    empty = false;
  });
  lines.push(line);
  return lines;
}
