// What the cursor is inside of, on half-typed text (`^` marks the cursor).
import { describe, expect, it } from 'vitest';
import { cursorContext } from '../../src/lsp/context.js';

function ctx(withCursor: string) {
  const at = withCursor.indexOf('^');
  return cursorContext(withCursor.slice(0, at) + withCursor.slice(at + 1), at);
}

describe('cursorContext', () => {
  it('top level and bodies', () => {
    expect(ctx('^')).toEqual({ kind: 'top' });
    expect(ctx('network N {\n  input [3, 8, 8]\n}\nnet^')).toEqual({ kind: 'top' });
    expect(ctx('network N {\n  co^')).toMatchObject({ kind: 'body', opener: 'N' });
    expect(ctx('block b {\n  concat {\n    ^')).toMatchObject({ kind: 'body', opener: 'concat' });
    expect(ctx('block b(n) {\n  repeat ^')).toMatchObject({ kind: 'body', afterRepeat: true });
    expect(ctx('network N {\n  train {\n    l^')).toEqual({ kind: 'train' });
  });

  it('calls: argument index, named arguments, current name', () => {
    expect(ctx('network N {\n  conv(^')).toMatchObject({ kind: 'call', callee: 'conv', argIndex: 0, positionalBefore: 0, atArgStart: true });
    expect(ctx('network N {\n  conv(96, 11, st^')).toMatchObject({ kind: 'call', argIndex: 2, positionalBefore: 2, named: [], atArgStart: true });
    expect(ctx('network N {\n  conv(96, 11, stride 4, pad ^')).toMatchObject({ kind: 'call', named: ['stride'], currentName: 'pad' });
    expect(ctx('network N {\n  conv(c * (2 + 1), [3, 3], ^')).toMatchObject({ kind: 'call', argIndex: 2, positionalBefore: 2 });
    expect(ctx('network N {\n  conv(c * ^')).toMatchObject({ kind: 'call', currentName: undefined });
    expect(ctx('network N {\n  relu | conv(1, 2) | dense(^')).toMatchObject({ kind: 'call', callee: 'dense', argIndex: 0 });
  });

  it('parameter lists and values', () => {
    expect(ctx('network N(clas^')).toEqual({ kind: 'params' });
    expect(ctx('network N {\n  input [3, ^')).toEqual({ kind: 'value' });
    expect(ctx('network N {\n  relu : [^')).toEqual({ kind: 'value' });
  });

  it('tolerates unbalanced text', () => {
    expect(ctx('network N {\n  conv(1, 2]]]) | ^')).toMatchObject({ kind: 'body' });
    expect(ctx(')))}}}^')).toEqual({ kind: 'top' });
  });
});
