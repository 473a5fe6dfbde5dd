// Random mutations of specs: character edits (deletions, insertions of
// grammar fragments, truncation, duplicated lines) and token edits that aim
// at the edges (numbers past every limit, deep nesting, huge repeats,
// positional arguments after named ones, misplaced shortcuts, binary bytes).
import { createRng } from '../../src/util/rng.js';

const SNIPPETS = [
  '(', ')', '{', '}', '[', ']', '|', ':', ',', '=', '-', '/', '//', '%', '*', '0', '-1', '1e400', '1e-46', '3.5e38', '2147483648', '0.5',
  'conv', 'repeat', 'residual', 'shortcut { relu }', 'branch', 'concat {', 'add { branch { relu } }', 'input [', 'same', 'true', 'train { lr -1 }',
  'import "nope.net"', '"', '\u0000', '\ufffd', 'é', '\n', 'block', 'network', 'flatten', 'dense(3)', 'kernel_size 3', 'filters 4, 2',
];

const NUMBERS = ['0', '1', '-1', '2', '3', '7', '64', '0.5', '1e-46', '1e39', '3.4e38', '1e400', '2147483647', '2147483648', '1e9', '99999'];
const WORDS = ['conv', 'maxpool', 'avgpool', 'lrn', 'batchnorm', 'dense', 'flatten', 'relu', 'softmax', 'globalavgpool', 'leakyrelu', 'identity', 'same', 'true', 'false', 'stride', 'pad', 'ceil', 'groups', 'dilation', 'k', 'c', 'foo'];

export function mutate(text: string, seed: number, index: number): string {
  const rng = createRng(seed, `fuzz/mutate/${index}`);
  const r = (): number => rng.next();
  const int = (n: number): number => Math.floor(r() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  let t = text;
  const edits = 1 + int(4);
  for (let e = 0; e < edits; e++) {
    const at = int(t.length + 1);
    switch (int(11)) {
      case 0:
        t = t.slice(0, at) + t.slice(at + 1 + int(8));
        break;
      case 1:
        t = t.slice(0, at) + pick(SNIPPETS) + t.slice(at);
        break;
      case 2:
        t = t.slice(0, at);
        break;
      case 3: {
        const lines = t.split('\n');
        lines.splice(int(lines.length), 0, lines[int(lines.length)]!);
        t = lines.join('\n');
        break;
      }
      case 4:
      case 5: {
        // replace one number
        const nums = [...t.matchAll(/\b\d+(?:\.\d+)?(?:e[+-]?\d+)?\b/g)];
        if (nums.length) {
          const m = pick(nums);
          t = t.slice(0, m.index) + pick(NUMBERS) + t.slice(m.index! + m[0].length);
        }
        break;
      }
      case 6: {
        // replace one word
        const words = [...t.matchAll(/\b[a-z_][a-z0-9_]*\b/g)];
        if (words.length) {
          const m = pick(words);
          t = t.slice(0, m.index) + pick(WORDS) + t.slice(m.index! + m[0].length);
        }
        break;
      }
      case 7: {
        // deep nesting in an argument
        const n = pick([3, 50, 99, 101, 500, 5000]);
        const open = pick(['(', '-', '-(', '[']);
        const close = open === '(' ? ')' : open === '-(' ? ')' : open === '[' ? ']' : '';
        t = t.slice(0, at) + open.repeat(n) + '1' + close.repeat(n) + t.slice(at);
        break;
      }
      case 8: {
        // a long flat sum, or a huge repeat around a line
        const lines = t.split('\n');
        const l = int(lines.length);
        lines[l] = r() < 0.5 ? `${lines[l]} ${Array(pick([10, 300, 3000])).fill('+ 1').join(' ')}` : `repeat ${pick(['2147483647', '1000000', '3', '0'])} { ${lines[l]} }`;
        t = lines.join('\n');
        break;
      }
      case 9: {
        // swap two lines
        const lines = t.split('\n');
        const a = int(lines.length);
        const b = int(lines.length);
        [lines[a], lines[b]] = [lines[b]!, lines[a]!];
        t = lines.join('\n');
        break;
      }
      default: {
        // a run of random bytes-as-characters
        let junk = '';
        for (let i = 0, n = 1 + int(20); i < n; i++) junk += String.fromCharCode(int(r() < 0.9 ? 128 : 0xffff));
        t = t.slice(0, at) + junk + t.slice(at);
      }
    }
  }
  return t;
}
