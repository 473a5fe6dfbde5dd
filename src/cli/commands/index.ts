// The commands, in the order `alexnetc --help` lists them. Adding a command:
// one file in this folder (a defineCommand) and one line here.
import type { CommandSpec } from '../frame.js';
import check from './check.js';
import compile from './compile.js';
import fmt from './fmt.js';
import lsp from './lsp.js';
import prune from './prune.js';
import summary from './summary.js';
import train from './train.js';
import tune from './tune.js';

export const COMMANDS: readonly CommandSpec[] = [compile, check, summary, train, prune, tune, fmt, lsp];
