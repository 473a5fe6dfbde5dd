import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openAtomic, withAtomicFile, writeDirAtomic, writeFileAtomic } from '../../src/util/atomic.js';
import { tempDir } from '../onnx/helpers.js';

describe('atomic files', () => {
  it('writes, replaces, and leaves no temporaries', () => {
    const dir = tempDir('af');
    const f = path.join(dir, 'x.txt');
    writeFileAtomic(f, 'one');
    writeFileAtomic(f, new Uint8Array([116, 119, 111]));
    expect(fs.readFileSync(f, 'utf8')).toBe('two');
    expect(fs.readdirSync(dir)).toEqual(['x.txt']);
    fs.rmSync(dir, { recursive: true });
  });

  it('the target only appears on commit; abort removes the temporary', () => {
    const dir = tempDir('af2');
    const f = path.join(dir, 'y.bin');
    const sink = openAtomic(f);
    sink.write(new Uint8Array(10));
    expect(fs.existsSync(f)).toBe(false);
    expect(fs.existsSync(sink.tempPath)).toBe(true);
    expect(path.dirname(sink.tempPath)).toBe(dir);
    sink.abort();
    sink.abort();
    expect(fs.readdirSync(dir)).toEqual([]);
    const s2 = openAtomic(f);
    s2.write(new Uint8Array([1, 2]));
    expect(s2.bytesWritten).toBe(2);
    s2.commit();
    s2.abort(); // after commit: a no-op, the file stays
    expect([...fs.readFileSync(f)]).toEqual([1, 2]);
    expect(() => s2.write(new Uint8Array(1))).toThrow(/already closed/);
    fs.rmSync(dir, { recursive: true });
  });

  it('withAtomicFile aborts when the producer throws', () => {
    const dir = tempDir('af3');
    const f = path.join(dir, 'z.bin');
    expect(() =>
      withAtomicFile(f, (s) => {
        s.write(new Uint8Array(5));
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(fs.readdirSync(dir)).toEqual([]);
    fs.rmSync(dir, { recursive: true });
  });

  it('a missing directory fails without leaving anything', () => {
    const dir = tempDir('af4');
    expect(() => writeFileAtomic(path.join(dir, 'no/such/dir/f'), 'x')).toThrow();
    expect(fs.readdirSync(dir)).toEqual([]);
    fs.rmSync(dir, { recursive: true });
  });
});

describe('atomic directories', () => {
  it('creates, then replaces a directory wholesale', async () => {
    const dir = tempDir('ad');
    const target = path.join(dir, 'model');
    await writeDirAtomic(target, (t) => {
      fs.writeFileSync(path.join(t, 'a'), '1');
      fs.writeFileSync(path.join(t, 'old-only'), '1');
    });
    await writeDirAtomic(target, async (t) => {
      fs.writeFileSync(path.join(t, 'a'), '2');
    });
    expect(fs.readdirSync(target)).toEqual(['a']);
    expect(fs.readFileSync(path.join(target, 'a'), 'utf8')).toBe('2');
    expect(fs.readdirSync(dir)).toEqual(['model']);
    fs.rmSync(dir, { recursive: true });
  });

  it('a failing fill leaves the old directory untouched and no temporary', async () => {
    const dir = tempDir('ad2');
    const target = path.join(dir, 'model');
    await writeDirAtomic(target, (t) => fs.writeFileSync(path.join(t, 'a'), 'keep'));
    await expect(
      writeDirAtomic(target, (t) => {
        fs.writeFileSync(path.join(t, 'a'), 'half');
        throw new Error('fail');
      }),
    ).rejects.toThrow('fail');
    expect(fs.readFileSync(path.join(target, 'a'), 'utf8')).toBe('keep');
    expect(fs.readdirSync(dir)).toEqual(['model']);
    fs.rmSync(dir, { recursive: true });
  });
});
