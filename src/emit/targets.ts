// The compile targets, beside the emitters: what `alexnetc compile --target`
// can write, in the order --help lists them. Adding a target is one entry
// here. Each target imports its emitter only when it writes, so listing the
// targets loads none of them. (This file sits above src/weights, whose
// safetensors writer the safetensors target uses: scripts/layering.mjs.)
import * as path from 'node:path';
import type { Network } from '../check/ir.js';
import type { Program } from '../syntax/ast.js';
import { UserError } from '../util/errors.js';
import type { ModelInfo } from './metadata.js';
import type { QuantizeMode, Range, WeightSource } from './onnx/index.js';
import type { BackendChoice } from './tfjs/index.js';

/** What a target needs to write its artifact. */
export interface TargetJob {
  network: Network;
  /** the source the network was checked from (the torch target writes from it), and the --set values */
  source: { file: string; text: string; program: Program; set: Record<string, string> };
  out: string;
  seed: number;
  weights?: WeightSource;
  info: ModelInfo;
  backend: string;
  /** int8 quantization (onnx only): the mode, and for int8-static the calibrated activation ranges */
  quantize?: { mode: QuantizeMode; ranges?: ReadonlyMap<string, Range>; about: Record<string, unknown> };
  /** a line for the user (which tfjs backend runs) */
  log?: (line: string) => void;
}

export interface Target {
  name: string;
  /** a single file, or a directory of files */
  kind: 'file' | 'dir';
  /** default output: NETWORK + ext */
  ext: string;
  help: string;
  /** false: the target writes no weights, so --weights is refused */
  takesWeights?: boolean;
  /** writes `job.out` atomically; returns the size in bytes and a few words on what was written */
  write(job: TargetJob): Promise<{ bytes: number; what: string }>;
}

/** The targets, in the order --help lists them. Adding one is one entry here. */
export const TARGETS: Target[] = [
  {
    name: 'onnx',
    kind: 'file',
    ext: '.onnx',
    help: 'ONNX, opset 17 (default)',
    async write(job) {
      const [{ writeOnnxAsync, encodeModel, quantizeGraph }, { onnxMetadata }] = await Promise.all([import('./onnx/index.js'), import('./metadata.js')]);
      const q = job.quantize;
      const metadata = onnxMetadata(job.info);
      if (q) metadata['alexnetc.quantization'] = JSON.stringify(q.about);
      const opts = {
        seed: job.seed,
        weights: job.weights,
        docString: `${job.network.name}${job.info.source ? ` from ${path.basename(job.info.source)}` : ''}`,
        metadata,
      };
      const bytes = await writeOnnxAsync(job.network, job.out, { ...opts, transform: q && ((g) => quantizeGraph(g, q.mode, q.ranges)) });
      const params = `${job.network.totalParams.toLocaleString('en-US')} parameters`;
      if (!q) return { bytes, what: params };
      // the float file's size is known without producing a weight (the encoding is lazy)
      const float = encodeModel(job.network, opts).size;
      return { bytes, what: `${params}, ${q.mode}: ${(bytes / float).toFixed(2)}× the float file` };
    },
  },
  {
    name: 'tfjs',
    kind: 'dir',
    ext: '',
    help: "TensorFlow.js layers model directory (model.json + weights.bin; load with `import 'alexnetc/tfjs'`)",
    async write(job) {
      const [{ loadTf, BackendUnavailableError, backendAnnouncement, toTfjs, saveTfjs }, { tfjsMetadata }, fs] = await Promise.all([
        import('./tfjs/index.js'),
        import('./metadata.js'),
        import('node:fs'),
      ]);
      let loaded;
      try {
        loaded = await loadTf({ backend: job.backend as BackendChoice });
      } catch (e) {
        if (e instanceof BackendUnavailableError) throw new UserError(e.message, 1);
        throw e;
      }
      job.log?.(backendAnnouncement(loaded));
      const model = toTfjs(loaded.tf, job.network, { seed: job.seed, weights: job.weights });
      try {
        model.setUserDefinedMetadata(tfjsMetadata(job.info));
        await saveTfjs(model, job.out);
      } finally {
        model.dispose();
      }
      const bytes = ['model.json', 'weights.bin'].reduce((a, f) => a + fs.statSync(path.join(job.out, f)).size, 0);
      return { bytes, what: "tfjs layers model; load with `import 'alexnetc/tfjs'`" };
    },
  },
  {
    name: 'torch',
    kind: 'file',
    ext: '.py',
    help: 'a PyTorch module (Python source; its weights: --target safetensors)',
    takesWeights: false,
    async write(job) {
      const [{ toTorchModule, torchClassName, TorchUnsupportedError }, { writeFileAtomic }, { LineIndex }, { torchvisionNames }] = await Promise.all([
        import('./torch/index.js'),
        import('../util/atomic.js'),
        import('../diagnostics/span.js'),
        import('../weights/torchvision.js'),
      ]);
      let text;
      try {
        // a network laid out as a torchvision model: its load_safetensors reads torchvision's keys too
        const torchvision = torchvisionNames(job.network);
        text = toTorchModule(job.source.program, job.network, { source: path.basename(job.source.file), set: job.source.set, torchvision });
      } catch (e) {
        if (!(e instanceof TorchUnsupportedError)) throw e;
        const at = new LineIndex(job.source.text).position(e.span.start);
        throw new UserError(`${job.source.file}:${at.line}:${at.column}: ${e.message}`, 1);
      }
      writeFileAtomic(job.out, text);
      return { bytes: Buffer.byteLength(text), what: `class ${torchClassName(job.network)}(torch.nn.Module); weights: --target safetensors` };
    },
  },
  {
    name: 'safetensors',
    kind: 'file',
    ext: '.safetensors',
    help: 'the weights alone (seeded, or --weights converted) as safetensors, named like the weights (stage2/conv1.weight)',
    async write(job) {
      const [{ writeSafetensors, networkTensors }, { seededWeights }, { onnxMetadata }] = await Promise.all([
        import('../weights/safetensors.js'),
        import('./onnx/index.js'),
        import('./metadata.js'),
      ]);
      const tensors = networkTensors(job.network, job.weights ?? seededWeights(job.seed));
      const bytes = await writeSafetensors(job.out, tensors, { format: 'pt', ...onnxMetadata(job.info) });
      return { bytes, what: `${tensors.length} tensors, ${job.network.totalParams.toLocaleString('en-US')} parameters` };
    },
  },
];
