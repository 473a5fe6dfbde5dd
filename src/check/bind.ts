// Matching a call's positional and named arguments to a signature.
//
// The rule is Python's: positional arguments come first, in signature order;
// named ones follow, in any order. A positional argument after a named one is
// an error (E116), never a silent rebinding of some other slot, and an
// argument given both ways is an error naming both (E107).
import type { DiagnosticSink, Fix } from '../diagnostics/index.js';
import type { Arg, Stage } from '../syntax/ast.js';
import { printExpr } from '../syntax/print.js';
import { suggest } from '../util/suggest.js';

export interface ParamSlot {
  name: string;
  required: boolean;
  /** other libraries' names for this argument (`kernel_size` for `k`): an unknown name that is one gets "did you mean" */
  aliases?: readonly string[];
}

type Call = Extract<Stage, { kind: 'call' }>;

const shown = (a: Arg): string => (a.name ? `${a.name.name} ${printExpr(a.value)}` : printExpr(a.value));

/** name → the argument bound to it; undefined if binding failed (already reported) */
export function bindArgs(call: Call, slots: readonly ParamSlot[], what: string, sink: DiagnosticSink): Map<string, Arg> | undefined {
  const bound = new Map<string, Arg>();
  /** how each slot was bound, for the messages */
  const byName = new Set<string>();
  let ok = true;
  let pos = 0;
  let firstNamed: Arg | undefined;
  let misplaced = false;
  for (const a of call.args) {
    if (!a.name) {
      if (firstNamed) {
        if (!misplaced) positionalAfterNamed(call, a, firstNamed, slots, bound, what, sink);
        misplaced = true;
        ok = false;
        continue;
      }
      const slot = slots[pos++];
      if (!slot) {
        const sig = slots.map((s) => s.name).join(', ');
        sink.report('E108', a.span, `${what} takes at most ${slots.length} positional argument${slots.length === 1 ? '' : 's'} (${sig || 'none'}), got ${call.args.filter((x) => !x.name).length}`);
        ok = false;
        break;
      }
      bound.set(slot.name, a);
      continue;
    }
    firstNamed ??= a;
    const name = a.name.name;
    if (!slots.some((s) => s.name === name)) {
      unknownName(a, slots, what, sink);
      ok = false;
      continue;
    }
    const prev = bound.get(name);
    if (prev) {
      const how = byName.has(name) ? 'by name' : 'positionally';
      sink.report('E107', a.span, `${what}: argument \`${name}\` is given twice: \`${shown(prev)}\` ${how} and \`${shown(a)}\` by name`, {
        notes: [{ message: `first given here${how === 'positionally' ? `, as positional argument ${slots.findIndex((x) => x.name === name) + 1}` : ''}`, span: prev.span }],
      });
      ok = false;
      continue;
    }
    bound.set(name, a);
    byName.add(name);
  }
  if (!ok) return undefined;
  const missing = slots.filter((s) => s.required && !bound.has(s.name));
  if (missing.length) {
    sink.report('E109', call.span, `${what} is missing required argument${missing.length > 1 ? 's' : ''} ${missing.map((m) => `\`${m.name}\``).join(', ')}`);
    return undefined;
  }
  return bound;
}

/** `conv(filters 64, 2)`: say which two arguments collide and offer to name the positional one */
function positionalAfterNamed(call: Call, a: Arg, named: Arg, slots: readonly ParamSlot[], bound: Map<string, Arg>, what: string, sink: DiagnosticSink): void {
  // the slot the author most likely meant: the first one neither argument list has filled
  const taken = new Set([...bound.keys(), ...call.args.filter((x) => x.name).map((x) => x.name!.name)]);
  const next = slots.find((s) => !taken.has(s.name));
  const fixes: Fix[] = next ? [{ title: `name it: \`${next.name} ${printExpr(a.value)}\``, edits: [{ span: { start: a.span.start, end: a.span.start }, newText: `${next.name} ` }] }] : [];
  sink.report(
    'E116',
    a.span,
    `${what}: positional argument \`${shown(a)}\` follows the named argument \`${shown(named)}\`; positional arguments come first${next ? `, or name this one (\`${next.name} ${printExpr(a.value)}\`)` : ''}`,
    { notes: [{ message: 'the named argument is here', span: named.span }], fixes },
  );
}

function unknownName(a: Arg, slots: readonly ParamSlot[], what: string, sink: DiagnosticSink): void {
  const name = a.name!.name;
  const alias = slots.find((s) => s.aliases?.includes(name.toLowerCase()));
  const s = alias?.name ?? suggest(name, slots.map((x) => x.name));
  const why = alias ? ` (\`${name}\` is what other libraries call it)` : '';
  sink.report(
    'E103',
    a.name!.span,
    `${what} has no argument \`${name}\`${s ? `; did you mean \`${s}\`?${why}` : slots.length ? ` (its arguments: ${slots.map((x) => x.name).join(', ')})` : ' (it takes no arguments)'}`,
    { fixes: s ? [{ title: `replace with \`${s}\``, edits: [{ span: a.name!.span, newText: s }] }] : [] },
  );
}
