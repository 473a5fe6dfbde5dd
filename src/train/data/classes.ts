// Training on some of a data set's classes (`alexnetc train --classes 0-4`):
// the examples of the chosen classes only, relabelled 0, 1, … in the order
// the selection lists them, with their class names kept — so Fashion-MNIST's
// classes 5–9 become a five-class data set of sandals, shirts, sneakers, bags
// and ankle boots. Works on any data set (IDX, image folders): a number is a
// class's index in the data's own order (the order of `predict`'s output
// and the confusion matrix), `a-b` a range of them, anything else a class
// name.
import { suggest } from '../../util/suggest.js';
import type { Dataset, Split } from './dataset.js';
import { subset } from './dataset.js';

/** `--classes` that cannot be read, or does not fit the data (the message says which part). */
export class ClassSelectionError extends Error {
  override readonly name = 'ClassSelectionError';
}

type Item = { index: number } | { from: number; to: number } | { name: string };

/** The selection's items, checked for form only (before any data is read). */
export function parseClassSelection(text: string): Item[] {
  const parts = text.split(',').map((p) => p.trim());
  if (parts.some((p) => p === '')) throw new ClassSelectionError(`--classes takes comma-separated class indices, ranges (0-4) or names, got '${text}'`);
  return parts.map((p): Item => {
    const range = /^(\d+)\s*-\s*(\d+)$/.exec(p);
    if (range) {
      const from = Number(range[1]), to = Number(range[2]);
      if (from > to) throw new ClassSelectionError(`--classes ${p}: a range goes up (${to}-${from}?)`);
      return { from, to };
    }
    return /^\d+$/.test(p) ? { index: Number(p) } : { name: p };
  });
}

/** The data's class indices the selection names, in its order; throws naming the item that fits no class. */
export function resolveClassSelection(text: string, classes: readonly string[]): number[] {
  const out: number[] = [];
  const add = (i: number, as: string): void => {
    if (i >= classes.length) throw new ClassSelectionError(`--classes ${as}: the data have ${classes.length} classes (0-${classes.length - 1})`);
    if (out.includes(i)) throw new ClassSelectionError(`--classes: class ${i} (${classes[i]}) is chosen twice`);
    out.push(i);
  };
  for (const item of parseClassSelection(text)) {
    if ('index' in item) add(item.index, String(item.index));
    else if ('from' in item) for (let i = item.from; i <= item.to; i++) add(i, `${item.from}-${item.to}`);
    else {
      let i = classes.indexOf(item.name);
      if (i < 0) i = classes.findIndex((c) => c.toLowerCase() === item.name.toLowerCase());
      if (i < 0) {
        const s = suggest(item.name, classes);
        throw new ClassSelectionError(`--classes: the data have no class \`${item.name}\`${s ? `; did you mean \`${s}\`?` : ` (classes: ${classes.join(', ')})`}`);
      }
      add(i, item.name);
    }
  }
  if (out.length < 2) throw new ClassSelectionError(`--classes ${text}: a classifier needs at least two classes`);
  return out;
}

/** The examples of the chosen classes, relabelled by their position in `chosen`. */
function selectSplit(split: Split, chosen: readonly number[]): Split {
  const label = new Map(chosen.map((c, i) => [c, i]));
  const keep: number[] = [];
  for (let i = 0; i < split.count; i++) if (label.has(split.labels[i]!)) keep.push(i);
  const out = subset(split, keep);
  for (let i = 0; i < out.count; i++) out.labels[i] = label.get(out.labels[i]!)!;
  return out;
}

/** The data set restricted to the classes `text` names (see parseClassSelection), relabelled, names kept. */
export function selectClasses(data: Dataset, text: string): Dataset {
  const chosen = resolveClassSelection(text, data.classes);
  const out: Dataset = { train: selectSplit(data.train, chosen), classes: chosen.map((c) => data.classes[c]!) };
  if (data.test) out.test = selectSplit(data.test, chosen);
  return out;
}
