// The commands, in the order `alexnetc --help` lists them. Adding a command:
// one file in this folder (a defineCommand) and one line here.
import type { CommandSpec } from '../frame.js';
import check from './check.js';
import compile from './compile.js';
import draw from './draw.js';
import explain from './explain.js';
import fmt from './fmt.js';
import importCmd from './import.js';
import lsp from './lsp.js';
import playground from './playground.js';
import predict from './predict.js';
import prune from './prune.js';
import summary from './summary.js';
import train from './train.js';
import tune from './tune.js';

export const COMMANDS: readonly CommandSpec[] = [compile, check, summary, draw, train, predict, explain, prune, tune, importCmd, fmt, lsp, playground];
