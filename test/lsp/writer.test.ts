// The server's writer: each message whole, in one write, framed as the protocol says
// (the length counts UTF-8 bytes, not characters).
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { FramedWriter } from '../../src/lsp/writer.js';

describe('FramedWriter', () => {
  it('writes each message in one chunk: its UTF-8 length, a blank line, its JSON', async () => {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    const w = new FramedWriter(out);
    const msgs = [
      { jsonrpc: '2.0', method: 'textDocument/publishDiagnostics', params: { uri: 'file:///a.net', diagnostics: [{ message: 'block `a` calls itself (a → b → a) · 3×3 ✓' }] } },
      { jsonrpc: '2.0', id: 1, result: null },
    ];
    for (const m of msgs) await w.write(m as never);
    expect(chunks.length).toBe(2);
    chunks.forEach((c, i) => {
      const sep = c.indexOf('\r\n\r\n');
      const length = Number(/^Content-Length: (\d+)$/.exec(c.subarray(0, sep).toString('latin1'))![1]);
      expect(length).toBe(c.length - sep - 4);
      expect(JSON.parse(c.subarray(sep + 4).toString('utf8'))).toEqual(msgs[i]);
    });
  });
});
