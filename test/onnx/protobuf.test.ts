import { describe, expect, it } from 'vitest';
import { encode, toBytes } from '../../src/emit/onnx/protobuf.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('protobuf encoder', () => {
  it('varints, as in the protobuf encoding guide', () => {
    expect(hex(toBytes(encode((w) => w.int(1, 150))))).toBe('089601');
    expect(hex(toBytes(encode((w) => w.int(1, 0))))).toBe('0800');
    // above 2^31 and 2^32: no 32-bit truncation
    expect(hex(toBytes(encode((w) => w.int(1, 2 ** 35))))).toBe('0880808080 80 01'.replace(/ /g, ''));
    // negative int64: ten bytes of two's complement
    expect(hex(toBytes(encode((w) => w.int(1, -1))))).toBe('08ffffffffffffffffff01');
  });

  it('strings, floats, nested messages', () => {
    expect(hex(toBytes(encode((w) => w.string(2, 'testing'))))).toBe('120774657374696e67');
    expect(hex(toBytes(encode((w) => w.float(2, 1))))).toBe('150000803f');
    const inner = encode((w) => w.int(1, 150));
    expect(hex(toBytes(encode((w) => w.message(3, inner))))).toBe('1a03089601');
  });

  it('lazy bytes: size known up front, content produced only when materialised', () => {
    let produced = 0;
    const lazy = { length: 3, produce: () => (produced++, new Uint8Array([1, 2, 3])) };
    const msg = encode((w) => w.int(1, 1).bytes(2, lazy).int(3, 2));
    const outer = encode((w) => w.message(1, msg));
    expect(outer.size).toBe(2 + 2 + 5 + 2);
    expect(produced).toBe(0);
    expect(hex(toBytes(outer))).toBe('0a09' + '0801' + '1203010203' + '1802');
    expect(produced).toBe(1);
  });

  it('rejects a lazy part that breaks its promised length', () => {
    const lazy = { length: 4, produce: () => new Uint8Array(3) };
    expect(() => toBytes(encode((w) => w.bytes(1, lazy)))).toThrow(/3 bytes, 4 were promised/);
  });
});
