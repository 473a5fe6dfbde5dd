"""Cross-check alexnetc's safetensors files with the Hugging Face library.

Usage:
  safetensors_check.py hf-read FILE
      Read FILE with safetensors.torch (Hugging Face) and print JSON
      {"metadata", "tensors": [{"name", "dtype", "shape", "values"}]}
      (values as float32 numbers, in the file's order of names).
  safetensors_check.py hf-write SPEC.json FILE
      Write the tensors of SPEC.json ({"metadata", "tensors": [{"name",
      "dtype", "shape", "values"}]}) with safetensors.torch.save_file, each
      converted to its dtype; print the values as stored, back in float32.
  safetensors_check.py module MODULE.py CLS WEIGHTS OUT_MODULE OUT_HF
      Build the generated network CLS of MODULE.py, load WEIGHTS with its own
      load_safetensors(), write them back with its save_safetensors() to
      OUT_MODULE and with Hugging Face's save_file(model.state_dict()) to
      OUT_HF (state_dict keys, num_batches_tracked included); check that
      Hugging Face reads OUT_MODULE and the module reads OUT_HF to the same
      values. Prints {"tensors": n}.

The `safetensors` package must be importable (the test puts Hugging Face's
wheel on PYTHONPATH).
"""
import importlib.util
import json
import sys

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

DTYPES = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16,
          "BF16": torch.bfloat16, "I64": torch.int64}


def hf_read(path):
    with safe_open(path, "pt") as f:
        metadata = f.metadata() or {}
        names = list(f.keys())
    tensors = load_file(path)
    out = []
    for name in names:
        t = tensors[name]
        dtype = next(k for k, v in DTYPES.items() if v == t.dtype)
        out.append({"name": name, "dtype": dtype, "shape": list(t.shape),
                    "values": t.float().reshape(-1).tolist()})
    print(json.dumps({"metadata": metadata, "tensors": out}))


def hf_write(spec_file, path):
    with open(spec_file) as f:
        spec = json.load(f)
    tensors = {}
    stored = []
    for t in spec["tensors"]:
        value = torch.tensor(t["values"], dtype=torch.float32)
        value = value.reshape(t["shape"]).to(DTYPES[t["dtype"]])
        tensors[t["name"]] = value
        stored.append({"name": t["name"],
                       "values": value.float().reshape(-1).tolist()})
    save_file(tensors, path, metadata=spec.get("metadata"))
    print(json.dumps({"tensors": stored}))


def module(module_file, cls, weights, out_module, out_hf):
    spec = importlib.util.spec_from_file_location("generated", module_file)
    generated = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generated)
    model = getattr(generated, cls)().load_safetensors(weights)
    state = model.state_dict()
    model.save_safetensors(out_module)
    save_file({k: v.contiguous() for k, v in state.items()}, out_hf)
    # Hugging Face reads what the module wrote ...
    written = load_file(out_module)
    for name, key in model.weight_names().items():
        assert torch.equal(written[name], state[key]), name
    assert len(written) == len(model.weight_names())
    with safe_open(out_module, "pt") as f:
        assert f.metadata()["alexnetc.network"] == cls, f.metadata()
    # ... and the module reads what Hugging Face wrote (state_dict keys)
    other = getattr(generated, cls)()
    other.load_safetensors(out_hf)
    for key, value in other.state_dict().items():
        if not key.endswith("num_batches_tracked"):
            assert torch.equal(value, state[key]), key
    tensors, _ = generated.read_safetensors(out_hf)
    assert set(tensors) == set(state), sorted(set(tensors) ^ set(state))
    print(json.dumps({"tensors": len(written)}))


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    {"hf-read": hf_read, "hf-write": hf_write, "module": module}[command](*args)
