// Matching a call's positional and named arguments to a signature.
import type { DiagnosticSink } from '../diagnostics/index.js';
import type { Arg, Stage } from '../syntax/ast.js';
import { suggest } from './suggest.js';

export interface ParamSlot {
  name: string;
  required: boolean;
}

type Call = Extract<Stage, { kind: 'call' }>;

/** name → the argument bound to it; undefined if binding failed (already reported) */
export function bindArgs(call: Call, slots: readonly ParamSlot[], what: string, sink: DiagnosticSink): Map<string, Arg> | undefined {
  const bound = new Map<string, Arg>();
  let ok = true;
  let pos = 0;
  for (const a of call.args) {
    if (!a.name) {
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
    const name = a.name.name;
    if (!slots.some((s) => s.name === name)) {
      const s = suggest(name, slots.map((x) => x.name));
      sink.report(
        'E103',
        a.name.span,
        `${what} has no argument \`${name}\`${s ? `; did you mean \`${s}\`?` : slots.length ? ` (its arguments: ${slots.map((x) => x.name).join(', ')})` : ' (it takes no arguments)'}`,
        { fixes: s ? [{ title: `replace with \`${s}\``, edits: [{ span: a.name.span, newText: s }] }] : [] },
      );
      ok = false;
      continue;
    }
    if (bound.has(name)) {
      sink.report('E107', a.span, `${what}: argument \`${name}\` is given twice`, { notes: [{ message: 'first given here', span: bound.get(name)!.span }] });
      ok = false;
      continue;
    }
    bound.set(name, a);
  }
  if (!ok) return undefined;
  const missing = slots.filter((s) => s.required && !bound.has(s.name));
  if (missing.length) {
    sink.report('E109', call.span, `${what} is missing required argument${missing.length > 1 ? 's' : ''} ${missing.map((m) => `\`${m.name}\``).join(', ')}`);
    return undefined;
  }
  return bound;
}
