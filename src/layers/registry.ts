// The layer catalogue. Adding a layer: one file plus one line here (and its tests).
import { batchnorm } from './batchnorm.js';
import { conv } from './conv.js';
import { dense } from './dense.js';
import { attention } from './attention.js';
import { gelu } from './gelu.js';
import { layernorm } from './layernorm.js';
import { lrn } from './lrn.js';
import { avgpool, maxpool } from './pool.js';
import { dropout, flatten, globalavgpool, identity, leakyrelu, relu, sigmoid, softmax, tanh } from './simple.js';
import { avgtokens, classtoken, image, posembed, token, tokens } from './tokens.js';
import type { AnyLayer } from './types.js';

export const LAYERS: readonly AnyLayer[] = [
  conv,
  maxpool,
  avgpool,
  globalavgpool,
  lrn,
  batchnorm,
  dropout,
  flatten,
  dense,
  relu,
  tanh,
  sigmoid,
  softmax,
  identity,
  leakyrelu,
  gelu,
  layernorm,
  tokens,
  image,
  classtoken,
  posembed,
  attention,
  token,
  avgtokens,
];

const byName = new Map(LAYERS.map((l) => [l.name, l]));

export function findLayer(name: string): AnyLayer | undefined {
  return byName.get(name);
}
