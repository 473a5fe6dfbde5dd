// The data a run trains on, checked against the network before anything
// trains: the input (channels, size — or, for a vector network, the number of
// values of a flattened image), the number of classes, then the seeded
// limit / validation split / test limit.
import * as fs from 'node:fs';
import type { Network } from '../check/ir.js';
import { formatShape } from '../diagnostics/index.js';
import { deriveSeed, permutation, rng } from '../util/rng.js';
import { UserError } from '../util/errors.js';
import {
  DataError,
  exampleSize,
  FASHION_MNIST_CLASSES,
  loadIdxDir,
  loadImageFolder,
  subset,
  validationSplit,
  type Dataset,
  type Shape3,
  type Split,
} from './data/index.js';

/** A problem with the run the user can fix (data that do not fit the network, an occupied run directory). */
export class TrainError extends UserError {
  override readonly name = 'TrainError';
}

export interface PreparedData {
  train: Split;
  val?: Split;
  test?: Split;
  classes: string[];
  /** where the test metrics come from */
  testName: 'test' | 'validation' | 'none';
  flipSafe: boolean;
  kind: 'idx' | 'image folder';
  /** the network takes vectors: each image is flattened in C, H, W order (torch.flatten) */
  flatten: boolean;
}

function isIdxDir(dir: string): boolean {
  try {
    return fs.readdirSync(dir).some((f) => /^train-images[-.]idx3-ubyte(\.gz)?$/.test(f));
  } catch {
    return false;
  }
}

/** The number of classes the network predicts: its output must be a vector. */
export function outputClasses(network: Network): number {
  if (network.output.length !== 1) {
    throw new TrainError(`network ${network.name} outputs ${formatShape(network.output)} per example; a classifier must end in a vector of class scores ([classes])`);
  }
  return network.output[0]!;
}

/** Load the data set and check it against the network before anything trains. */
export function loadData(dir: string, network: Network): { dataset: Dataset; kind: PreparedData['kind']; flipSafe: boolean; flatten: boolean } {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new DataError(dir, 'no such directory');
  const want = outputClasses(network);
  const input = network.input;
  if (input.length !== 1 && input.length !== 3) {
    throw new TrainError(`network ${network.name} takes input ${formatShape(input)}; training needs an image [C, H, W] or a vector [F]`);
  }
  const flatten = input.length === 1;
  let dataset: Dataset;
  let kind: PreparedData['kind'];
  if (isIdxDir(dir)) {
    kind = 'idx';
    dataset = loadIdxDir(dir);
    const have = dataset.train.shape;
    if (flatten) {
      if (exampleSize(have) !== input[0]) {
        throw new TrainError(
          `network ${network.name} takes vectors of ${input[0]} values, but the IDX images in ${dir} are ${formatShape(have)} = ${exampleSize(have)} values flattened` +
            ('size' in network.params || 'features' in network.params ? '' : `; declare \`input [${exampleSize(have)}]\``),
        );
      }
    } else if (have[0] !== input[0] || have[1] !== input[1] || have[2] !== input[2]) {
      const hint = have[1] === have[2] && 'size' in network.params ? `; try \`--set size=${have[1]}\`` : '';
      throw new TrainError(`network ${network.name} takes images ${formatShape(input)} (channels, height, width), but the IDX data in ${dir} are ${formatShape(have)}${hint}`);
    }
  } else {
    kind = 'image folder';
    if (flatten) {
      throw new TrainError(`network ${network.name} takes vectors ${formatShape(input)}; image folders need an image network (input [C, H, W]) to resize to — flattened vectors train on IDX data`);
    }
    if (input[0] !== 1 && input[0] !== 3) {
      throw new TrainError(`network ${network.name} takes ${input[0]}-channel images ${formatShape(input)}; image folders give 1 (grey) or 3 (RGB) channels`);
    }
    // every image is converted to the network's channels and resized to its size
    dataset = loadImageFolder(dir, input as Shape3);
  }
  const have = dataset.classes.length;
  if (have !== want) {
    const hint = 'classes' in network.params ? `; try \`--set classes=${have}\`` : '';
    throw new TrainError(`network ${network.name} ends in ${want} output units, but the data in ${dir} have ${have} classes${hint}`);
  }
  // mirrored digits are other digits (or none): flip only what is known to be mirror-safe; never flip what gets flattened
  const flipSafe = !flatten && (kind === 'image folder' || dataset.classes.join('\n') === FASHION_MNIST_CLASSES.join('\n'));
  return { dataset, kind, flipSafe, flatten };
}

function seededSubset(split: Split, n: number, seed: number, stream: string): Split {
  if (n >= split.count) return split;
  const pick = Array.from(permutation(split.count, rng(deriveSeed(seed, stream))).subarray(0, n)).sort((a, b) => a - b);
  return subset(split, pick);
}

export function prepareData(dir: string, network: Network, s: { seed: number; valSplit: number; limit?: number; testLimit?: number }): PreparedData {
  const { dataset, kind, flipSafe, flatten } = loadData(dir, network);
  let train = dataset.train;
  if (s.limit !== undefined) train = seededSubset(train, s.limit, s.seed, 'limit');
  let val: Split | undefined;
  if (s.valSplit > 0) ({ train, val } = validationSplit(train, s.valSplit, s.seed, dir));
  let test = dataset.test;
  if (test && s.testLimit !== undefined) test = seededSubset(test, s.testLimit, s.seed, 'test-limit');
  const testName = test ? 'test' : val ? 'validation' : 'none';
  return { train, val, test, classes: dataset.classes, testName, flipSafe, kind, flatten };
}
