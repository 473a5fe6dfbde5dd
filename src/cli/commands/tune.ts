// `alexnetc tune FILE --data DIR --grid '…' -o DIR`: hyperparameter search
// (src/tune/), every trial a child `alexnetc train`.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { availableParallelism } from 'node:os';
import { compileAndReport, defineCommand, OPT, parseSets, UsageError, wholeNumber, outputOption } from '../frame.js';

/** Flags that define a search: on --resume they come from OUT/search.json. */
const SEARCH_FLAGS = ['data', 'grid', 'network', 'set', 'trials', 'random', 'seed', 'epochs', 'limit', 'testLimit', 'earlyStop'] as const;
const flag = (k: string): string => (k === 'earlyStop' ? '--no-early-stop' : `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);

export default defineCommand({
  name: 'tune',
  summary: 'search train { } settings and network parameters (grid or random), trials in parallel',
  args: '[file]',
  description:
    'Trains one run per trial (each an `alexnetc train` run directory under OUT/trials/, in parallel up to --jobs) and scores it by its ' +
    'validation accuracy after the last epoch. --grid names train { } settings (lr, batch, optimizer, momentum, weight_decay, schedule, augment, …) ' +
    'and network parameters (as --set), with values separated by commas and settings by semicolons; --random samples --trials N of them ' +
    '(seeded), where uniform(a, b), loguniform(a, b) and int(a, b) are allowed too. Trials that are clearly worse are stopped early by the ' +
    'median stopping rule: after an epoch, a trial whose best validation accuracy is below the median of the finished trials\' running ' +
    'averages at that epoch stops (from 3 finished trials on; --no-early-stop turns it off). Writes results.csv, scores.svg/.png (score ' +
    'against each parameter) and best.txt (the best settings as a train { } section); --write puts them into FILE. Ctrl-C keeps the ' +
    'finished trials; --resume continues the search.',
  options: [
    { flags: '--data <dir>', help: 'the training data (IDX directory or image folder)' },
    { flags: '--grid <spec>', help: "the space: 'lr=0.1,0.01;batch=32,64;optimizer=adam,momentum'" },
    OPT.network,
    OPT.set,
    { flags: '--random', help: 'sample --trials N points of the space instead of the whole grid' },
    { flags: '--trials <n>', help: 'how many random trials (with --random)' },
    { flags: '--seed <n>', help: 'seed of the random search (default 0); the trials train with their own seed setting' },
    { flags: '--epochs <n>', help: "epochs per trial (default: the network's train { } section)" },
    { flags: '--limit <n>', help: 'train each trial on N images only (a seeded sample)' },
    { flags: '--test-limit <n>', help: 'evaluate each finished trial on N test images only' },
    { flags: '--jobs <n>', help: 'trials at a time (default: the cores ÷ threads per trial)' },
    { flags: '--threads <n>', help: 'cpu kernel threads per trial (default: the cores ÷ --jobs, else 1)' },
    { flags: '--no-early-stop', help: 'run every trial to its last epoch' },
    outputOption('the search directory'),
    { flags: '--resume', help: 'continue the search in -o DIR (finished trials are kept)' },
    { flags: '--write', help: 'put the best settings into FILE (atomically; the rest of the file as it was)' },
    OPT.backend,
  ],
  examples: [
    ["alexnetc tune specs/lenet5.net --set size=28 --data /usr/share/datasets/fashion-mnist --grid 'lr=0.01,0.001;batch=32,64' --epochs 3 -o tune/lenet", 'a 2×2 grid'],
    ["alexnetc tune specs/lenet5.net --set size=28 --data DIR --grid 'lr=loguniform(1e-4, 1e-1);optimizer=adam,momentum' --random --trials 8 -o tune/r", 'random search'],
    ["alexnetc tune specs/lenet5.net --set size=28 --data DIR --grid 'weight_decay=0,5e-4;augment=none,flip' --limit 5000 --epochs 2 -o tune/quick", 'a quick search on a subset'],
    ['alexnetc tune --resume -o tune/lenet', 'continue after Ctrl-C'],
    ['alexnetc tune --resume -o tune/lenet --write', 'then put the best settings into the file'],
  ],
  async run([file], o) {
    const { planSearch, createSearch, runSearch, readState, SEARCH_JSON } = await import('../../tune/index.js');
    const say = (line: string): void => void process.stderr.write(line + '\n');
    const print = (line: string): void => void process.stdout.write(line + '\n');
    if (o.output === undefined) throw new UsageError('alexnetc tune needs -o DIR (the search directory)');
    const out = o.output as string;
    const cores = availableParallelism();
    const threadsFlag = o.threads === undefined ? undefined : wholeNumber(o.threads, '--threads', 1);
    const jobsFlag = o.jobs === undefined ? undefined : wholeNumber(o.jobs, '--jobs', 1);
    const threads = threadsFlag ?? (jobsFlag !== undefined ? Math.max(1, Math.floor(cores / jobsFlag)) : 1);
    const jobs = jobsFlag ?? Math.max(1, Math.floor(cores / threads));
    const common = { out, jobs, threads, backend: o.backend as string, write: o.write === true, say, print };

    if (o.resume === true) {
      const given = SEARCH_FLAGS.filter((k) => (k === 'earlyStop' ? o.earlyStop === false : k === 'set' ? (o.set as string[] | undefined)?.length : k === 'random' ? o.random === true : o[k] !== undefined));
      if (given.length) throw new UsageError(`--resume continues the search in ${out} as it was defined (see ${path.join(out, SEARCH_JSON)}); only --jobs, --threads, --backend and --write may be given, not ${flag(given[0]!)}`);
      const state = readState(out);
      if (file !== undefined && path.resolve(file) !== state.file) throw new UsageError(`${out} searches ${state.file}, not ${file}`);
      return runSearch(state, common);
    }

    if (file === undefined) throw new UsageError('alexnetc tune needs a FILE (or --resume -o DIR)');
    if (o.data === undefined) throw new UsageError('alexnetc tune needs --data DIR (an IDX directory or an image folder)');
    if (o.grid === undefined) throw new UsageError("alexnetc tune needs --grid, e.g. --grid 'lr=0.01,0.001;batch=32,64'");
    const random = o.random === true;
    if (random && o.trials === undefined) throw new UsageError('--random needs --trials N (how many points to sample)');
    if (!random && o.trials !== undefined) throw new UsageError('--trials N goes with --random (a grid runs every combination)');
    if (fs.existsSync(out)) {
      if (!fs.statSync(out).isDirectory()) throw new UsageError(`${out} is a file; -o names the search directory`);
      if (fs.existsSync(path.join(out, SEARCH_JSON))) throw new UsageError(`${out} already holds a search; continue it with \`alexnetc tune --resume -o ${out}\` or choose another -o`);
      const entries = fs.readdirSync(out);
      if (entries.length) throw new UsageError(`refusing to write the search into ${out}: it is not empty (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''}); choose another -o`);
    }
    const set = parseSets(o.set as string[]);
    const { result, ok, text } = compileAndReport(file, { network: o.network as string | undefined, set }, false);
    if (!ok || !result.network) return 1;
    const state = planSearch({
      file,
      text,
      network: result.network,
      set,
      data: o.data as string,
      grid: o.grid as string,
      random,
      trials: random ? wholeNumber(o.trials, '--trials', 1) : undefined,
      seed: o.seed === undefined ? 0 : wholeNumber(o.seed, '--seed', 0),
      epochs: o.epochs === undefined ? undefined : wholeNumber(o.epochs, '--epochs', 1),
      limit: o.limit === undefined ? undefined : wholeNumber(o.limit, '--limit', 1),
      testLimit: o.testLimit === undefined ? undefined : wholeNumber(o.testLimit, '--test-limit', 1),
      earlyStop: o.earlyStop !== false,
    });
    createSearch(state, text, out);
    return runSearch(state, common);
  },
});
