// The checker keeps a block call's checked body for the next call with the
// same input shape and argument values (src/check/checker.ts, BlockMemo).
// Whatever it keeps, the result must be the one a fresh check of every call
// gives: networks (every node, path and count), stage facts and diagnostics.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Checker, MAX_DEPTH } from '../../src/check/checker.js';
import { loadModules } from '../../src/check/modules.js';
import { parse } from '../../src/syntax/parse.js';

const root = path.join(import.meta.dirname, '../..');

function both(text: string, file?: string) {
  const program = parse(text).program;
  const run = (memo: boolean) => {
    // every call checked afresh, or kept bodies replayed (hits: how many calls were)
    const loaded = loadModules(text, file, program, (p) => fs.readFileSync(p, 'utf8'));
    const checker = new Checker({ memo });
    const r = checker.check(loaded.modules);
    return { networks: r.networks, stageInfo: r.stageInfo, diagnostics: r.diagnostics, hits: checker.memoHits };
  };
  return { memo: run(true), fresh: run(false) };
}

const CASES: [string, string][] = [
  [
    'the same call many times, other arguments, other shapes',
    `block unit(c, k = 3) {
  conv(c, k, pad same) | batchnorm | relu
}
network N {
  input [3, 32, 32]
  unit(8) | unit(8) | unit(8, 5) | unit(8)
  maxpool(2) | unit(8) | unit(16) | unit(16)
  flatten | dense(10)
}`,
  ],
  [
    'nested blocks with residuals and merges, called at different depths',
    `block inner(c) {
  residual { conv(c, 3, pad 1) | relu }
}
block outer(c) {
  inner(c) | concat { branch { inner(c) } branch { conv(c, 1) } }
}
network N {
  input [4, 16, 16]
  inner(4) | outer(4) | inner(8)
  residual { outer(8) | conv(8, 1) }
  repeat 3 { inner(8) }
  globalavgpool | flatten | dense(2)
}`,
  ],
  [
    'a call that fails only for some inputs',
    `block keep {
  conv(4, 3, pad 1) | relu
}
block down {
  conv(4, 3) | relu
}
network N {
  input [4, 5, 5]
  keep | keep | down | keep | keep | down | keep | down | keep
  flatten | dense(2)
}`,
  ],
  [
    'two networks share a block; the second has an error in it',
    `block b(c) {
  conv(c, 3, pad 1) | relu
}
network A {
  input [3, 8, 8]
  b(4) | b(4) | flatten | dense(2)
}
network B {
  input [3, 8, 8]
  b(4) | b(0) | b(4)
  flatten | dense(2)
}`,
  ],
  [
    'gates and splits inside a kept block',
    `block se(c) {
  gate { globalavgpool | conv(c / 2, 1) | relu | conv(c, 1) | hardsigmoid }
  split { branch { } branch { conv(c / 2, 1) | relu } }
}
network N {
  input [8, 8, 8]
  se(8) | se(8) | se(8)
  flatten | dense(2)
}`,
  ],
  ['recursion through a kept block', `block a {\n  b\n}\nblock b {\n  relu\n}\nblock c {\n  a | c\n}\nnetwork N {\n  input [4]\n  a | b | a | c\n}`],
];

describe('kept block bodies equal a fresh check of every call', () => {
  it.each(CASES)('%s', (_, text) => {
    const { memo, fresh } = both(text);
    expect(fresh.hits).toBe(0);
    expect({ ...memo, hits: 0 }).toEqual(fresh);
  });

  it('a body kept at one depth is checked afresh deeper down, where it passes the nesting limit', () => {
    // residuals nested so that the second call of b sits where b's own residual is one level too many;
    // the parser's limit is on brackets, so the nesting goes through blocks, one residual each
    const levels = MAX_DEPTH / 2 - 1; // each level opens two bodies: the call and its residual
    const blocks = Array.from({ length: levels }, (_, i) => `block n${i} {\n  residual { ${i + 1 < levels ? `n${i + 1}` : 'b'} }\n}`).join('\n');
    const text = `block b {\n  residual { relu }\n}\n${blocks}\nnetwork N {\n  input [4]\n  b | n0\n}`;
    const { memo, fresh } = both(text);
    expect(fresh.diagnostics.map((d) => d.code)).toContain('E403');
    expect({ ...memo, hits: 0 }).toEqual(fresh);
  });

  it('the cases do replay kept bodies', () => {
    expect(CASES.map(([, text]) => both(text).memo.hits > 0)).toEqual(CASES.map(() => true));
  });

  const specs = fs.readdirSync(path.join(root, 'specs')).filter((f) => f.endsWith('.net'));
  it.each(specs)('specs/%s', (f) => {
    const file = path.join(root, 'specs', f);
    const { memo, fresh } = both(fs.readFileSync(file, 'utf8'), file);
    expect(memo.networks.length).toBeGreaterThan(0);
    expect({ ...memo, hits: 0 }).toEqual(fresh);
  });

  it('the paths of a replayed call are its own', () => {
    const { memo } = both(CASES[0]![1]);
    const paths = memo.networks[0]!.body.map((n) => n.path);
    expect(paths.slice(0, 4)).toEqual(['unit1/conv1', 'unit1/batchnorm1', 'unit1/relu1', 'unit2/conv1']);
    // unit4 is unit2 again (the same shape and arguments): replayed, under its own name
    expect(paths.slice(9, 12)).toEqual(['unit4/conv1', 'unit4/batchnorm1', 'unit4/relu1']);
    expect(new Set(memo.stageInfo.map((i) => `${i.path}`)).size).toBe(memo.stageInfo.length);
  });
});
