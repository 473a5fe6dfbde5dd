"""Run alexnetc-generated PyTorch modules on inputs and compare the outputs.

Usage:
  torch_conform.py MANIFEST.json

MANIFEST.json is a list of cases, each
  {"id", "module": path of the generated .py, "cls": its network class,
   "kwargs": constructor arguments, "weights": a .safetensors file,
   "input": raw little-endian float32, "input_shape": [N, ...],
   "expected": raw float32 (onnxruntime's output, or a formula's),
   "weights_expected": [[alexnetc weight name, shape], ...] in network order,
   "drop_last": run every stage but the last (logits before a softmax)},
or {"id", "module", "cls", "kwargs", "expect_error": text} for arguments
the network must refuse (the result's "raised" is the exception's text).

Every case runs in this one process (importing torch once keeps the suite
quick). For each the module is imported from its file, the network built
with the arguments, its weight names and shapes compared with the expected
ones (in order), the weights loaded with the module's own
load_safetensors(), and the output compared in eval mode. Prints a JSON
list: {"id", "rel": max|torch - expected| / max|expected|, "scale",
"shape", "names": null or the first difference, "error": null or text}.
"""
import importlib.util
import json
import sys
import traceback

import numpy as np
import torch


def load_class(path, cls, index):
    spec = importlib.util.spec_from_file_location(f"alexnetc_case_{index}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, cls)


def first_name_difference(model, expected):
    state = model.state_dict()
    names = model.weight_names()
    have = [[name, list(state[key].shape)] for name, key in names.items()]
    for i, (a, b) in enumerate(zip(have, expected)):
        if a != b:
            return f"weight {i}: the module has {a}, alexnetc {b}"
    if len(have) != len(expected):
        return f"the module has {len(have)} weights, alexnetc {len(expected)}"
    return None


def run_case(case, index):
    cls = load_class(case["module"], case["cls"], index)
    if "expect_error" in case:
        try:
            cls(**case.get("kwargs", {}))
        except (ValueError, TypeError) as e:
            return {"id": case["id"], "raised": f"{type(e).__name__}: {e}"}
        return {"id": case["id"], "error": "the arguments were accepted"}
    model = cls(**case.get("kwargs", {}))
    result = {"id": case["id"], "names": first_name_difference(model, case["weights_expected"])}
    if result["names"]:
        return result
    model.load_safetensors(case["weights"])
    model.eval()
    x = np.fromfile(case["input"], dtype="<f4").reshape(case["input_shape"])
    expected = np.fromfile(case["expected"], dtype="<f4").astype(np.float64)
    with torch.no_grad():
        y = torch.from_numpy(x.copy())
        stages = list(model.children())
        if case.get("drop_last"):
            stages = stages[:-1]
        for stage in stages:
            y = stage(y)
    out = y.numpy().astype(np.float64)
    result["shape"] = list(out.shape)
    out = out.reshape(-1)
    if out.size != expected.size:
        result["error"] = f"{out.size} outputs, expected {expected.size}"
        return result
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    diff = float(np.max(np.abs(out - expected))) if expected.size else 0.0
    result["scale"] = scale
    result["rel"] = diff / scale if scale > 0 else diff
    return result


def main(manifest_file):
    torch.set_num_threads(1)
    with open(manifest_file) as f:
        cases = json.load(f)
    results = []
    for index, case in enumerate(cases):
        try:
            results.append(run_case(case, index))
        except Exception:  # one broken case must not hide the others
            results.append({"id": case["id"], "error": traceback.format_exc(limit=4)})
    print(json.dumps(results))


if __name__ == "__main__":
    main(*sys.argv[1:])
