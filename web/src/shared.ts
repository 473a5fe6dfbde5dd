// Diagnostics through shared memory, beside the messages: the analysis worker
// writes each version's diagnostics into a SharedArrayBuffer as soon as it
// has them and wakes the page (Atomics.notify), which takes them at once
// (Atomics.waitAsync), or right after the editor's own update when the
// analysis finished during it, or at the latest in its next animation frame.
// A worker's message waits in the page's task queue behind the frame that
// draws the keystroke (the browser runs rendering first after input), so by
// message the diagnostics would reach the editor only after that frame, and
// show a frame later. Only where the page is cross-origin isolated
// (SharedArrayBuffer exists); elsewhere, and whenever the buffer is not read
// in time, the message brings them.
//
// A sequence lock, one writer: [0] is 2v + 1 while version v is written and
// 2v + 2 once it is complete; [1] is its length in bytes, or -1 for "the
// diagnostics shown are still right" (the benchmark's echo).
import type { PageDiagnostic } from './protocol.js';

const BYTES = 1 << 16;

type WaitAsync = (a: Int32Array, index: number, value: number) => { async: false; value: string } | { async: true; value: Promise<string> };

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
    Atomics.notify(this.seq, 0);
  }

  /**
   * (the page) `then` after each version the worker completes, as soon as it
   * is written (Atomics.waitAsync: no thread blocks, and no frame is waited
   * for); false where the browser lacks waitAsync
   */
  watch(then: () => void): boolean {
    const waitAsync = (Atomics as unknown as { waitAsync?: WaitAsync }).waitAsync;
    if (typeof waitAsync !== 'function') return false;
    const arm = (): void => {
      for (;;) {
        const seen = Atomics.load(this.seq, 0);
        const r = waitAsync(this.seq, 0, seen);
        if (r.async) {
          void r.value.then(() => {
            if (Atomics.load(this.seq, 0) % 2 === 0) then();
            arm();
          });
          return;
        }
      }
    };
    arm();
    return true;
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
