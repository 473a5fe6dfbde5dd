// The narrower network as a .net file a person can read and diff against the
// original. Where every layer that shrinks is written once in the network's
// own body (LeNet-5, AlexNet, the tutorial CNN), the file is the original
// with just those width arguments changed — and the shape assertions the
// checker then flags updated by its own quick fix — so `diff` shows exactly
// what pruning did, and parameters and --set keep working. Where a shrinking
// layer sits in a block or a repeat (each call would need its own width),
// the network is written out in full instead (printExpanded): blocks
// expanded, literal widths, no parameters. Either way the result must pass
// the checker with the expected widths, or it is not used.
import { compile } from '../compile.js';
import { layers, type LayerNode, type Network } from '../check/ir.js';
import type { NetworkDecl, Stage } from '../syntax/ast.js';
import { parse } from '../syntax/parse.js';
import { allStages } from '../syntax/walk.js';
import { format } from '../fmt/format.js';
import { printExpanded, widthArgs } from './net-text.js';
import { readFromDisk } from '../read-file.js';

export interface NarrowedSource {
  text: string;
  /** `edited`: the original file with widths changed; `expanded`: the network written out */
  how: 'edited' | 'expanded';
  network: Network;
  /** the --set values the new file needs (none when expanded: they are baked in) */
  set: Record<string, string>;
}

interface Edit {
  start: number;
  end: number;
  text: string;
}

function applyEdits(text: string, edits: Edit[]): string {
  let out = text;
  for (const e of [...edits].sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}

function networkDecl(text: string, name: string): NetworkDecl | undefined {
  return parse(text).program.decls.find((d): d is NetworkDecl => d.kind === 'network' && d.name.name === name);
}

/** The network's layers are the old ones, in order, with the widths we asked for (and the same paths, unless written out anew). */
function hasWidths(old: Network, next: Network, widths: ReadonlyMap<LayerNode, number>, samePaths: boolean): boolean {
  const a = [...layers(old.body)];
  const b = [...layers(next.body)];
  if (a.length !== b.length) return false;
  return a.every((n, i) => {
    const m = b[i]!;
    if (n.layer.name !== m.layer.name || (samePaths && n.path !== m.path)) return false;
    const w = widths.get(n);
    return w === undefined || m.outShape[0] === w;
  });
}

/** The original text with the width arguments changed, or undefined when that cannot express the new widths. */
function edited(text: string, file: string, old: Network, set: Record<string, string>, widths: ReadonlyMap<LayerNode, number>, header: string[]): NarrowedSource | undefined {
  const decl = networkDecl(text, old.name);
  if (!decl) return undefined;
  const calls = new Map<string, Extract<Stage, { kind: 'call' }>>();
  for (const s of allStages(decl.body)) if (s.kind === 'call') calls.set(`${s.span.start}:${s.span.end}`, s);
  const uses = new Map<string, number>();
  for (const n of layers(old.body)) uses.set(`${n.span.start}:${n.span.end}`, (uses.get(`${n.span.start}:${n.span.end}`) ?? 0) + 1);
  const edits: Edit[] = [];
  for (const [n, w] of widths) {
    if (n.outShape[0] === w) continue;
    const key = `${n.span.start}:${n.span.end}`;
    const call = calls.get(key);
    // in a block, or repeated: one argument cannot give each instance its width
    if (!call || uses.get(key) !== 1) return undefined;
    for (const [i, argName] of widthArgs(n).entries()) {
      // the first width argument may be written positionally (`conv(64, 3)`), the others by name
      const arg = call.args.find((a) => a.name?.name === argName) ?? (i === 0 ? call.args.find((a) => !a.name) : undefined);
      if (!arg) return undefined;
      edits.push({ start: arg.value.span.start, end: arg.value.span.end, text: String(w) });
    }
  }
  // say what happened just above the network (comments change no token)
  edits.push({ start: decl.span.start, end: decl.span.start, text: header.map((h) => `# ${h}\n`).join('') });
  let next = applyEdits(text, edits);
  // shape assertions that no longer hold: take the checker's own fix, a few rounds (a fix can reveal the next)
  for (let round = 0; round < 8; round++) {
    const r = compile(next, { file, network: old.name, set, readFile: readFromDisk });
    const d = networkDecl(next, old.name)!;
    const fixes = r.diagnostics.filter((x) => x.code === 'E306' && x.fixes.length).flatMap((x) => x.fixes[0]!.edits);
    if (!fixes.length) {
      if (!r.network || !hasWidths(old, r.network, widths, true)) return undefined;
      // a file kept in the canonical layout stays so (the changed widths may shift the alignment)
      if (format(text) === text) next = format(next) ?? next;
      return { text: next, how: 'edited', network: r.network, set };
    }
    if (fixes.some((e) => e.span.start < d.span.start || e.span.end > d.span.end)) return undefined; // an assertion in a block
    next = applyEdits(next, fixes.map((e) => ({ start: e.span.start, end: e.span.end, text: e.newText })));
  }
  return undefined;
}

export function narrowedSource(
  text: string,
  file: string,
  old: Network,
  set: Record<string, string>,
  widths: ReadonlyMap<LayerNode, number>,
  header: string[],
): NarrowedSource {
  const e = edited(text, file, old, set, widths, header);
  if (e) return e;
  const expanded = printExpanded(old, widths, [...header, 'written out in full: the layers that shrank sit in blocks or repeats, and each instance has its own width']);
  const r = compile(expanded, { network: old.name });
  if (!r.network || !hasWidths(old, r.network, widths, false)) {
    const first = r.diagnostics.find((d) => d.severity === 'error');
    throw new Error(`internal: the narrowed network does not check${first ? `: ${first.message}` : ''}`);
  }
  return { text: expanded, how: 'expanded', network: r.network, set: {} };
}
