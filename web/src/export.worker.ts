// The page's heavier outputs, off its thread: the diagram (src/inspect/draw:
// the ELK layout and SVG of `alexnetc draw`), the ONNX file (the command line's
// streaming writer, chunks gathered into a Blob) and the PyTorch module.
import { callLabelsIn, drawNetwork } from '../../src/inspect/draw/index.js';
import { encodeModel, streamParts } from '../../src/emit/onnx/encode.js';
import { onnxMetadata } from '../../src/emit/metadata.js';
import { toTorchModule, torchClassName } from '../../src/emit/torch/index.js';
import { isUserError } from '../../src/util/errors.js';
import { compileSource, SourceError } from './compile-source.js';
import type { ExportReply, ExportRequest } from './protocol.js';

const post = (m: ExportReply): void => postMessage(m);

/** The largest ONNX file written in the page: past this a tab runs out of memory before a disk would. */
const MAX_ONNX = 1024 * 2 ** 20;

async function handle(m: ExportRequest): Promise<void> {
  const { result, network } = compileSource(m);
  switch (m.type) {
    case 'draw': {
      const d = await drawNetwork(network, { format: 'svg', expand: m.expand, calls: callLabelsIn(result, network.name, m.text) });
      const paths: Record<string, [number, number]> = {};
      for (const i of result.stageInfo) {
        if (i.network !== network.name || paths[i.path]) continue;
        const s = i.stage.kind === 'call' ? i.stage.span : i.stage.keyword;
        paths[i.path] = [s.start, s.end];
      }
      post({ type: 'draw', id: m.id, svg: d.data as string, network: network.name, boxes: d.diagram.nodes.length - 2, expanded: d.diagram.expanded, paths });
      break;
    }
    case 'onnx': {
      const t0 = performance.now();
      // exactly what `alexnetc compile FILE --seed N -o NAME.onnx` writes
      const encoded = encodeModel(network, { seed: m.seed, docString: `${network.name} from ${m.file}`, metadata: onnxMetadata({ network, source: m.file }) });
      if (encoded.size > MAX_ONNX) {
        throw new SourceError(`${network.name}: the ONNX file would be ${(encoded.size / 2 ** 20).toFixed(0)} MiB; the page writes at most ${MAX_ONNX / 2 ** 20} MiB — use \`alexnetc compile ${m.file}\``);
      }
      const parts: BlobPart[] = [];
      // a chunk may be a view of a buffer the writer reuses: copy it
      for (const _ of streamParts(encoded, { write: (c) => parts.push(c.slice()) }));
      const blob = new Blob(parts, { type: 'application/octet-stream' });
      post({ type: 'onnx', id: m.id, blob, name: `${network.name}.onnx`, size: blob.size, ms: performance.now() - t0 });
      break;
    }
    case 'torch': {
      const text = toTorchModule(result.program!, network, { source: m.file, set: m.set });
      post({ type: 'torch', id: m.id, text, name: `${torchClassName(network)}.py` });
      break;
    }
  }
}

// elkjs's bundle, evaluated in a worker, makes the worker an ELK worker: it assigns self.onmessage
// to its own dispatcher. Here it is a library: the assignment is made to go nowhere, and this
// worker listens with addEventListener.
Object.defineProperty(self, 'onmessage', { configurable: true, get: () => null, set: () => {} });

self.addEventListener('message', (e: MessageEvent<ExportRequest>) => {
  handle(e.data).catch((err: unknown) => {
    const expected = err instanceof SourceError || isUserError(err) || (err instanceof Error && err.name === 'TorchUnsupportedError') || err instanceof RangeError;
    if (!expected) console.error('alexnetc export:', err);
    post({ type: 'error', id: e.data.id, message: err instanceof Error ? err.message : String(err) });
  });
});
