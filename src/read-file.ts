// The file system as compile() reads imported files (`import "common.net"`):
// compile itself does no I/O, so the language server can serve open
// documents instead; the command line and the tools pass this.
import { readFileSync } from 'node:fs';
import type { ReadFile } from './compile.js';

export const readFromDisk: ReadFile = (p) => readFileSync(p, 'utf8');
