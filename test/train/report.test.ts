import { describe, expect, it } from 'vitest';
import {
  EpochProgress, accuracy, argmaxRows, confusionMatrix, confusionMatrixSvg, historyCharts, lineChart, niceTicks, perClassAccuracy,
} from '../../src/train/report/index.js';

/** A small XML well-formedness check: balanced tags, quoted attributes, escaped text. Returns the element names seen. */
function parseXml(s: string): string[] {
  const names: string[] = [];
  const stack: string[] = [];
  const re = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/gy;
  let m: RegExpExecArray | null;
  let pos = 0;
  while (pos < s.length) {
    re.lastIndex = pos;
    m = re.exec(s);
    if (m === null) throw new Error(`malformed XML at ${pos}: ${s.slice(pos, pos + 40)}`);
    pos = re.lastIndex;
    if (m[5] !== undefined) {
      if (/&(?!amp;|lt;|gt;|quot;|apos;)/.test(m[5])) throw new Error(`unescaped & in text: ${m[5]}`);
      continue;
    }
    const [, close, name, , self] = m;
    if (close === '/') {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}>`);
    } else {
      names.push(name!);
      if (self !== '/') stack.push(name!);
    }
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack.join('>, <')}>`);
  return names;
}

describe('metrics', () => {
  it('computes accuracy, argmax and a confusion matrix with rows as true classes', () => {
    const pred = argmaxRows([0.1, 0.9, 0, 0.8, 0.1, 0.1, 0, 0, 1, 0.2, 0.7, 0.1], 3);
    expect(Array.from(pred)).toEqual([1, 0, 2, 1]);
    const labels = [1, 0, 1, 2];
    expect(accuracy(pred, labels)).toBe(0.5);
    const cm = confusionMatrix(pred, labels, 3);
    expect(cm).toEqual([[1, 0, 0], [0, 1, 1], [0, 1, 0]]);
    expect(perClassAccuracy(cm)).toEqual([1, 0.5, 0]);
    expect(() => confusionMatrix([3], [0], 3)).toThrow(RangeError);
  });
});

describe('SVG charts', () => {
  it('draws one point per finite value per series, well-formed', () => {
    const svg = lineChart({
      title: 'Loss <&> "per" epoch',
      yLabel: 'loss',
      series: [{ name: 'train', values: [2.3, 1.1, 0.7, 0.5, 0.41] }, { name: 'val & test', values: [2.2, 1.3, NaN, 0.6, 0.55] }],
    });
    const names = parseXml(svg);
    expect(names[0]).toBe('svg');
    expect(names.filter((n) => n === 'circle')).toHaveLength(9);
    // The NaN epoch splits the validation curve in two polylines.
    expect(names.filter((n) => n === 'polyline')).toHaveLength(3);
    expect(svg).toContain('Loss &lt;&amp;&gt; &quot;per&quot; epoch');
  });

  it('draws history charts with train and validation curves', () => {
    const { loss, accuracy: acc } = historyCharts([
      { loss: 1, accuracy: 0.6, valLoss: 1.1, valAccuracy: 0.55 },
      { loss: 0.6, accuracy: 0.8, valLoss: 0.7, valAccuracy: 0.75 },
      { loss: 0.4, accuracy: 0.86, valLoss: 0.5, valAccuracy: 0.84 },
    ]);
    expect(parseXml(loss).filter((n) => n === 'circle')).toHaveLength(6);
    expect(parseXml(acc).filter((n) => n === 'circle')).toHaveLength(6);
    expect(acc).toContain('validation');
  });

  it('draws a confusion matrix with one cell per pair, counts and class names', () => {
    const classes = ['T-shirt/top', 'Trouser', 'Bag & co'];
    const m = [[50, 2, 3], [1, 60, 0], [4, 0, 40]];
    const svg = confusionMatrixSvg(m, classes);
    parseXml(svg);
    expect(svg.match(/<rect class="cell"/g)).toHaveLength(9);
    expect(svg).toContain('>60</text>');
    expect(svg).toContain('Bag &amp; co');
    expect(svg).toContain('100%'); // colour scale legend
  });

  it('picks round tick values', () => {
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0.3, 2.4)).toEqual([0.5, 1, 1.5, 2]);
  });
});

describe('progress', () => {
  function sink(isTTY: boolean): { out: { write(s: string): void; isTTY: boolean; columns: number }; text: () => string } {
    let buf = '';
    return { out: { write: (s: string) => { buf += s; }, isTTY, columns: 120 }, text: () => buf };
  }
  it('prints about ten plain lines per epoch when not a TTY', () => {
    const s = sink(false);
    let t = 0;
    const p = new EpochProgress({ epoch: 1, epochs: 3, steps: 100, out: s.out, now: () => t });
    for (let i = 1; i <= 100; i++) { t += 10; p.update(i, { loss: 1 / i, accuracy: 0.5, images: i * 32 }); }
    p.finish({ loss: 0.3, accuracy: 0.9, valLoss: 0.35, valAccuracy: 0.88, images: 3200 });
    const lines = s.text().trimEnd().split('\n');
    expect(lines).toHaveLength(11);
    expect(s.text()).not.toContain('\r');
    expect(lines[0]).toMatch(/^epoch 1\/3 step 10\/100 loss 0\.1000 acc 50\.00%  3200 img\/s  ETA 00:01$/);
    expect(lines[10]).toMatch(/val_acc 88\.00%/);
  });
  it('redraws one line with a bar on a TTY', () => {
    const s = sink(true);
    let t = 0;
    const p = new EpochProgress({ epoch: 2, epochs: 10, steps: 4, out: s.out, now: () => t });
    for (let i = 1; i <= 4; i++) { t += 200; p.update(i, { loss: 0.5, images: i * 64 }); }
    p.finish({ loss: 0.5, images: 256 });
    expect(s.text().split('\r').length).toBeGreaterThan(4);
    expect(s.text()).toContain('█');
    expect(s.text()).toContain('ETA');
    expect(s.text().endsWith('\n')).toBe(true);
  });
});
