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

/** What torchrun's failure summary says about the first rank that failed. */
export function torchrunRootCause(stderr: string): string | undefined {
  const at = stderr.lastIndexOf('Root Cause');
  if (at < 0) return undefined;
  const part = stderr.slice(at);
  const rank = /rank\s*:\s*(\d+)/.exec(part)?.[1];
  const exit = /exitcode\s*:\s*(-?\d+)\s*\(pid:\s*(\d+)\)/.exec(part);
  const trace = /traceback\s*:\s*(.+)/.exec(part)?.[1]?.trim();
  if (rank === undefined) return undefined;
  const signal = exit && Number(exit[1]) < 0 ? signalName(-Number(exit[1])) : undefined;
  const how = signal ? `was killed by ${signal}` : exit ? `exited with code ${exit[1]}` : 'failed';
  return `rank ${rank}${exit ? ` (pid ${exit[2]})` : ''} ${how}${trace && !trace.startsWith('Signal') && trace !== '<N/A>' ? `: ${trace}` : ''}`;
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
  /** the first thing that went wrong: a lost channel, an error answer, the launcher's exit */
  private firstFault?: string;
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
        if (!this.stopping) this.fault(`the ${this.launcher === 'torchrun' ? 'torchrun launcher' : 'PyTorch worker'} ${describeExit(code, signal)}`);
      });
    });
    child.on('error', (e) => this.fault(`cannot start ${spec.python}: ${e.message}`));
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
            channel.onLost = (why) => this.fault(`rank ${h.rank} (pid ${h.pid}): ${why.message}`);
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

  /** Record the first fault and fail everything waiting on the workers. */
  private fault(what: string): void {
    if (this.stopping || this.firstFault !== undefined) return;
    this.firstFault = what;
    void this.explain().then((message) => this.fail(new WorkerFailure(message)));
  }

  /** The failure as the user should read it: what failed first, after torchrun has had its say. */
  private async explain(): Promise<string> {
    // torchrun stops the other ranks and prints which one failed first; give it a moment
    await Promise.race([this.exitedPromise, new Promise((r) => setTimeout(r, 15_000).unref())]);
    const root = this.launcher === 'torchrun' ? torchrunRootCause(this.tail.text) : undefined;
    const detail = root ? `torchrun: ${root}` : this.firstFault!;
    const last = this.tail.text.trim().split('\n').filter((l) => l.trim() && !/^\s*(File |\^|Traceback)/.test(l)).slice(-1)[0];
    const exit = this.exited ? `; ${this.launcher === 'torchrun' ? 'torchrun' : 'the worker'} ${describeExit(this.exited.code, this.exited.signal)}` : '';
    return `the PyTorch ${this.launcher === 'torchrun' ? 'workers stopped' : 'worker stopped'}: ${detail}${exit}${!root && last ? ` (last output: ${last.trim()})` : ''}`;
  }

  /** Run `work` against the workers; a worker that dies or fails turns it into a WorkerFailure. */
  async guard<T>(work: Promise<T>, doing: string): Promise<T> {
    try {
      return await Promise.race([work, this.failed!]);
    } catch (e) {
      if (e instanceof WorkerFailure) throw e;
      if (e instanceof ChannelError && e.trace !== undefined) {
        // an error answer: the worker's own exception, with where it came from
        const where = e.trace.trim().split('\n').filter((l) => /^\s*File /.test(l)).slice(-1)[0]?.trim();
        this.fault(`${e.message}${where ? ` (${where})` : ''} ${doing}`);
      } else this.fault(`${e instanceof Error ? e.message : String(e)} ${doing}`);
      return this.failed!;
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
