// The training wing's public entry: what the command line (and a program of
// one's own) needs to run training. It talks to the compiler only through the
// public API (compile's Network, the targets' toTfjs/loadTf, the weights
// readers).
export { train, type TrainOptions, type TrainOutcome } from './loop.js';
export { TrainError, prepareData, loadData, type PreparedData } from './prepare.js';
export { resolveSettings, ConfigError, DEFAULTS, type TrainSettings, type TrainFlags } from './config.js';
export { readState, hasCheckpoint, CheckpointError, type RunState, type RunSource, type HistoryEntry } from './checkpoint.js';
export { readRunInfo, type RunInfo } from './run-dir.js';
export { ENGINES, type TrainEngine, type EngineSetup, type EngineBatch } from './engine.js';
