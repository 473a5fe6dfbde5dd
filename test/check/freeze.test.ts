// `freeze` in the language: the checker reads stage paths as written
// (`stage2/conv1` is a path, not a division), validates them against the
// network's stages with located errors and fixes, the formatter keeps the
// paths tight, `--freeze` follows the same rules, `summary` counts frozen and
// trainable parameters, and the editor completes and explains the paths.
import { TextDocument } from 'vscode-languageserver-textdocument';
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compile.js';
import { checkFreeze, declaredFreeze, frozenParams, frozenWeightKeys, stagePaths } from '../../src/check/freeze.js';
import { format } from '../../src/fmt/format.js';
import { analyze } from '../../src/lsp/analysis.js';
import { cursorContext } from '../../src/lsp/context.js';
import * as F from '../../src/lsp/features.js';
import { renderSummary, summarize } from '../../src/summary.js';
import { ConfigError, resolveSettings } from '../../src/train/config.js';

const net = (freeze: string): string => `network N(classes = 3) {
  input [1, 8, 8]
  stage(4)
  residual { conv(4, 3, pad 1) | batchnorm } shortcut { conv(4, 1) }
  flatten | dense(classes)
  train {
    freeze ${freeze}
  }
}

block stage(c) {
  conv(c, 3, pad 1) | batchnorm | relu
}
`;

const check = (freeze: string) => compile(net(freeze));
const problems = (freeze: string) => {
  const text = net(freeze);
  return compile(text).diagnostics.map((d) => [d.code, text.slice(d.span.start, d.span.end), d.message]);
};

describe('train { freeze … }', () => {
  it('takes a stage path, a scope, or a list of them; `/` joins path segments, spaces or not', () => {
    for (const [written, entries] of [
      ['stage1', ['stage1']],
      ['[stage1/conv1, stage1 / batchnorm1]', ['stage1/conv1', 'stage1/batchnorm1']],
      ['[residual1/shortcut]', ['residual1/shortcut']],
      ['none', []],
      ['[]', []],
    ] as const) {
      const r = check(written);
      expect(r.diagnostics, written).toEqual([]);
      expect(declaredFreeze(r.network!), written).toEqual(entries);
    }
  });

  it('refuses a name that matches no stage, at the name, with the closest path as a fix', () => {
    expect(problems('[stage1/conv2, stag1, conv1, classes]')).toEqual([
      ['E102', 'stage1/conv2', 'train { freeze … } `stage1/conv2` names no stage of N; did you mean `stage1/conv1`?'],
      ['E102', 'stag1', 'train { freeze … } `stag1` names no stage of N; did you mean `stage1`?'],
      ['E102', 'conv1', "train { freeze … } `conv1` names no stage of N; paths start at the network's top: did you mean one of `stage1/conv1`, `residual1/conv1`, `residual1/shortcut/conv1`?"],
      ['E102', 'classes', 'train { freeze … } `classes` names no stage of N (stages with weights: `stage1`, `residual1`, `dense1`)'],
    ]);
    const d = check('stag1').diagnostics[0]!;
    expect(d.fixes?.[0]?.title).toBe('replace with `stage1`');
    expect(d.fixes?.[0]?.edits[0]?.newText).toBe('stage1');
  });

  it('warns about stages without weights, and refuses values that are no paths', () => {
    expect(problems('[stage1/relu1, flatten1]')).toEqual([
      ['W505', 'stage1/relu1', 'train { freeze … } `stage1/relu1` has no weights: freezing it changes nothing'],
      ['W505', 'flatten1', 'train { freeze … } `flatten1` has no weights: freezing it changes nothing'],
    ]);
    expect(problems('[stage1, 3]').map((p) => p.slice(0, 2))).toEqual([['E201', '3']]);
    expect(problems('stage1(x 1)').map((p) => p[0])).toEqual(['E103']);
    // `freeze` is a setting like the others: given twice is E107, misspelt E115 with the name
    const twice = net('stage1').replace('freeze stage1', 'freeze stage1\n    freeze dense1');
    expect(compile(twice).diagnostics.map((d) => d.code)).toEqual(['E107']);
    expect(compile(net('stage1').replace('freeze stage1', 'frozen stage1')).diagnostics[0]!.message).toContain('did you mean `freeze`?');
  });

  it('leaves the names unchecked while the network itself does not check (one root cause, one message)', () => {
    const broken = net('[nothing1]').replace('dense(classes)', 'dense(classes, oops 1)');
    expect(compile(broken).diagnostics.map((d) => d.code)).toEqual(['E103']);
  });

  it('freezes every weight at or under each entry, batch-norm statistics included', () => {
    const n = check('stage1').network!;
    expect(stagePaths(n.body)).toEqual([
      'stage1', 'stage1/conv1', 'stage1/batchnorm1', 'stage1/relu1', 'residual1', 'residual1/conv1', 'residual1/batchnorm1', 'residual1/shortcut', 'residual1/shortcut/conv1', 'flatten1', 'dense1',
    ]);
    expect([...frozenWeightKeys(n.body, ['stage1', 'residual1/shortcut'])]).toEqual([
      'stage1/conv1.weight', 'stage1/conv1.bias', 'stage1/batchnorm1.weight', 'stage1/batchnorm1.bias', 'stage1/batchnorm1.running_mean', 'stage1/batchnorm1.running_var', 'residual1/shortcut/conv1.weight', 'residual1/shortcut/conv1.bias',
    ]);
    // `stage1` is a scope, not a prefix of `stage10`'s text
    expect(checkFreeze(['stage'], n.body, 'N')[0]!.code).toBe('E102');
    expect(frozenParams(n.body, ['stage1'])).toBe(4 * 9 + 4 + 4 + 4);
  });

  it('is formatted with its paths tight', () => {
    const text = net('[stage1 /conv1,residual1/ shortcut]');
    expect(format(text)).toContain('    freeze [stage1/conv1, residual1/shortcut]\n');
  });
});

describe('--freeze', () => {
  const n = check('stage1').network!;
  it('replaces the file\'s list, by the same rules, checked against the stages', () => {
    expect(resolveSettings(n.train, {}, n).freeze).toEqual(['stage1']);
    expect(resolveSettings(n.train, { freeze: 'residual1, dense1' }, n).freeze).toEqual(['residual1', 'dense1']);
    expect(resolveSettings(n.train, { freeze: 'none' }, n).freeze).toEqual([]);
    expect(() => resolveSettings(n.train, { freeze: 'stage1,dense9' }, n)).toThrow(ConfigError);
    expect(() => resolveSettings(n.train, { freeze: 'stage1,dense9' }, n)).toThrow('--freeze `dense9` names no stage of N; did you mean `dense1`?');
    expect(() => resolveSettings(n.train, { freeze: 'stage1,2' }, n)).toThrow("--freeze takes comma-separated stage paths (conv1,stage2/conv1) or none, got '2'");
  });
});

describe('summary', () => {
  it('counts frozen and trainable parameters, marks the frozen stages (partly for a construct), and says so in JSON', () => {
    const n = check('[stage1, residual1/shortcut]').network!;
    const s = summarize(n);
    expect(s.freeze).toEqual(['stage1', 'residual1/shortcut']);
    expect(s.frozenParams).toBe(48 + 20);
    expect(s.trainableParams).toBe(n.totalParams - 68);
    expect(s.rows.filter((r) => r.frozen).map((r) => [r.path, r.frozen])).toEqual([
      ['stage1/conv1', true],
      ['stage1/batchnorm1', true],
      ['residual1', 'partly'],
      ['residual1/shortcut/conv1', true],
    ]);
    const text = renderSummary(s);
    expect(text).toMatch(/Stage +Layer +Output shape +Params +MACs +Frozen/);
    expect(text).toMatch(/stage1\/conv1 +conv\(4, 3, pad 1\) +\[4, 8, 8\] +40 +2,304 +frozen/);
    expect(text).toContain(`Trainable params:     ${(n.totalParams - 68).toLocaleString('en-US')}\nFrozen params:        68 (freeze stage1, residual1/shortcut)`);
    // --freeze replaces the file's list; none: the table is the one without a Frozen column
    expect(summarize(n, { freeze: ['dense1'] }).frozenParams).toBe(n.body.length && 4 * 64 * 3 + 3);
    const plain = renderSummary(summarize(n, { freeze: [] }));
    expect(plain).not.toContain('Frozen');
  });
});

describe('in the editor', () => {
  function at(withCursor: string) {
    const offset = withCursor.indexOf('^');
    const text = withCursor.slice(0, offset) + withCursor.slice(offset + 1);
    const doc = TextDocument.create('file:///t/model.net', 'alexnet', 1, text);
    return { doc, a: analyze(text, 1), offset, text };
  }

  it('completes the stage paths that hold weights inside a freeze list, replacing the path typed so far', () => {
    const t = at(net('[stage1/co^]'));
    expect(cursorContext(t.text, t.offset)).toEqual({ kind: 'trainList', key: 'freeze' });
    const items = F.completion(t.doc, t.a, t.offset);
    expect(items.map((i) => i.label)).toEqual(['stage1', 'stage1/conv1', 'stage1/batchnorm1', 'residual1', 'residual1/conv1', 'residual1/batchnorm1', 'residual1/shortcut', 'residual1/shortcut/conv1', 'dense1']);
    const conv = items.find((i) => i.label === 'stage1/conv1')!;
    expect(conv.detail).toBe('conv(4, 3, pad 1), 40 parameters');
    const edit = conv.textEdit as { range: { start: { character: number }; end: { character: number } }; newText: string };
    expect(t.text.split('\n')[6]!.slice(edit.range.start.character, edit.range.end.character)).toBe('stage1/co');
    // after `freeze ` without brackets too, with `none`
    const u = at(net('^'));
    expect(F.completion(u.doc, u.a, u.offset).map((i) => i.label)).toContain('residual1/shortcut');
    expect(F.completion(u.doc, u.a, u.offset).map((i) => i.label)).toContain('none');
  });

  it('hovers an entry with what it freezes, and the setting with its documentation', () => {
    const t = at(net('[stage^1, dense1]'));
    const h = (F.hover(t.doc, t.a, t.offset)!.contents as { value: string }).value;
    expect(h).toContain('frozen: **48** of');
    expect(h).toContain('(batch norms in inference mode)');
    expect(h).toContain('`stage1/conv1` conv(4, 3, pad 1) — 40');
    const k = at(net('stage1').replace('freeze stage1', 'fre^eze stage1'));
    expect((F.hover(k.doc, k.a, k.offset)!.contents as { value: string }).value).toContain('command line: `--freeze`');
  });

  it("counts the frozen parameters in the network's hover, as summary does", () => {
    const t = at(net('stage1').replace('network N(', 'net^work N('));
    const h = (F.hover(t.doc, t.a, t.offset)!.contents as { value: string }).value;
    const s = summarize(t.a.result.networks[0]!);
    expect(h).toContain(`trainable ${s.trainableParams.toLocaleString('en-US')}, frozen 48 (freeze stage1), not trained`);
  });

  it('shows a misspelt path where it is, with its fix', () => {
    const t = at(net('[stag1]^'));
    const ds = F.diagnostics(t.doc, t.a);
    expect(ds.map((d) => d.code)).toEqual(['E102']);
    expect(F.codeActions(t.doc, t.a, ds[0]!.range)[0]!.title).toBe('replace with `stage1`');
  });
});
