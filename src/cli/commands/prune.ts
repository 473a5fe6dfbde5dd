// `alexnetc prune RUN_DIR --sparsity S [--structured] [--finetune-epochs E] -o OUT`:
// a smaller model from a trained run (src/prune/), written as a new run directory.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defineCommand, OPT, printJson, UsageError, wholeNumber, outputOption } from '../frame.js';
import { checkRunDirOutput, sameFile } from '../outputs.js';

/** A number in [0, 1) from --sparsity. */
function sparsity(v: unknown): number {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!(n >= 0 && n < 1)) throw new UsageError(`--sparsity must be a fraction in [0, 1) (0.5 removes half), got '${String(v)}'`);
  return n;
}

export default defineCommand({
  name: 'prune',
  summary: 'remove weights (or whole filters) from a trained run, optionally fine-tune',
  args: '<run_dir>',
  description:
    'Prunes the model of RUN_DIR (a directory written by `alexnetc train`) and writes a new run directory OUT. ' +
    'Unstructured (default): the fraction S of all conv and dense weights with the smallest magnitude is set to zero (global magnitude pruning); ' +
    'fine-tuning keeps them at zero. --structured: the fraction S of the filters/units with the smallest L2 norm goes from every layer that can shrink, ' +
    'and OUT gets a new, narrower .net file (the original with its widths changed, or the network written out when the layers sit in blocks) with its weights. ' +
    "Accuracy is measured with onnxruntime on the run's test split before and after. OUT holds config.json, model/, prune.json (the report), " +
    'masks.json/.bin (unstructured) or NAME.net (structured), and with --finetune-epochs the fine-tuning run (resumable: alexnetc train --resume OUT).',
  options: [
    { flags: '--sparsity <s>', help: 'the fraction to remove, in [0, 1)' },
    { flags: '--structured', help: 'remove whole filters and units, and write a narrower .net file' },
    { flags: '--finetune-epochs <n>', help: 'then fine-tune for N epochs with the run\'s settings (default 0)', default: '0' },
    { flags: '--lr <x>', help: "fine-tuning learning rate (default: the run's ÷ 10)" },
    outputOption('the new run directory'),
    { flags: '--test-limit <n>', help: 'measure the accuracy on N test images only' },
    OPT.backend,
    OPT.force,
    OPT.json,
  ],
  examples: [
    ['alexnetc prune runs/LeNet5 --sparsity 0.8 -o runs/LeNet5-sparse', '80% of the weights set to zero'],
    ['alexnetc prune runs/LeNet5 --sparsity 0.8 --finetune-epochs 2 -o runs/LeNet5-sparse', 'then fine-tuned with the zeros kept'],
    ['alexnetc prune runs/CNN --structured --sparsity 0.5 -o runs/CNN-half', 'half the filters of each layer: a narrower network'],
    ['diff specs/cnn.net runs/CNN-half/cnn.net', 'what structured pruning changed'],
    ['alexnetc compile runs/CNN-half/cnn.net --weights runs/CNN-half -o cnn-half.onnx', 'export the pruned model'],
  ],
  async run([runDir], o) {
    if (o.sparsity === undefined) throw new UsageError('alexnetc prune needs --sparsity S (a fraction in [0, 1))');
    const s = sparsity(o.sparsity);
    const finetuneEpochs = wholeNumber(o.finetuneEpochs, '--finetune-epochs', 0);
    let lr: number | undefined;
    if (o.lr !== undefined) {
      lr = Number(o.lr);
      if (!(lr > 0) || !Number.isFinite(lr)) throw new UsageError(`--lr must be a positive number, got '${String(o.lr)}'`);
      if (finetuneEpochs === 0) throw new UsageError('--lr is the fine-tuning learning rate: it needs --finetune-epochs');
    }
    if (o.output === undefined) throw new UsageError('alexnetc prune needs -o OUT (the new run directory)');
    const out = o.output as string;
    if (sameFile(out, runDir!)) throw new UsageError(`refusing to write the pruned run into its source ${runDir}: choose another -o`);
    checkRunDirOutput(out, o.force === true);
    // even with --force, a directory that holds a model or a run is never overwritten
    for (const f of ['model', 'checkpoint', 'config.json']) {
      if (fs.existsSync(path.join(out, f))) throw new UsageError(`refusing to write into ${out}: it already holds a run (${f}); choose another -o`);
    }
    const testLimit = o.testLimit === undefined ? undefined : wholeNumber(o.testLimit, '--test-limit', 1);

    const { prune, describeReport } = await import('../../prune/index.js');
    const json = o.json === true;
    const say = (line: string): void => void process.stderr.write(line + '\n');
    const { report, exitCode } = await prune({ runDir: runDir!, sparsity: s, structured: o.structured === true, finetuneEpochs, lr, out, backend: o.backend as string, testLimit, say });
    if (json) printJson(report);
    else for (const line of describeReport(report)) process.stdout.write(line + '\n');
    if (exitCode === 0) {
      const file = report.source?.file ?? null;
      if (finetuneEpochs > 0) say(`wrote ${path.join(out, 'prune.json')}${file ? ` and ${path.basename(file)}` : ''} beside the fine-tuning run`);
      else say(`wrote ${out}: model/, prune.json${file ? `, ${path.basename(file)}` : ', masks.json/.bin'}`);
      if (file && report.source!.how === 'edited') say(`what changed: diff ${JSON.parse(fs.readFileSync(path.join(runDir!, 'config.json'), 'utf8')).source.file} ${file}`);
      // (the trainer printed its own export line after fine-tuning)
      if (finetuneEpochs === 0) say(`export with: alexnetc compile ${file ?? JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')).source.file} --weights ${out} -o ${report.network}-pruned.onnx`);
    }
    return exitCode;
  },
});
