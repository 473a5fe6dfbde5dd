// Walks over the AST shared by the checker and the language server.
import type { Decl, Expr, Stage } from './ast.js';

/** every stage of a body, nested ones included, outermost first */
export function* allStages(stages: readonly Stage[]): Generator<Stage> {
  for (const s of stages) {
    yield s;
    switch (s.kind) {
      case 'call':
        break;
      case 'repeat':
        yield* allStages(s.body);
        break;
      case 'residual':
        yield* allStages(s.body);
        if (s.shortcut) yield* allStages(s.shortcut);
        break;
      case 'concat':
      case 'add':
      case 'split':
        for (const b of s.branches) yield* allStages(b.body);
        break;
      case 'gate':
        yield* allStages(s.body);
        break;
      case 'if':
        yield* allStages(s.then);
        if (s.else) yield* allStages(s.else);
        break;
      default: {
        const never: never = s;
        throw new Error(`unhandled stage ${(never as Stage).kind}`);
      }
    }
  }
}

/** every `ref` in an expression */
export function* refs(e: Expr | undefined): Generator<Extract<Expr, { kind: 'ref' }>> {
  if (!e) return;
  switch (e.kind) {
    case 'ref':
      yield e;
      break;
    case 'list':
      for (const i of e.items) yield* refs(i);
      break;
    case 'unary':
      yield* refs(e.operand);
      break;
    case 'binary':
      yield* refs(e.left);
      yield* refs(e.right);
      break;
    case 'paren':
      yield* refs(e.inner);
      break;
    case 'call':
      for (const a of e.args) yield* refs(a);
      break;
    case 'num':
    case 'bool':
      break;
  }
}

/** every expression of a declaration: parameter defaults, input dims, train settings, arguments, counts, assertions */
export function* exprsOf(d: Decl): Generator<Expr> {
  for (const p of d.params) if (p.default) yield p.default;
  if (d.kind === 'network') {
    yield* d.input?.dims ?? [];
    for (const s of d.train?.settings ?? []) {
      yield s.value;
      for (const a of s.args ?? []) yield a.value;
    }
  }
  for (const s of allStages(d.body)) {
    yield* s.assert?.dims ?? [];
    if (s.kind === 'call') for (const a of s.args) yield a.value;
    else if (s.kind === 'repeat') yield s.count;
    else if (s.kind === 'if') yield s.cond;
    else if (s.kind === 'residual' && s.cond) yield s.cond;
  }
}
