// Walks over the AST shared by the checker and the language server. Each
// gives an array, filled in one pass (generators nested per stage and per
// expression were a good part of checking a long network).
import type { Decl, Expr, Stage } from './ast.js';

type Ref = Extract<Expr, { kind: 'ref' }>;

/** every stage of a body, nested ones included, outermost first */
export function allStages(stages: readonly Stage[], out: Stage[] = []): Stage[] {
  for (const s of stages) {
    out.push(s);
    switch (s.kind) {
      case 'call':
        break;
      case 'repeat':
        allStages(s.body, out);
        break;
      case 'residual':
        allStages(s.body, out);
        if (s.shortcut) allStages(s.shortcut, out);
        break;
      case 'concat':
      case 'add':
      case 'split':
        for (const b of s.branches) allStages(b.body, out);
        break;
      case 'gate':
        allStages(s.body, out);
        break;
      case 'if':
        allStages(s.then, out);
        if (s.else) allStages(s.else, out);
        break;
      default: {
        const never: never = s;
        throw new Error(`unhandled stage ${(never as Stage).kind}`);
      }
    }
  }
  return out;
}

/** every `ref` in an expression */
export function refs(e: Expr | undefined, out: Ref[] = []): Ref[] {
  if (!e) return out;
  switch (e.kind) {
    case 'ref':
      out.push(e);
      break;
    case 'list':
      for (const i of e.items) refs(i, out);
      break;
    case 'unary':
      refs(e.operand, out);
      break;
    case 'binary':
      refs(e.left, out);
      refs(e.right, out);
      break;
    case 'paren':
      refs(e.inner, out);
      break;
    case 'call':
      for (const a of e.args) refs(a, out);
      break;
    case 'num':
    case 'bool':
      break;
  }
  return out;
}

/** every expression of a declaration: parameter defaults, input dims, train settings, arguments, counts, assertions */
export function exprsOf(d: Decl): Expr[] {
  const out: Expr[] = [];
  for (const p of d.params) if (p.default) out.push(p.default);
  if (d.kind === 'network') {
    for (const e of d.input?.dims ?? []) out.push(e);
    for (const s of d.train?.settings ?? []) {
      out.push(s.value);
      for (const a of s.args ?? []) out.push(a.value);
    }
  }
  for (const s of allStages(d.body)) {
    if (s.assert) for (const e of s.assert.dims) out.push(e);
    if (s.kind === 'call') for (const a of s.args) out.push(a.value);
    else if (s.kind === 'repeat') out.push(s.count);
    else if (s.kind === 'if') out.push(s.cond);
    else if (s.kind === 'residual' && s.cond) out.push(s.cond);
  }
  return out;
}
