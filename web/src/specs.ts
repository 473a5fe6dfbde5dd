// The specifications shipped with alexnetc (specs/), one click away.
import alexnet from '../../specs/alexnet.net';
import cnn from '../../specs/cnn.net';
import googlenet from '../../specs/googlenet.net';
import lenet5 from '../../specs/lenet5.net';
import resnet from '../../specs/resnet.net';
import vgg from '../../specs/vgg.net';

export const SPECS: ReadonlyArray<readonly [file: string, text: string]> = [
  ['lenet5.net', lenet5],
  ['cnn.net', cnn],
  ['alexnet.net', alexnet],
  ['vgg.net', vgg],
  ['resnet.net', resnet],
  ['googlenet.net', googlenet],
];
