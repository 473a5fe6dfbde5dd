// Compiles (and formats) fuzz inputs off the main thread, so that a hang is a
// timeout with the input in hand rather than a frozen test run.
import { parentPort } from 'node:worker_threads';
import { compile } from '../../dist/compile.js';
import { format } from '../../dist/fmt/format.js';

parentPort.on('message', ({ id, text }) => {
  let result;
  try {
    const t0 = performance.now();
    const r = compile(text, { all: true });
    const ms = performance.now() - t0;
    const f0 = performance.now();
    format(text);
    const fmtMs = performance.now() - f0;
    const spansOk = r.diagnostics.every((d) => d.file !== undefined || (d.span.start >= 0 && d.span.end <= text.length && d.span.start <= d.span.end));
    result = { id, ms, fmtMs, codes: r.diagnostics.map((d) => d.code), messages: r.diagnostics.filter((d) => d.code === 'E900').map((d) => d.message), networks: r.networks.map((n) => n.name), errors: r.diagnostics.some((d) => d.severity === 'error'), spansOk };
  } catch (e) {
    result = { id, thrown: String(e?.stack ?? e) };
  }
  parentPort.postMessage(result);
});
