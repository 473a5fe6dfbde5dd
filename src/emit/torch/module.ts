// A checked network → one self-contained PyTorch module (Python source).
//
// The module is written from the network's source, not from the expanded
// IR: a block becomes a `Stages` subclass, `repeat` a loop, residual /
// concat / add real branches, and the network's parameters constructor
// arguments whose expressions are re-evaluated in Python, so
// `LeNet5(size=28)` rebuilds with the shapes `--set size=28` gives. Each
// layer lowers itself to a method of `Stages` (LayerDef.torch) that names
// its module like the stage path, so state_dict keys are alexnetc's weight
// names with `/` written as `.`. The IR is used to check the network first.
import { layers, type Network, type Node } from '../../check/ir.js';
import type { Span } from '../../diagnostics/span.js';
import { findLayer } from '../../layers/registry.js';
import type { AnyLayer } from '../../layers/types.js';
import type { BlockDecl, Expr, NetworkDecl, Param, Program, Stage } from '../../syntax/ast.js';
import { allStages, exprsOf } from '../../syntax/walk.js';
import { callLines, className, isConstant, MAX_LINE, pyExpr, pyString, pyValue, safeName } from './python.js';
import { CONSTRUCT_METHODS, GATE, HELPERS, MERGE, NETWORK, RESIDUAL, SAFETENSORS, STAGES } from './runtime.js';

/** Something this network uses that the PyTorch target cannot write; `span` locates it in the source. */
export class TorchUnsupportedError extends Error {
  constructor(
    message: string,
    readonly span: Span,
  ) {
    super(message);
    this.name = 'TorchUnsupportedError';
  }
}

export interface TorchModuleOptions {
  /** the .net file's name, for the docstrings */
  source?: string;
  /** the `--set` values the network was checked with: they become the constructor's defaults */
  set?: Record<string, string>;
  /** torchvision's state_dict key of each weight, for a network laid out as a torchvision model (src/weights/torchvision.ts) */
  torchvision?: ReadonlyMap<string, string>;
}

/** Module-level names of the runtime and Python builtins the generated code calls: no class or parameter may take them. */
const RESERVED = new Set([
  'self', 'shape', 'super', 'range', 'sum', 'len', 'list', 'tuple', 'int', 'float', 'str', 'dict', 'set', 'print', 'object',
  'contextlib', 'json', 'math', 'os', 'struct', 'sys', 'torch', 'nn', 'F',
  'Stages', 'Residual', 'Merge', 'Gate', 'Network', 'PaddedConv2d', 'Pool2d', 'EvenLocalResponseNorm',
  'SAFETENSORS_DTYPES', 'read_safetensors', 'write_safetensors', ...Object.keys(HELPERS),
]);

const INDENT = '    ';

interface Scope {
  /** .net parameter name → Python name */
  names: Map<string, string>;
  /** Python locals in use: parameters and the variables of enclosing `with` statements */
  taken: Set<string>;
}

class ModuleWriter {
  private readonly blocks = new Map<string, BlockDecl>();
  /** reachable blocks, in source order, with their class names */
  private readonly classes = new Map<string, string>();
  private readonly usedLayers = new Set<AnyLayer>();
  private readonly constructs = new Set<'residual' | 'concat' | 'add' | 'split' | 'gate'>();
  private readonly helpers = new Set<string>();
  private networkClass = '';
  /** the constructor's arguments as the docstring shows them: `classes=1000` */
  private networkArgs: string[] = [];

  constructor(
    private readonly program: Program,
    private readonly network: Network,
    private readonly opts: TorchModuleOptions,
  ) {
    for (const d of program.decls) if (d.kind === 'block' && !this.blocks.has(d.name.name)) this.blocks.set(d.name.name, d);
    // the helper behind the language's make_divisible(), wherever an expression calls it
    const calls = (e: Expr): boolean => (e.kind === 'call' && e.name.name === 'make_divisible') || [...subExprs(e)].some(calls);
    if (program.decls.some((d) => [...exprsOf(d)].some(calls))) this.helpers.add('make_divisible');
  }

  write(): string {
    const decl = this.program.decls.find((d): d is NetworkDecl => d.kind === 'network' && d.name.name === this.network.name);
    if (!decl) throw new Error(`network ${this.network.name} is not in the program`);
    checkPaths(this.network.body);
    const reached = this.reach(decl.body, new Set());
    this.networkClass = torchClassName(this.network);
    const taken = new Set([...RESERVED, this.networkClass]);
    for (const d of this.program.decls) {
      if (d.kind !== 'block' || !reached.has(d.name.name) || this.classes.has(d.name.name)) continue;
      const name = safeName(className(d.name.name), taken);
      taken.add(name);
      this.classes.set(d.name.name, name);
    }
    // the class bodies first: writing them records which helpers and constructs they use
    const blockClasses = [...this.classes.keys()].map((b) => this.blockClass(this.blocks.get(b)!));
    const networkClass = this.networkClassText(decl);
    const sections = [
      ...this.helperTexts(),
      ...uniqueTexts([...this.usedLayers].map((l) => l.torch!.classes)),
      this.stagesClass(),
      ...(this.constructs.has('residual') ? [RESIDUAL] : []),
      ...(this.constructs.has('concat') || this.constructs.has('add') || this.constructs.has('split') ? [MERGE] : []),
      ...(this.constructs.has('gate') ? [GATE] : []),
      NETWORK,
      SAFETENSORS,
      ...blockClasses,
      networkClass,
    ];
    const body = sections.join('\n\n\n');
    return `${this.docstring()}\n${imports(body)}\n\n\n${body}\n`;
  }

  /** the blocks a body calls, transitively; also records the layers used and refuses those without a PyTorch lowering */
  private reach(body: readonly Stage[], seen: Set<string>): Set<string> {
    for (const s of allStages(body)) {
      if (s.kind !== 'call') {
        if (s.kind !== 'repeat' && s.kind !== 'if') this.constructs.add(s.kind);
        continue;
      }
      const layer = findLayer(s.callee.name);
      if (layer) {
        if (!layer.torch) throw new TorchUnsupportedError(`\`${layer.name}\` has no PyTorch lowering (yet): the torch target cannot write this network`, s.callee.span);
        this.usedLayers.add(layer);
        continue;
      }
      const block = this.blocks.get(s.callee.name);
      if (block && !seen.has(block.name.name)) {
        seen.add(block.name.name);
        this.reach(block.body, seen);
      }
    }
    return seen;
  }

  private helperTexts(): string[] {
    const want = new Set<string>();
    const add = (h: string): void => {
      const snippet = HELPERS[h];
      if (!snippet) throw new Error(`unknown torch helper ${h}`);
      want.add(h);
      for (const d of snippet.deps ?? []) add(d);
    };
    for (const l of this.usedLayers) for (const h of l.torch!.uses ?? []) add(h);
    for (const h of this.helpers) add(h);
    return Object.keys(HELPERS)
      .filter((h) => want.has(h))
      .map((h) => HELPERS[h]!.code);
  }

  private stagesClass(): string {
    const methods: string[] = [];
    for (const l of [...this.usedLayers].sort((a, b) => a.name.localeCompare(b.name))) methods.push(layerMethod(l));
    for (const c of ['residual', 'concat', 'add', 'split', 'gate'] as const) if (this.constructs.has(c)) methods.push(indent(CONSTRUCT_METHODS[c], INDENT));
    return [STAGES, ...methods].join('\n\n');
  }

  private docstring(): string {
    const n = this.network;
    const from = this.opts.source ? ` from ${this.opts.source}` : '';
    const dims = ['N', ...n.input].join(', ');
    const args = this.networkArgs.join(', ');
    const lines = [
      ...wrap(`"""${n.name} as a PyTorch module, written by alexnetc${from}.`, ''),
      '',
      `    model = ${this.networkClass}(${args})`,
      `    model.load_safetensors("${n.name}.safetensors")`,
      '    model.eval()',
      `    y = model(x)  # x: float32 [${dims}]`,
      '',
      ...wrap(
        'It computes what the ONNX graph of `alexnetc compile` computes. ' +
          "The constructor's arguments are the network's parameters; changing them rebuilds the network as `--set` would. " +
          'state_dict() keys are alexnetc\'s weight names with "/" written as "." (stage2/conv1.weight is stage2.conv1.weight); ' +
          "batch norms also keep PyTorch's num_batches_tracked, which alexnetc does not store. " +
          '`alexnetc compile FILE --target safetensors` writes the seeded or trained weights for load_safetensors(). ' +
          'Needs PyTorch 1.10 or later, not alexnetc.',
        '',
      ),
      '"""',
    ];
    return lines.join('\n');
  }

  private networkClassText(decl: NetworkDecl): string {
    const n = this.network;
    const scope = newScope();
    const sig: string[] = [];
    const computed: string[] = [];
    const set = this.opts.set ?? {};
    for (const p of decl.params) {
      const py = this.param(p.name.name, scope);
      const value = n.params[p.name.name]!;
      this.networkArgs.push(`${py}=${pyValue(value)}`);
      // a default computed from other parameters stays an expression, unless --set gave a value
      if (p.default && !(p.name.name in set) && !isConstant(p.default, new Set(decl.params.map((q) => q.name.name)))) {
        sig.push(`${py}=None`);
        computed.push(`if ${py} is None:`, `${INDENT}${py} = ${pyExpr(p.default, scope.names)}`);
      } else sig.push(`${py}=${pyValue(value)}`);
    }
    const input = (decl.input?.dims ?? []).map((d) => this.whole(d, scope, 'input dimension'));
    const out: string[] = [];
    this.stages(decl.body, 'self', scope, INDENT.repeat(2), out);
    const from = this.opts.source ? ` of ${this.opts.source}` : '';
    return [
      `class ${this.networkClass}(Network):`,
      ...wrap(`"""network ${n.name}${from}: input [${n.input.join(', ')}], output [${n.output.join(', ')}] per example (for the default arguments)."""`, INDENT),
      '',
      `${INDENT}network = ${pyString(n.name)}`,
      ...this.torchvisionLines(),
      '',
      ...callLines(INDENT, 'def __init__', ['self', ...sig], ':'),
      ...computed.map((l) => INDENT.repeat(2) + l),
      ...callLines(INDENT.repeat(2), 'super().__init__', [input.length === 1 ? `(${input[0]},)` : `(${input.join(', ')})`]),
      ...out,
    ].join('\n');
  }

  /** `torchvision = {alexnetc name: torchvision key}` for load_safetensors, when the network is laid out as a torchvision model. */
  private torchvisionLines(): string[] {
    const names = this.opts.torchvision;
    if (!names || names.size === 0) return [];
    const out = ['', `${INDENT}# torchvision's state_dict keys (load_safetensors reads them too)`, `${INDENT}torchvision = {`];
    for (const [name, key] of names) {
      const one = `${INDENT.repeat(2)}${pyString(name)}: ${pyString(key)},`;
      if (one.length <= MAX_LINE) out.push(one);
      else out.push(`${INDENT.repeat(2)}${pyString(name)}:`, `${INDENT.repeat(3)}${pyString(key)},`);
    }
    out.push(`${INDENT}}`);
    return out;
  }

  private blockClass(b: BlockDecl): string {
    const scope = newScope();
    const sig: string[] = [];
    const computed: string[] = [];
    const names = new Set(b.params.map((p) => p.name.name));
    let defaulted = false;
    for (const p of b.params) {
      const py = this.param(p.name.name, scope);
      if (p.default) {
        defaulted = true;
        if (isConstant(p.default, names)) sig.push(`${py}=${pyExpr(p.default, scope.names)}`);
        else {
          sig.push(`${py}=None`);
          computed.push(`if ${py} is None:`, `${INDENT}${py} = ${pyExpr(p.default, scope.names)}`);
        }
      } else if (defaulted) {
        // Python wants defaults last; .net lets a required parameter follow an optional one
        sig.push(`${py}=None`);
        computed.push(`if ${py} is None:`, `${INDENT}raise TypeError(${pyString(`block ${b.name.name} needs its argument ${p.name.name}`)})`);
      } else sig.push(py);
    }
    const out: string[] = [];
    this.stages(b.body, 'self', scope, INDENT.repeat(2), out);
    const cls = this.classes.get(b.name.name)!;
    return [
      `class ${cls}(Stages):`,
      ...wrap(`"""block ${b.name.name}(${b.params.map(paramText).join(', ')})${this.opts.source ? ` of ${this.opts.source}` : ''}"""`, INDENT),
      '',
      `${INDENT}kind = ${pyString(b.name.name)}`,
      '',
      ...callLines(INDENT, 'def __init__', ['self', 'shape', ...sig], ':'),
      ...computed.map((l) => INDENT.repeat(2) + l),
      `${INDENT.repeat(2)}super().__init__(shape)`,
      ...out,
    ].join('\n');
  }

  /** give a .net parameter its Python name in this scope */
  private param(name: string, scope: Scope): string {
    const py = safeName(name, new Set([...RESERVED, ...this.classes.values(), this.networkClass, ...scope.taken]));
    scope.names.set(name, py);
    scope.taken.add(py);
    return py;
  }

  /** an expression where a whole number is needed: `/` may give 2.0, which `whole` turns into 2 */
  private whole(e: Expr, scope: Scope, what: string): string {
    const text = pyExpr(e, scope.names);
    if (!hasDivision(e)) return text;
    this.helpers.add('whole');
    return `whole(${text}, ${pyString(what)})`;
  }

  private stages(body: readonly Stage[], target: string, scope: Scope, ind: string, out: string[]): void {
    for (const s of body) {
      this.stage(s, target, scope, ind, out);
      if (s.assert) out.push(...callLines(ind, `${target}.expect`, s.assert.dims.map((d) => pyExpr(d, scope.names))));
    }
  }

  private stage(s: Stage, target: string, scope: Scope, ind: string, out: string[]): void {
    const inner = ind + INDENT;
    const nested = (stages: readonly Stage[], t: string, at: string): void => {
      const before = out.length;
      this.stages(stages, t, scope, at, out);
      if (out.length === before) out.push(`${at}pass`);
    };
    switch (s.kind) {
      case 'call': {
        const args = (names: (n: string) => string): string[] => [
          ...s.args.filter((a) => !a.name).map((a) => pyExpr(a.value, scope.names)),
          ...s.args.filter((a) => a.name).map((a) => `${names(a.name!.name)}=${pyExpr(a.value, scope.names)}`),
        ];
        const layer = findLayer(s.callee.name);
        if (layer) {
          out.push(...callLines(ind, `${target}.${methodName(layer)}`, args((n) => n)));
          return;
        }
        const block = this.blocks.get(s.callee.name)!;
        // the block's parameters by their Python names (a keyword gets a trailing underscore)
        const taken = new Set([...RESERVED, ...this.classes.values(), this.networkClass]);
        const pyParams = new Map<string, string>();
        for (const p of block.params) {
          const py = safeName(p.name.name, new Set([...taken, ...pyParams.values()]));
          pyParams.set(p.name.name, py);
        }
        out.push(...callLines(ind, `${target}.block`, [this.classes.get(block.name.name)!, ...args((n) => pyParams.get(n)!)]));
        return;
      }
      case 'repeat':
        out.push(`${ind}for _ in range(${this.whole(s.count, scope, 'repeat count')}):`);
        nested(s.body, target, inner);
        return;
      case 'if':
        out.push(`${ind}if ${pyExpr(s.cond, scope.names)}:`);
        nested(s.then, target, inner);
        if (s.else) {
          out.push(`${ind}else:`);
          nested(s.else, target, inner);
        }
        return;
      case 'residual': {
        if (s.cond) {
          // `residual if cond { … }`: the residual when cond holds, else the body's stages alone
          out.push(`${ind}if ${pyExpr(s.cond, scope.names)}:`);
          this.stage({ ...s, cond: undefined }, target, scope, inner, out);
          out.push(`${ind}else:`);
          nested(s.body, target, inner);
          return;
        }
        const v = local('residual', scope);
        out.push(`${ind}with ${target}.residual() as ${v}:`);
        const before = out.length;
        this.stages(s.body, v, scope, inner, out);
        if (s.shortcut) {
          const sc = local('shortcut', scope);
          out.push(`${inner}with ${v}.add_shortcut() as ${sc}:`);
          nested(s.shortcut, sc, inner + INDENT);
          scope.taken.delete(sc);
        }
        if (out.length === before) out.push(`${inner}pass`);
        scope.taken.delete(v);
        return;
      }
      case 'gate': {
        const v = local('gate', scope);
        out.push(`${ind}with ${target}.gate() as ${v}:`);
        nested(s.body, v, inner);
        scope.taken.delete(v);
        return;
      }
      case 'concat':
      case 'add':
      case 'split': {
        const v = local(s.kind, scope);
        out.push(`${ind}with ${target}.${s.kind}(${s.kind === 'split' ? s.branches.length : ''}) as ${v}:`);
        for (const b of s.branches) {
          const bv = local('branch', scope);
          out.push(`${inner}with ${v}.branch() as ${bv}:`);
          nested(b.body, bv, inner + INDENT);
          scope.taken.delete(bv);
        }
        if (s.branches.length === 0) out.push(`${inner}pass`);
        scope.taken.delete(v);
        return;
      }
    }
  }
}

/** `Stages`' own methods (src/emit/torch/runtime.ts) that a layer's name must not replace. */
const STAGES_METHODS = new Set(['append', 'image', 'expect', 'block', 'residual', 'concat', 'add', 'forward', 'output_shape', 'branch', 'add_shortcut', 'weight_names', 'load_safetensors', 'save_safetensors']);

/** The method of `Stages` a layer lowers to: its name, unless `Stages` has a method of that name (`image` → `image_layer`). */
function methodName(l: AnyLayer): string {
  return STAGES_METHODS.has(l.name) ? `${l.name}_layer` : l.name;
}

/** The Python source of one layer's method of `Stages`: the signature from its arguments, the body from its lowering. */
function layerMethod(l: AnyLayer): string {
  const params = l.args.map((a) => (a.default === undefined ? a.name : `${a.name}=${a.default === null ? 'None' : pyValue(a.default)}`));
  const doc = wrap(`"""${l.name}: ${l.summary.replace(/×/g, 'x').replace(/·/g, '*').replace(/→/g, '->')}"""`, INDENT.repeat(2));
  return [...callLines(INDENT, `def ${methodName(l)}`, ['self', ...params], ':'), ...doc, indent(l.torch!.body, INDENT.repeat(2))].join('\n');
}

function newScope(): Scope {
  return { names: new Map(), taken: new Set() };
}

/** a variable for a `with` statement: `residual`, or `residual2` inside another residual */
function local(base: string, scope: Scope): string {
  let name = base;
  for (let i = 2; scope.taken.has(name) || RESERVED.has(name); i++) name = `${base}${i}`;
  scope.taken.add(name);
  return name;
}

function paramText(p: Param): string {
  return p.name.name + (p.default ? ` = ${exprText(p.default)}` : '');
}

function exprText(e: Expr): string {
  return pyExpr(e, new Map(refNames(e)));
}

function* refNames(e: Expr): Generator<[string, string]> {
  if (e.kind === 'ref') yield [e.name, e.name];
  else if (e.kind === 'list') for (const i of e.items) yield* refNames(i);
  else if (e.kind === 'unary') yield* refNames(e.operand);
  else if (e.kind === 'binary') {
    yield* refNames(e.left);
    yield* refNames(e.right);
  } else if (e.kind === 'paren') yield* refNames(e.inner);
  else if (e.kind === 'call') for (const a of e.args) yield* refNames(a);
}

/** an expression's direct operands */
function* subExprs(e: Expr): Generator<Expr> {
  if (e.kind === 'binary') yield* [e.left, e.right];
  else if (e.kind === 'unary') yield e.operand;
  else if (e.kind === 'paren') yield e.inner;
  else if (e.kind === 'list' || e.kind === 'call') yield* e.kind === 'list' ? e.items : e.args;
}

function hasDivision(e: Expr): boolean {
  if (e.kind === 'binary') return e.op === '/' || hasDivision(e.left) || hasDivision(e.right);
  if (e.kind === 'unary') return hasDivision(e.operand);
  if (e.kind === 'paren') return hasDivision(e.inner);
  if (e.kind === 'call') return e.args.some(hasDivision);
  if (e.kind === 'list') return e.items.some(hasDivision);
  return false;
}

/**
 * Two stages with one path would be one module in PyTorch (and one weight
 * name): possible only when a block's name ends in a digit (`block conv2`,
 * called beside 21 convs, opens the scope conv21).
 */
function checkPaths(nodes: readonly Node[]): void {
  const all = [...layers(nodes)];
  const scopes = new Set<string>();
  for (const l of all) {
    const parts = l.path.split('/');
    for (let i = 1; i < parts.length; i++) scopes.add(parts.slice(0, i).join('/'));
  }
  const seen = new Set<string>();
  for (const l of all) {
    if (seen.has(l.path) || scopes.has(l.path)) {
      throw new TorchUnsupportedError(`two stages are both named ${l.path} in PyTorch; rename the block whose name ends in a digit`, l.span);
    }
    seen.add(l.path);
  }
}

function indent(text: string, by: string): string {
  return text
    .split('\n')
    .map((l) => (l === '' ? l : by + l))
    .join('\n');
}

function uniqueTexts(texts: (string | undefined)[]): string[] {
  return [...new Set(texts.filter((t): t is string => t !== undefined))];
}

/** Word-wrap prose (a docstring) to 79 columns with the given indentation. */
function wrap(text: string, ind: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && ind.length + line.length + 1 + word.length > MAX_LINE) {
      lines.push(ind + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(ind + line);
  return lines;
}

const STDLIB = ['contextlib', 'json', 'math', 'os', 'struct', 'sys'];

/** the import lines the module's text needs (flake8 flags unused ones) */
function imports(body: string): string {
  const std = STDLIB.filter((m) => new RegExp(`\\b${m}\\.`).test(body)).map((m) => `import ${m}`);
  const third = ['import torch', ...(/\bF\./.test(body) ? ['import torch.nn.functional as F'] : []), 'from torch import nn'];
  return [...(std.length ? [std.join('\n'), ''] : []), third.join('\n')].join('\n');
}

/** The network's class in the generated module: its name, unless Python or the module reserve it (then with a trailing `_`). */
export function torchClassName(network: Pick<Network, 'name'>): string {
  return safeName(network.name, RESERVED);
}

/** The PyTorch module of `network` (checked from `program`), as Python source. */
export function toTorchModule(program: Program, network: Network, opts: TorchModuleOptions = {}): string {
  return new ModuleWriter(program, network, opts).write();
}
