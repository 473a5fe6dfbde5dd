// Fine-tuning's starting point: `alexnetc train FILE --init W` loads every
// weight of W (an ONNX file, a safetensors file, a tfjs model directory or a
// run directory) whose name and shape match the network's, and leaves the
// others at the seeded initialisation a fresh run would give them: the
// classifier when `classes` changed, a layer W does not have. One table
// says which is which; it goes to the log and into the run's config.json.
// `--init-strict` refuses any mismatch, as `compile --weights` does;
// `--init-only a,b` loads only the stages under those paths (a new head of
// the same size starts from scratch).
import * as path from 'node:path';
import { under } from '../check/freeze.js';
import type { Network } from '../check/ir.js';
import { seededWeights, type WeightSource } from '../emit/onnx/index.js';
import { describeMismatch, formatDims, matchWeights, nonFinite, type WeightMatch } from '../weights/match.js';
import { openTensors, WeightsError } from '../weights/index.js';

/** One row of the table: a stage whose weights share a status, or one weight. */
export interface InitRow {
  stage: string;
  weights: string[];
  status: 'loaded' | 'shape-differs' | 'missing' | 'not-selected';
  /** for shape-differs: `weight [5, 84] here, [10, 84] in W` */
  detail?: string;
}

/** What a run started from, as config.json records it (and --resume keeps). */
export interface InitRecord {
  /** the path given to --init, resolved */
  from: string;
  strict: boolean;
  /** --init-only's stage paths, when given */
  only?: string[];
  /** weights loaded, and weights left at their seeded initialisation */
  loaded: number;
  seeded: number;
  rows: InitRow[];
  /** stored float tensors that no weight of the network uses: `name [shape]` */
  unused: string[];
}

export interface InitOptions {
  strict?: boolean;
  only?: string[];
  /** the seed of the initialisation the unloaded weights keep */
  seed: number;
}

const STATUS_TEXT: Record<InitRow['status'], string> = {
  loaded: 'loaded',
  'shape-differs': 'seeded: shape differs',
  missing: 'seeded: missing',
  'not-selected': 'seeded: not in --init-only',
};

function rowsOf(entries: readonly (WeightMatch & { selected: boolean })[]): InitRow[] {
  const status = (e: WeightMatch & { selected: boolean }): InitRow['status'] => (e.selected ? e.status : 'not-selected');
  const detail = (es: readonly WeightMatch[]): string | undefined => {
    const d = es.filter((e) => e.status === 'shape-differs').map((e) => `${e.weight} ${formatDims(e.expected)} here, ${e.dtype && !/^(b?float)/.test(e.dtype) ? e.dtype : formatDims(e.actual ?? [])} there`);
    return d.length ? d.join('; ') : undefined;
  };
  const rows: InitRow[] = [];
  const byStage = new Map<string, (WeightMatch & { selected: boolean })[]>();
  for (const e of entries) byStage.set(e.path, [...(byStage.get(e.path) ?? []), e]);
  for (const [stage, es] of byStage) {
    const kinds = new Set(es.map(status));
    if (kinds.size === 1) rows.push({ stage, weights: es.map((e) => e.weight), status: status(es[0]!), ...(detail(es) ? { detail: detail(es) } : {}) });
    else for (const e of es) rows.push({ stage, weights: [e.weight], status: status(e), ...(detail([e]) ? { detail: detail([e]) } : {}) });
  }
  return rows;
}

/**
 * Open `p` and match it against `network`: the weights to start from (the
 * stored values where name and shape match, the seeded ones elsewhere) and
 * the record of what was loaded. Throws WeightsError (exit 1) for a file
 * that cannot be read, when nothing matches, under --init-strict for any
 * mismatch, and for stored values that are NaN or infinite.
 */
export async function initFrom(p: string, network: Network, o: InitOptions): Promise<{ weights: WeightSource; record: InitRecord }> {
  const stored = await openTensors(p, network, '--init');
  const report = matchWeights(stored, network);
  const selected = (stage: string): boolean => !o.only || o.only.some((e) => under(stage, e));
  const entries = report.entries.map((e) => ({ ...e, selected: selected(e.path) }));
  if (o.strict) {
    const why = o.only ? describeMismatch({ entries: report.entries.filter((e) => selected(e.path)), extra: [] }, stored.where, stored.tensors) : describeMismatch(report, stored.where, stored.tensors);
    if (why) throw new WeightsError(`--init ${p}: ${why} (--init-strict refuses any mismatch; without it the weights that fit are loaded and the rest keep their seeded initialisation)`);
  }
  const load = new Set(entries.filter((e) => e.selected && e.status === 'loaded').map((e) => e.key));
  if (load.size === 0) {
    const why = describeMismatch(report, stored.where, stored.tensors);
    throw new WeightsError(`--init ${p}: none of ${network.name}'s weights ${o.only ? `under ${o.only.join(', ')} ` : ''}is there with the same name and shape${why ? ` (${why})` : ''}`);
  }
  const seeded = seededWeights(o.seed);
  const weights: WeightSource = {
    get(stage, spec) {
      const key = `${stage}.${spec.name}`;
      if (!load.has(key)) return seeded.get(stage, spec);
      const values = stored.read(key);
      const bad = nonFinite(values, key, stored.where);
      if (bad) throw new WeightsError(`--init ${p}: ${bad}`);
      return values;
    },
  };
  const record: InitRecord = {
    from: path.resolve(p),
    strict: o.strict === true,
    ...(o.only ? { only: o.only } : {}),
    loaded: load.size,
    seeded: entries.length - load.size,
    rows: rowsOf(entries),
    unused: report.extra.map((t) => `${t.name} ${formatDims(t.shape)}`),
  };
  return { weights, record };
}

/** The record as the lines of one table, for the log. */
export function renderInit(r: InitRecord): string[] {
  const head = `init: ${r.loaded} of ${r.loaded + r.seeded} weights loaded from ${r.from}${r.seeded ? `, ${r.seeded} left at their seeded initialisation` : ''}`;
  const cells = r.rows.map((x) => [x.stage, x.weights.join(', '), STATUS_TEXT[x.status] + (x.detail ? ` (${x.detail})` : '')]);
  const header = ['stage', 'weights', 'status'];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]): string => '  ' + c.map((x, i) => x.padEnd(widths[i]!)).join('  ').trimEnd();
  const out = [head, line(header), ...cells.map(line)];
  if (r.unused.length) {
    const shown = r.unused.length > 6 ? [...r.unused.slice(0, 6), `… ${r.unused.length - 6} more`] : r.unused;
    out.push(`  not used (no weight of this network has the name): ${shown.join(', ')}`);
  }
  return out;
}
