// Is there a Python with a usable PyTorch? Asked once, before the data are
// loaded, so a missing or too old PyTorch (or a GPU that is not there) is one
// clear line that says how to install it, never a traceback mid-run.
import { spawnSync } from 'node:child_process';
import { TrainError } from '../../prepare.js';
import type { TorchOptions } from './options.js';

/** Debian's python3-torch installs here; plain `python3` on PATH may be another interpreter. */
export const DEFAULT_PYTHON = '/usr/bin/python3';

/** torch.frombuffer (1.10) and the generated module's own needs */
export const MIN_TORCH: [number, number] = [1, 10];

export interface PythonInfo {
  python: string;
  pythonVersion: string;
  torch: string;
  cuda: boolean;
  gpus: number;
  distributed: boolean;
  gloo: boolean;
  nccl: boolean;
}

const PROBE = `
import json, sys
info = {"python": sys.version.split()[0]}
try:
    import torch
except Exception as e:
    info["error"] = f"{type(e).__name__}: {e}"
else:
    import torch.distributed as dist
    d = dist.is_available()
    info.update(torch=torch.__version__, cuda=torch.cuda.is_available(),
                gpus=torch.cuda.device_count(), distributed=d,
                gloo=d and dist.is_gloo_available(),
                nccl=d and dist.is_nccl_available())
print(json.dumps(info))
`;

const INSTALL =
  'install it with `apt-get install python3-torch` (Debian, Ubuntu) or `python3 -m pip install torch` (https://pytorch.org/get-started), ' +
  'or point --python at an interpreter that has it';

function versionAtLeast(version: string, [major, minor]: [number, number]): boolean {
  const m = /^(\d+)\.(\d+)/.exec(version);
  if (!m) return false;
  const a = Number(m[1]), b = Number(m[2]);
  return a > major || (a === major && b >= minor);
}

/** What `python` has; throws TrainError (exit 1) saying how to get PyTorch when it cannot train. */
export function probePython(python: string): PythonInfo {
  const r = spawnSync(python, ['-c', PROBE], { encoding: 'utf8', timeout: 120_000 });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such program' : code === 'EACCES' ? 'not executable' : r.error.message;
    throw new TrainError(`--engine torch: cannot run ${python} (${why}); the torch engine needs Python 3 with PyTorch: ${INSTALL}`);
  }
  let info: Partial<PythonInfo> & { error?: string };
  try {
    info = JSON.parse(r.stdout.trim().split('\n').pop() ?? '');
  } catch {
    const detail = r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`;
    throw new TrainError(`--engine torch: ${python} is not a working Python 3 (${detail}); ${INSTALL}`);
  }
  if (info.error !== undefined) {
    throw new TrainError(`--engine torch: PyTorch is not installed for ${python} (import torch: ${info.error}); ${INSTALL}`);
  }
  if (!versionAtLeast(info.torch ?? '', MIN_TORCH)) {
    throw new TrainError(`--engine torch: ${python} has PyTorch ${info.torch}, the torch engine needs ${MIN_TORCH.join('.')} or later; ${INSTALL.replace('install it', 'upgrade it')}`);
  }
  return { python, pythonVersion: info.python ?? '?', torch: info.torch!, cuda: !!info.cuda, gpus: info.gpus ?? 0, distributed: !!info.distributed, gloo: !!info.gloo, nccl: !!info.nccl };
}

/** The device the options ask for, checked against what PyTorch has. */
export function resolveDevice(info: PythonInfo, o: Required<Pick<TorchOptions, 'device' | 'nproc'>> & Pick<TorchOptions, 'nnodes'>): 'cpu' | 'cuda' {
  const device = o.device === 'auto' ? (info.cuda ? 'cuda' : 'cpu') : o.device;
  if (device === 'cuda') {
    if (!info.cuda) {
      throw new TrainError(
        `--device cuda: PyTorch ${info.torch} under ${info.python} sees no CUDA device (torch.cuda.is_available() is False); ` +
          'use --device cpu (or auto), or install a CUDA build of PyTorch and the NVIDIA driver',
      );
    }
    if (o.nproc > info.gpus) throw new TrainError(`--nproc ${o.nproc} with --device cuda needs a GPU per process, but PyTorch sees ${info.gpus}`);
  }
  const distributed = o.nproc > 1 || (o.nnodes ?? 1) > 1;
  if (distributed) {
    if (!info.distributed) throw new TrainError(`--nproc/--nnodes: PyTorch ${info.torch} under ${info.python} was built without torch.distributed`);
    if (device === 'cpu' && !info.gloo) throw new TrainError(`--nproc/--nnodes on the cpu need the gloo backend, which PyTorch ${info.torch} under ${info.python} lacks`);
    if (device === 'cuda' && !info.nccl) throw new TrainError(`--nproc/--nnodes on cuda need the NCCL backend, which PyTorch ${info.torch} under ${info.python} lacks`);
  }
  return device;
}
