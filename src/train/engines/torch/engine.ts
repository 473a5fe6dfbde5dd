// The torch engine: the network as the PyTorch module `compile --target
// torch` writes, trained by worker.py under /usr/bin/python3 (or --python) —
// one process, or one per rank under torchrun with DistributedDataParallel
// (--nproc on this machine, --nnodes across machines). The loop stays in this
// process and decides everything a run is (data order, augmentation,
// schedule, checkpoints' timing, reports); each global batch is cut into one
// contiguous slice per rank, so the ranks' slices are exactly the batch one
// process would train on, and the loss is scaled so that DDP's gradient
// average is the global batch's mean gradient whatever the slices' sizes.
//
// Same conventions as the tfjs engine: the seeded initial weights are the
// same values (networkTensors of seededWeights); softmax cross-entropy on the
// logits before a final softmax; coupled L2 weight decay on kernels (the
// weights of rank ≥ 2: conv and dense, as tfjs's `kernel`s); Adam's ε 1e-7.
//
// Files: a checkpoint holds model.safetensors (alexnetc's weight names),
// optimizer.safetensors (every optimizer slot, bit for bit) and torch.json;
// the run ends with RUN/model.safetensors, RUN/model.py (the module) and, so
// that predict, explain and compile --weights RUN read it like a tfjs run,
// RUN/model/ written by toTfjs from the same weights.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { layers, type Network } from '../../../check/ir.js';
import { compile } from '../../../compile.js';
import { LineIndex } from '../../../diagnostics/span.js';
import { onnxMetadata, tfjsMetadata } from '../../../emit/metadata.js';
import { seededWeights } from '../../../emit/onnx/index.js';
import { toTorchModule, torchClassName, TorchUnsupportedError } from '../../../emit/torch/index.js';
import { writeFileAtomic } from '../../../util/atomic.js';
import { defaultThreads } from '../../../util/threads.js';
import { deriveSeed } from '../../../util/rng.js';
import { networkTensors, stateDictKey, tensorName, writeSafetensors, type TensorToWrite } from '../../../weights/safetensors.js';
import { CheckpointError } from '../../checkpoint.js';
import type { EngineBatch, EngineModule, EngineSetup, TrainEngine } from '../../engine.js';
import { TrainError } from '../../prepare.js';
import { torchOptions, type ResolvedTorchOptions } from './options.js';
import { DEFAULT_PYTHON, probePython, resolveDevice, type PythonInfo } from './python.js';
import { removeWorkDir, Workers } from './workers.js';
import { readFromDisk } from '../../../read-file.js';

/** worker.py, shipped beside the sources (package.json "files"); dist/ and src/ sit at the same depth. */
export const WORKER_SCRIPT = fileURLToPath(new URL('../../../../src/train/engines/torch/worker.py', import.meta.url));

export const MODEL_FILE = 'model.safetensors';
export const OPTIMIZER_FILE = 'optimizer.safetensors';
const INFO_FILE = 'torch.json';
/** tfjs's Adam ε, so that `optimizer adam` is one optimizer on both engines */
export const ADAM_EPSILON = 1e-7;

const probed = new Map<string, PythonInfo>();
function probe(python: string): PythonInfo {
  let info = probed.get(python);
  if (!info) probed.set(python, (info = probePython(python)));
  return info;
}

/** The path of the network's final softmax, when it ends with one: the loss is taken on its input. */
export function finalSoftmax(network: Network): string | undefined {
  const last = network.body[network.body.length - 1];
  return last?.kind === 'layer' && last.layer.name === 'softmax' ? last.path : undefined;
}

/** state_dict keys of the weights that get weight decay: trainable kernels (rank ≥ 2), not biases or batch-norm parameters. */
export function decayedWeights(network: Network): string[] {
  const out: string[] = [];
  for (const n of layers(network.body)) for (const w of n.weights) if (w.trainable && w.shape.length >= 2) out.push(stateDictKey(n.path, w.name));
  return out;
}

/** The module's source, from the .net file the run names (the engine writes from the source, like the torch target). */
export function moduleSource(network: Network, source: EngineSetup['source']): string {
  let text: string;
  try {
    text = fs.readFileSync(source.file, 'utf8');
  } catch (e) {
    throw new TrainError(`--engine torch: cannot read ${source.file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const r = compile(text, { network: source.network || undefined, set: source.set, file: source.file, readFile: readFromDisk });
  if (!r.program || !r.network || r.network.name !== network.name || r.network.totalParams !== network.totalParams) {
    throw new TrainError(`--engine torch: ${source.file} no longer checks as the network being trained (${network.name})`);
  }
  try {
    return toTorchModule(r.program, r.network, { source: path.basename(source.file), set: source.set });
  } catch (e) {
    if (!(e instanceof TorchUnsupportedError)) throw e;
    const at = new LineIndex(text).position(e.span.start);
    throw new TrainError(`${source.file}:${at.line}:${at.column}: ${e.message}; train it with --engine tfjs`);
  }
}

/**
 * The frozen weights (EngineSetup.frozen) by alexnetc name, checked: a key
 * that names no weight is refused, and so is a set that leaves nothing to
 * train. The worker sets requires_grad False on them and keeps the modules
 * of frozen running statistics (batch norms) in eval mode while training.
 */
export function frozenNames(network: Network, frozen: EngineSetup['frozen']): string[] {
  if (!frozen || frozen.size === 0) return [];
  const all = new Map<string, boolean>();
  for (const n of layers(network.body)) for (const w of n.weights) all.set(tensorName(n.path, w.name), w.trainable);
  const stray = [...frozen].find((k) => !all.has(k));
  if (stray) throw new TrainError(`frozen weight ${stray}: the network ${network.name} has no such weight`);
  if ([...all].every(([k, trainable]) => !trainable || frozen.has(k))) throw new TrainError(`every weight of ${network.name} is frozen: nothing to train`);
  return [...all.keys()].filter((k) => frozen.has(k));
}

/** The masks (EngineSetup.masks) as 0/1 float32 tensors named like their weights; a mask that fits no weight is refused. */
export function maskTensors(network: Network, masks: ReadonlyMap<string, Uint8Array>): TensorToWrite[] {
  const out: TensorToWrite[] = [];
  const used = new Set<string>();
  for (const n of layers(network.body)) {
    for (const w of n.weights) {
      const key = tensorName(n.path, w.name);
      const m = masks.get(key);
      if (!m) continue;
      const count = w.shape.reduce((a, b) => a * b, 1);
      if (m.length !== count) throw new TrainError(`mask for ${key}: ${m.length} values, the weight [${w.shape.join(', ')}] has ${count}`);
      out.push({ name: key, shape: [...w.shape], values: () => Float32Array.from(m, (v) => (v ? 1 : 0)) });
      used.add(key);
    }
  }
  const stray = [...masks.keys()].find((k) => !used.has(k));
  if (stray) throw new TrainError(`mask for ${stray}: the network ${network.name} has no such weight`);
  return out;
}

function threadsPerProcess(nproc: number, threads: number | undefined): number {
  const total = threads ?? defaultThreads();
  return Math.max(1, Math.floor(total / nproc));
}

export const torchEngine: EngineModule = {
  async preflight(setup) {
    const o = torchOptions(setup.options, DEFAULT_PYTHON);
    resolveDevice(probe(o.python), o);
    if (setup.network && setup.source) moduleSource(setup.network, setup.source);
  },
  create: createTorchEngine,
};

async function createTorchEngine(setup: EngineSetup): Promise<TrainEngine> {
  const { network, settings } = setup;
  const o: ResolvedTorchOptions = torchOptions(setup.options, DEFAULT_PYTHON);
  const info = probe(o.python);
  const device = resolveDevice(info, o);
  const moduleText = moduleSource(network, setup.source);
  const frozen = frozenNames(network, setup.frozen);
  if (setup.resumeFrom && o.nodeRank === 0 && !fs.existsSync(path.join(setup.resumeFrom, MODEL_FILE))) {
    throw new CheckpointError(`${setup.resumeFrom}: no ${MODEL_FILE}; this checkpoint was not written by the torch engine`);
  }

  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'alexnetc-torch-'));
  const removeOnExit = (): void => removeWorkDir(workDir);
  process.on('exit', removeOnExit);
  let workers: Workers | undefined;
  try {
    const modulePath = path.join(workDir, 'model.py');
    fs.writeFileSync(modulePath, moduleText);
    let weights: string;
    if (setup.resumeFrom) weights = path.join(setup.resumeFrom, MODEL_FILE);
    else {
      // the seeded initialisation every engine starts from, or the given weights (fine-tuning)
      weights = path.join(workDir, 'initial.safetensors');
      await writeSafetensors(weights, networkTensors(network, setup.initialWeights ?? seededWeights(settings.seed)));
    }
    const masks = setup.masks?.size ? path.join(workDir, 'masks.safetensors') : null;
    if (masks) await writeSafetensors(masks, maskTensors(network, setup.masks!));
    const threads = threadsPerProcess(o.nproc, setup.threads);
    const distributed = o.nproc > 1 || o.nnodes > 1;
    if (distributed) {
      setup.say(
        `torchrun: ${o.nproc} process${o.nproc > 1 ? 'es' : ''} on this machine` +
          (o.nnodes > 1 ? `, machine ${o.nodeRank} of ${o.nnodes} (rendezvous ${o.masterAddr}:${o.masterPort ?? 29500})` : '') +
          `, ${device === 'cuda' ? 'NCCL' : 'gloo'}`,
      );
    }
    workers = await Workers.start({ python: o.python, script: WORKER_SCRIPT, workDir, nproc: o.nproc, nnodes: o.nnodes, nodeRank: o.nodeRank, masterAddr: o.masterAddr, masterPort: o.masterPort, threads, say: setup.say });
    const w = workers;
    const config = {
      op: 'init',
      module: modulePath,
      class: torchClassName(network),
      weights,
      optimizer_state: setup.resumeFrom ? path.join(setup.resumeFrom, OPTIMIZER_FILE) : null,
      masks,
      frozen,
      settings: { optimizer: settings.optimizer, lr: settings.lr, momentum: settings.momentum, beta1: settings.beta1, beta2: settings.beta2, eps: ADAM_EPSILON, weight_decay: settings.weightDecay },
      decay: decayedWeights(network),
      logits_stage: finalSoftmax(network)?.replace(/\//g, '.') ?? null,
      device,
      threads,
      seed: settings.seed,
    };
    const ready = await w.guard(Promise.all(w.channels.map((c) => c.request(config))), 'while loading the model');
    const where = String(ready[0]!.ok.device);
    if (distributed) setup.say(`torchrun: rank${w.ranks.length > 1 ? 's' : ''} ${w.ranks.join(', ')} of ${w.world} here (pid${w.pids.length > 1 ? 's' : ''} ${w.pids.join(', ')})`);
    const description =
      `torch ${String(ready[0]!.ok.torch)} on ${where}` +
      (distributed ? `, DDP over ${w.world} processes (${device === 'cuda' ? 'NCCL' : 'gloo'}${o.nnodes > 1 ? `, ${o.nnodes} machines` : ''})` : '') +
      ` (${o.python}, Python ${info.pythonVersion})`;
    return new TorchEngine(setup, w, workDir, moduleText, description, o, removeOnExit);
  } catch (e) {
    await workers?.stop();
    removeWorkDir(workDir);
    process.off('exit', removeOnExit);
    throw e;
  }
}

class TorchEngine implements TrainEngine {
  readonly layout = 'NCHW' as const;
  readonly lossDescription: string;
  /** the channel of global rank 0, when it runs on this machine: it writes the files */
  private readonly lead;

  constructor(
    private readonly setup: EngineSetup,
    private readonly workers: Workers,
    private readonly workDir: string,
    private readonly moduleText: string,
    readonly description: string,
    private readonly options: ResolvedTorchOptions,
    private readonly removeOnExit: () => void,
  ) {
    this.lossDescription = `softmax cross-entropy ${finalSoftmax(setup.network) ? 'on the logits before the final softmax' : 'with the outputs as logits'}`;
    this.lead = workers.ranks[0] === 0 ? workers.channels[0] : undefined;
    if (options.nnodes > 1) this.agreeToStop = (wish) => this.agree(wish);
  }

  /** Each rank's slice of a global batch: rows [r·n/W, (r+1)·n/W). */
  private slices(b: EngineBatch): Array<{ shape: number[]; payload: Uint8Array }> {
    const n = b.count, world = this.workers.world;
    const size = b.x.length / Math.max(1, n);
    return this.workers.ranks.map((r) => {
      const lo = Math.floor((r * n) / world), hi = Math.floor(((r + 1) * n) / world);
      const x = b.x.subarray(lo * size, hi * size), y = b.labels.subarray(lo, hi);
      const payload = new Uint8Array(x.byteLength + y.byteLength);
      payload.set(new Uint8Array(x.buffer, x.byteOffset, x.byteLength), 0);
      payload.set(new Uint8Array(y.buffer, y.byteOffset, y.byteLength), x.byteLength);
      return { shape: [hi - lo, ...b.shape.slice(1)], payload };
    });
  }

  async step(b: EngineBatch, lr: number, at: { epoch: number; step: number }): Promise<{ loss: number; hits: number }> {
    const parts = this.slices(b);
    const answers = await this.workers.guard(
      Promise.all(
        this.workers.channels.map((c, i) =>
          c.request({ op: 'step', lr, total: b.count, shape: parts[i]!.shape, seed: deriveSeed(this.setup.settings.seed, 'dropout', at.epoch, at.step, this.workers.ranks[i]!) }, parts[i]!.payload),
        ),
      ),
      `during epoch ${at.epoch + 1}, step ${at.step + 1}`,
    );
    const ok = answers[0]!.ok;
    // a NaN or infinite loss comes as the string 'NaN', 'Infinity' or '-Infinity' (JSON has no such numbers)
    return { loss: Number(ok.loss), hits: Number(ok.hits) };
  }

  /** Several machines: any one's Ctrl-C stops them all at the same step (one tiny all-reduce). */
  readonly agreeToStop?: (wish: boolean) => Promise<boolean>;

  private async agree(wish: boolean): Promise<boolean> {
    const answers = await this.workers.guard(Promise.all(this.workers.channels.map((c) => c.request({ op: 'agree', wish }))), 'while agreeing on a stop with the other machines');
    return answers[0]!.ok.stop === true;
  }

  async evaluate(b: EngineBatch): Promise<{ loss: number; predicted: Int32Array }> {
    const parts = this.slices(b);
    const answers = await this.workers.guard(
      Promise.all(this.workers.channels.map((c, i) => c.request({ op: 'eval', total: b.count, shape: parts[i]!.shape }, parts[i]!.payload))),
      'while evaluating',
    );
    const a = answers[0]!;
    const predicted = new Int32Array(a.payload.buffer.slice(a.payload.byteOffset, a.payload.byteOffset + a.payload.byteLength));
    if (predicted.length !== b.count) throw new Error(`the PyTorch worker answered ${predicted.length} predictions for ${b.count} examples`);
    return { loss: Number(a.ok.loss), predicted };
  }

  private metadata(): Record<string, string> {
    const s = this.setup;
    return onnxMetadata({ network: s.network, source: s.source.file, classes: s.classes, normalization: s.normalization });
  }

  async saveCheckpoint(dir: string): Promise<void> {
    if (this.lead) await this.workers.guard(this.lead.request({ op: 'save', dir, metadata: this.metadata() }), 'while writing a checkpoint');
    const info = {
      format: 'alexnetc-torch-checkpoint',
      files: this.lead ? [MODEL_FILE, OPTIMIZER_FILE] : [],
      ...(this.lead ? {} : { note: `rank 0 runs on the machine of --node-rank 0: the weights and optimizer state are in its checkpoint` }),
      engine: this.description,
      world: this.workers.world,
      options: this.options,
    };
    fs.writeFileSync(path.join(dir, INFO_FILE), JSON.stringify(info, null, 2) + '\n');
  }

  async saveModel(runDir: string): Promise<string> {
    if (!this.lead) return `no model here: rank 0 (on the machine of --node-rank 0) writes ${MODEL_FILE}`;
    const file = path.join(runDir, MODEL_FILE);
    await this.workers.guard(this.lead.request({ op: 'model', path: file, metadata: this.metadata() }), 'while writing the model');
    writeFileAtomic(path.join(runDir, 'model.py'), this.moduleText);
    const tfjs = await writeTfjsCopy(runDir, this.setup, file);
    return `${MODEL_FILE} + model.py (PyTorch)${tfjs ? ', model/ (tfjs, the same weights)' : ''}`;
  }

  async dispose(): Promise<void> {
    await this.workers.stop();
    removeWorkDir(this.workDir);
    process.off('exit', this.removeOnExit);
  }
}

/**
 * RUN/model/, the tfjs model of the same weights, for what reads a run's
 * model as tfjs (predict, explain; compile --weights RUN reads either).
 * Skipped, with a line in the log, when tfjs (an optional peer dependency)
 * is not installed or cannot build the network.
 */
async function writeTfjsCopy(runDir: string, setup: EngineSetup, file: string): Promise<boolean> {
  try {
    const [tfjs, { safetensorsWeights }] = await Promise.all([import('../../../emit/tfjs/index.js'), import('../../../weights/safetensors.js')]);
    const { tf } = await tfjs.loadTf({ backend: setup.backend as 'auto' | 'gpu' | 'node' | 'cpu' });
    const model = tfjs.toTfjs(tf, setup.network, { weights: safetensorsWeights(file, setup.network) });
    try {
      model.setUserDefinedMetadata(tfjsMetadata({ network: setup.network, source: setup.source.file, classes: setup.classes, normalization: setup.normalization }));
      await tfjs.saveTfjs(model, path.join(runDir, 'model'));
    } finally {
      model.dispose();
    }
    return true;
  } catch (e) {
    setup.say(`no tfjs copy of the model (RUN/model/, which predict and explain read): ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    return false;
  }
}
