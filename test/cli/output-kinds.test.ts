// Outputs that are not plain new files (issue 22, items 1–6): devices and
// FIFOs are written through, never replaced; symbolic links stay links;
// `-o -` is standard output; a name the user did not type never replaces a
// file; the extension and the content agree; the temporaries of killed
// processes are removed by the next write. Through the real binary.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.join(import.meta.dirname, '../..');
const bin = path.join(root, 'bin/alexnetc.js');
const LENET = readFileSync(path.join(root, 'specs/lenet5.net'), 'utf8');
const env = { ...process.env, NO_COLOR: '1' };

function run(args: string[], cwd = root) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, env, maxBuffer: 64 * 2 ** 20 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

function workspace() {
  const d = mkdtempSync(path.join(os.tmpdir(), 'alexnetc-kinds-'));
  const src = path.join(d, 'net.net');
  writeFileSync(src, LENET);
  return { d, src };
}

/** ONNX files start with field 1 (ir_version), a varint: 0x08 */
const isOnnx = (b: Buffer): boolean => b.length > 1000 && b[0] === 0x08 && b.includes(Buffer.from('alexnetc'));
const isSafetensors = (b: Buffer): boolean => {
  const n = Number(b.readBigUInt64LE(0));
  const header = JSON.parse(b.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype?: string }>;
  return Object.values(header).some((t) => t.dtype === 'F32');
};
const temporaries = (d: string): string[] => readdirSync(d).filter((f) => f.endsWith('.tmp') || f.endsWith('.tmp.old'));

/** Start the CLI, read `fifo` while it writes; resolve with what came through and the exit. */
function throughFifo(args: string[], fifo: string): Promise<{ code: number | null; stderr: string; data: Buffer }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: root, env });
    // the reader is a separate process, so neither side blocks this one
    const reader = spawn('cat', [fifo]);
    const chunks: Buffer[] = [];
    let stderr = '';
    reader.stdout.on('data', (b: Buffer) => chunks.push(b));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    let code: number | null | undefined;
    let readerDone = false;
    const done = (): void => {
      if (code !== undefined && readerDone) resolve({ code, stderr, data: Buffer.concat(chunks) });
    };
    child.on('exit', (c) => ((code = c), done()));
    reader.on('close', () => ((readerDone = true), done()));
  });
}

describe('1. devices and FIFOs are written through, never replaced', () => {
  it('compile -o DEVICE (a null device made with mknod) leaves the device a device', (ctx) => {
    const { d, src } = workspace();
    const dev = path.join(d, 'null');
    const mk = spawnSync('mknod', [dev, 'c', '1', '3']);
    if (mk.status !== 0) {
      console.log(`skipped: mknod is not allowed here (${mk.stderr.toString().trim() || 'no permission'}); the FIFO tests cover writing through`);
      ctx.skip();
    }
    const r = run(['compile', src, '-o', dev]);
    expect(r.code, r.stderr).toBe(0);
    const st = statSync(dev);
    expect(st.isCharacterDevice()).toBe(true);
    expect(st.rdev).toBe(lstatSync('/dev/null').rdev);
    expect(readFileSync(dev).length).toBe(0); // still a null device: reads nothing
    expect(temporaries(d)).toEqual([]);
  });

  it('compile -o FIFO: the ONNX bytes come through the FIFO, which stays a FIFO', async () => {
    const { d, src } = workspace();
    const fifo = path.join(d, 'out.onnx');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const r = await throughFifo(['compile', src, '-o', fifo], fifo);
    expect(r.code, r.stderr).toBe(0);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    const file = path.join(d, 'file.onnx');
    expect(run(['compile', src, '-o', file]).code).toBe(0);
    expect(r.data.equals(readFileSync(file))).toBe(true);
    expect(temporaries(d)).toEqual([]);
  });

  it('draw -o FIFO.svg likewise', async () => {
    const { d, src } = workspace();
    const fifo = path.join(d, 'some-fifo.svg');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const r = await throughFifo(['draw', src, '-o', fifo], fifo);
    expect(r.code, r.stderr).toBe(0);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect(r.data.toString('utf8')).toMatch(/^<svg /);
  });
});

describe('2. symbolic links are followed: the target is replaced, the link stays', () => {
  it('compile -o LINK writes the file the link points to, atomically beside it', () => {
    const { d, src } = workspace();
    const elsewhere = path.join(d, 'models');
    mkdirSync(elsewhere);
    const real = path.join(elsewhere, 'real.onnx');
    writeFileSync(real, 'old');
    const link = path.join(d, 'link.onnx');
    symlinkSync(path.join('models', 'real.onnx'), link);
    const r = run(['compile', src, '-o', link]);
    expect(r.code, r.stderr).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe(path.join('models', 'real.onnx'));
    expect(isOnnx(readFileSync(real))).toBe(true);
    expect(temporaries(d)).toEqual([]);
    expect(temporaries(elsewhere)).toEqual([]);
  });

  it('a dangling link: the file it names is created, the link kept', () => {
    const { d, src } = workspace();
    const link = path.join(d, 'link.py');
    symlinkSync('made.py', link);
    const r = run(['compile', src, '-o', link]);
    expect(r.code, r.stderr).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(path.join(d, 'made.py'), 'utf8')).toContain('class LeNet5(');
  });

  it('a link to the input is still the input: refused', () => {
    const { d, src } = workspace();
    const link = path.join(d, 'link.onnx');
    symlinkSync(src, link);
    const r = run(['compile', src, '-o', link]);
    expect(r.code).toBe(2);
    expect(readFileSync(src, 'utf8')).toBe(LENET);
  });
});

describe('3. -o - is standard output', () => {
  it('compile -o - writes the same ONNX bytes as -o FILE, and no file named -', () => {
    const { d, src } = workspace();
    const r = run(['compile', src, '-o', '-'], d);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(path.join(d, '-'))).toBe(false);
    expect(run(['compile', src, '-o', path.join(d, 'f.onnx')]).code).toBe(0);
    expect(r.stdout.equals(readFileSync(path.join(d, 'f.onnx')))).toBe(true);
  });

  it('every single-file target: torch and safetensors too; import -o - with --weights-out', () => {
    const { d, src } = workspace();
    for (const [target, ext] of [['torch', 'py'], ['safetensors', 'safetensors']]) {
      const r = run(['compile', src, '--target', target!, '-o', '-'], d);
      expect(r.code, r.stderr).toBe(0);
      expect(run(['compile', src, '-o', path.join(d, `f.${ext}`)]).code).toBe(0);
      expect(r.stdout.equals(readFileSync(path.join(d, `f.${ext}`))), target).toBe(true);
    }
    expect(run(['compile', src, '-o', path.join(d, 'm.onnx')]).code).toBe(0);
    const imp = run(['import', path.join(d, 'm.onnx'), '-o', '-', '--weights-out', path.join(d, 'w.onnx')], d);
    expect(imp.code, imp.stderr).toBe(0);
    expect(imp.stdout.toString('utf8')).toMatch(/^network LeNet5|network \w+ \{/m);
    expect(existsSync(path.join(d, '-'))).toBe(false);
    expect(run(['import', path.join(d, 'm.onnx'), '-o', '-'], d).code).toBe(2); // where would the weights go?
  });

  it('-o - into a reader that stops early (| head) ends quietly with 0, like any filter', () => {
    const { d, src } = workspace();
    for (const args of [['compile', src, '-o', '-'], ['compile', src, '--target', 'torch', '-o', '-'], ['draw', src, '-o', '-']]) {
      // the shell's `| head -c 16`: the pipe's reader goes away after 16 bytes
      const sh = `${JSON.stringify(process.execPath)} ${JSON.stringify(bin)} ${args.map((a) => JSON.stringify(a)).join(' ')} 2>${JSON.stringify(path.join(d, 'err'))} | head -c 16 >/dev/null; echo "\${PIPESTATUS[0]}"`;
      const r = spawnSync('bash', ['-c', sh], { cwd: d, env });
      expect(r.stdout.toString().trim(), args.join(' ')).toBe('0');
      expect(readFileSync(path.join(d, 'err'), 'utf8'), args.join(' ')).toBe('');
    }
    expect(temporaries(d)).toEqual([]);
  });

  it('--target tfjs -o - and --json -o - are refused', () => {
    const { src } = workspace();
    expect(run(['compile', src, '--target', 'tfjs', '-o', '-']).code).toBe(2);
    expect(run(['compile', src, '--json', '-o', '-']).code).toBe(2);
  });

  it('binary to a terminal is refused with a hint; text to a terminal is written', (ctx) => {
    const { src } = workspace();
    if (spawnSync('script', ['--version']).status !== 0) {
      console.log('skipped: no `script` command to give the program a terminal');
      ctx.skip();
    }
    const tty = (args: string[]) =>
      spawnSync('script', ['-qec', [process.execPath, bin, ...args].map((a) => `'${a}'`).join(' '), '/dev/null'], { env, encoding: 'utf8' });
    const bin1 = tty(['compile', src, '-o', '-']);
    expect(bin1.status).toBe(2);
    expect(bin1.stdout).toContain('refusing to write ONNX to the terminal: redirect it (> file) or pipe it');
    const png = tty(['draw', src, '-o', '-', '--format', 'png']);
    expect(png.status).toBe(2);
    const py = tty(['compile', src, '--target', 'torch', '-o', '-']);
    expect(py.status).toBe(0);
    expect(py.stdout).toContain('class LeNet5(');
  });
});

describe('4. a name the user did not type never replaces a file', () => {
  it('compile without -o: an existing NETWORK.onnx is refused (exit 2, names -o and --force), kept; --force replaces it', () => {
    const { d, src } = workspace();
    writeFileSync(path.join(d, 'LeNet5.onnx'), 'mine');
    const r = run(['compile', src], d);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('refusing to replace LeNet5.onnx');
    expect(r.stderr).toContain('-o LeNet5.onnx');
    expect(r.stderr).toContain('--force');
    expect(readFileSync(path.join(d, 'LeNet5.onnx'), 'utf8')).toBe('mine');
    expect(run(['compile', src, '--force'], d).code).toBe(0);
    expect(isOnnx(readFileSync(path.join(d, 'LeNet5.onnx')))).toBe(true);
    // named on the command line, it is replaced as asked
    expect(run(['compile', src, '-o', 'LeNet5.onnx'], d).code).toBe(0);
  });

  it('import sq.onnx without -o never replaces a hand-written sq.net (nor its weights file)', () => {
    const { d, src } = workspace();
    expect(run(['compile', src, '-o', path.join(d, 'sq.onnx')]).code).toBe(0);
    writeFileSync(path.join(d, 'sq.net'), 'my hand-written network');
    const r = run(['import', 'sq.onnx'], d);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('refusing to replace sq.net');
    expect(readFileSync(path.join(d, 'sq.net'), 'utf8')).toBe('my hand-written network');
    // the default weights name is guarded as well, even when -o is given
    writeFileSync(path.join(d, 'other.weights.onnx'), 'precious');
    const w = run(['import', 'sq.onnx', '-o', 'other.net'], d);
    expect(w.code).toBe(2);
    expect(w.stderr).toContain('--weights-out');
    expect(readFileSync(path.join(d, 'other.weights.onnx'), 'utf8')).toBe('precious');
    expect(existsSync(path.join(d, 'other.net'))).toBe(false);
  });

  it('draw without -o, and compile --target tfjs without -o, likewise', () => {
    const { d, src } = workspace();
    writeFileSync(path.join(d, 'LeNet5.svg'), 'mine');
    expect(run(['draw', src], d).code).toBe(2);
    expect(readFileSync(path.join(d, 'LeNet5.svg'), 'utf8')).toBe('mine');
    mkdirSync(path.join(d, 'LeNet5'));
    writeFileSync(path.join(d, 'LeNet5', 'model.json'), '{}');
    expect(run(['compile', src, '--target', 'tfjs'], d).code).toBe(2);
    expect(readFileSync(path.join(d, 'LeNet5', 'model.json'), 'utf8')).toBe('{}');
  });
});

describe('5. the extension and the content agree', () => {
  it('compile -o precious.net is refused (exit 2) and the .net file kept', () => {
    const { d, src } = workspace();
    writeFileSync(path.join(d, 'precious.net'), LENET);
    const r = run(['compile', src, '-o', path.join(d, 'precious.net')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('.net source name');
    expect(readFileSync(path.join(d, 'precious.net'), 'utf8')).toBe(LENET);
  });

  it('--target torch -o mb.onnx is refused; --target onnx -o x.py too', () => {
    const { d, src } = workspace();
    const a = run(['compile', src, '--target', 'torch', '-o', path.join(d, 'mb.onnx')]);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain('use a .py name, or --target onnx');
    expect(run(['compile', src, '--target', 'onnx', '-o', path.join(d, 'x.py')]).code).toBe(2);
    expect(run(['compile', src, '--target', 'tfjs', '-o', path.join(d, 'x.onnx')]).code).toBe(2);
    expect(readdirSync(d)).toEqual(['net.net']);
  });

  it('without --target, the target follows the name: .py, .safetensors, .onnx, a directory', () => {
    const { d, src } = workspace();
    expect(run(['compile', src, '-o', path.join(d, 'm.py')]).code).toBe(0);
    expect(readFileSync(path.join(d, 'm.py'), 'utf8')).toContain('class LeNet5(');
    expect(run(['compile', src, '-o', path.join(d, 'm.safetensors')]).code).toBe(0);
    expect(isSafetensors(readFileSync(path.join(d, 'm.safetensors')))).toBe(true);
    expect(run(['compile', src, '-o', path.join(d, 'm.onnx')]).code).toBe(0);
    expect(isOnnx(readFileSync(path.join(d, 'm.onnx')))).toBe(true);
    const r = run(['compile', src, '-o', path.join(d, 'model') + '/']);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(path.join(d, 'model')).sort()).toEqual(['model.json', 'weights.bin']);
  });

  it('import --weights-out W.safetensors writes safetensors, and the printed compile line works', () => {
    const { d, src } = workspace();
    expect(run(['compile', src, '-o', path.join(d, 'm.onnx')]).code).toBe(0);
    const r = run(['import', 'm.onnx', '-o', 'again.net', '--weights-out', 'w.safetensors'], d);
    expect(r.code, r.stderr).toBe(0);
    expect(isSafetensors(readFileSync(path.join(d, 'w.safetensors')))).toBe(true);
    const line = /compile it with: alexnetc (.*)$/m.exec(r.stderr)![1]!.split(' ');
    expect(line).toContain('w.safetensors');
    const c = run(line, d);
    expect(c.code, c.stderr).toBe(0);
    // the same weights as through ONNX
    expect(run(['import', 'm.onnx', '-o', 'again.net', '--weights-out', 'w.onnx', '--force'], d).code).toBe(0);
    expect(run(['compile', 'again.net', '--weights', 'w.onnx', '-o', 'via.onnx'], d).code).toBe(0);
    const out = line[line.indexOf('-o') + 1]!;
    expect(readFileSync(path.join(d, out)).equals(readFileSync(path.join(d, 'via.onnx')))).toBe(true);
    expect(run(['import', 'm.onnx', '-o', 'x.net', '--weights-out', 'w.py'], d).code).toBe(2);
    expect(run(['import', 'm.onnx', '-o', 'x.onnx', '--weights-out', 'w2.onnx'], d).code).toBe(2);
  });
});

// a network whose ONNX file is ~130 MB: long enough to be caught mid-write
const BIG = 'network Big {\n  input [4096]\n  dense(4096) | dense(4096)\n}\n';

describe('6. temporaries of killed processes are removed by the next write', () => {
  it('SIGKILL mid-write leaves a temporary; the next compile to the same output removes it, and keeps a live one', async () => {
    const d = mkdtempSync(path.join(os.tmpdir(), 'alexnetc-kinds-'));
    writeFileSync(path.join(d, 'big.net'), BIG);
    const out = path.join(d, 'big.onnx');
    await new Promise<void>((resolve) => {
      const child = spawn(process.execPath, [bin, 'compile', path.join(d, 'big.net'), '-o', out], { env });
      const poll = setInterval(() => {
        if (temporaries(d).length) {
          clearInterval(poll);
          child.kill('SIGKILL');
        }
      }, 5);
      child.on('exit', () => (clearInterval(poll), resolve()));
    });
    const left = temporaries(d);
    expect(left).toHaveLength(1);
    // a temporary of a process that is alive (this one) and one of another output are not touched
    const live = `.big.onnx.${process.pid}.0123abcd.tmp`;
    writeFileSync(path.join(d, live), 'being written');
    writeFileSync(path.join(d, 'small.net'), LENET);
    const other = `.other.onnx.${left[0]!.split('.')[3]}.0123abcd.tmp`;
    writeFileSync(path.join(d, other), 'not ours');
    const r = run(['compile', path.join(d, 'small.net'), '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(temporaries(d).sort()).toEqual([live, other].sort());
  });
});
