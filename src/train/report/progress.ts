// Per-epoch progress. On a terminal: one line redrawn in place with a bar,
// ETA, running loss/accuracy and images/s. Elsewhere (CI logs, pipes): a
// plain line every ~10% of the epoch, so logs stay short and readable.

export interface ProgressStats {
  loss: number;
  accuracy?: number;
  /** Examples processed so far this epoch. */
  images: number;
}

export interface ProgressOptions {
  epoch: number;
  epochs: number;
  /** Batches in the epoch. */
  steps: number;
  out?: { write(s: string): unknown; isTTY?: boolean; columns?: number };
  /** Force TTY or plain mode (default: the stream's isTTY). */
  tty?: boolean;
  now?: () => number;
}

export class EpochProgress {
  private readonly out: NonNullable<ProgressOptions['out']>;
  private readonly tty: boolean;
  private readonly now: () => number;
  private readonly start: number;
  private lastDraw = -Infinity;
  private lastPlainStep = 0;

  constructor(private readonly o: ProgressOptions) {
    this.out = o.out ?? process.stderr;
    this.tty = o.tty ?? this.out.isTTY === true;
    this.now = o.now ?? (() => performance.now());
    this.start = this.now();
  }

  /** After `step` (1-based) batches. */
  update(step: number, s: ProgressStats): void {
    const t = this.now();
    if (this.tty) {
      // Redrawing is cheap but not free: at most ~10 times a second.
      if (t - this.lastDraw < 100 && step < this.o.steps) return;
      this.lastDraw = t;
      const width = Math.max(10, Math.min(30, (this.out.columns ?? 80) - 70));
      const filled = Math.round((width * step) / this.o.steps);
      const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
      this.out.write(`\r\x1b[2K${this.prefix()} ${bar} ${step}/${this.o.steps} ${this.stats(step, s, t)}`);
    } else {
      const every = Math.max(1, Math.ceil(this.o.steps / 10));
      if (step - this.lastPlainStep < every && step < this.o.steps) return;
      this.lastPlainStep = step;
      this.out.write(`${this.prefix()} step ${step}/${this.o.steps} ${this.stats(step, s, t)}\n`);
    }
  }

  /** The epoch's summary line, replacing the bar. */
  finish(summary: { loss: number; accuracy?: number; valLoss?: number; valAccuracy?: number; images: number }): void {
    const secs = (this.now() - this.start) / 1000;
    const parts = [`loss ${fmt(summary.loss)}`];
    if (summary.accuracy !== undefined) parts.push(`acc ${pct(summary.accuracy)}`);
    if (summary.valLoss !== undefined) parts.push(`val_loss ${fmt(summary.valLoss)}`);
    if (summary.valAccuracy !== undefined) parts.push(`val_acc ${pct(summary.valAccuracy)}`);
    parts.push(`${secs.toFixed(1)}s`, `${Math.round(summary.images / Math.max(secs, 1e-9))} img/s`);
    this.out.write(`${this.tty ? '\r\x1b[2K' : ''}${this.prefix()} ${parts.join('  ')}\n`);
  }

  private prefix(): string {
    const w = String(this.o.epochs).length;
    return `epoch ${String(this.o.epoch).padStart(w)}/${this.o.epochs}`;
  }

  private stats(step: number, s: ProgressStats, t: number): string {
    const secs = (t - this.start) / 1000;
    const eta = step > 0 ? (secs / step) * (this.o.steps - step) : NaN;
    const acc = s.accuracy === undefined ? '' : ` acc ${pct(s.accuracy)}`;
    return `loss ${fmt(s.loss)}${acc}  ${Math.round(s.images / Math.max(secs, 1e-9))} img/s  ETA ${duration(eta)}`;
  }
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toFixed(4) : String(x);
}
function pct(x: number): string {
  return `${(100 * x).toFixed(2)}%`;
}
export function duration(secs: number): string {
  if (!Number.isFinite(secs)) return '--:--';
  const s = Math.round(secs);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const two = (n: number): string => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${two(m)}:${two(r)}` : `${two(m)}:${two(r)}`;
}
