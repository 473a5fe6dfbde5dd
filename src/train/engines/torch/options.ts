// The torch engine's own options (EngineSetup.options): where Python is, which
// device, and how many processes on how many machines. They say where a run
// computes, not what it computes, so `--resume` keeps them unless given again.
import { ConfigError } from '../../config.js';

export interface TorchOptions {
  /** the interpreter with PyTorch (default /usr/bin/python3) */
  python?: string;
  device?: 'cpu' | 'cuda' | 'auto';
  /** processes on this machine (DDP ranks); 1: no torchrun */
  nproc?: number;
  /** machines taking part (torchrun --nnodes) */
  nnodes?: number;
  /** this machine's rank among them */
  nodeRank?: number;
  /** rank 0's machine, for the rendezvous */
  masterAddr?: string;
  masterPort?: number;
}

export type ResolvedTorchOptions = Required<Omit<TorchOptions, 'masterAddr' | 'masterPort'>> & Pick<TorchOptions, 'masterAddr' | 'masterPort'>;

export const DEVICES = ['cpu', 'cuda', 'auto'] as const;

const whole = (v: unknown, flag: string, min: number, max = Number.MAX_SAFE_INTEGER): number => {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw new ConfigError(`${flag} must be a whole number${max < Number.MAX_SAFE_INTEGER ? ` from ${min} to ${max}` : ` ≥ ${min}`}, got ${String(v)}`);
  }
  return v;
};

/** Check the options (from flags, or a checkpoint's state) and fill in the defaults. */
export function torchOptions(raw: Record<string, unknown> | undefined, defaultPython: string): ResolvedTorchOptions {
  const o = (raw ?? {}) as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!['python', 'device', 'nproc', 'nnodes', 'nodeRank', 'masterAddr', 'masterPort'].includes(k)) throw new ConfigError(`the torch engine has no option ${k}`);
  }
  const device = o.device ?? 'auto';
  if (!DEVICES.includes(device as never)) throw new ConfigError(`--device must be cpu, cuda or auto, got ${String(device)}`);
  if (o.python !== undefined && (typeof o.python !== 'string' || o.python === '')) throw new ConfigError('--python needs the path of a Python interpreter');
  const nproc = o.nproc === undefined ? 1 : whole(o.nproc, '--nproc', 1, 1024);
  const nnodes = o.nnodes === undefined ? 1 : whole(o.nnodes, '--nnodes', 1, 4096);
  if (nnodes === 1 && o.nodeRank !== undefined && o.nodeRank !== 0) throw new ConfigError('--node-rank needs --nnodes (more than one machine)');
  const nodeRank = o.nodeRank === undefined ? 0 : whole(o.nodeRank, '--node-rank', 0, nnodes - 1);
  const masterPort = o.masterPort === undefined ? undefined : whole(o.masterPort, '--master-port', 1, 65535);
  const masterAddr = o.masterAddr === undefined ? undefined : String(o.masterAddr);
  if (nnodes > 1 && masterAddr === undefined) {
    throw new ConfigError(`--nnodes ${nnodes} needs --master-addr: the address of the machine with --node-rank 0, which every machine can reach`);
  }
  return { python: (o.python as string | undefined) ?? defaultPython, device: device as ResolvedTorchOptions['device'], nproc, nnodes, nodeRank, masterAddr, masterPort };
}
