import type { Expr } from './ast.js';

/** An expression in canonical spelling: what the formatter writes and what messages quote. */
export function printExpr(e: Expr): string {
  switch (e.kind) {
    case 'num':
      return e.text;
    case 'bool':
      return String(e.value);
    case 'ref':
      return e.name;
    case 'list':
      return printDims(e.items);
    case 'unary':
      return (e.op === 'not' ? 'not ' : e.op) + printExpr(e.operand);
    case 'binary':
      return `${printExpr(e.left)} ${e.op} ${printExpr(e.right)}`;
    case 'paren':
      return `(${printExpr(e.inner)})`;
    case 'call':
      return `${e.name.name}(${e.args.map(printExpr).join(', ')})`;
    default: {
      const never: never = e;
      throw new Error(`unhandled expression ${(never as Expr).kind}`);
    }
  }
}

export function printDims(ds: readonly Expr[]): string {
  return `[${ds.map(printExpr).join(', ')}]`;
}
