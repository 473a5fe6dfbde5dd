// The Train panel: a run of the network on the shipped Fashion-MNIST subset in
// the training worker (created on the first click: tfjs is loaded only then),
// live loss and accuracy curves, a stop button, the test confusion matrix,
// then predictions on a drawn or dropped image with the top-5 and the
// saliency map.
import type { EpochOut, NetworkOut, Source, TrainReply, TrainRequest } from './protocol.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;
const pct = (x: number): string => `${(100 * x).toFixed(2)} %`;

/** `size=28, classes=10` → { size: '28', classes: '10' } */
export function parseSet(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of s.split(/[,\s]+/).filter(Boolean)) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i)] = part.slice(i + 1);
  }
  return out;
}

export class TrainPanel {
  private worker: Worker | undefined;
  private nextId = 1;
  private pending = new Map<number, (m: TrainReply) => void>();
  private points: { x: number; loss: number; acc: number }[] = [];
  private epochs: EpochOut[] = [];
  private steps = 1;
  private edited = false;
  private lastNetwork: string | undefined;
  /** what tests read */
  readonly state: { running: boolean; done?: Extract<TrainReply, { type: 'done' }>; error?: string; started?: Extract<TrainReply, { type: 'started' }> } = { running: false };

  constructor(private readonly source: () => Source) {
    (window as unknown as { alexnetcTrain: TrainPanel['state'] }).alexnetcTrain = this.state;
    $('train-start').onclick = () => this.start();
    $('train-stop').onclick = () => this.worker?.postMessage({ type: 'stop' } satisfies TrainRequest);
    $('train-set').oninput = () => (this.edited = true);
    void this.checkData();
    this.pad();
  }

  private async checkData(): Promise<void> {
    const note = $('data-note');
    try {
      const b = (await (await fetch('build.json')).json()) as { dataset: string | null; why: string | null };
      note.textContent = b.dataset
        ? 'Trains on a Fashion-MNIST subset shipped with this page: 10,000 training and 2,000 test images, 28×28 grey, 10 classes (Zalando SE, MIT licence).'
        : `The Fashion-MNIST subset is missing from this build of the page, so training is off: ${b.why}. Everything else works.`;
      if (!b.dataset) {
        note.className = 'error shown';
        $<HTMLButtonElement>('train-start').disabled = true;
      }
    } catch {
      note.textContent = 'The page cannot tell whether its training data are there (build.json is missing).';
    }
  }

  /** prefill `set` for the shipped data: size=28 and classes=10 where the network has those parameters */
  networkChanged(net: NetworkOut | undefined): void {
    if (!net || net.name === this.lastNetwork) return;
    this.lastNetwork = net.name;
    if (this.edited) return;
    const names = net.params.map((p) => p.split('=')[0]!.trim());
    const sets: string[] = [];
    if (names.includes('size')) sets.push('size=28');
    if (names.includes('classes')) sets.push('classes=10');
    $<HTMLInputElement>('train-set').value = sets.join(', ');
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(new URL('./train.js', import.meta.url), { type: 'module', name: 'alexnetc training' });
    w.onmessage = (e: MessageEvent<TrainReply>) => this.onMessage(e.data);
    w.onerror = (e) => this.fail(`the training worker failed: ${e.message}`);
    this.worker = w;
    return w;
  }

  private request(m: TrainRequest & { id: number }): Promise<TrainReply> {
    return new Promise((resolve) => {
      this.pending.set(m.id, resolve);
      this.ensureWorker().postMessage(m);
    });
  }

  exportTfjs(s: Source & { seed: number }): Promise<TrainReply> {
    return this.request({ type: 'tfjs', id: this.nextId++, ...s, set: { ...(s.set ?? {}), ...(this.state.done ? parseSet($<HTMLInputElement>('train-set').value) : {}) } });
  }

  private status(s: string): void {
    $('train-status').textContent = s;
  }

  private fail(message: string): void {
    this.state.running = false;
    this.state.error = message;
    this.status(message);
    $('train-status').className = 'error shown';
    $<HTMLButtonElement>('train-start').disabled = false;
    $<HTMLButtonElement>('train-stop').disabled = true;
  }

  start(): void {
    this.points = [];
    this.epochs = [];
    this.state.running = true;
    this.state.done = undefined;
    this.state.error = undefined;
    $('train-status').className = 'muted';
    $('confusion').replaceChildren();
    $('epochs').replaceChildren();
    this.drawCurves();
    $<HTMLButtonElement>('train-start').disabled = true;
    $<HTMLButtonElement>('train-stop').disabled = false;
    this.status('starting…');
    this.ensureWorker().postMessage({ type: 'train', ...this.source(), set: parseSet($<HTMLInputElement>('train-set').value) } satisfies TrainRequest);
  }

  private onMessage(m: TrainReply): void {
    if ('id' in m && m.id !== undefined) {
      const r = this.pending.get(m.id);
      this.pending.delete(m.id);
      r?.(m);
      return;
    }
    switch (m.type) {
      case 'status':
        this.status(m.message);
        break;
      case 'started':
        this.state.started = m;
        this.steps = m.steps;
        this.status(
          `${m.network}: ${m.train} training / ${m.val} validation / ${m.test} test images; ${m.settings}; ` +
            `${m.threads ? `kernels on ${m.threads} thread${m.threads === 1 ? '' : 's'}${m.isolated ? '' : ' (the page is not cross-origin isolated: one thread)'}` : 'stock tfjs kernels (no WebAssembly SIMD here)'}`,
        );
        break;
      case 'progress':
        this.points.push({ x: m.epoch - 1 + m.step / m.steps, loss: m.loss, acc: m.accuracy });
        this.status(`epoch ${m.epoch}, step ${m.step}/${m.steps}: loss ${m.loss.toFixed(4)}, accuracy ${pct(m.accuracy)}, ${m.imagesPerSecond.toFixed(0)} images/s`);
        this.drawCurves();
        break;
      case 'epoch':
        this.epochs.push(m.entry);
        this.drawEpochs();
        break;
      case 'done':
        this.state.running = false;
        this.state.done = m;
        $<HTMLButtonElement>('train-start').disabled = false;
        $<HTMLButtonElement>('train-stop').disabled = true;
        this.status(
          `${m.stopped ? 'stopped' : 'done'}: test accuracy ${m.testAccuracy !== undefined ? pct(m.testAccuracy) : '—'} on 2,000 images` +
            (m.imagesPerSecond ? `; ${m.imagesPerSecond.toFixed(0)} training images/s` : ''),
        );
        if (m.confusion) this.drawConfusion(m.confusion, m.classes);
        break;
      case 'error':
        this.fail(m.message);
        break;
    }
  }

  private drawCurves(): void {
    const W = 460, H = 160, P = 28;
    const ns = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('width', String(W));
    svg.setAttribute('height', String(H));
    const epochs = Math.max(1, Math.ceil(this.points.at(-1)?.x ?? 1));
    const maxLoss = Math.max(0.5, ...this.points.map((p) => p.loss));
    const X = (x: number): number => P + (x / epochs) * (W - 2 * P);
    const line = (ys: number[], colour: string): void => {
      if (!ys.length) return;
      const pl = document.createElementNS(ns, 'polyline');
      pl.setAttribute('points', this.points.map((p, i) => `${X(p.x).toFixed(1)},${(H - P - ys[i]! * (H - 2 * P)).toFixed(1)}`).join(' '));
      pl.setAttribute('fill', 'none');
      pl.setAttribute('stroke', colour);
      pl.setAttribute('stroke-width', '1.6');
      svg.append(pl);
    };
    const label = (x: number, y: number, s: string, colour = '#52616b'): void => {
      const t = document.createElementNS(ns, 'text');
      t.setAttribute('x', String(x));
      t.setAttribute('y', String(y));
      t.setAttribute('font-size', '11');
      t.setAttribute('fill', colour);
      t.textContent = s;
      svg.append(t);
    };
    line(this.points.map((p) => p.loss / maxLoss), '#d0431b');
    line(this.points.map((p) => p.acc), '#1f6feb');
    label(P, 14, `loss (max ${maxLoss.toFixed(2)})`, '#d0431b');
    label(P + 150, 14, 'training accuracy (0–100 %)', '#1f6feb');
    label(P, H - 8, `epochs 0 – ${epochs}`);
    $('curves').replaceChildren(svg);
  }

  private drawEpochs(): void {
    const t = $<HTMLTableElement>('epochs');
    t.replaceChildren();
    const head = t.createTHead().insertRow();
    for (const h of ['epoch', 'loss', 'accuracy', 'val loss', 'val accuracy', 'seconds', 'images/s']) head.insertCell().textContent = h;
    for (const e of this.epochs) {
      const r = t.insertRow();
      for (const c of [String(e.epoch), e.loss.toFixed(4), pct(e.accuracy), e.valLoss?.toFixed(4) ?? '—', e.valAccuracy !== undefined ? pct(e.valAccuracy) : '—', e.seconds.toFixed(1), e.imagesPerSecond.toFixed(0)]) r.insertCell().textContent = c;
    }
  }

  private drawConfusion(m: number[][], classes: string[]): void {
    const table = document.createElement('table');
    const cap = table.createCaption();
    cap.textContent = 'test confusion matrix (rows: true class, columns: predicted)';
    const head = table.insertRow();
    head.insertCell();
    classes.forEach((_, j) => {
      const th = document.createElement('th');
      th.textContent = String(j);
      head.append(th);
    });
    m.forEach((row, i) => {
      const tr = table.insertRow();
      const th = document.createElement('th');
      th.className = 'r';
      th.textContent = `${i} ${classes[i]}`;
      tr.append(th);
      const total = row.reduce((a, b) => a + b, 0) || 1;
      row.forEach((v, j) => {
        const td = tr.insertCell();
        td.textContent = String(v);
        const a = v / total;
        td.style.background = i === j ? `rgba(31, 111, 235, ${a})` : `rgba(208, 67, 27, ${Math.min(1, a * 3)})`;
        if (a > 0.5) td.style.color = '#fff';
      });
    });
    $('confusion').replaceChildren(table);
  }

  // ---------------------------------------------------------------- predict

  private pad(): void {
    const pad = $<HTMLCanvasElement>('pad');
    const ctx = pad.getContext('2d')!;
    const clear = (): void => {
      ctx.fillStyle = '#000';
      ctx.fillRect(0, 0, pad.width, pad.height);
    };
    clear();
    let down = false;
    const at = (e: PointerEvent): [number, number] => {
      const r = pad.getBoundingClientRect();
      return [((e.clientX - r.left) / r.width) * pad.width, ((e.clientY - r.top) / r.height) * pad.height];
    };
    pad.onpointerdown = (e) => {
      down = true;
      pad.setPointerCapture(e.pointerId);
      ctx.beginPath();
      ctx.moveTo(...at(e));
    };
    pad.onpointermove = (e) => {
      if (!down) return;
      ctx.lineTo(...at(e));
      ctx.strokeStyle = '#fff';
      ctx.lineWidth = 22;
      ctx.lineCap = 'round';
      ctx.lineJoin = 'round';
      ctx.stroke();
    };
    pad.onpointerup = () => (down = false);
    pad.ondragover = (e) => e.preventDefault();
    pad.ondrop = async (e) => {
      e.preventDefault();
      const f = e.dataTransfer?.files[0];
      if (!f) return;
      const img = await createImageBitmap(f);
      clear();
      const s = Math.min(pad.width / img.width, pad.height / img.height);
      ctx.drawImage(img, (pad.width - img.width * s) / 2, (pad.height - img.height * s) / 2, img.width * s, img.height * s);
      void this.predict();
    };
    $('pad-clear').onclick = clear;
    $('predict-run').onclick = () => void this.predict();
  }

  /** the pad as 28×28 grey values 0–255 */
  private pixels(): Float32Array {
    const small = document.createElement('canvas');
    small.width = small.height = 28;
    const c = small.getContext('2d')!;
    c.drawImage($<HTMLCanvasElement>('pad'), 0, 0, 28, 28);
    const rgba = c.getImageData(0, 0, 28, 28).data;
    const out = new Float32Array(28 * 28);
    for (let i = 0; i < out.length; i++) out[i] = 0.299 * rgba[4 * i]! + 0.587 * rgba[4 * i + 1]! + 0.114 * rgba[4 * i + 2]!;
    return out;
  }

  async predict(): Promise<void> {
    const r = await this.request({ type: 'predict', id: this.nextId++, pixels: this.pixels(), width: 28, height: 28 });
    const top = $('top5');
    if (r.type === 'error') {
      top.textContent = r.message;
      return;
    }
    if (r.type !== 'predicted') return;
    const order = r.probabilities.map((p, i) => [p, i] as const).sort((a, b) => b[0] - a[0]).slice(0, 5);
    top.replaceChildren(
      ...order.map(([p, i]) => {
        const row = document.createElement('div');
        row.className = 'bar';
        const label = document.createElement('span');
        label.className = 'label';
        label.textContent = r.classes[i]!;
        const fill = document.createElement('span');
        fill.className = 'fill';
        fill.style.width = `${Math.max(1, p * 110)}px`;
        const v = document.createElement('span');
        v.textContent = pct(p);
        row.append(label, fill, v);
        return row;
      }),
    );
    // the saliency map over the input, as `alexnetc explain` draws it: |∂score/∂x|, brightest where the class is decided
    const s = $<HTMLCanvasElement>('saliency');
    const c = s.getContext('2d')!;
    const img = c.createImageData(r.width, r.height);
    const max = Math.max(1e-12, ...r.saliency);
    for (let i = 0; i < r.width * r.height; i++) {
      const v = r.saliency[i]! / max;
      const g = r.input[i]! * 0.35;
      img.data[4 * i] = Math.min(255, g + 255 * v);
      img.data[4 * i + 1] = Math.min(255, g + 120 * v);
      img.data[4 * i + 2] = g;
      img.data[4 * i + 3] = 255;
    }
    const tmp = document.createElement('canvas');
    tmp.width = r.width;
    tmp.height = r.height;
    tmp.getContext('2d')!.putImageData(img, 0, 0);
    c.imageSmoothingEnabled = false;
    c.drawImage(tmp, 0, 0, s.width, s.height);
  }
}
