// The diagram webview's page (editors/vscode/diagram-html.js) in a real
// browser, headless Chromium, with its Content-Security-Policy in force: the
// diagram shows, nothing is refused that the page needs, and what the policy
// is for (an SVG carrying script) stays inert. VS Code's webview host is
// replaced by `acquireVsCodeApi` and window messages, which is all the page uses.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../../src/compile.js';
import { callLabels, drawNetwork } from '../../src/inspect/draw/index.js';
import { ROOT } from './client.js';

const require = createRequire(import.meta.url);
const { contentSecurityPolicy, diagramHtml, networkAtCursor, rangeContains } = require(path.join(ROOT, 'editors/vscode/diagram-html.js'));

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`SKIPPED the webview page in a browser: ${CHROMIUM} is missing (apt-get install chromium)`);

describe('the page, as text', () => {
  it('has one policy that refuses everything but its nonce', () => {
    const html: string = diagramHtml({ nonce: 'n0nce-0123456789abcdef' });
    expect(contentSecurityPolicy('n0nce-0123456789abcdef')).toBe("default-src 'none'; style-src 'nonce-n0nce-0123456789abcdef'; script-src 'nonce-n0nce-0123456789abcdef'; base-uri 'none'; form-action 'none'");
    expect(html.match(/Content-Security-Policy/g)).toHaveLength(1);
    expect(html.match(/<script\b/g)).toHaveLength(1);
    expect(html).toContain('<script nonce="n0nce-0123456789abcdef">');
    expect(html).toContain('<style nonce="n0nce-0123456789abcdef">');
    // no inline handlers, no remote anything
    expect(html).not.toMatch(/\son[a-z]+=/);
    expect(html).not.toMatch(/https?:\/\//);
    expect(() => diagramHtml({ nonce: 'short' })).toThrow(/nonce/);
    expect(() => diagramHtml({ nonce: `x" onload="alert(1)` + 'a'.repeat(20) })).toThrow(/nonce/);
  });

  it('picks the network symbol that contains the cursor', () => {
    const r = (a: number, b: number, c: number, d: number) => ({ start: { line: a, character: b }, end: { line: c, character: d } });
    const symbols = [
      { name: 'cbr', kind: 12, range: r(0, 0, 2, 1) },
      { name: 'Big', kind: 5, range: r(4, 0, 8, 1) },
      { name: 'Small', kind: 5, range: r(10, 0, 14, 1) },
    ];
    expect(networkAtCursor(symbols, { line: 4, character: 0 })).toBe('Big');
    expect(networkAtCursor(symbols, { line: 8, character: 1 })).toBe('Big');
    expect(networkAtCursor(symbols, { line: 8, character: 2 })).toBeUndefined();
    expect(networkAtCursor(symbols, { line: 12, character: 40 })).toBe('Small');
    expect(networkAtCursor(symbols, { line: 1, character: 3 })).toBeUndefined();
    expect(networkAtCursor(null, { line: 1, character: 3 })).toBeUndefined();
    expect(rangeContains(r(1, 5, 1, 9), { line: 1, character: 4 })).toBe(false);
  });
});

describe.skipIf(!hasChromium)('the page in headless Chromium', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'alexnetc-webview-'));
  let svg = '';
  let expandedSvg = '';
  let paths: string[] = [];

  beforeAll(async () => {
    const text = `block cbr(c) {\n  conv(c, 3, pad 1) | batchnorm | relu\n}\nnetwork N {\n  input [3, 32, 32]\n  cbr(16) | maxpool(2)\n  residual { cbr(16) }\n  flatten | dense(10)\n}\n`;
    const r = compile(text);
    const calls = callLabels(r.stageInfo, 'N', text);
    svg = (await drawNetwork(r.network!, { calls })).data as string;
    expandedSvg = (await drawNetwork(r.network!, { calls, expand: true })).data as string;
    paths = [...svg.matchAll(/data-path="([^"]*)"/g)].map((m) => m[1]!);
    expect(paths.length).toBeGreaterThan(5);
  }, 60_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('shows the diagram, zooms, asks for the expanded view, keeps the last diagram on an error; an SVG with script stays inert', async () => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 800, height: 600 } });
      const problems: string[] = [];
      page.on('console', (m) => void (m.type() === 'error' && problems.push(m.text())));
      page.on('pageerror', (e) => void problems.push(String(e)));
      // VS Code's part: the api the page acquires, and its messages
      await page.addInitScript(() => {
        const w = window as any;
        w.__posted = [];
        // the state outlives a reload, as VS Code keeps it
        w.acquireVsCodeApi = () => ({
          postMessage: (m: unknown) => w.__posted.push(m),
          getState: () => JSON.parse(sessionStorage.getItem('state') ?? 'null'),
          setState: (s: unknown) => sessionStorage.setItem('state', JSON.stringify(s)),
        });
      });
      const file = path.join(dir, 'page.html');
      writeFileSync(file, diagramHtml({ nonce: 'AbCdEfGhIjKlMnOpQrStUv' }));
      await page.goto(`file://${file}`);
      expect(await page.evaluate(() => (window as any).__posted)).toEqual([{ type: 'ready' }]);
      // the page's own style applies (the nonce'd <style> is not refused)
      expect(await page.evaluate(() => getComputedStyle(document.getElementById('bar')!).position)).toBe('sticky');

      const post = (m: unknown) => page.evaluate((x) => window.postMessage(x, '*'), m);
      await post({ type: 'show', svg, network: 'N', expanded: false, boxes: 7 });
      await page.waitForSelector('#view svg');
      const seen = await page.evaluate(() => ({
        paths: [...document.querySelectorAll<SVGGElement>('#view [data-path]')].map((g) => g.dataset.path),
        name: document.getElementById('name')!.textContent,
        info: document.getElementById('info')!.textContent,
        width: document.querySelector('#view svg')!.getBoundingClientRect().width,
        texts: [...document.querySelectorAll('#view svg text')].map((t) => t.textContent).join(' '),
      }));
      expect(seen.paths).toEqual(paths);
      expect(seen.name).toBe('N');
      expect(seen.info).toBe('7 boxes');
      expect(seen.texts).toContain('cbr(16)');
      expect(seen.texts).toContain('dense(10)');
      // fitted to the panel (800 px less the padding), then 1:1 and zoomed in
      expect(seen.width).toBeGreaterThan(700);
      expect(seen.width).toBeLessThanOrEqual(800);
      const natural = Number(/width="(\d+)"/.exec(svg)![1]);
      await page.click('#actual');
      expect(await page.evaluate(() => document.querySelector('#view svg')!.getBoundingClientRect().width)).toBeCloseTo(natural, 0);
      await page.click('#in');
      expect(await page.evaluate(() => document.querySelector('#view svg')!.getBoundingClientRect().width)).toBeCloseTo(natural * 1.25, 0);

      // the extension is asked for the expanded view, and shows it
      await page.click('#expand');
      expect((await page.evaluate(() => (window as any).__posted)).at(-1)).toEqual({ type: 'expand', value: true });
      await post({ type: 'show', svg: expandedSvg, network: 'N', expanded: true, boxes: 11 });
      await page.waitForFunction(() => document.querySelectorAll('#view .group').length > 0);
      expect(await page.evaluate(() => (document.getElementById('expand') as HTMLInputElement).checked)).toBe(true);

      // an error: shown, the last diagram kept but dimmed
      await post({ type: 'error', message: 'network `N` does not check (line 6: …)' });
      const err = await page.evaluate(() => ({
        text: document.getElementById('error')!.textContent,
        visible: getComputedStyle(document.getElementById('error')!).display !== 'none',
        stale: document.getElementById('view')!.classList.contains('stale'),
        svgs: document.querySelectorAll('#view svg').length,
      }));
      expect(err).toEqual({ text: 'network `N` does not check (line 6: …)', visible: true, stale: true, svgs: 1 });
      await post({ type: 'show', svg, network: 'N', expanded: false, boxes: 7 });
      await page.waitForFunction(() => !document.getElementById('view')!.classList.contains('stale'));
      expect(await page.evaluate(() => getComputedStyle(document.getElementById('error')!).display)).toBe('none');
      expect(problems).toEqual([]);

      // hostile text: script elements, handlers, a remote image and HTML-looking text in the SVG do nothing
      const hostile = svg.replace(
        '</svg>',
        '<script>window.__pwned = 1</script><image href="https://example.invalid/x.png" width="1" height="1" onload="window.__pwned = 2"/><text onclick="window.__pwned = 3" x="0" y="0">&lt;img src=x onerror=window.__pwned=4&gt;</text></svg>',
      );
      await post({ type: 'show', svg: hostile, network: 'N', expanded: false, boxes: 7 });
      await page.waitForTimeout(300);
      await page.evaluate(() => document.querySelector<SVGTextElement>('#view text[onclick]')?.dispatchEvent(new MouseEvent('click', { bubbles: true })));
      expect(await page.evaluate(() => (window as any).__pwned)).toBeUndefined();
      expect(await page.evaluate(() => document.querySelectorAll('#view img').length)).toBe(0);
      // … because the policy refused them (Chromium says so on the console)
      expect(problems.some((p) => /Content Security Policy/.test(p))).toBe(true);

      // not SVG at all: an error, not a page of markup
      problems.length = 0;
      await post({ type: 'show', svg: '<div>hi</div>', network: 'N', expanded: false, boxes: 0 });
      await post({ type: 'show', svg: '<svg', network: 'N', expanded: false, boxes: 0 });
      expect(await page.evaluate(() => document.getElementById('error')!.textContent)).toBe('the server sent a diagram that is not SVG');

      // a reloaded page (VS Code reloads a hidden webview) shows the last diagram from its saved state
      await page.reload();
      await page.waitForSelector('#view svg');
      expect(await page.evaluate(() => [...document.querySelectorAll<SVGGElement>('#view [data-path]')].length)).toBeGreaterThan(paths.length - 1);
    } finally {
      await browser.close();
    }
  }, 60_000);
});
