// The PyTorch worker processes of a run and their channels. One process runs
// worker.py directly; several (--nproc, --nnodes) are launched by torchrun
// (`python -m torch.distributed.run`, what /usr/bin/torchrun runs), which
// gives each its RANK, LOCAL_RANK and WORLD_SIZE and stops them all when one
// fails. Every worker on this machine connects back to a Unix socket in a
// private temporary directory and says hello with its rank and pid.
//
// The processes get a session of their own: a Ctrl-C at the terminal reaches
// `alexnetc train` only, which finishes the step, checkpoints, then stops
// them. When a worker dies, its channel closes (and torchrun exits); every
// request in flight fails with a WorkerFailure that names the rank, its pid
// and what torchrun reported, and the loop keeps the last good checkpoint.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { EngineFailure } from '../../engine.js';
import { Channel, ChannelError } from './protocol.js';

export interface LaunchSpec {
  python: string;
  /** worker.py */
  script: string;
  /** a private temporary directory: the socket and torchrun's logs go here */
  workDir: string;
  nproc: number;
  nnodes: number;
  nodeRank: number;
  masterAddr?: string;
  masterPort?: number;
  /** torch threads per process */
  threads: number;
  say(line: string): void;
}

/** A worker that stopped, or answered with an error; the message says which rank and why. */
export class WorkerFailure extends EngineFailure {}

interface Fault {
  kind: 'lost' | 'error' | 'exit';
  rank?: number;
  pid?: number;
  text: string;
  /** performance.now() when seen */
  at: number;
}

interface Hello {
  rank: number;
  world: number;
  local_rank: number;
  pid: number;
}

/** Keep the last `max` characters of a stream (the launcher's stderr, for failure messages). */
class Tail {
  text = '';
  constructor(private readonly max = 32_768) {}
  add(s: string): void {
    this.text = (this.text + s).slice(-this.max);
  }
}

/** A free TCP port on the loopback interface, for a single machine's rendezvous. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** What torchrun's failure summary says about each failed rank: `was killed by SIGKILL`, `exited with code 1`. */
export function torchrunFailures(stderr: string): Map<number, { pid?: number; how: string }> {
  const out = new Map<number, { pid?: number; how: string }>();
  const at = stderr.lastIndexOf('Failures:');
  if (at < 0) return out;
  // entries: "[0]:\n  time : …\n  rank : 1 (local_rank: 1)\n  exitcode : -9 (pid: 123)\n  error_file: …\n  traceback : …"
  for (const entry of stderr.slice(at).split(/\n\s*\[\d+\]:\s*\n/).slice(1)) {
    const rank = /rank\s*:\s*(\d+)/.exec(entry)?.[1];
    const exit = /exitcode\s*:\s*(-?\d+)\s*\(pid:\s*(\d+)\)/.exec(entry);
    if (rank === undefined || !exit) continue;
    const code = Number(exit[1]);
    out.set(Number(rank), { pid: Number(exit[2]), how: code < 0 ? `was killed by ${signalName(-code)}` : `exited with code ${code}` });
  }
  return out;
}

function signalName(n: number): string {
  const names: Record<number, string> = { 1: 'SIGHUP', 2: 'SIGINT', 6: 'SIGABRT', 9: 'SIGKILL', 11: 'SIGSEGV', 15: 'SIGTERM' };
  return names[n] ?? `signal ${n}`;
}

export class Workers {
  /** this machine's workers' channels, by global rank */
  readonly channels: Channel[] = [];
  readonly ranks: number[] = [];
  readonly pids: number[] = [];
  world = 1;
  readonly launcher: 'python' | 'torchrun';

  private readonly child: ChildProcess;
  private readonly server: net.Server;
  private readonly tail = new Tail();
  private exited?: { code: number | null; signal: NodeJS.Signals | null };
  private readonly exitedPromise: Promise<void>;
  private stopping = false;
  /** what went wrong, in the order it was seen: lost channels, error answers, the launcher's exit */
  private readonly faults: Fault[] = [];
  private failed?: Promise<never>;
  private fail!: (e: Error) => void;
  private readonly killOnExit = (): void => this.killGroup('SIGKILL');

  private constructor(
    private readonly spec: LaunchSpec,
    child: ChildProcess,
    server: net.Server,
  ) {
    this.child = child;
    this.server = server;
    this.launcher = spec.nproc > 1 || spec.nnodes > 1 ? 'torchrun' : 'python';
    this.failed = new Promise<never>((_, reject) => (this.fail = reject));
    this.failed.catch(() => {}); // observed through guard()
    child.stdout?.on('data', (d: Buffer) => this.tail.add(d.toString()));
    child.stderr?.on('data', (d: Buffer) => this.tail.add(d.toString()));
    this.exitedPromise = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exited = { code, signal };
        resolve();
        if (!this.stopping) this.fault({ kind: 'exit', text: `the ${this.launcher === 'torchrun' ? 'torchrun launcher' : 'PyTorch worker'} ${describeExit(code, signal)}` });
      });
    });
    child.on('error', (e) => this.fault({ kind: 'exit', text: `cannot start ${spec.python}: ${e.message}` }));
    process.on('exit', this.killOnExit);
  }

  /** Launch the workers and wait for every one of this machine's to say hello. */
  static async start(spec: LaunchSpec): Promise<Workers> {
    const socketPath = path.join(spec.workDir, 'socket');
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => resolve());
    });
    const distributed = spec.nproc > 1 || spec.nnodes > 1;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ALEXNETC_TORCH_SOCKET: socketPath,
      OMP_NUM_THREADS: String(spec.threads),
      // idle OpenMP threads sleep instead of spinning: they share the cores with
      // this process's batch preparation (measured: LeNet-5 on 2 busy cores,
      // 113 img/s spinning, 1,443 img/s passive)
      OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY ?? 'PASSIVE',
      PYTHONUNBUFFERED: '1',
      PYTHONDONTWRITEBYTECODE: '1',
    };
    // one machine: the ranks talk over loopback only
    if (distributed && spec.nnodes === 1 && env.GLOO_SOCKET_IFNAME === undefined) env.GLOO_SOCKET_IFNAME = 'lo';
    let args: string[];
    if (!distributed) args = [spec.script];
    else {
      const port = spec.masterPort ?? (spec.nnodes === 1 ? await freePort() : 29500);
      args = [
        '-m', 'torch.distributed.run',
        '--nnodes', String(spec.nnodes),
        '--nproc_per_node', String(spec.nproc),
        '--node_rank', String(spec.nodeRank),
        '--master_addr', spec.masterAddr ?? '127.0.0.1',
        '--master_port', String(port),
        '--max_restarts', '0',
        '--monitor_interval', '1',
        // torchrun 1.13 under Python 3.11 cannot parse its own default "0" here
        // (Std.from_str returns None): stderr is teed to a log and to us instead
        '--redirects', '2', '--tee', '2', '--log_dir', path.join(spec.workDir, 'logs'),
        spec.script,
      ];
    }
    const child = spawn(spec.python, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const w = new Workers(spec, child, server);
    try {
      await w.guard(w.connectAll(), 'while starting');
    } catch (e) {
      await w.stop();
      throw e;
    }
    return w;
  }

  private connectAll(): Promise<void> {
    const hellos: Promise<void>[] = [];
    return new Promise<void>((resolve, reject) => {
      this.server.on('connection', (socket) => {
        const channel = new Channel(socket);
        hellos.push(
          channel.next().then((m) => {
            const h = m.header.hello as Hello;
            channel.worker = { rank: h.rank, pid: h.pid };
            channel.onLost = (why) => this.fault({ kind: 'lost', rank: h.rank, pid: h.pid, text: why.message });
            this.channels.push(channel);
            this.ranks.push(h.rank);
            this.pids.push(h.pid);
            this.world = h.world;
            if (this.channels.length === this.spec.nproc) {
              // by global rank, so the first channel is the lowest rank here (rank 0 on the first machine)
              const order = this.ranks.map((_, i) => i).sort((a, b) => this.ranks[a]! - this.ranks[b]!);
              const [c, r, p] = [order.map((i) => this.channels[i]!), order.map((i) => this.ranks[i]!), order.map((i) => this.pids[i]!)];
              this.channels.splice(0, Infinity, ...c);
              this.ranks.splice(0, Infinity, ...r);
              this.pids.splice(0, Infinity, ...p);
              resolve();
            }
          }, reject),
        );
      });
    });
  }

  /** Record a fault; the first fails everything waiting on the workers (once the others are in). */
  private fault(f: Omit<Fault, 'at'>): void {
    if (this.stopping) return;
    this.faults.push({ ...f, at: performance.now() });
    if (this.faults.length === 1) void this.explain().then((message) => this.fail(new WorkerFailure(message)));
  }

  /**
   * The failure as the user should read it. When one rank dies, the others
   * fail too (their collectives lose a peer) and torchrun stops the rest, so
   * the cause is the first rank that went away without a word (killed, out
   * of memory) shortly after the first sign of trouble; else the first
   * exception a worker reported; else what was seen first.
   */
  private async explain(): Promise<string> {
    // torchrun notices within its monitor interval, stops the other ranks and prints what it saw; give it a moment
    await Promise.race([this.exitedPromise, new Promise((r) => setTimeout(r, 15_000).unref())]);
    const first = this.faults[0]!;
    const spoke = new Set<number>();
    let silent: Fault | undefined;
    for (const f of this.faults) {
      if (f.kind === 'error' && f.rank !== undefined) spoke.add(f.rank);
      if (f.kind === 'lost' && !spoke.has(f.rank!) && f.at - first.at < 1000) {
        silent = f;
        break;
      }
    }
    const launcher = this.exited ? `; ${this.launcher === 'torchrun' ? 'torchrun' : 'the worker'} ${describeExit(this.exited.code, this.exited.signal)}` : '';
    if (silent) {
      const told = this.launcher === 'torchrun' ? torchrunFailures(this.tail.text).get(silent.rank!)?.how : this.exited ? describeExit(this.exited.code, this.exited.signal) : undefined;
      const how = told ?? `went away (${silent.text})`;
      return this.launcher === 'torchrun' ? `rank ${silent.rank} (pid ${silent.pid}) ${how}${launcher}` : `its process (pid ${silent.pid}) ${how}`;
    }
    const error = this.faults.find((f) => f.kind === 'error');
    if (error) return `${this.launcher === 'torchrun' ? `rank ${error.rank}: ` : ''}${error.text}${launcher}`;
    const last = this.tail.text.trim().split('\n').filter((l) => l.trim() && !/^\s*(File |\^|Traceback)/.test(l)).slice(-1)[0];
    return `${first.text}${first.kind === 'exit' ? '' : launcher}${last ? ` (its last output: ${last.trim()})` : ''}`;
  }

  /** Run `work` against the workers; a worker that dies or fails turns it into a WorkerFailure saying what was `doing`. */
  async guard<T>(work: Promise<T>, doing: string): Promise<T> {
    try {
      return await Promise.race([work, this.failed!]);
    } catch (e) {
      if (this.stopping) throw e;
      if (!(e instanceof WorkerFailure)) {
        if (e instanceof ChannelError && e.trace !== undefined) {
          // an error answer: the worker's own exception, with where it came from
          const where = e.trace.trim().split('\n').filter((l) => /^\s*File /.test(l)).slice(-1)[0]?.trim();
          this.fault({ kind: 'error', rank: e.worker?.rank, pid: e.worker?.pid, text: `${e.message}${where ? ` (${where})` : ''}` });
        } else if (!(e instanceof ChannelError && e.worker)) this.fault({ kind: 'exit', text: e instanceof Error ? e.message : String(e) });
        // (a known worker's lost channel is recorded by its onLost)
      }
      const cause = await this.failed!.catch((f: Error) => f.message);
      throw new WorkerFailure(`the PyTorch ${this.launcher === 'torchrun' ? 'workers' : 'worker'} stopped ${doing}: ${cause}`);
    }
  }

  /** Tell every worker to stop; after a grace period, stop them by force. Idempotent. */
  async stop(): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      for (const c of this.channels) c.close();
      if (this.exited === undefined) {
        const timer = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());
        await Promise.race([this.exitedPromise, timer(20_000)]);
        if (this.exited === undefined) {
          this.killGroup('SIGTERM');
          await Promise.race([this.exitedPromise, timer(5_000)]);
          if (this.exited === undefined) this.killGroup('SIGKILL');
        }
      }
      this.server.close();
      process.off('exit', this.killOnExit);
    }
  }

  /** the launcher and everything it started (they share its process group) */
  private killGroup(signal: NodeJS.Signals): void {
    if (this.child.pid === undefined || this.exited !== undefined) return;
    try {
      process.kill(-this.child.pid, signal);
    } catch {
      // already gone
    }
  }
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `was killed by ${signal}` : `exited with code ${code}`;
}

/** Remove the temporary directory (the socket, the generated module, torchrun's logs). */
export function removeWorkDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}
