// `alexnetc predict MODEL IMAGE...`: classify images (or IDX test examples)
// with a training run, a tfjs model directory or an ONNX file, preprocessed
// exactly as in training; prints the top classes with their probabilities.
import * as path from 'node:path';
import { defineCommand, OPT, printJson, UsageError, wholeNumber } from '../frame.js';

/** `--mean 0.5,0.4` → numbers, or a usage error naming the flag (the same notation as `train --mean`). */
function numbers(v: string, flag: string, positive: boolean): number[] {
  const xs = v.split(',').map((s) => (s.trim() === '' ? NaN : Number(s)));
  if (xs.length === 0 || xs.some((x) => !Number.isFinite(x) || (positive && !(x > 0)))) {
    throw new UsageError(`${flag} expects comma-separated ${positive ? 'positive ' : ''}numbers, got '${v}'`);
  }
  return xs;
}

const pct = (p: number): string => `${(100 * p).toFixed(2)}%`;

export default defineCommand({
  name: 'predict',
  summary: 'classify images with a trained run, a tfjs model or an ONNX file',
  args: '<model> [images...]',
  description:
    'Classifies PNG/JPEG images (and IDX examples with --data/--index) and prints the top classes with their probabilities. ' +
    'MODEL is an `alexnetc train` run directory, a tfjs model directory, or an ONNX file. Images are converted to the ' +
    "model's channels (grey ↔ RGB as training does), resized bilinearly to its input and normalised with the normalisation the " +
    'run (or the model\'s metadata) recorded. ONNX files run in onnxruntime-node; one without alexnetc metadata gets class ' +
    'indices for names and pixels scaled to [0, 1] unless --mean/--std are given.',
  options: [
    { flags: '--top <k>', help: 'how many classes to print per image', default: '5' },
    { flags: '--data <dir>', help: 'an IDX directory (MNIST / Fashion-MNIST) to take examples from, with --index' },
    { flags: '--index <list>', help: 'which IDX examples: numbers, lists and ranges (0,7,100-199)' },
    { flags: '--split <name>', help: 'the IDX split --index counts in', choices: ['test', 'train'], default: 'test' },
    { flags: '--mean <m1,m2,…>', help: 'per-channel mean on the [0, 1] scale (with --std): for models that record none, or to override' },
    { flags: '--std <s1,s2,…>', help: 'per-channel standard deviation on the [0, 1] scale' },
    OPT.backend,
    OPT.json,
  ],
  examples: [
    ['alexnetc predict runs/LeNet5 shoe.png', 'the top 5 classes of an image, with a trained run'],
    ['alexnetc predict runs/LeNet5 --data /usr/share/datasets/fashion-mnist --index 0-99', '100 Fashion-MNIST test images, with the accuracy'],
    ['alexnetc predict lenet5.onnx shoe.png bag.jpg --top 3 --json', 'an exported ONNX model (onnxruntime), for tools'],
    ['alexnetc predict resnet18.onnx cat.jpg --mean 0.485,0.456,0.406 --std 0.229,0.224,0.225', 'an ONNX file without alexnetc metadata'],
  ],
  async run([model, ...images], o) {
    const json = o.json === true;
    const top = wholeNumber(o.top, '--top', 1);
    if ((o.mean === undefined) !== (o.std === undefined)) throw new UsageError('--mean and --std go together');
    const flags = o.mean !== undefined ? { mean: numbers(o.mean as string, '--mean', false), std: numbers(o.std as string, '--std', true) } : undefined;
    if ((o.data === undefined) !== (o.index === undefined)) throw new UsageError(o.data === undefined ? '--index needs --data DIR' : '--data needs --index (which examples: 0, 0-99, 3,17)');
    if (images.length === 0 && o.data === undefined) throw new UsageError('predict needs images (PNG or JPEG files) or --data DIR --index I');

    const P = await import('../../inspect/predict/index.js');
    const indices = o.index !== undefined ? P.parseIndices(o.index as string) : [];
    let announced = false;
    const classifier = await P.openClassifier(model!, {
      loadTf: async () => {
        const { loadTfForCli, announceBackend } = await import('../tfjs.js');
        const loaded = await loadTfForCli(o.backend as string);
        if (!json && !announced) announceBackend(loaded);
        announced = true;
        return loaded.tf;
      },
    });
    try {
      const chosen = P.chooseNormalization(classifier, flags);
      const notes = [...classifier.notes, ...(chosen.note ? [chosen.note] : [])];
      if (!classifier.classes) notes.push(`${model} records no class names: classes are shown by index`);
      const examples = images.map((f) => P.imageExample(f, classifier.input));
      let dataClasses: string[] | undefined;
      if (o.data !== undefined) {
        const idx = P.idxExamples(o.data as string, o.split as 'test' | 'train', indices, classifier.input);
        examples.push(...idx.examples);
        dataClasses = idx.classes;
        if (classifier.classes && dataClasses.join('\n') !== classifier.classes.slice(0, dataClasses.length).join('\n')) {
          notes.push(`the classes of ${o.data as string} [${dataClasses.join(', ')}] differ from the model's [${classifier.classes.join(', ')}]: labels are compared by index`);
        }
      }
      const predictions = await P.predict(classifier, examples, { top, normalization: chosen.normalization });
      const labelled = predictions.filter((p) => p.example.label !== undefined);
      const correct = labelled.filter((p) => p.top[0]!.index === p.example.label).length;
      const labelName = (l: number): string => dataClasses?.[l] ?? classifier.classes?.[l] ?? String(l);

      if (json) {
        printJson({
          model: {
            path: model,
            kind: classifier.kind,
            ...(classifier.network ? { network: classifier.network } : {}),
            input: classifier.input,
            outputs: classifier.outputs,
            classes: classifier.classes ?? null,
            normalization: { ...chosen.normalization, from: chosen.from },
          },
          notes,
          predictions: predictions.map((p) => ({
            input: p.example.source,
            ...(p.example.label !== undefined ? { label: { index: p.example.label, class: labelName(p.example.label) } } : {}),
            top: p.top,
          })),
          ...(labelled.length ? { accuracy: { correct, total: labelled.length, fraction: correct / labelled.length } } : {}),
        });
        return 0;
      }
      for (const n of notes) process.stderr.write(`note: ${n}\n`);
      const width = Math.max(...predictions.map((p) => displayName(p.example).length));
      const classWidth = Math.max(...predictions.flatMap((p) => p.top.map((r) => r.class.length)));
      for (const p of predictions) {
        const ranked = p.top.map((r) => `${r.class.padEnd(classWidth)} ${pct(r.probability).padStart(7)}`).join('   ');
        const truth = p.example.label === undefined ? '' : `   (true: ${labelName(p.example.label)} ${p.top[0]!.index === p.example.label ? '✓' : '✗'})`;
        process.stdout.write(`${displayName(p.example).padEnd(width)}   ${ranked}${truth}\n`);
      }
      if (labelled.length) process.stdout.write(`accuracy: ${pct(correct / labelled.length)} (${correct}/${labelled.length})\n`);
      return 0;
    } finally {
      await classifier.dispose();
    }
  },
});

function displayName(e: { name: string; source: { file: string } | { data: string; split: string; index: number } }): string {
  return 'file' in e.source ? e.name : `${path.basename(e.source.data)} ${e.source.split} #${e.source.index}`;
}
