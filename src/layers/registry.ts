// The layer catalogue. Adding a layer: one file plus one line here (and its tests).
import { elu, hardsigmoid, hardswish, leakyrelu, prelu, relu6, silu, softplus } from './activations.js';
import { batchnorm } from './batchnorm.js';
import { conv } from './conv.js';
import { dense } from './dense.js';
import { attention } from './attention.js';
import { droppath } from './droppath.js';
import { gelu } from './gelu.js';
import { layernorm } from './layernorm.js';
import { lrn } from './lrn.js';
import { avgpool, maxpool } from './pool.js';
import { dropout, flatten, globalavgpool, identity, relu, sigmoid, softmax, tanh } from './simple.js';
import { avgtokens, classtoken, image, posembed, token, tokens } from './tokens.js';
import { scale } from './scale.js';
import { shuffle } from './shuffle.js';
import type { DocumentedLayer } from './reference.js';
import type { AnyLayer } from './types.js';

// each entry carries its reference text (documented(…) in its file): docs/language.md's layer table is made from them
export const LAYERS: readonly DocumentedLayer[] = [
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
  relu6,
  hardsigmoid,
  hardswish,
  silu,
  elu,
  prelu,
  softplus,
  shuffle,
  scale,
  droppath,
];

const byName = new Map(LAYERS.map((l) => [l.name, l]));

export function findLayer(name: string): AnyLayer | undefined {
  return byName.get(name);
}
