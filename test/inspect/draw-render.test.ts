// `alexnetc draw` as a person sees it: every network of every shipped spec,
// collapsed and expanded, rendered to PNG (a real picture: its size, ink,
// the colours of its layer kinds, its text) and opened as SVG in real
// headless Chromium (loads without errors; every stage's text is there and
// fits its box in the browser's own font metrics; nothing overlaps).
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import * as fs from 'node:fs';
import os from 'node:os';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StageInfo } from '../../src/check/checker.js';
import type { Network, Node } from '../../src/check/ir.js';
import { compile } from '../../src/compile.js';
import { buildDiagram, callLabels } from '../../src/inspect/draw/index.js';
import { layoutDiagram } from '../../src/inspect/draw/layout.js';
import { svgToPng } from '../../src/inspect/draw/png.js';
import { COLOURS } from '../../src/inspect/draw/style.js';
import { renderSvg } from '../../src/inspect/draw/svg.js';
import { describeCall } from '../../src/summary.js';

const ROOT = path.join(import.meta.dirname, '../..');
const CHROMIUM = '/usr/bin/chromium';
const dir = mkdtempSync(path.join(os.tmpdir(), 'alexnetc-draw-'));

interface Case {
  name: string;
  net: Network;
  expand: boolean;
  svg: string;
  /** stage path → the text its box must show, derived from the IR and the checker, not from the drawing code */
  expected: Map<string, string>;
  categories: Set<string>;
}

/**
 * The stages a diagram must show: every IR node and every block call, except
 * (collapsed) those inside a block call. Layers show their call as the specs
 * write it (summary's describeCall), block calls the call as written.
 */
function expectedStages(net: Network, info: readonly StageInfo[], calls: ReadonlyMap<string, string>, expand: boolean): Map<string, string> {
  const blocks = info.filter((s) => s.network === net.name && s.stage.kind === 'call' && !s.layer).map((s) => s.path);
  const inBlock = (p: string): boolean => blocks.some((b) => p.startsWith(`${b}/`));
  const out = new Map<string, string>();
  const walk = (nodes: readonly Node[]): void => {
    for (const n of nodes) {
      // a gate draws as a multiply box; a split as a split box and a concat box
      const title = n.kind === 'layer' ? describeCall(n.layer.name, n.layer.args, n.rawArgs) : n.kind === 'residual' ? 'add' : n.kind === 'gate' ? 'multiply' : n.kind === 'split' ? 'concat' : n.kind;
      if (expand || !inBlock(n.path)) {
        out.set(n.path, title);
        if (n.kind === 'split') out.set(`${n.path}/split`, `split ${n.branches.length}`);
      }
      if (n.kind === 'residual') {
        walk(n.body);
        if (n.shortcut) walk(n.shortcut);
      } else if (n.kind === 'gate') walk(n.body);
      else if (n.kind !== 'layer') for (const b of n.branches) walk(b);
    }
  };
  walk(net.body);
  for (const b of blocks) if (expand || !inBlock(b)) out.set(b, calls.get(b)!);
  return out;
}

const cases: Case[] = [];

beforeAll(async () => {
  for (const f of fs.readdirSync(path.join(ROOT, 'specs')).filter((x) => x.endsWith('.net')).sort()) {
    const text = fs.readFileSync(path.join(ROOT, 'specs', f), 'utf8');
    const r = compile(text, { all: true });
    expect(r.networks.length).toBeGreaterThan(0);
    for (const net of r.networks) {
      const calls = callLabels(r.stageInfo, net.name, text);
      for (const expand of [false, true]) {
        const d = buildDiagram(net, { expand, calls });
        const svg = renderSvg(d, await layoutDiagram(d));
        const name = `${net.name}${expand ? '-expanded' : ''}`;
        writeFileSync(path.join(dir, `${name}.svg`), svg);
        cases.push({ name, net, expand, svg, expected: expectedStages(net, r.stageInfo, calls, expand), categories: new Set(d.nodes.map((n) => n.category)) });
      }
    }
  }
  // every network of every shipped spec, each collapsed and expanded
  expect(cases.length).toBeGreaterThanOrEqual(30);
  expect(cases.length % 2).toBe(0);
}, 240_000);

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function rgb(hex: string): [number, number, number] {
  return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];
}

describe('every shipped network as PNG', () => {
  it('is a real picture: sized to its content, inked, in the colours of its layer kinds', async () => {
    for (const c of cases) {
      const { png, width, height } = await svgToPng(c.svg, { scale: 1 });
      writeFileSync(path.join(dir, `${c.name}.png`), png);
      const img = PNG.sync.read(png);
      expect([img.width, img.height]).toEqual([width, height]);
      // at least a column of boxes beside a legend, and growing with the stages shown (a box and its edge ≈ 200 × 80)
      expect(img.width, c.name).toBeGreaterThan(400);
      expect(img.width * img.height, c.name).toBeGreaterThan(15_000 * c.expected.size);
      let ink = 0;
      const counts = new Map<number, number>();
      for (let i = 0; i < img.data.length; i += 4) {
        const [r, g, b] = [img.data[i]!, img.data[i + 1]!, img.data[i + 2]!];
        if (r < 245 || g < 245 || b < 245) ink++;
        const k = (r << 16) | (g << 8) | b;
        counts.set(k, (counts.get(k) ?? 0) + 1);
      }
      const fraction = ink / (img.width * img.height);
      expect(fraction, c.name).toBeGreaterThan(0.08);
      expect(fraction, c.name).toBeLessThan(0.8);
      // every layer kind it has is painted in its colour (box fills, exactly as the legend says)
      for (const cat of c.categories) {
        const [r, g, b] = rgb(COLOURS[cat as keyof typeof COLOURS].fill);
        expect(counts.get((r << 16) | (g << 8) | b) ?? 0, `${c.name}: ${cat} fill`).toBeGreaterThan(150);
      }
      expect([...counts.values()].filter((n) => n > 100).length, c.name).toBeGreaterThan(20);
    }
  }, 240_000);

  it('draws its text with the embedded font (no system font needed)', async () => {
    const c = cases.find((x) => x.name === 'LeNet5')!;
    const withText = PNG.sync.read((await svgToPng(c.svg, { scale: 1 })).png);
    const without = PNG.sync.read((await svgToPng(c.svg.replace(/<text[^>]*>[^<]*<\/text>/g, ''), { scale: 1 })).png);
    let differ = 0;
    for (let i = 0; i < withText.data.length; i += 4) if (withText.data[i] !== without.data[i]) differ++;
    // the glyphs of ~100 labels: thousands of pixels
    expect(differ).toBeGreaterThan(5000);
  });
});

const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`SKIPPED the browser checks: ${CHROMIUM} is missing (apt-get install chromium)`);

describe.skipIf(!hasChromium)('every shipped network as SVG in headless Chromium', () => {
  it('loads without errors; every stage is there with its text, inside its box; no two boxes overlap', async () => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
      page.on('pageerror', (e) => void errors.push(String(e)));
      for (const c of cases) {
        const res = await page.goto(`file://${path.join(dir, `${c.name}.svg`)}`);
        expect(res?.ok(), c.name).toBe(true);
        const seen = await page.evaluate(() => {
          const box = (e: SVGGraphicsElement) => {
            const b = e.getBBox();
            return { x: b.x, y: b.y, w: b.width, h: b.height };
          };
          return {
            root: document.documentElement.localName,
            parseErrors: document.getElementsByTagName('parsererror').length,
            stages: [...document.querySelectorAll<SVGGElement>('[data-path]')].map((g) => ({
              path: g.dataset.path!,
              node: g.classList.contains('node'),
              rect: box(g.querySelector<SVGRectElement>(':scope > rect')!),
              texts: [...g.querySelectorAll<SVGTextElement>(':scope > text')].map((t) => ({ s: t.textContent ?? '', ...box(t), len: t.getComputedTextLength() })),
            })),
          };
        });
        expect(errors, c.name).toEqual([]);
        expect(seen.root, c.name).toBe('svg');
        expect(seen.parseErrors, c.name).toBe(0);
        const shown = new Map(seen.stages.filter((s) => s.path !== '').map((s) => [s.path, s]));
        expect(new Set(shown.keys()), c.name).toEqual(new Set(c.expected.keys()));
        for (const [p, text] of c.expected) {
          const s = shown.get(p)!;
          expect(s.texts.map((t) => t.s), `${c.name} ${p}`).toContain(text);
          for (const t of s.texts) {
            // the browser's own measure of the text, in whatever font it chose
            expect(t.len, `${c.name} ${p}: "${t.s}" is wider than its box`).toBeLessThanOrEqual(s.rect.w - 4);
            expect(t.x >= s.rect.x && t.x + t.w <= s.rect.x + s.rect.w + 0.5, `${c.name} ${p}: "${t.s}" sticks out`).toBe(true);
          }
        }
        const nodes = seen.stages.filter((s) => s.node).map((s) => s.rect);
        for (let i = 0; i < nodes.length; i++) {
          for (let j = i + 1; j < nodes.length; j++) {
            const [a, b] = [nodes[i]!, nodes[j]!];
            expect(a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h, `${c.name}: boxes ${i} and ${j} overlap`).toBe(false);
          }
        }
      }
    } finally {
      await browser.close();
    }
  }, 240_000);
});
