"""alexnetc's PyTorch training worker (the torch engine of `alexnetc train`).

One worker runs per process: alone (`alexnetc train --engine torch`), or one
per rank under torchrun (`--nproc N`, `--nnodes M`), where the ranks train
the module with DistributedDataParallel. The `alexnetc train` process owns
the run: data order, augmentation, the learning-rate schedule, progress,
checkpoints' timing and reports. It hands every rank its slice of each
global batch over a local socket and this worker does what it is told:

    step    forward, backward, optimizer step; answers the global batch's
            mean loss and correct predictions
    eval    inference mode; answers the loss and every prediction
    save    (rank 0) the model and optimizer state into a checkpoint
    model   (rank 0) the trained weights as safetensors
    agree   whether any machine wants to stop (several machines)
    exit    leave the process group and stop

Messages are length-prefixed: a little-endian u32 JSON length, a u32
binary length, the JSON header, then the binary payload (a batch: float32
examples, then int32 labels). The model is the module `alexnetc compile
--target torch` writes; its weights travel as safetensors with alexnetc's
weight names, so nothing here depends on alexnetc at run time.

Conventions shared with the tfjs engine (so a recipe means one thing):
softmax cross-entropy on the logits before a final softmax; coupled L2
weight decay on kernels only (conv and dense weights); momentum as
torch.optim.SGD (dampening 0); Adam with epsilon 1e-7, as tfjs.
"""

import importlib.util
import json
import math
import os
import signal
import socket
import struct
import sys
import traceback

import torch
import torch.nn.functional as F
from torch import nn

HEAD = struct.Struct("<II")
OPTIMIZER_FORMAT = "alexnetc-torch-optimizer"


class Channel:
    """One framed, blocking connection to the `alexnetc train` process."""

    def __init__(self, address):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(address)

    def send(self, header, payload=b""):
        text = json.dumps(header, allow_nan=False).encode("utf-8")
        self.sock.sendall(HEAD.pack(len(text), len(payload)) + text)
        if payload:
            self.sock.sendall(payload)

    def receive(self):
        """The next message: (header, payload); None when alexnetc is gone."""
        head = self.read(HEAD.size)
        if head is None:
            return None
        size, binary = HEAD.unpack(head)
        text = self.read(size)
        payload = self.read(binary) if binary else bytearray()
        if text is None or payload is None:
            return None
        return json.loads(text.decode("utf-8")), payload

    def read(self, count):
        data = bytearray(count)
        view = memoryview(data)
        got = 0
        while got < count:
            n = self.sock.recv_into(view[got:], count - got)
            if n == 0:
                return None
            got += n
        return data


def load_module(path, name):
    spec = importlib.util.spec_from_file_location("alexnetc_model", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, getattr(module, name)


def batch_tensors(header, payload, device):
    """The float32 examples and int64 labels of a batch message."""
    shape = header["shape"]
    count = shape[0]
    if count == 0:
        x = torch.zeros(shape, dtype=torch.float32)
        y = torch.zeros(0, dtype=torch.int64)
    else:
        values = math.prod(shape)
        x = torch.frombuffer(payload, dtype=torch.float32, count=values)
        x = x.reshape(shape)
        y = torch.frombuffer(payload, dtype=torch.int32, count=count,
                             offset=4 * values).long()
    return x.to(device), y.to(device)


def number(value):
    """A float for the JSON header: NaN and infinities as the strings
    JavaScript's Number() reads (JSON itself has no such numbers)."""
    if math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else \
        "Infinity" if value > 0 else "-Infinity"


def slice_sizes(total, world):
    """Rank r's share of a global batch: [r * n // W, (r + 1) * n // W)."""
    return [(r + 1) * total // world - r * total // world
            for r in range(world)]


class Trainer:
    def __init__(self, config, rank, world, local_rank):
        self.rank, self.world = rank, world
        self.config = config
        threads = config.get("threads")
        if threads:
            torch.set_num_threads(threads)
        self.device = self.pick_device(config["device"], local_rank)
        self.distributed = world > 1
        if self.distributed:
            import torch.distributed as dist
            self.dist = dist
            backend = "nccl" if self.device.type == "cuda" else "gloo"
            dist.init_process_group(backend)
        torch.manual_seed(config["seed"])
        module, cls = load_module(config["module"], config["class"])
        self.module = module
        self.model = cls()
        # every weight starts from alexnetc's file (seeded, or a checkpoint);
        # under DDP rank 0's weights are broadcast to the others
        if rank == 0:
            self.model.load_safetensors(config["weights"])
        self.names = {key: name
                      for name, key in self.model.weight_names().items()}
        self.drop_final_softmax(config.get("logits_stage"))
        self.model.to(self.device)
        self.masks = self.load_masks(config.get("masks"))
        self.optimizer = self.make_optimizer(config["settings"],
                                             set(config["decay"]))
        if self.device.type == "cuda":
            torch.backends.cudnn.deterministic = True
            torch.backends.cudnn.benchmark = False
        if self.distributed:
            if self.device.type == "cuda":
                # batch statistics over the global batch, as one process
                self.model = nn.SyncBatchNorm.convert_sync_batchnorm(
                    self.model)
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.net = nn.parallel.DistributedDataParallel(
                self.model, device_ids=ids)
        else:
            self.net = self.model
        if config.get("optimizer_state"):
            self.load_optimizer(config["optimizer_state"])
        self.apply_masks()

    @staticmethod
    def pick_device(choice, local_rank):
        if choice == "cpu":
            return torch.device("cpu")
        if not torch.cuda.is_available():
            if choice == "cuda":
                raise RuntimeError("--device cuda: torch.cuda.is_available()"
                                   " is False here")
            return torch.device("cpu")
        if local_rank >= torch.cuda.device_count():
            raise RuntimeError(f"local rank {local_rank} has no GPU: "
                               f"{torch.cuda.device_count()} visible")
        torch.cuda.set_device(local_rank)
        return torch.device("cuda", local_rank)

    def describe(self):
        if self.device.type == "cuda":
            name = torch.cuda.get_device_name(self.device)
            return f"{self.device} ({name})"
        threads = torch.get_num_threads()
        return f"cpu ({threads} thread{'s' if threads > 1 else ''})"

    def drop_final_softmax(self, stage):
        """Train on the logits: the final softmax becomes an identity (it
        has no weights, so the saved weights are unchanged)."""
        if not stage:
            return
        parent_path, _, name = stage.rpartition(".")
        parent = self.model.get_submodule(parent_path)
        if not isinstance(parent._modules.get(name), nn.Softmax):
            raise RuntimeError(f"{stage} is not the final softmax")
        parent._modules[name] = nn.Identity()

    def make_optimizer(self, s, decay):
        params = dict(self.model.named_parameters())
        missing = decay - set(params)
        if missing:
            raise RuntimeError(f"no parameters {sorted(missing)}")
        groups = [
            {"params": [p for k, p in params.items() if k in decay],
             "weight_decay": s["weight_decay"]},
            {"params": [p for k, p in params.items() if k not in decay],
             "weight_decay": 0.0},
        ]
        groups = [g for g in groups if g["params"]]
        if s["optimizer"] == "sgd":
            return torch.optim.SGD(groups, lr=s["lr"])
        if s["optimizer"] == "momentum":
            return torch.optim.SGD(groups, lr=s["lr"], momentum=s["momentum"])
        if s["optimizer"] == "adam":
            return torch.optim.Adam(groups, lr=s["lr"],
                                    betas=(s["beta1"], s["beta2"]),
                                    eps=s["eps"])
        raise RuntimeError(f"unknown optimizer {s['optimizer']}")

    def load_masks(self, path):
        """{parameter: 0/1 float mask} from a safetensors file of U8
        tensors named like the weights."""
        if not path:
            return []
        tensors, _ = self.module.read_safetensors(path)
        state = dict(self.model.named_parameters())
        keys = self.model.weight_names()
        masks = []
        for name, mask in tensors.items():
            p = state[keys[name]]
            masks.append((p, mask.reshape(p.shape).to(self.device, p.dtype)))
        return masks

    @torch.no_grad()
    def apply_masks(self):
        for p, mask in self.masks:
            p.mul_(mask)

    # ------------------------------------------------------------ requests

    def step(self, header, payload):
        self.net.train()
        for group in self.optimizer.param_groups:
            group["lr"] = header["lr"]
        torch.manual_seed(header["seed"])
        x, y = batch_tensors(header, payload, self.device)
        total = header["total"]
        self.optimizer.zero_grad()
        z = self.net(x)
        loss = F.cross_entropy(z, y, reduction="sum")
        # DDP averages the ranks' gradients: scaled by W / total, the
        # average is the gradient of the global batch's mean loss, whatever
        # the slices' sizes
        (loss * (self.world / total)).backward()
        hits = (z.detach().argmax(1) == y).sum()
        stats = torch.stack([loss.detach().double(), hits.double()])
        if self.distributed:
            self.dist.all_reduce(stats)
        loss_sum, hits = stats.tolist()
        mean = loss_sum / total
        if math.isfinite(mean):
            self.optimizer.step()
            self.apply_masks()
        return {"loss": number(mean), "hits": int(hits)}, b""

    @torch.no_grad()
    def evaluate(self, header, payload):
        self.model.eval()
        if self.distributed:
            # batch-norm statistics as rank 0 has them (and saves them), as
            # DDP itself broadcasts them before every training step
            for buffer in self.model.buffers():
                self.dist.broadcast(buffer, 0)
        x, y = batch_tensors(header, payload, self.device)
        total = header["total"]
        if x.shape[0]:
            z = self.model(x)
            loss = F.cross_entropy(z, y, reduction="sum").double()
            predicted = z.argmax(1)
        else:
            loss = torch.zeros((), dtype=torch.float64, device=self.device)
            predicted = torch.zeros(0, dtype=torch.int64, device=self.device)
        if self.distributed:
            self.dist.all_reduce(loss)
            sizes = slice_sizes(total, self.world)
            padded = torch.zeros(max(sizes), dtype=torch.int64,
                                 device=self.device)
            padded[:predicted.shape[0]] = predicted
            parts = [torch.empty_like(padded) for _ in sizes]
            self.dist.all_gather(parts, padded)
            predicted = torch.cat([p[:n] for p, n in zip(parts, sizes)])
        out = predicted.to(torch.int32).cpu().numpy().tobytes()
        return {"loss": number(loss.item() / total)}, out

    def agree(self, header, payload):
        """Whether any rank's machine wants to stop (a Ctrl-C there)."""
        flag = torch.tensor([1 if header["wish"] else 0], device=self.device)
        if self.distributed:
            self.dist.all_reduce(flag, op=self.dist.ReduceOp.MAX)
        return {"stop": bool(flag.item())}, b""

    def save(self, header, payload):
        if self.rank == 0:
            folder = header["dir"]
            self.model.save_safetensors(
                os.path.join(folder, "model.safetensors"),
                header.get("metadata"))
            self.save_optimizer(os.path.join(folder, "optimizer.safetensors"))
        return {}, b""

    def save_model(self, header, payload):
        if self.rank == 0:
            self.model.save_safetensors(header["path"],
                                        header.get("metadata"))
        return {}, b""

    # ---------------------------------------------- optimizer state on disk

    def save_optimizer(self, path):
        """Every slot of every parameter, bit for bit: tensors named
        `weight:slot` (stage2/conv1.weight:exp_avg); a plain-number slot
        (Adam's step in PyTorch < 1.12) as a float64 tensor."""
        tensors, numbers = {}, []
        for key, p in self.model.named_parameters():
            for slot, value in self.optimizer.state.get(p, {}).items():
                name = f"{self.names[key]}:{slot}"
                if isinstance(value, torch.Tensor):
                    tensors[name] = value.detach().cpu()
                else:
                    tensors[name] = torch.tensor(float(value),
                                                 dtype=torch.float64)
                    numbers.append(name)
        self.module.write_safetensors(path, tensors, {
            "format": OPTIMIZER_FORMAT,
            "optimizer": self.config["settings"]["optimizer"],
            "numbers": json.dumps(numbers),
        })

    def load_optimizer(self, path):
        state = None
        if self.rank == 0:
            tensors, meta = self.module.read_safetensors(path)
            if meta.get("format") != OPTIMIZER_FORMAT:
                raise RuntimeError(f"{path}: not a torch optimizer state")
            if meta.get("optimizer") != self.config["settings"]["optimizer"]:
                raise RuntimeError(f"{path}: the state of another optimizer "
                                   f"({meta.get('optimizer')})")
            numbers = set(json.loads(meta.get("numbers", "[]")))
            state = {}
            for name, value in tensors.items():
                weight, _, slot = name.rpartition(":")
                value = value.clone()
                if name in numbers:
                    value = int(value.item())
                state.setdefault(weight, {})[slot] = value
        if self.distributed:
            box = [state]
            self.dist.broadcast_object_list(box, src=0)
            state = box[0]
        keys = self.model.weight_names()
        params = dict(self.model.named_parameters())
        for weight, slots in state.items():
            if weight not in keys or keys[weight] not in params:
                raise RuntimeError(f"{path}: {weight} is no parameter here")
            p = params[keys[weight]]
            for slot, value in slots.items():
                if isinstance(value, torch.Tensor) and slot != "step":
                    value = value.to(p.device)
                self.optimizer.state[p][slot] = value

    def close(self):
        if self.distributed and self.dist.is_initialized():
            self.dist.destroy_process_group()


HANDLERS = {
    "step": Trainer.step,
    "eval": Trainer.evaluate,
    "save": Trainer.save,
    "model": Trainer.save_model,
    "agree": Trainer.agree,
}


def main():
    # Ctrl-C belongs to `alexnetc train`: it finishes the step in flight and
    # writes a checkpoint; the workers stop when it tells them (or leaves)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    rank = int(os.environ.get("RANK", "0"))
    world = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    channel = Channel(os.environ["ALEXNETC_TORCH_SOCKET"])
    channel.send({"hello": {"rank": rank, "world": world,
                            "local_rank": local_rank, "pid": os.getpid()}})
    trainer = None
    try:
        message = channel.receive()
        if message is None:
            return 0
        trainer = Trainer(message[0], rank, world, local_rank)
        channel.send({"ok": {"torch": torch.__version__,
                             "device": trainer.describe()}})
        while True:
            message = channel.receive()
            if message is None or message[0]["op"] == "exit":
                break
            header, payload = message
            answer, out = HANDLERS[header["op"]](trainer, header, payload)
            channel.send({"ok": answer}, out)
        trainer.close()
        return 0
    except Exception as e:  # reported to alexnetc, which names the rank
        try:
            channel.send({"error": f"{type(e).__name__}: {e}",
                          "trace": traceback.format_exc()})
        except OSError:
            pass
        return 1


if __name__ == "__main__":
    sys.exit(main())
