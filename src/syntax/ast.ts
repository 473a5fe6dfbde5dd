// The plain AST the parser's visitor builds. Every node carries the span of
// source it came from so diagnostics can point at the exact argument.
// Spans are [start, end) character offsets into the file's text.
import type { Span } from '../diagnostics/span.js';

export interface Ident {
  name: string;
  span: Span;
}

export type Expr =
  | { kind: 'num'; value: number; text: string; span: Span }
  | { kind: 'bool'; value: boolean; span: Span }
  | { kind: 'ref'; name: string; span: Span } // a parameter, or a bare word such as `same`
  | { kind: 'list'; items: Expr[]; span: Span } // [a, b] as an argument value
  | { kind: 'unary'; op: '-' | '+' | 'not'; operand: Expr; span: Span }
  | { kind: 'binary'; op: BinaryOp; left: Expr; right: Expr; span: Span }
  | { kind: 'paren'; inner: Expr; span: Span }
  // round(x), floor, ceil, min, max, make_divisible(v, d): see src/check/functions.ts
  | { kind: 'call'; name: Ident; args: Expr[]; span: Span };

export type ArithmeticOp = '+' | '-' | '*' | '/' | '//' | '%';
export type ComparisonOp = '==' | '!=' | '<' | '<=' | '>' | '>=';
export type BinaryOp = ArithmeticOp | ComparisonOp | 'and' | 'or';

export interface Param {
  name: Ident;
  default?: Expr;
  span: Span;
}

export interface Arg {
  /** undefined for a positional argument */
  name?: Ident;
  value: Expr;
  span: Span;
}

/** `: [dims]` after a stage */
export interface Assertion {
  dims: Expr[];
  span: Span;
}

export type Stage =
  | { kind: 'call'; callee: Ident; args: Arg[]; hasParens: boolean; span: Span; assert?: Assertion }
  | { kind: 'repeat'; count: Expr; body: Stage[]; span: Span; keyword: Span; assert?: Assertion }
  | { kind: 'residual'; cond?: Expr; body: Stage[]; shortcut?: Stage[]; span: Span; keyword: Span; shortcutKeyword?: Span; assert?: Assertion }
  | { kind: 'concat' | 'add' | 'split'; branches: Branch[]; span: Span; keyword: Span; assert?: Assertion }
  // the stages of the body the condition picks (no scope of its own)
  | { kind: 'if'; cond: Expr; then: Stage[]; else?: Stage[]; span: Span; keyword: Span; elseKeyword?: Span; assert?: Assertion }
  // the input times body(input): a [C, 1, 1] body output is broadcast over [C, H, W] (squeeze-and-excitation)
  | { kind: 'gate'; body: Stage[]; span: Span; keyword: Span; assert?: Assertion };

export interface Branch {
  body: Stage[];
  span: Span;
}

export interface InputDecl {
  dims: Expr[];
  span: Span;
}

export interface NetworkDecl {
  kind: 'network';
  name: Ident;
  params: Param[];
  input?: InputDecl;
  body: Stage[];
  /** optional `train { key value … }` section (training defaults) */
  train?: TrainSection;
  span: Span;
}

export interface BlockDecl {
  kind: 'block';
  name: Ident;
  params: Param[];
  body: Stage[];
  span: Span;
}

/** `key value`, or `key name(args)` where value is the ref `name` */
export interface TrainSetting {
  key: Ident;
  value: Expr;
  args?: Arg[];
  span: Span;
}

export interface TrainSection {
  settings: TrainSetting[];
  span: Span;
}

export type Decl = NetworkDecl | BlockDecl;

/** `import "common.net"`: the path as written (relative to the importing file) */
export interface ImportDecl {
  path: string;
  /** the string, quotes included */
  pathSpan: Span;
  span: Span;
}

export interface Program {
  imports: ImportDecl[];
  decls: Decl[];
  /** comments, kept for the formatter: span + text */
  comments: { text: string; span: Span }[];
  span: Span;
}
