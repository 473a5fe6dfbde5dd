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

/**
 * The argument bound to each slot, in the slots' order (undefined: not
 * given); undefined if binding failed (already reported). Slots of the same
 * name (a block declaring a parameter twice, E112) are one slot, the first:
 * look a name up with slotIndex.
 */
export function bindArgs(call: Call, slots: readonly ParamSlot[], what: string, sink: DiagnosticSink): (Arg | undefined)[] | undefined {
  const bound: (Arg | undefined)[] = new Array(slots.length).fill(undefined);
  /** the slots bound by name (made at the first one: most calls name nothing) */
  let byName: boolean[] | undefined;
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
      if (pos >= slots.length) {
        const sig = slots.map((s) => s.name).join(', ');
        sink.report('E108', a.span, `${what} takes at most ${slots.length} positional argument${slots.length === 1 ? '' : 's'} (${sig || 'none'}), got ${call.args.filter((x) => !x.name).length}`);
        ok = false;
        break;
      }
      bound[slotIndex(slots, slots[pos++]!.name)] = a;
      continue;
    }
    firstNamed ??= a;
    const name = a.name.name;
    const i = slotIndex(slots, name);
    if (i < 0) {
      unknownName(a, slots, what, sink);
      ok = false;
      continue;
    }
    const prev = bound[i];
    if (prev) {
      const how = byName?.[i] ? 'by name' : 'positionally';
      sink.report('E107', a.span, `${what}: argument \`${name}\` is given twice: \`${shown(prev)}\` ${how} and \`${shown(a)}\` by name`, {
        notes: [{ message: `first given here${how === 'positionally' ? `, as positional argument ${i + 1}` : ''}`, span: prev.span }],
      });
      ok = false;
      continue;
    }
    bound[i] = a;
    (byName ??= [])[i] = true;
  }
  if (!ok) return undefined;
  let anyMissing = false;
  for (let i = 0; i < slots.length; i++) if (slots[i]!.required && !bound[i] && !bound[slotIndex(slots, slots[i]!.name)]) anyMissing = true;
  if (anyMissing) {
    const missing = slots.filter((s) => s.required && !bound[slotIndex(slots, s.name)]);
    sink.report('E109', call.span, `${what} is missing required argument${missing.length > 1 ? 's' : ''} ${missing.map((m) => `\`${m.name}\``).join(', ')}`);
    return undefined;
  }
  return bound;
}

/** the index of the slot called `name`, or -1 */
export function slotIndex(slots: readonly ParamSlot[], name: string): number {
  for (let i = 0; i < slots.length; i++) if (slots[i]!.name === name) return i;
  return -1;
}

/** `conv(filters 64, 2)`: say which two arguments collide and offer to name the positional one */
function positionalAfterNamed(call: Call, a: Arg, named: Arg, slots: readonly ParamSlot[], bound: readonly (Arg | undefined)[], what: string, sink: DiagnosticSink): void {
  // the slot the author most likely meant: the first one neither argument list has filled
  const taken = new Set([...slots.filter((s) => bound[slotIndex(slots, s.name)]).map((s) => s.name), ...call.args.filter((x) => x.name).map((x) => x.name!.name)]);
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
