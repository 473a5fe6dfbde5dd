// The plain-Python part of every generated module: helpers the layers'
// lowerings call, the containers that give stages their names (`Stages`,
// `Residual`, `Merge`, `Network`) and safetensors I/O. Only what a network
// uses is written, so each module stays short and flake8-clean.
import { py } from '../../layers/python.js';

export interface Snippet {
  code: string;
  /** `import x` lines it needs */
  imports?: string[];
  /** other snippets it calls */
  deps?: string[];
}

/** Module-level helpers, by the name a lowering's `uses` gives. */
export const HELPERS: Record<string, Snippet> = {
  make_divisible: {
    code: py`
      def make_divisible(value, divisor):
          """torchvision's _make_divisible: the multiple of divisor nearest to
          value, at least divisor and not more than 10% below value."""
          new = max(divisor, int(value + divisor / 2) // divisor * divisor)
          return new + divisor if new < 0.9 * value else new
    `,
  },
  whole: {
    code: py`
      def whole(value, what):
          """value as an int where alexnetc needs a whole number (2.0 is 2)."""
          if isinstance(value, bool) or not float(value).is_integer():
              raise ValueError(f"{what} must be a whole number, got {value!r}")
          return int(value)
    `,
  },
  pair: {
    deps: ['whole'],
    code: py`
      def pair(value, what):
          """An argument written k or [h, w], as (h, w)."""
          if isinstance(value, (list, tuple)):
              if len(value) != 2:
                  raise ValueError(f"{what} must be a number or [h, w]")
              return whole(value[0], what), whole(value[1], what)
          return whole(value, what), whole(value, what)
    `,
  },
  explicit_pads: {
    deps: ['whole'],
    code: py`
      def explicit_pads(pad, size, k, stride, dilation):
          """Padding as (top, left, bottom, right). \`same\` pads like TensorFlow
          so that the output is ceil(size / stride); an odd total puts the
          extra row or column at the bottom or right."""
          if pad == "same":
              before, after = [], []
              for i in range(2):
                  out = -(-size[i] // stride[i])
                  span = dilation[i] * (k[i] - 1) + 1
                  total = max((out - 1) * stride[i] + span - size[i], 0)
                  before.append(total // 2)
                  after.append(total - total // 2)
              return before[0], before[1], after[0], after[1]
          if isinstance(pad, (list, tuple)):
              p = [whole(v, "pad") for v in pad]
              return tuple(p) if len(p) == 4 else (p[0], p[1], p[0], p[1])
          p = whole(pad, "pad")
          return p, p, p, p
    `,
  },
  window_output: {
    code: py`
      def window_output(size, k, stride, pads, dilation=(1, 1), ceil=False):
          """(height, width) after a sliding window, as alexnetc computes it:
          floor((size + pads - dilation * (k - 1) - 1) / stride) + 1, rounded
          up in ceil mode, where a last window that would start in the bottom
          or right padding is dropped (PyTorch's and ONNX's rule)."""
          out = []
          for i in range(2):
              padded = size[i] + pads[i] + pads[i + 2]
              span = dilation[i] * (k[i] - 1) + 1
              if span > padded:
                  raise ValueError(
                      f"a window of {span} does not fit the padded size {padded}")
              steps, rest = divmod(padded - span, stride[i])
              n = steps + 1 + (1 if ceil and rest else 0)
              if ceil and (n - 1) * stride[i] >= size[i] + pads[i]:
                  n -= 1
              out.append(n)
          return tuple(out)
    `,
  },
  he_uniform: {
    code: py`
      def he_uniform(module):
          """alexnetc's initialisation: weights He-uniform, U(+-sqrt(6 / fan_in)),
          biases zero. (The values are not alexnetc's seeded ones: those come
          in a safetensors file, see Network.load_safetensors.)"""
          nn.init.kaiming_uniform_(module.weight, nonlinearity="relu")
          if module.bias is not None:
              nn.init.zeros_(module.bias)
          return module
    `,
  },
};

/** `Stages`, without the layer methods (the emitter inserts those before `# constructs`). */
export const STAGES = py`
  class Stages(nn.Module):
      """Stages run in order, each named like its alexnetc stage path: conv1,
      relu1, stage2 (a block), residual1, concat1 (repeat opens no scope).
      \`shape\` is the per-example shape after the last stage, (C, H, W) or
      (F,): the input of the next one."""

      def __init__(self, shape):
          super().__init__()
          self.shape = tuple(shape)
          self.counts = {}

      def forward(self, x):
          for stage in self.children():
              x = stage(x)
          return x

      def append(self, kind, module, shape):
          """Add the next stage, named kind + its number among its kind."""
          self.counts[kind] = self.counts.get(kind, 0) + 1
          name = f"{kind}{self.counts[kind]}"
          if name in self._modules:
              raise ValueError(f"two stages are named {name}")
          self.add_module(name, module)
          self.shape = tuple(shape)
          return module

      def image(self, layer):
          if len(self.shape) != 3:
              raise ValueError(f"{layer} needs an image input [C, H, W], "
                               f"but its input has shape {list(self.shape)}")
          return self.shape

      def expect(self, *dims):
          """A shape assertion of the .net file (\`: [dims]\`)."""
          if self.shape != tuple(dims):
              raise ValueError(f"shape assertion failed: expected {list(dims)},"
                               f" but this stage produces {list(self.shape)}")

      def block(self, cls, *args, **kwargs):
          """Call a block (a Stages subclass) on the current shape."""
          module = cls(self.shape, *args, **kwargs)
          return self.append(cls.kind, module, module.shape)
`;

/** Construct methods of `Stages`, written when the network uses the construct. */
export const CONSTRUCT_METHODS: Record<'residual' | 'concat' | 'add' | 'split' | 'gate', string> = {
  split: py`
    @contextlib.contextmanager
    def split(self, parts):
        """split { branch { ... } ... }: each branch its share of the
        channels, in order; the outputs joined along channels."""
        module = self.append("split", Merge("split", self.shape, parts),
                             self.shape)
        yield module
        self.shape = module.output_shape()
  `,
  gate: py`
    @contextlib.contextmanager
    def gate(self):
        """gate { body }: x * body(x), a (C, 1, 1) gate broadcast."""
        module = self.append("gate", Gate(self.shape), self.shape)
        yield module
        self.shape = module.output_shape()
  `,
  residual: py`
    @contextlib.contextmanager
    def residual(self):
        """residual { body } [shortcut { ... }]: body(x) + shortcut(x)."""
        module = self.append("residual", Residual(self.shape), self.shape)
        yield module
        self.shape = module.output_shape()
  `,
  concat: py`
    @contextlib.contextmanager
    def concat(self):
        """concat { branch { ... } ... }: branches joined along channels."""
        module = self.append("concat", Merge("concat", self.shape), self.shape)
        yield module
        self.shape = module.output_shape()
  `,
  add: py`
    @contextlib.contextmanager
    def add(self):
        """add { branch { ... } ... }: the sum of the branches."""
        module = self.append("add", Merge("add", self.shape), self.shape)
        yield module
        self.shape = module.output_shape()
  `,
};

export const RESIDUAL = py`
  class Residual(Stages):
      """The body's stages, then + the shortcut's output (or the input)."""

      def __init__(self, shape):
          super().__init__(shape)
          self.input_shape = tuple(shape)

      @contextlib.contextmanager
      def add_shortcut(self):
          """shortcut { ... }: stages on the residual's input."""
          self.shortcut = Stages(self.input_shape)
          yield self.shortcut

      def forward(self, x):
          y = x
          for name, stage in self.named_children():
              if name != "shortcut":
                  y = stage(y)
          return y + (self.shortcut(x) if "shortcut" in self._modules else x)

      def output_shape(self):
          other = self._modules.get("shortcut")
          other = self.input_shape if other is None else other.shape
          if self.shape != other:
              raise ValueError(f"residual: the body produces {list(self.shape)}"
                               f" but the shortcut {list(other)}")
          return self.shape
`;

export const MERGE = py`
  class Merge(Stages):
      """Branches (branch1, branch2, ...) that all read the input (split:
      each its share of the channels, in order); their outputs are
      concatenated along channels (concat, split) or summed (add)."""

      def __init__(self, mode, shape, parts=1):
          super().__init__(shape)
          self.mode = mode
          self.input_shape = tuple(shape)
          self.part = shape[0] // parts
          if mode == "split":
              if shape[0] % parts:
                  raise ValueError(f"split: {shape[0]} channels do not divide"
                                   f" into {parts} equal branches")
              self.input_shape = (self.part,) + tuple(shape[1:])

      @contextlib.contextmanager
      def branch(self):
          yield self.append("branch", Stages(self.input_shape), self.input_shape)

      def forward(self, x):
          if self.mode == "split":
              xs = torch.split(x, self.part, 1)
              return torch.cat([b(p) for b, p in zip(self.children(), xs)], 1)
          ys = [branch(x) for branch in self.children()]
          if self.mode == "concat":
              return torch.cat(ys, 1)
          return sum(ys[1:], ys[0])

      def output_shape(self):
          shapes = [branch.shape for branch in self.children()]
          if not shapes:
              raise ValueError(f"{self.mode} needs at least one branch")
          first = shapes[0]
          for shape in shapes[1:]:
              if self.mode != "add":
                  joins = shape[1:] == first[1:]
              else:
                  joins = shape == first
              if not joins:
                  raise ValueError(f"{self.mode}: the branches produce "
                                   f"{list(first)} and {list(shape)}")
          if self.mode != "add":
              return (sum(shape[0] for shape in shapes),) + first[1:]
          return first
`;

export const GATE = py`
  class Gate(Stages):
      """The input times what the body's stages compute from it (a (C, 1, 1)
      result is broadcast over the image): squeeze-and-excitation."""

      def __init__(self, shape):
          super().__init__(shape)
          self.input_shape = tuple(shape)

      def forward(self, x):
          return x * super().forward(x)

      def output_shape(self):
          squeezed = (self.input_shape[0],) + (1,) * (len(self.input_shape) - 1)
          if self.shape not in (self.input_shape, squeezed):
              raise ValueError(f"gate: the body produces {list(self.shape)}, "
                               f"not {list(self.input_shape)} or "
                               f"{list(squeezed)}")
          return self.input_shape
`;

export const NETWORK = py`
  class Network(Stages):
      """A whole network: its stages, input shape and safetensors weights."""

      network = None

      def __init__(self, input_shape):
          super().__init__(input_shape)
          self.input_shape = tuple(input_shape)

      def weight_names(self):
          """{alexnetc weight name: state_dict key}, e.g.
          {"stage2/conv1.weight": "stage2.conv1.weight"}. PyTorch's
          num_batches_tracked is no alexnetc weight and is left out."""
          # the layer is the first module on a key's path that is no Stages:
          # its own names may hold dots (attention's out_proj.weight)
          stages = {name for name, m in self.named_modules()
                    if isinstance(m, Stages)}
          names = {}
          for key in self.state_dict():
              if key.endswith("num_batches_tracked"):
                  continue
              parts = key.split(".")
              i = 1
              while ".".join(parts[:i]) in stages:
                  i += 1
              local = ".".join(parts[i:])
              names["/".join(parts[:i]) + "." + local] = key
          return names

      def load_safetensors(self, path):
          """Load a safetensors file whose tensors carry alexnetc's weight names
          (stage2/conv1.weight) or the state_dict keys (stage2.conv1.weight),
          as \`alexnetc compile FILE --target safetensors\` writes them (or,
          for a network laid out as a torchvision model, torchvision's keys:
          see its torchvision table). Every weight must be there with its
          shape, and nothing else."""
          tensors, _ = read_safetensors(path)
          state = self.state_dict()
          used = set()
          torchvision = getattr(self, "torchvision", {})
          for name, key in self.weight_names().items():
              found = name if name in tensors else key
              if found not in tensors and torchvision.get(name) in tensors:
                  found = torchvision[name]
              want = list(state[key].shape)
              if found not in tensors:
                  raise ValueError(f"{path}: no tensor {name} (shape {want})")
              have = list(tensors[found].shape)
              if have != want:
                  raise ValueError(f"{path}: layer {name.rpartition('.')[0]}: "
                                   f"the network expects {name} with shape "
                                   f"{want}, the file has shape {have}")
              state[key] = tensors[found].to(state[key].dtype)
              used.add(found)
          for name in tensors:
              if name not in used and not name.endswith("num_batches_tracked"):
                  raise ValueError(f"{path}: {name} is not a weight here")
          self.load_state_dict(state)
          return self

      def save_safetensors(self, path, metadata=None):
          """Write the weights as float32 under alexnetc's weight names, for
          \`alexnetc compile FILE --weights FILE.safetensors\`."""
          state = self.state_dict()
          tensors = {name: state[key].float()
                     for name, key in self.weight_names().items()}
          info = {"format": "pt", "alexnetc.network": self.network}
          write_safetensors(path, tensors, {**info, **(metadata or {})})
`;

export const SAFETENSORS = py`
  # safetensors, the Hugging Face format: an 8-byte little-endian header
  # length, a JSON header {name: {"dtype", "shape", "data_offsets"},
  # "__metadata__": {str: str}}, then the tensors' little-endian bytes.
  SAFETENSORS_DTYPES = {
      "F64": torch.float64, "F32": torch.float32, "F16": torch.float16,
      "BF16": torch.bfloat16, "I64": torch.int64, "I32": torch.int32,
      "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
      "BOOL": torch.bool,
  }


  def read_safetensors(path):
      """The tensors {name: tensor} and the metadata of a safetensors file."""
      if sys.byteorder != "little":
          raise RuntimeError("safetensors I/O here needs a little-endian CPU")
      with open(path, "rb") as f:
          data = bytearray(f.read())
      (length,) = struct.unpack_from("<Q", data) if len(data) >= 8 else (-1,)
      if length < 2 or 8 + length > len(data):
          raise ValueError(f"{path}: not a safetensors file")
      header = json.loads(data[8:8 + length].decode("utf-8"))
      metadata = header.pop("__metadata__", None) or {}
      start = 8 + length
      tensors = {}
      for name, info in header.items():
          if info["dtype"] not in SAFETENSORS_DTYPES:
              raise ValueError(f"{path}: {name} has dtype {info['dtype']}")
          dtype = SAFETENSORS_DTYPES[info["dtype"]]
          begin, end = info["data_offsets"]
          count = math.prod(info["shape"])
          size = torch.empty((), dtype=dtype).element_size()
          if end - begin != count * size or start + end > len(data):
              raise ValueError(f"{path}: {name} has bad data_offsets")
          tensor = torch.empty(0, dtype=dtype)
          if count:
              tensor = torch.frombuffer(data, dtype=dtype, count=count,
                                        offset=start + begin)
          tensors[name] = tensor.reshape(info["shape"])
      return tensors, metadata


  def write_safetensors(path, tensors, metadata=None):
      """Write {name: tensor} as a safetensors file: to a temporary first,
      renamed over path once complete."""
      if sys.byteorder != "little":
          raise RuntimeError("safetensors I/O here needs a little-endian CPU")
      dtypes = {dtype: name for name, dtype in SAFETENSORS_DTYPES.items()}
      header = {"__metadata__": dict(metadata)} if metadata else {}
      offset = 0
      for name, tensor in tensors.items():
          size = tensor.numel() * tensor.element_size()
          header[name] = {"dtype": dtypes[tensor.dtype],
                          "shape": list(tensor.shape),
                          "data_offsets": [offset, offset + size]}
          offset += size
      text = json.dumps(header, separators=(",", ":")).encode("utf-8")
      text += b" " * (-len(text) % 8)
      temporary = f"{path}.{os.getpid()}.tmp"
      try:
          with open(temporary, "wb") as f:
              f.write(struct.pack("<Q", len(text)) + text)
              for tensor in tensors.values():
                  tensor = tensor.detach().cpu().contiguous()
                  f.write(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
          os.replace(temporary, path)
      finally:
          if os.path.exists(temporary):
              os.remove(temporary)
`;

export const SAFETENSORS_IMPORTS = ['json', 'math', 'os', 'struct', 'sys'];
