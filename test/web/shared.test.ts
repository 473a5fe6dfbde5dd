// The analysis worker's diagnostics through shared memory (web/src/shared.ts):
// the page reads a version only once it is completely written, and never a
// version it did not ask for.
import { describe, expect, it } from 'vitest';
import { SharedDiagnostics } from '../../web/src/shared.js';
import type { PageDiagnostic } from '../../web/src/protocol.js';

const d = (code: string, from: number): PageDiagnostic => ({ from, to: from + 3, severity: 'error', code, message: `message of ${code} — “quoted”`, line: 1, column: from + 1 });

describe('diagnostics in shared memory', () => {
  it('reads back what the worker wrote, for that version only', () => {
    const worker = new SharedDiagnostics();
    const page = new SharedDiagnostics(worker.buffer);
    expect(page.read(1)).toBeUndefined();
    worker.write(1, [d('E306', 4), d('W501', 10)]);
    expect(page.read(1)).toEqual([d('E306', 4), d('W501', 10)]);
    expect(page.read(2)).toBeUndefined();
    worker.write(2, []);
    expect(page.read(2)).toEqual([]);
    expect(page.read(1)).toBeUndefined();
    worker.write(3, null);
    expect(page.read(3)).toBeNull();
  });

  it('has nothing while a version is being written, or when it does not fit (the message brings it)', () => {
    const worker = new SharedDiagnostics();
    const page = new SharedDiagnostics(worker.buffer);
    worker.write(4, [d('E306', 4)]);
    // the worker starts version 5: odd sequence number until it is complete
    Atomics.store(new Int32Array(worker.buffer, 0, 2), 0, 2 * 5 + 1);
    expect(page.read(4)).toBeUndefined();
    expect(page.read(5)).toBeUndefined();
    const many = Array.from({ length: 2000 }, (_, i) => d(`E${i}`, i));
    worker.write(6, many);
    expect(page.read(6)).toBeUndefined();
    worker.write(7, many.slice(0, 10));
    expect(page.read(7)).toEqual(many.slice(0, 10));
  });

  it('calls the page back as soon as a version is complete, not for one half written', async () => {
    const worker = new SharedDiagnostics();
    const page = new SharedDiagnostics(worker.buffer);
    const seen: unknown[] = [];
    let woke: () => void = () => {};
    expect(page.watch(() => (seen.push(page.read(8)), woke()))).toBe(true);
    // half written: no call
    Atomics.store(new Int32Array(worker.buffer, 0, 2), 0, 2 * 8 + 1);
    Atomics.notify(new Int32Array(worker.buffer, 0, 2), 0);
    await new Promise((r) => setTimeout(r, 20));
    expect(seen).toEqual([]);
    await new Promise<void>((r) => {
      woke = r;
      worker.write(8, [d('E306', 4)]);
    });
    expect(seen).toEqual([[d('E306', 4)]]);
    // and again for the next version (the watch re-arms itself)
    await new Promise<void>((r) => {
      woke = r;
      worker.write(9, null);
    });
    expect(seen).toEqual([[d('E306', 4)], undefined]);
  });
});
