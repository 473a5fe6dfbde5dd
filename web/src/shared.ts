// Diagnostics through shared memory, beside the messages: the analysis worker
// writes each version's diagnostics into a SharedArrayBuffer as soon as it
// has them, and the page reads them in its next animation frame. A worker's
// message waits in the page's task queue behind the frame that draws the
// keystroke (the browser runs rendering first after input), so the
// diagnostics would show a frame later; read in that frame, they show with
// the keystroke. Only where the page is cross-origin isolated
// (SharedArrayBuffer exists); elsewhere, and whenever the buffer is not read
// in time, the message brings them.
//
// A sequence lock, one writer: [0] is 2v + 1 while version v is written and
// 2v + 2 once it is complete; [1] is its length in bytes, or -1 for "the
// diagnostics shown are still right" (the benchmark's echo).
import type { PageDiagnostic } from './protocol.js';

const BYTES = 1 << 16;

export class SharedDiagnostics {
  private readonly seq: Int32Array;
  private readonly bytes: Uint8Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(8 + BYTES)) {
    this.seq = new Int32Array(buffer, 0, 2);
    this.bytes = new Uint8Array(buffer, 8);
  }

  /** (the worker) version's diagnostics, or null for "unchanged"; too many to fit: left to the message */
  write(version: number, diags: PageDiagnostic[] | null): void {
    Atomics.store(this.seq, 0, 2 * version + 1);
    if (diags === null) Atomics.store(this.seq, 1, -1);
    else {
      const data = new TextEncoder().encode(JSON.stringify(diags));
      if (data.length > this.bytes.length) return;
      this.bytes.set(data);
      Atomics.store(this.seq, 1, data.length);
    }
    Atomics.store(this.seq, 0, 2 * version + 2);
  }

  /** (the page) version's diagnostics if complete: the list, null for "unchanged", undefined if not there (yet) */
  read(version: number): PageDiagnostic[] | null | undefined {
    const done = 2 * version + 2;
    if (Atomics.load(this.seq, 0) !== done) return undefined;
    const n = Atomics.load(this.seq, 1);
    const copy = n < 0 ? undefined : this.bytes.slice(0, n);
    if (Atomics.load(this.seq, 0) !== done) return undefined; // overwritten meanwhile by a newer version
    return copy === undefined ? null : (JSON.parse(new TextDecoder().decode(copy)) as PageDiagnostic[]);
  }
}
