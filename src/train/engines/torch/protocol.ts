// The wire between `alexnetc train` and its PyTorch workers (worker.py): one
// local stream socket per worker, messages framed as
//   u32 LE  JSON length   u32 LE  binary length   JSON header   binary payload
// The header says what to do (`{op: 'step', …}`) or answers (`{ok: …}`,
// `{error, trace}`); the payload carries a batch (float32 examples, then
// int32 labels) or predictions (int32). Requests on one channel are answered
// in order, so a FIFO of pending promises matches answers to requests.
import type { Socket } from 'node:net';

const HEAD = 8;

export interface Message {
  header: Record<string, unknown>;
  payload: Uint8Array;
}

/** A worker's error answer, or its channel closing under a request. */
export class ChannelError extends Error {
  constructor(
    message: string,
    /** the worker's Python traceback, when it sent one */
    readonly trace?: string,
    /** which worker: its rank and pid, once it said hello */
    readonly worker?: { rank: number; pid: number },
  ) {
    super(message);
    this.name = 'ChannelError';
  }
}

export function encode(header: unknown, payload: Uint8Array = new Uint8Array(0)): Buffer[] {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const head = Buffer.alloc(HEAD);
  head.writeUInt32LE(json.length, 0);
  head.writeUInt32LE(payload.byteLength, 4);
  return [head, json, Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)];
}

/** Reassembles frames from a byte stream. */
export class FrameReader {
  private chunks: Buffer[] = [];
  private length = 0;

  push(data: Buffer): Message[] {
    this.chunks.push(data);
    this.length += data.length;
    const out: Message[] = [];
    for (;;) {
      if (this.length < HEAD) break;
      const head = this.peek(HEAD);
      const json = head.readUInt32LE(0);
      const binary = head.readUInt32LE(4);
      if (this.length < HEAD + json + binary) break;
      const frame = this.take(HEAD + json + binary);
      const header = JSON.parse(frame.subarray(HEAD, HEAD + json).toString('utf8')) as Record<string, unknown>;
      // a copy: the payload outlives the frame buffer's reuse and gets an aligned start
      const payload = new Uint8Array(frame.subarray(HEAD + json));
      out.push({ header, payload });
    }
    return out;
  }

  private peek(n: number): Buffer {
    return this.chunks[0]!.length >= n ? this.chunks[0]!.subarray(0, n) : Buffer.concat(this.chunks).subarray(0, n);
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    this.chunks = all.length > n ? [all.subarray(n)] : [];
    this.length -= n;
    return all.subarray(0, n);
  }
}

/** One worker's connection: requests answered in order; unsolicited messages (the hello) go to `first`. */
export class Channel {
  private readonly reader = new FrameReader();
  private readonly pending: Array<{ resolve(m: Message): void; reject(e: Error): void }> = [];
  private readonly early: Message[] = [];
  private closedWith?: Error;
  /** called once when the channel closes without being asked to */
  onLost?: (why: Error) => void;
  private closing = false;
  /** the worker's rank and pid, from its hello */
  worker?: { rank: number; pid: number };

  constructor(private readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      for (const m of this.reader.push(d)) this.deliver(m);
    });
    const lost = (why: string): void => {
      if (this.closedWith) return;
      this.closedWith = new ChannelError(why, undefined, this.worker);
      for (const p of this.pending.splice(0)) p.reject(this.closedWith);
      if (!this.closing) this.onLost?.(this.closedWith);
    };
    socket.on('error', (e) => lost(`its connection failed (${e.message})`));
    socket.on('close', () => lost('its connection closed'));
  }

  private deliver(m: Message): void {
    const p = this.pending.shift();
    if (!p) {
      this.early.push(m);
      return;
    }
    if (typeof m.header.error === 'string') p.reject(new ChannelError(m.header.error, typeof m.header.trace === 'string' ? m.header.trace : undefined, this.worker));
    else p.resolve(m);
  }

  /** the next message, whether or not one was asked for (the worker's hello) */
  next(): Promise<Message> {
    const m = this.early.shift();
    if (m) return Promise.resolve(m);
    if (this.closedWith) return Promise.reject(this.closedWith);
    return new Promise((resolve, reject) => this.pending.push({ resolve, reject }));
  }

  /** send a request; resolves with the answer's `ok` value and payload */
  async request(header: Record<string, unknown>, payload?: Uint8Array): Promise<{ ok: Record<string, unknown>; payload: Uint8Array }> {
    if (this.closedWith) throw this.closedWith;
    const answer = new Promise<Message>((resolve, reject) => this.pending.push({ resolve, reject }));
    for (const b of encode(header, payload)) this.socket.write(b);
    const m = await answer;
    return { ok: (m.header.ok ?? {}) as Record<string, unknown>, payload: m.payload };
  }

  /** tell the worker to stop; no answer expected */
  close(): void {
    this.closing = true;
    if (!this.closedWith) {
      for (const b of encode({ op: 'exit' })) this.socket.write(b);
      this.socket.end();
    }
  }
}
