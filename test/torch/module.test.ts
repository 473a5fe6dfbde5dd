// The PyTorch target's emitter without Python: names, refusals, determinism.
import { describe, expect, it } from 'vitest';
import { toTorchModule, torchClassName, TorchUnsupportedError } from '../../src/emit/torch/index.js';
import { findLayer } from '../../src/layers/registry.js';
import { checked } from './helpers.js';

describe('the PyTorch module writer', () => {
  it('is deterministic', () => {
    const c = checked('network T { input [3, 8, 8]\n conv(4, 3) | relu | flatten | dense(2) }');
    expect(toTorchModule(c.program, c.network)).toBe(toTorchModule(c.program, c.network));
  });

  it('names classes after the network and blocks (PEP 8 CapWords), out of the way of Python and of its own names', () => {
    const c = checked(
      'block stage_bn(c) { conv(c, 1) }\nblock Network(c) { relu }\nnetwork None(lambda = 2) { input [3, 4, 4]\n stage_bn(lambda) | Network(1) }',
    );
    const text = toTorchModule(c.program, c.network);
    expect(text).toMatch(/^class StageBn\(Stages\):$/m);
    expect(text).toMatch(/^class Network_\(Stages\):$/m);
    expect(text).toMatch(/^class None_\(Network\):$/m);
    expect(text).toMatch(/def __init__\(self, lambda_=2\):/);
    expect(text).toMatch(/self\.block\(StageBn, lambda_\)/);
    expect(torchClassName({ name: 'None' })).toBe('None_');
    expect(torchClassName({ name: 'AlexNet' })).toBe('AlexNet');
  });

  it('refuses a layer without a PyTorch lowering at its call, even one a repeat runs zero times', () => {
    const relu = findLayer('relu')!;
    const saved = relu.torch;
    const source = 'block b() { repeat 0 { relu } }\nnetwork T { input [3, 4, 4]\n conv(2, 1) | b }';
    const c = checked(source);
    try {
      delete relu.torch;
      let err: unknown;
      try {
        toTorchModule(c.program, c.network);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(TorchUnsupportedError);
      const e = err as TorchUnsupportedError;
      expect(e.message).toMatch(/`relu` has no PyTorch lowering/);
      expect(source.slice(e.span.start, e.span.end)).toBe('relu');
      expect(e.span.start).toBe(source.indexOf('relu'));
    } finally {
      relu.torch = saved;
    }
  });
});
