// Networks for the ONNX tests, compiled from real `.net` text by the
// pipeline entry `compile` (specs/*.net and test/onnx/fixtures/*.net).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Network } from '../../src/check/ir.js';
import { compile } from '../../src/index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SPECS = path.join(ROOT, 'specs');
export const FIXTURES = path.join(ROOT, 'test/onnx/fixtures');

/** Compile one network; a diagnostic of severity error fails the test loudly. */
export function compileFile(file: string, network?: string, set?: Record<string, string>): Network {
  const r = compile(fs.readFileSync(file, 'utf8'), { network, set });
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (!r.network || errors.length) {
    throw new Error(`${path.basename(file)} ${network ?? ''}: ${errors.map((d) => `${d.code} ${d.message}`).join('; ') || 'no network'}`);
  }
  return r.network;
}

export const spec = (file: string, network?: string, set?: Record<string, string>): Network =>
  compileFile(path.join(SPECS, file), network, set);
export const fixture = (file: string, network?: string): Network => compileFile(path.join(FIXTURES, file), network);

/** Every network of every shipped spec, as [file, network name]. */
export function shippedNetworks(): [string, string][] {
  const out: [string, string][] = [];
  for (const f of fs.readdirSync(SPECS).filter((f) => f.endsWith('.net')).sort()) {
    const r = compile(fs.readFileSync(path.join(SPECS, f), 'utf8'), { all: true });
    for (const n of r.networks) out.push([f, n.name]);
  }
  return out;
}

export const lenet5 = (): Network => spec('lenet5.net');
export const alexnetTorchvision = (): Network => spec('alexnet.net', 'AlexNetTorchvision');
export const resnet18 = (): Network => spec('resnet.net', 'ResNet18');
export const kitchenSink = (): Network => fixture('kitchen.net');
export const vgg11At64 = (): Network => fixture('large.net', 'VGG11At64');
export const vgg19 = (): Network => spec('vgg.net', 'VGG19');
