// ViT_Tiny28 on Fashion-MNIST, briefly: specs/vit.net's small Vision
// Transformer learns with both engines — the tfjs engine on 640 images in
// batches of 32, the torch engine on 2,000 images, one epoch each — far above
// chance (10 %, loss ln 10 = 2.30) on held-out test images. The accuracies of
// longer runs are in docs/training.md.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FASHION, hasData, hasTorch, json, root, tmp, train } from './torch/helpers.js';

const ARGS = [path.join(root, 'specs/vit.net'), '--network', 'ViT_Tiny28', '--data', FASHION, '--epochs', '1', '--seed', '1'];

function learned(run: string, engine: string, minAccuracy: number, maxLoss: number, stderr: string): void {
  const m = json(path.join(run, 'metrics.json'));
  console.log(`ViT_Tiny28, ${engine}: test accuracy ${(100 * m.accuracy).toFixed(1)} % on ${m.examples} images, loss ${m.loss.toFixed(3)}`);
  expect(m.evaluatedOn).toBe('test');
  expect(m.accuracy, stderr).toBeGreaterThan(minAccuracy);
  expect(m.loss).toBeLessThan(maxLoss);
}

describe.skipIf(!hasData)('ViT_Tiny28 on Fashion-MNIST', () => {
  it('learns with the tfjs engine (640 images in batches of 32, one epoch; measured 25 %)', () => {
    const run = path.join(tmp(), 'tfjs');
    const r = train([...ARGS, '--limit', '640', '--batch', '32', '--val-split', '0', '--test-limit', '300', '-o', run]);
    expect(r.code, r.stderr).toBe(0);
    learned(run, 'tfjs engine, 640 images, 1 epoch', 0.17, 2.2, r.stderr);
  }, 400_000);

  it.skipIf(!hasTorch)('learns with the torch engine (2,000 images, one epoch; measured 39 %)', () => {
    const run = path.join(tmp(), 'torch');
    const r = train([...ARGS, '--limit', '2000', '--test-limit', '500', '--engine', 'torch', '-o', run]);
    expect(r.code, r.stderr).toBe(0);
    learned(run, 'torch engine, 2,000 images, 1 epoch', 0.28, 1.95, r.stderr);
  }, 400_000);
});
