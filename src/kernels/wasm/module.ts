// One wasm module holds every kernel; its functions are listed here in a
// fixed order, so the main thread and the workers (which instantiate the same
// module) agree on names, and one kernel can call another (an im2col block
// followed by the GEMM on it) without going back through JavaScript.
import { assemble, call, Func, type Code, type ValType } from './assembler.js';
import { gemmKernels } from './gemm.js';
import { im2colKernels } from './im2col.js';
import { poolKernels } from './pool.js';
import { elementwiseKernels } from './elementwise.js';
import { reduceKernels } from './reduce.js';
import { batchNormKernels } from './batchnorm.js';
import { convKernels } from './conv.js';
import { copyKernels } from './copy.js';
import { optimKernels } from './optim.js';
import { winogradKernels } from './winograd.js';
import { lrnKernels } from './lrn.js';
import { depthwiseKernels } from './depthwise.js';
import { maskKernels } from './masks.js';
import { broadcastKernels } from './broadcast.js';
import { geluKernels } from './gelu.js';
import { softmaxKernels } from './softmax.js';
import { bmmKernels } from './bmm.js';
import { transformerKernels } from './transformer.js';

export interface Linker {
  /** a call to another kernel of the module, by name */
  call(name: string): Code;
}

export interface KernelDef {
  name: string;
  /** i32 parameters: byte addresses, counts, flags */
  params: readonly string[];
  results?: ValType[];
  body(f: Func, link: Linker): Code;
}

export function allKernels(): KernelDef[] {
  return [
    ...gemmKernels(),
    ...im2colKernels(),
    ...convKernels(),
    ...poolKernels(),
    ...elementwiseKernels(),
    ...reduceKernels(),
    ...batchNormKernels(),
    ...copyKernels(),
    ...optimKernels(),
    ...winogradKernels(),
    ...lrnKernels(),
    ...depthwiseKernels(),
    ...maskKernels(),
    ...broadcastKernels(),
    ...geluKernels(),
    ...softmaxKernels(),
    ...bmmKernels(),
    ...transformerKernels(),
  ];
}

export interface Assembled {
  bytes: Uint8Array<ArrayBuffer>;
  /** function names in module order (the workers' dispatch table) */
  names: string[];
}

export function buildModule(defs: KernelDef[] = allKernels()): Assembled {
  const names = defs.map((d) => d.name);
  const index = new Map(names.map((n, i) => [n, i]));
  if (index.size !== names.length) throw new Error('duplicate wasm kernel name');
  const link: Linker = {
    call(name) {
      const i = index.get(name);
      if (i === undefined) throw new Error(`no wasm kernel ${name}`);
      return call(i);
    },
  };
  const funcs = defs.map((d) => {
    const func = new Func(d.name, d.params, d.results ?? []);
    return { func, code: d.body(func, link) };
  });
  const bytes = assemble({ module: 'e', name: 'm', initial: 1, maximum: 65536, shared: true }, funcs);
  return { bytes, names };
}
