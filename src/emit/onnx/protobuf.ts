// A minimal protocol-buffers encoder, just enough for ONNX's ModelProto.
//
// Large payloads (weight tensors) are not held in memory: a message is a list
// of parts, each either bytes already encoded or a `LazyBytes` whose length is
// known up front and whose content is produced only when the part is written.
// Because every length is known before anything is produced, nested length
// prefixes can be written first and the payloads streamed afterwards.

/** A byte range of known length whose content is produced on demand. */
export interface LazyBytes {
  readonly length: number;
  produce(): Uint8Array;
}

export type Part = Uint8Array | LazyBytes;

/** An encoded message (or any byte sequence): its parts in order and its total size. */
export interface Encoded {
  readonly parts: readonly Part[];
  readonly size: number;
}

const WIRE_VARINT = 0;
const WIRE_FIXED32 = 5;
const WIRE_LEN = 2;

const utf8 = new TextEncoder();

/** Builds one message. Eager bytes accumulate in a growable buffer; lazy parts split it. */
export class MessageWriter {
  private readonly parts: Part[] = [];
  private buf = new Uint8Array(256);
  private len = 0;
  private total = 0;

  private ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + extra) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  private byte(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b;
    this.total++;
  }

  private raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
    this.total += bytes.length;
  }

  private flush(): void {
    if (this.len === 0) return;
    this.parts.push(this.buf.slice(0, this.len));
    this.len = 0;
  }

  /** Unsigned varint of a non-negative safe integer (uses arithmetic, not 32-bit ops, so values above 2^31 work). */
  private varint(v: number): void {
    if (!Number.isSafeInteger(v)) throw new RangeError(`varint out of range: ${v}`);
    if (v < 0) {
      // int64 negatives are encoded as their 64-bit two's complement: always 10 bytes
      let x = BigInt.asUintN(64, BigInt(v));
      for (let i = 0; i < 9; i++) {
        this.byte(Number(x & 0x7fn) | 0x80);
        x >>= 7n;
      }
      this.byte(Number(x));
      return;
    }
    while (v >= 0x80) {
      this.byte((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.byte(v);
  }

  private tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  /** int32 / int64 / enum / bool field */
  int(field: number, value: number): this {
    this.tag(field, WIRE_VARINT);
    this.varint(value);
    return this;
  }

  /** float field (fixed32, little-endian) */
  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.raw(b);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, utf8.encode(value));
  }

  /** bytes field; lazy content is produced only when the message is written out */
  bytes(field: number, value: Uint8Array | LazyBytes): this {
    this.tag(field, WIRE_LEN);
    this.varint(value.length);
    if (value instanceof Uint8Array) {
      this.raw(value);
    } else {
      this.flush();
      this.parts.push(value);
      this.total += value.length;
    }
    return this;
  }

  /** embedded message field */
  message(field: number, value: Encoded): this {
    this.tag(field, WIRE_LEN);
    this.varint(value.size);
    for (const p of value.parts) {
      if (p instanceof Uint8Array) {
        this.raw(p);
      } else {
        this.flush();
        this.parts.push(p);
        this.total += p.length;
      }
    }
    return this;
  }

  finish(): Encoded {
    this.flush();
    return { parts: this.parts, size: this.total };
  }
}

/** Build a message with a callback; convenient for nesting. */
export function encode(build: (w: MessageWriter) => void): Encoded {
  const w = new MessageWriter();
  build(w);
  return w.finish();
}

/** Materialise an encoded message in memory (for small models and tests). */
export function toBytes(e: Encoded): Uint8Array {
  const out = new Uint8Array(e.size);
  let off = 0;
  for (const p of e.parts) {
    const bytes = p instanceof Uint8Array ? p : produceChecked(p);
    out.set(bytes, off);
    off += bytes.length;
  }
  return out;
}

/** Produce a lazy part, checking it matches the length its prefix promised. */
export function produceChecked(p: LazyBytes): Uint8Array {
  const bytes = p.produce();
  if (bytes.length !== p.length) throw new Error(`lazy part produced ${bytes.length} bytes, ${p.length} were promised`);
  return bytes;
}
