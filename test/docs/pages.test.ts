// The README is the front door and docs/ the reference: the README stays
// short, every section the README had before the split (2026-12) is still a
// heading somewhere, every page of docs/ is linked from the README, and every
// relative link (file and #anchor) of the README and docs/*.md resolves.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.join(import.meta.dirname, '../..');
const pages = ['README.md', ...readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const text = new Map(pages.map((p) => [p, readFileSync(path.join(root, p), 'utf8')]));

/** The README's headings before it was split into docs/ (level 2 and 3). */
const OLD_HEADINGS = [
  'Set up', 'A tour of the language', 'Language reference', 'Command line', 'Drawing a network', 'TensorFlow.js',
  'PyTorch', 'Importing ONNX models', 'Training', 'Training speed on the pure-JS backend',
  'Fine-tuning and transfer learning', 'Training at scale', 'Several processes: `--nproc N`', 'Several machines',
  'Predicting', 'Explaining a prediction', 'Quantization', 'Pruning', 'Hyperparameter search', 'Diagnostics',
  'In your editor', 'Playground', 'Tests and benchmarks',
];

/** A markdown file's headings (outside code fences). */
function headings(md: string): string[] {
  const out: string[] = [];
  let fence = false;
  for (const line of md.split('\n')) {
    if (line.startsWith('```')) fence = !fence;
    const m = /^#{1,6} (.*)$/.exec(line);
    if (m && !fence) out.push(m[1]!.trim());
  }
  return out;
}

/** GitHub's anchor for a heading. */
const slug = (h: string): string => h.toLowerCase().replace(/[^\p{L}\p{N}_\- ]/gu, '').replace(/ /g, '-');

/** The relative links of a markdown file (outside code fences): [text](target). */
function links(md: string): string[] {
  const out: string[] = [];
  let fence = false;
  for (const line of md.split('\n')) {
    if (line.startsWith('```')) fence = !fence;
    if (fence) continue;
    for (const m of line.matchAll(/\]\(([^)\s]+)\)/g)) if (!/^[a-z]+:/.test(m[1]!)) out.push(m[1]!);
  }
  return out;
}

describe('the README and docs/', () => {
  it('the README is a front door: under 300 lines', () => {
    expect(text.get('README.md')!.split('\n').length).toBeLessThan(300);
  });

  it('every section the README had is a heading in the README or docs/', () => {
    const all = new Set([...text.values()].flatMap(headings));
    expect(OLD_HEADINGS.filter((h) => !all.has(h))).toEqual([]);
  });

  it('the README links every page of docs/', () => {
    const readme = text.get('README.md')!;
    expect(pages.filter((p) => p !== 'README.md' && !readme.includes(`](${p}`))).toEqual([]);
  });

  it('every relative link resolves, anchors included', () => {
    const broken: string[] = [];
    for (const [page, md] of text) {
      for (const link of links(md)) {
        const [file, anchor] = link.split('#') as [string, string | undefined];
        const target = file ? path.normalize(path.join(path.dirname(page), file)) : page;
        if (!existsSync(path.join(root, target))) {
          broken.push(`${page}: ${link} (no ${target})`);
          continue;
        }
        if (anchor === undefined || !target.endsWith('.md')) continue;
        const md2 = text.get(target) ?? readFileSync(path.join(root, target), 'utf8');
        if (!headings(md2).map(slug).includes(anchor)) broken.push(`${page}: ${link} (no heading #${anchor} in ${target})`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('the link check can fail: a made-up anchor is not a heading', () => {
    expect(headings(text.get('docs/cli.md')!).map(slug)).toContain('command-line');
    expect(headings(text.get('docs/cli.md')!).map(slug)).not.toContain('no-such-section');
  });
});
