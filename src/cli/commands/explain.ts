// `alexnetc explain RUN_DIR IMAGE -o DIR`: the feature maps of every
// convolution stage, a saliency heat map and Grad-CAM for one image, and an
// index.html showing them with the prediction. The network is compiled from
// the .net file the run recorded (or --source) and built in tfjs with the
// run's weights, which must fit it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { compileAndReport, defineCommand, OPT, printJson, UsageError } from '../frame.js';
import { sameFile } from '../outputs.js';

/** What the model directory says about the network it holds. */
interface Recorded {
  file?: string;
  network?: string;
  set: Record<string, string>;
  modelDir: string;
  classes?: string[];
  normalization?: import('../../emit/metadata.js').Preprocessing;
  notes: string[];
}

/** A run directory (config.json), or a tfjs model directory alexnetc wrote (its metadata names the source and the parameters). */
async function recorded(p: string): Promise<Recorded> {
  let st;
  try {
    st = fs.statSync(p);
  } catch {
    throw new UsageError(`${p}: no such run or model directory`, 1);
  }
  const dir = st.isDirectory() ? p : path.basename(p) === 'model.json' ? path.dirname(p) : undefined;
  if (dir === undefined) throw new UsageError(`${p}: expected a run directory (alexnetc train -o) or a tfjs model directory, not a file`, 1);
  if (fs.existsSync(path.join(dir, 'config.json'))) {
    const { readRunInfo } = await import('../../train/index.js');
    const run = readRunInfo(dir);
    if (!run) throw new UsageError(`${dir}: config.json is not an alexnetc training run's (no source recorded)`, 1);
    const notes: string[] = [];
    let modelDir = path.join(dir, 'model');
    if (!fs.existsSync(path.join(modelDir, 'model.json'))) {
      modelDir = path.join(dir, 'checkpoint', 'model');
      if (!fs.existsSync(path.join(modelDir, 'model.json'))) throw new UsageError(`${dir}: the run has no model yet (neither model/model.json nor checkpoint/model/model.json)`, 1);
      notes.push(`the run ${dir} has not finished: its last checkpoint is explained`);
    }
    return { file: run.source.file, network: run.source.network, set: run.source.set, modelDir, classes: run.classes, normalization: run.normalization, notes };
  }
  const modelJson = path.join(dir, 'model.json');
  if (!fs.existsSync(modelJson)) throw new UsageError(`${dir}: neither a run directory (no config.json) nor a tfjs model directory (no model.json)`, 1);
  let meta: { source?: string; network?: string; params?: Record<string, unknown>; classes?: string[]; normalization?: Recorded['normalization'] } | undefined;
  try {
    meta = (JSON.parse(fs.readFileSync(modelJson, 'utf8')) as { userDefinedMetadata?: { alexnetc?: typeof meta } }).userDefinedMetadata?.alexnetc;
  } catch (e) {
    throw new UsageError(`${modelJson}: not valid JSON (${(e as Error).message})`, 1);
  }
  if (!meta) return { set: {}, modelDir: dir, notes: [] };
  const set = Object.fromEntries(Object.entries(meta.params ?? {}).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
  return { file: meta.source, network: meta.network, set, modelDir: dir, classes: meta.classes, normalization: meta.normalization, notes: [] };
}

/**
 * The output directory: missing, empty, or an earlier explain's (whose files
 * are replaced, stale feature maps removed). A file, an input, or a non-empty
 * foreign directory is refused — the latter unless --force. Returns whether
 * the directory holds an earlier explain's output.
 */
function checkExplainOutput(out: string, inputs: readonly string[], force: boolean, isExplainDir: (d: string) => boolean): boolean {
  let st;
  try {
    st = fs.statSync(out);
  } catch {
    return false;
  }
  const input = inputs.find((i) => sameFile(out, i));
  if (!st.isDirectory()) {
    if (input) throw new UsageError(`refusing to replace the input ${input} with the explain directory (choose another -o)`);
    throw new UsageError(`${out} is a file; explain writes a directory (index.html and PNGs): choose another -o`);
  }
  if (input && !force) throw new UsageError(`refusing to write into the input ${input} (choose another -o, or pass --force)`);
  const entries = fs.readdirSync(out);
  if (entries.length === 0) return false;
  if (isExplainDir(out)) return true;
  if (force) return false;
  throw new UsageError(
    `refusing to write into ${out}: it holds files alexnetc did not write (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''}); ` +
      'choose another -o, or pass --force to add the explain files beside them',
  );
}

export default defineCommand({
  name: 'explain',
  summary: 'feature maps, saliency and Grad-CAM heat maps for one image, with an index.html',
  args: '<run> [image]',
  description:
    'For one image (PNG/JPEG, or an IDX example with --data/--index), writes into DIR: the feature maps of every convolution stage ' +
    '(one PNG per stage, each map scaled to its own range), saliency.png (|∂ class score / ∂ input|, overlaid on the image), ' +
    'gradcam.png (Grad-CAM on the last convolution stage), input.png, explain.json and an index.html that shows them with the prediction. ' +
    'RUN is an `alexnetc train` run directory (or a tfjs model directory alexnetc wrote); its network is compiled from the .net file it ' +
    'recorded (or --source) and must fit its weights. The image is preprocessed exactly as in training.',
  options: [
    { flags: '-o, --output <dir>', help: 'the directory to write (index.html, PNGs, explain.json)' },
    { flags: '--data <dir>', help: 'an IDX directory (MNIST / Fashion-MNIST) to take the image from, with --index' },
    { flags: '--index <i>', help: 'which IDX example' },
    { flags: '--split <name>', help: 'the IDX split --index counts in', choices: ['test', 'train'], default: 'test' },
    { flags: '--class <name>', help: 'explain this class (a name or an index) instead of the predicted one' },
    { flags: '--source <file>', help: "the .net file, when the run's recorded one has moved" },
    OPT.backend,
    OPT.force,
    OPT.json,
  ],
  examples: [
    ['alexnetc explain runs/LeNet5 shoe.png -o shoe-explained/', 'everything about one image; open shoe-explained/index.html'],
    ['alexnetc explain runs/LeNet5 --data /usr/share/datasets/fashion-mnist --index 0 -o ex0/', 'a Fashion-MNIST test image'],
    ['alexnetc explain runs/LeNet5 shirt.png --class Pullover -o why-not/', 'what speaks for another class'],
    ['alexnetc explain runs/old coat.jpg --source specs/lenet5.net -o coat/', 'a run whose .net file has moved'],
  ],
  async run([runPath, image], o) {
    const json = o.json === true;
    const out = o.output as string | undefined;
    if (out === undefined) throw new UsageError('explain needs -o DIR (where to write index.html and the PNGs)');
    if ((image === undefined) === (o.data === undefined)) {
      throw new UsageError(image === undefined ? 'explain needs an IMAGE (a PNG or JPEG file) or --data DIR --index I' : 'give an IMAGE or --data DIR --index I, not both');
    }
    if ((o.data === undefined) !== (o.index === undefined)) throw new UsageError(o.data === undefined ? '--index needs --data DIR' : '--data needs --index I');

    const rec = await recorded(runPath!);
    const file = (o.source as string | undefined) ?? rec.file;
    if (file === undefined) throw new UsageError(`${runPath}: the model records no .net source (it was not written by alexnetc); pass it with --source FILE`, 1);
    if (!fs.existsSync(file)) {
      throw new UsageError(`${file}: no such file${o.source === undefined ? ` (the .net source ${runPath} recorded; pass it with --source FILE if it has moved)` : ''}`, 1);
    }
    const E = await import('../../inspect/explain/index.js');
    const cleanStale = checkExplainOutput(out, [runPath!, file, ...(image ? [image] : []), ...(o.data ? [o.data as string] : [])], o.force === true, E.isExplainDir);

    const { result, ok } = compileAndReport(file, { network: rec.network, set: rec.set }, json);
    if (!ok || !result.network) {
      if (json) printJson({ error: `${file} has errors` });
      return 1;
    }
    const network = result.network;
    if (network.input.length !== 3) throw new UsageError(`network ${network.name} takes vectors [${network.input.join(', ')}]; explain draws images and needs an image network (input [C, H, W])`, 1);

    const P = await import('../../inspect/predict/index.js');
    const { readTfjsWeights, WeightsMismatchError } = await import('../../weights/tfjs.js');
    let weights;
    try {
      weights = readTfjsWeights(rec.modelDir, network);
    } catch (e) {
      if (e instanceof WeightsMismatchError) throw new UsageError(`${runPath} does not match network ${network.name} of ${file}: ${e.message}`, 1);
      throw e;
    }
    const example =
      image !== undefined
        ? P.imageExample(image, network.input)
        : P.idxExamples(o.data as string, o.split as 'test' | 'train', [indexOf(o.index as string)], network.input).examples[0]!;
    const notes = [...rec.notes];
    let normalization = rec.normalization;
    if (!normalization) {
      normalization = { mean: [0], std: [1], scale: 1 / 255 };
      notes.push(`${runPath} records no normalisation: pixels are fed scaled to [0, 1], nothing subtracted`);
    }
    const classes = rec.classes;
    const target = o.class !== undefined ? classIndex(o.class as string, classes, network.output[0]!) : undefined;

    const { loadTfForCli, announceBackend } = await import('../tfjs.js');
    const loaded = await loadTfForCli(o.backend as string);
    if (!json) announceBackend(loaded);
    const done = await E.explain({ tf: loaded.tf, network, weights, example, normalization, ...(classes ? { classes } : {}), notes, ...(target !== undefined ? { target } : {}) });
    let written: string[];
    try {
      written = await E.writeExplained(out, done.files, cleanStale);
    } catch (e) {
      if (e instanceof Error && /^E[A-Z]+$/.test(String((e as NodeJS.ErrnoException).code ?? ''))) throw new UsageError(`cannot write ${out}: ${e.message}`, 1);
      throw e;
    }
    if (json) {
      printJson({ output: { dir: out, files: written }, ...done.summary });
      return 0;
    }
    for (const n of notes) process.stderr.write(`note: ${n}\n`);
    const best = done.top[0]!;
    const explained = done.summary.explained as { class: string };
    process.stderr.write(
      `${network.name} predicts ${best.class} (${(100 * best.probability).toFixed(2)}%)${explained.class !== best.class ? `; explaining ${explained.class}` : ''}\n` +
        `wrote ${out}/ (${written.length} files: ${done.explanation.maps.length} feature-map grids, saliency${done.explanation.gradcam ? ', Grad-CAM' : ''}); open ${path.join(out, 'index.html')}\n`,
    );
    return 0;
  },
});

function indexOf(v: string): number {
  if (!/^\d+$/.test(v.trim())) throw new UsageError(`--index expects one whole number for explain, got '${v}'`);
  return Number(v);
}

/** `--class`: a recorded class name, or an index below the number of outputs. */
function classIndex(v: string, classes: readonly string[] | undefined, outputs: number): number {
  const byName = classes?.indexOf(v) ?? -1;
  if (byName >= 0) return byName;
  if (/^\d+$/.test(v) && Number(v) < outputs) return Number(v);
  throw new UsageError(`--class ${v}: not ${classes ? `one of the classes (${classes.join(', ')}), nor ` : ''}an index from 0 to ${outputs - 1}`);
}
