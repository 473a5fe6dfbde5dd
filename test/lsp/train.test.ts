// Completion and hover in a train { } section come from the settings table,
// and its problems show in the editor like any other diagnostic.
import { TextDocument } from 'vscode-languageserver-textdocument';
import { describe, expect, it } from 'vitest';
import { analyze } from '../../src/lsp/analysis.js';
import { cursorContext } from '../../src/lsp/context.js';
import * as F from '../../src/lsp/features.js';
import { TRAIN_SETTINGS } from '../../src/check/train-settings.js';

/** the document and the offset of `^` in it (removed) */
function at(withCursor: string) {
  const offset = withCursor.indexOf('^');
  const text = withCursor.slice(0, offset) + withCursor.slice(offset + 1);
  const doc = TextDocument.create('file:///t/model.net', 'alexnet', 1, text);
  return { doc, a: analyze(text, 1), offset, text };
}

const head = 'network N {\n  input [16]\n  dense(10)\n  train {\n';

describe('train section in the editor', () => {
  it('knows which setting a value is typed for', () => {
    const t = at(`${head}    lr 0.1\n    optimizer a^\n  }\n}\n`);
    expect(cursorContext(t.text, t.offset)).toEqual({ kind: 'train', key: 'optimizer' });
    const u = at(`${head}    lr 0.1\n    opt^\n  }\n}\n`);
    expect(cursorContext(u.text, u.offset)).toEqual({ kind: 'train' });
    const v = at(`${head}    optimizer adam(beta1 0.9, ^)\n  }\n}\n`);
    expect(cursorContext(v.text, v.offset)).toEqual({ kind: 'trainArgs', key: 'optimizer', named: ['beta1'] });
  });

  it('completes setting names with their form and documentation, from the table', () => {
    const t = at(`${head}    ^\n  }\n}\n`);
    const items = F.completion(t.doc, t.a, t.offset);
    expect(items.map((i) => i.label)).toEqual(TRAIN_SETTINGS.map((s) => s.name));
    const lr = items.find((i) => i.label === 'lr')!;
    expect(lr.detail).toBe('lr 0.01');
    expect(JSON.stringify(lr.documentation)).toContain('--lr');
  });

  it('completes the words a setting takes, and its named arguments', () => {
    const t = at(`${head}    optimizer ^\n  }\n}\n`);
    expect(F.completion(t.doc, t.a, t.offset).map((i) => i.label)).toEqual(['sgd', 'momentum', 'adam']);
    const v = at(`${head}    optimizer adam(beta1 0.9, ^)\n  }\n}\n`);
    expect(F.completion(v.doc, v.a, v.offset).map((i) => i.label)).toEqual(['momentum', 'beta2', 'lr']);
    const w = at(`${head}    schedule ^\n  }\n}\n`);
    expect(F.completion(w.doc, w.a, w.offset).map((i) => i.label)).toEqual(['constant', 'step']);
  });

  it('hovers a setting with its form and meaning', () => {
    const t = at(`${head}    weight_d^ecay 5e-4\n  }\n}\n`);
    const h = F.hover(t.doc, t.a, t.offset)!;
    expect((h.contents as { value: string }).value).toContain('weight_decay 5e-4');
    expect((h.contents as { value: string }).value).toContain('Coupled L2');
  });

  it('shows bad values as diagnostics where they are', () => {
    const t = at(`${head}    lr -1 optimizer adamw epochs 2.5^\n  }\n}\n`);
    const ds = F.diagnostics(t.doc, t.a);
    expect(ds.map((d) => [d.code, t.text.slice(t.doc.offsetAt(d.range.start), t.doc.offsetAt(d.range.end))])).toEqual([
      ['E202', '-1'],
      ['E102', 'adamw'],
      ['E201', '2.5'],
    ]);
    const fix = F.codeActions(t.doc, t.a, ds[1]!.range);
    expect(fix[0]!.title).toBe('replace with `adam`');
  });
});
