// The page's text compiled as the command line compiles a file: the same
// default network (the only one, or the one named like the file), `--network`,
// `--set`. A failure is one line, as the command line would print it first.
import { compile, type CompileResult } from '../../src/compile.js';
import type { Network } from '../../src/check/ir.js';
import { LineIndex } from '../../src/diagnostics/span.js';
import type { Source } from './protocol.js';

export class SourceError extends Error {}

export function compileSource(s: Source): { result: CompileResult; network: Network } {
  const result = compile(s.text, { file: s.file, network: s.network, set: s.set });
  if (result.network) return { result, network: result.network };
  const first = result.diagnostics.find((d) => d.severity === 'error');
  if (!first) throw new SourceError('nothing to compile');
  const at = new LineIndex(s.text).position(first.span.start);
  throw new SourceError(`${s.file}:${at.line}:${at.column}: ${first.code} ${first.message}`);
}
